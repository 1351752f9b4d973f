#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged (log_statement=all) between two markers into a pgbench
script: the exact SQL the API sent for one request, its bound parameters written in as the
literals PostgreSQL logged for them.

    capture-sql.py <server.log> <start-marker> <end-marker> > request.sql
"""
import re
import sys

log_path, start_marker, end_marker = sys.argv[1:4]
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
print("\n".join(out))
