#!/usr/bin/env python3
"""Workload (f) of the benchmark kit, "distinct searches" (issue 19): writes N distinct request
paths, one a line, built from a condition vocabulary (names, synonyms, ICD-10 codes), the same on
every run:

- about 80% `/v1/therapies?condition=<term>`: a name or synonym, about 30% of them misspelt (one
  letter dropped, doubled or two neighbours swapped, in a word of 5 or more letters), about 5% an
  ICD-10 code or its three-character category instead; `modality=cell|gene|cell-based-gene` on
  about a quarter; `limit` 1..100 on most (the rest take the default);
- about 20% `/v1/conditions?q=<prefix>`: the first 2 or more characters of a name or synonym, as
  typed into an autocomplete box (lower-cased half the time), with `limit` 1..20 on most.

Nothing but real parameters: the paths differ by their combination of term, spelling, filter and
limit, and a path already written is skipped, so every path is distinct. The stream is drawn from
one fixed seed and does not depend on N: the first N paths of a longer run are the paths of a run
with N, so a caller that needs more can ask for more without the first ones changing.

    distinct-searches.py [--count N] [--seed S] [--conditions PATH] > paths.txt

PATH is a directory of condition files (default: db/data/conditions, every *.json in it) or one
JSON file holding an array of {name, synonyms, icd10} objects (scale.sh dumps a database's
conditions that way). Standard library only.
"""
import argparse
import glob
import json
import os
import random
import re
import sys
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--count", type=int, default=60000)
parser.add_argument("--seed", type=int, default=19)
parser.add_argument("--conditions", default=os.path.join(here, "..", "..", "db", "data", "conditions"))
args = parser.parse_args()

if os.path.isdir(args.conditions):
    conditions = []
    for path in sorted(glob.glob(os.path.join(args.conditions, "*.json"))):
        with open(path, encoding="utf-8") as f:
            conditions.extend(json.load(f))
else:
    with open(args.conditions, encoding="utf-8") as f:
        conditions = json.load(f)

# Sorted, so the vocabulary does not depend on file or row order.
terms = sorted({t.strip() for c in conditions for t in [c["name"], *(c.get("synonyms") or [])] if t and t.strip()})
codes = sorted({c["icd10"] for c in conditions if c.get("icd10")})
codes = sorted(set(codes) | {c.split(".")[0] for c in codes})  # C83.1 and its category C83
if not terms:
    sys.exit("distinct-searches: no condition terms in " + args.conditions)

rng = random.Random(args.seed)
modalities = ["cell", "gene", "cell-based-gene"]


def pick(items):
    return items[rng.randrange(len(items))]


def misspell(term):
    """One typing slip in one word of 5+ letters: drop, double or swap; None if there is no such word."""
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", term)]
    if not words:
        return None
    w = pick(words)
    word = w.group(0)
    i = rng.randrange(len(word))
    kind = rng.randrange(3)
    if kind == 0:
        slipped = word[:i] + word[i + 1:]
    elif kind == 1:
        slipped = word[:i] + word[i] + word[i:]
    else:
        i = min(i, len(word) - 2)
        slipped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if slipped == word:  # swapping two equal letters
        return None
    return term[:w.start()] + slipped + term[w.end():]


def q(value):
    return urllib.parse.quote(value, safe="")


def therapy_search():
    if codes and rng.random() < 0.05:
        term = pick(codes)
    else:
        term = pick(terms)
        if rng.random() < 0.30:
            term = misspell(term) or term
    path = "/v1/therapies?condition=" + q(term)
    if rng.random() < 0.25:
        path += "&modality=" + pick(modalities)
    if rng.random() < 0.85:
        path += "&limit=" + str(1 + rng.randrange(100))
    return path


def autocomplete():
    term = pick(terms)
    if rng.random() < 0.5:
        term = term.lower()
    prefix = term[: 2 + rng.randrange(max(1, len(term) - 1))].rstrip()
    if len(prefix) < 2:
        prefix = term[:2]
    path = "/v1/conditions?q=" + q(prefix)
    if rng.random() < 0.8:
        path += "&limit=" + str(1 + rng.randrange(20))
    return path


seen = set()
out = sys.stdout
draws = 0
while len(seen) < args.count:
    draws += 1
    if draws > 50 * args.count + 100000:
        sys.exit(f"distinct-searches: only {len(seen)} distinct paths from this vocabulary")
    path = therapy_search() if rng.random() < 0.8 else autocomplete()
    if path in seen:
        continue
    seen.add(path)
    out.write(path + "\n")
