#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged (log_statement=all) between markers into pgbench scripts:
the exact SQL the API sent for a request. Statements of a connection that LISTENs (the API's change
signal and its pings) are left out.

    capture-sql.py [--pipeline] <server.log> <start-marker> <end-marker> > request.sql
        One request, its bound parameters written in as the literals PostgreSQL logged for them.
        --pipeline puts the statements between \\startpipeline and \\endpipeline (pgbench's
        pipeline mode, which needs -M extended or prepared): the whole request in one round trip.

    capture-sql.py --bound <server.log> <marker-prefix> <count> <out-dir>
        Requests <prefix>1 .. <prefix><count> (markers <prefix>N-start and <prefix>N-end), with
        their parameters kept as parameters, for pgbench -M prepared: requests that sent the same
        statements (the same SQL texts, NULLs in the same places) form one shape; per shape,
        <out-dir>/shape-S.sql picks one of its requests at random, reads that request's values
        into pgbench variables (`SELECT ... FROM bench_floor_S WHERE n = :r \\gset`, one round
        trip) and sends the statements, each $n now a variable, in one pipeline (a second round
        trip). <out-dir>/params.sql creates and fills the bench_floor_S tables; <out-dir>/weights
        holds `S <requests>` lines, for -f shape-S.sql@<requests>. One script per shape, not per
        request: pgbench prepares every command of every script on every connection, so with a
        script per request most transactions of a 10 s run at 64 connections would be a
        connection's first run of that script (parse and plan included), not the prepared
        statements the API reuses.

pgbench reads `:name` (a single colon followed by a letter, digit or underscore) as a variable in
every mode that binds them (-M extended and prepared; -M simple leaves unknown names alone), also
inside string literals; `::` casts are left alone. A string literal of the SQL holding a colon is
therefore written as the same value in escape syntax, each colon as \\x3a (`'a:b'` -> `E'a\\x3ab'`),
and a `:name` outside literals (nothing but a variable could be meant there) stops the capture with
an error. What was rewritten is said on standard error. (Bound values are not parsed by pgbench.)
"""
import os
import re
import sys

entry_start = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \S+ \[(\d+)\] ")
statement_entry = re.compile(r"LOG:\s+(?:statement|execute [^:]*):\s(.*)", re.S)
parameter_value = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")
literal = re.compile(r"(?<![A-Za-z0-9_])([EeUu]&?)?'((?:[^']|'')*)'", re.S)
variable = re.compile(r"(?<!:):[A-Za-z0-9_\x80-\U0010ffff]")
rewritten = 0


def read_log(path):
    entries, current = [], None
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            m = entry_start.match(line)
            if m:
                current = [m.group(1), entry_start.sub("", line, count=1)]
                entries.append(current)
            elif current is not None:
                current.append(line)
    return [e[0] for e in entries], ["".join(e[1:]) for e in entries]


def capture(pids, texts, start_marker, end_marker):
    """[(sql, {n: logged literal or NULL})] of the request between the markers."""
    start = max(i for i, t in enumerate(texts) if start_marker in t)
    end = min(i for i, t in enumerate(texts) if end_marker in t and i > start)
    # A connection that LISTENs (the API's change signal: LISTEN, then a ping every second) is not
    # serving the request, though its pings land between the markers: skip it. Only connections of
    # this server's run count (from its last start before the markers): process ids are reused.
    ready = max((i for i in range(start) if "database system is ready to accept connections" in texts[i]), default=0)
    listeners = {pids[i] for i in range(ready, end)
                 if re.match(r"LOG:\s+(?:statement|execute [^:]*):\s+LISTEN\b", texts[i])}
    statements = []
    for i in range(start + 1, end):
        if pids[i] in listeners:
            continue
        m = statement_entry.match(texts[i])
        if m:
            statements.append([m.group(1).strip(), {}, pids[i]])
        elif texts[i].startswith("DETAIL:  parameters:") and statements and statements[-1][2] == pids[i]:
            statements[-1][1] = dict(parameter_value.findall(texts[i][len("DETAIL:  parameters:"):]))
    # Npgsql's pool reset (DISCARD ALL, sent ahead of a returned connection's next command) is the
    # pool's cost, not the request's SQL (the service turns it off: No Reset On Close).
    statements = [(sql, params) for sql, params, _ in statements if sql.rstrip(";") != "DISCARD ALL"]
    if not statements:
        sys.exit(f"capture-sql: no statements between {start_marker} and {end_marker}")
    return statements


def pgbench_safe(sql):
    """The SQL with no `:name` pgbench could take for a variable (see above)."""
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


def substitute(sql, value_of):
    """Each $n of sql replaced by value_of(n); highest number first, so $1 never eats $10's start."""
    for n in sorted(set(re.findall(r"\$(\d+)", sql)), key=int, reverse=True):
        sql = re.sub(r"\$" + n + r"(?!\d)", lambda _: value_of(n), sql)
    return sql


