#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged (log_statement=all) between two markers into a pgbench
script: the exact SQL the API sent for one request, its bound parameters written in as the
literals PostgreSQL logged for them.

    capture-sql.py [--pipeline] <server.log> <start-marker> <end-marker> > request.sql

--pipeline puts the statements between \\startpipeline and \\endpipeline (pgbench's pipeline mode,
which needs -M extended or prepared): the whole request in one round trip.

pgbench reads `:name` (a single colon followed by a letter, digit or underscore) as a variable in
every mode that binds them (-M extended and prepared; -M simple leaves unknown names alone), also
inside string literals; `::` casts are left alone. A string literal holding a colon is therefore
written as the same value in escape syntax, each colon as \\x3a (`'a:b'` -> `E'a\\x3ab'`), and a
`:name` outside literals (nothing but a variable could be meant there) stops the capture with an
error. What was rewritten is said on standard error.
"""
import re
import sys

arguments = sys.argv[1:]
pipeline = arguments[:1] == ["--pipeline"]
if pipeline:
    arguments = arguments[1:]
log_path, start_marker, end_marker = arguments[:3]
entry_start = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \S+ \[\d+\] ")
entries, current = [], None
with open(log_path, encoding="utf-8", errors="replace") as log:
    for line in log:
        if entry_start.match(line):
            current = [entry_start.sub("", line, count=1)]
            entries.append(current)
        elif current is not None:
            current.append(line)

texts = ["".join(e) for e in entries]
start = max(i for i, t in enumerate(texts) if start_marker in t)
end = min(i for i, t in enumerate(texts) if end_marker in t and i > start)

statements = []
for i in range(start + 1, end):
    text = texts[i]
    m = re.match(r"LOG:\s+(?:statement|execute [^:]*):\s(.*)", text, re.S)
    if m:
        statements.append([m.group(1).strip(), None])
    elif text.startswith("DETAIL:  parameters:") and statements:
        statements[-1][1] = text[len("DETAIL:  parameters:"):].strip()

out = []
for sql, params in statements:
    if params:
        values = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", params))
        # Highest number first, so $1 never eats the start of $10.
        for n in sorted(values, key=int, reverse=True):
            sql = re.sub(r"\$" + n + r"(?!\d)", lambda _: values[n], sql)
    # pgbench reads one statement per line unless it ends in a semicolon: keep the text, end it.
    out.append(sql.rstrip().rstrip(";") + ";")
if not out:
    sys.exit("capture-sql: no statements between the markers")

literal = re.compile(r"(?<![A-Za-z0-9_])([EeUu]&?)?'((?:[^']|'')*)'", re.S)
variable = re.compile(r"(?<!:):[A-Za-z0-9_\x80-\U0010ffff]")
rewritten = 0


def pgbench_safe(sql):
    global rewritten
    parts, at = [], 0
    for m in literal.finditer(sql):
        parts.append((False, sql[at:m.start()]))
        parts.append((True, m))
        at = m.end()
    parts.append((False, sql[at:]))
    text = []
    for is_literal, part in parts:
        if not is_literal:
            # a run of two or more colons is skipped by pgbench; a lone colon before a name is a variable
            if variable.search(part.replace("::", "  ")):
                sys.exit("capture-sql: a `:name` outside string literals, which pgbench would read as a variable: " + sql[:300])
            text.append(part)
            continue
        prefix, body = part.group(1) or "", part.group(2)
        if ":" not in body:
            text.append(part.group(0))
        elif prefix == "":
            rewritten += 1
            escaped = body.replace("''", "'").replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\x3a")
            text.append("E'" + escaped + "'")
        elif prefix in ("E", "e"):
            rewritten += 1
            text.append(prefix + "'" + body.replace(":", "\\x3a") + "'")
        else:
            sys.exit("capture-sql: a U&'' literal with a colon: " + sql[:300])
    return "".join(text)


out = [pgbench_safe(sql) for sql in out]
if rewritten:
    print(f"capture-sql: {rewritten} string literal(s) with a colon written in escape syntax (\\x3a)", file=sys.stderr)
if pipeline:
    out = ["\\startpipeline", *out, "\\endpipeline"]
print("\n".join(out))
