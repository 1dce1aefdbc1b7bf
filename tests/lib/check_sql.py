#!/usr/bin/python3
"""check_sql.py - SQL reaches PostgreSQL only as constant text with $n
parameters.

  check_sql.py [--allow FILE] ROOT_OR_FILE...

Scans C files for the calls that send SQL (sp_db_query, sp_db_exec,
PQexec, PQexecParams, PQsendQuery, PQsendQueryParams, PQprepare,
PQsendPrepare) and requires their SQL argument to be constant: string
literals, UPPER_CASE macros standing for literals, or `cond ? A : B` of
those. Any other argument (a buffer, a variable), and any snprintf/sprintf
whose format starts like SQL, is a finding unless the allow file names it:

  PATH  NAME  why it is safe

PATH relative to the current folder, NAME the variable passed (or the
snprintf's buffer), the rest a reason, required. Prints each finding as
"PATH:LINE: ..." and exits 1 when there is any; 2 on usage errors. An
allow entry that matches nothing is a finding too (stale entries hide
nothing).
"""
import os
import re
import sys

CALLS = re.compile(r"\b(sp_db_query|sp_db_exec|PQexecParams|PQexec|PQsendQueryParams|"
                   r"PQsendQuery|PQsendPrepare|PQprepare)\s*\(")
SQL_ARG = {"PQprepare": 2, "PQsendPrepare": 2}
SQL_START = re.compile(r'^\s*"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|COPY|CREATE|ALTER|DROP|'
                       r'LISTEN|NOTIFY|SET|BEGIN|COMMIT|TRUNCATE|LOCK)\b', re.I)
PRINTF = re.compile(r"\b(snprintf|sprintf)\s*\(")
LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
MACRO = re.compile(r"[A-Z][A-Z0-9_]*")


def strip_comments(src):
    """Comments out, strings kept, lines kept (newlines preserved)."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src[i] == '"':
            m = LITERAL.match(src, i)
            j = m.end() if m else i + 1
            out.append(src[i:j])
            i = j
        elif src[i] == "'":
            j = i + 1
            while j < n and src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def args_of(src, start):
    """Top-level arguments of the call whose '(' is just before start."""
    parts, cur, depth, i = [], [], 0, start
    while i < len(src):
        c = src[i]
        if c == '"':
            m = LITERAL.match(src, i)
            cur.append(m.group(0))
            i = m.end()
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                parts.append("".join(cur).strip())
                return parts
            depth -= 1
        elif c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return parts


def definition(src, start):
    """The function's own definition (its body follows), not a call."""
    depth, i = 0, start
    while i < len(src):
        if src[i] == '"':
            i = LITERAL.match(src, i).end()
            continue
        if src[i] == "(":
            depth += 1
        elif src[i] == ")":
            if depth == 0:
                return src[i + 1:].lstrip().startswith("{")
            depth -= 1
        i += 1
    return False


def constant(expr):
    """Literals and UPPER_CASE macros (with literal arguments), or
    cond ? constant : constant."""
    e = LITERAL.sub(" L ", expr)
    prev = None
    while prev != e:  # MACRO(args) -> MACRO, innermost first
        prev = e
        e = re.sub(r"\b([A-Z][A-Z0-9_]*)\s*\([^()]*\)", r"\1", e)
    if "?" in e and ":" in e:  # the condition may be anything
        e = e.split("?", 1)[1].replace(":", " ", 1)
    words = e.split()
    return bool(words) and all(w == "L" or MACRO.fullmatch(w) for w in words)


def scan_file(path, rel, allow, used, findings):
    src = strip_comments(open(path, encoding="utf-8", errors="replace").read())
    line_of = lambda pos: src.count("\n", 0, pos) + 1
    for m in CALLS.finditer(src):
        args = args_of(src, m.end())
        if definition(src, m.end()):
            continue
        k = SQL_ARG.get(m.group(1), 1)
        if len(args) <= k:
            continue
        sql = args[k]
        if constant(sql):
            continue
        name = sql if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_>.-]*", sql) else sql[:40]
        if (rel, name) in allow:
            used.add((rel, name))
            continue
        findings.append("%s:%d: %s() is given SQL that is not constant text: %s"
                        % (rel, line_of(m.start()), m.group(1), " ".join(sql.split())[:80]))
    for m in PRINTF.finditer(src):
        args = args_of(src, m.end())
        fmt_at = 2 if m.group(1) == "snprintf" else 1
        if len(args) <= fmt_at or not SQL_START.match(args[fmt_at]):
            continue
        buf = args[0]
        if (rel, buf) in allow:
            used.add((rel, buf))
            continue
        findings.append("%s:%d: %s() builds SQL text into %s"
                        % (rel, line_of(m.start()), m.group(1), buf))


def main(argv):
    allow_file, roots = None, []
    i = 1
    while i < len(argv):
        if argv[i] == "--allow" and i + 1 < len(argv):
            allow_file = argv[i + 1]
            i += 2
        elif argv[i] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            roots.append(argv[i])
            i += 1
    if not roots:
        print("usage: check_sql.py [--allow FILE] ROOT_OR_FILE...", file=sys.stderr)
        return 2
    allow, findings, used = {}, [], set()
    if allow_file:
        for n, line in enumerate(open(allow_file, encoding="utf-8"), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            f = line.split(None, 2)
            if len(f) < 3:
                print("%s:%d: an entry needs PATH NAME REASON" % (allow_file, n), file=sys.stderr)
                return 2
            allow[(f[0], f[1])] = f[2]
    files = 0
    for root in roots:
        paths = [root] if os.path.isfile(root) else sorted(
            os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".c"))
        for p in paths:
            files += 1
            scan_file(p, os.path.relpath(p), allow, used, findings)
    for key in sorted(set(allow) - used):
        findings.append("%s: allow entry for %s matches nothing (remove it)" % key)
    for f in findings:
        print(f)
    print("check_sql: %d files, %d findings" % (files, len(findings)), file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