def end(sql):
    # pgbench reads one statement per line unless it ends in a semicolon: keep the text, end it.
    return sql.rstrip().rstrip(";") + ";"


def say_rewritten():
    if rewritten:
        print(f"capture-sql: {rewritten} string literal(s) with a colon written in escape syntax (\\x3a)", file=sys.stderr)


arguments = sys.argv[1:]
if arguments[:1] == ["--bound"]:
    log_path, prefix, count, out_dir = arguments[1:5]
    pids, texts = read_log(log_path)
    shapes = {}  # script text -> (shape number, [request values])
    columns = {}
    for r in range(1, int(count) + 1):
        names, values, lines = [], [], []
        for j, (sql, params) in enumerate(capture(pids, texts, f"{prefix}{r}-start", f"{prefix}{r}-end"), 1):
            def bind(n, j=j, params=params):
                value = params.get(n, "NULL")
                if value == "NULL":
                    return "NULL"
                if f"v{j}_{n}" not in names:
                    names.append(f"v{j}_{n}")
                    values.append(value)
                return f":v{j}_{n}"
            lines.append(end(substitute(pgbench_safe(sql), bind)))
        key = "\n".join(lines)
        if key not in shapes:
            shapes[key] = (len(shapes) + 1, [])
            columns[key] = names
        shapes[key][1].append(values)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "params.sql"), "w", encoding="utf-8") as setup, \
            open(os.path.join(out_dir, "weights"), "w", encoding="utf-8") as weights:
        for key, (s, requests) in shapes.items():
            names = columns[key]
            setup.write(f"DROP TABLE IF EXISTS bench_floor_{s};\n")
            setup.write(f"CREATE TABLE bench_floor_{s} (n integer PRIMARY KEY"
                        + "".join(f", {c} text" for c in names) + ");\n")
            for n, values in enumerate(requests, 1):
                setup.write(f"INSERT INTO bench_floor_{s} VALUES ({n}" + "".join(", " + v for v in values) + ");\n")
            setup.write(f"ANALYZE bench_floor_{s};\n")
            with open(os.path.join(out_dir, f"shape-{s}.sql"), "w", encoding="utf-8") as script:
                if names:
                    script.write(f"\\set r random(1, {len(requests)})\n")
                    script.write(f"SELECT {', '.join(names)} FROM bench_floor_{s} WHERE n = :r \\gset\n")
                script.write("\\startpipeline\n" + key + "\n\\endpipeline\n")
            weights.write(f"{s} {len(requests)}\n")
    say_rewritten()
    sys.exit(0)

pipeline = arguments[:1] == ["--pipeline"]
if pipeline:
    arguments = arguments[1:]
log_path, start_marker, end_marker = arguments[:3]
pids, texts = read_log(log_path)
out = [end(pgbench_safe(substitute(sql, lambda n, p=params: p.get(n, "NULL"))))
       for sql, params in capture(pids, texts, start_marker, end_marker)]
say_rewritten()
if pipeline:
    out = ["\\startpipeline", *out, "\\endpipeline"]
print("\n".join(out))
