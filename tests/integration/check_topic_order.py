#!/usr/bin/python3
"""Check a topic dump (one event per line, partition order kept per subject):
after dropping redelivered copies (same id), each subject's events carry
increasing data.n and each links onto its predecessor's hash. Prints the
number of events, distinct ids and duplicates; exits 1 on any violation."""
import json
import sys

def main(path, expected):
    seen, last, problems, lines = set(), {}, [], 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            lines += 1
            ev = json.loads(line)
            if ev["id"] in seen:
                continue
            seen.add(ev["id"])
            subj, n = ev["subject"], ev["data"]["n"]
            prev = last.get(subj)
            if prev is not None:
                if n <= prev[0]:
                    problems.append(f"line {lineno}: {subj} n={n} after n={prev[0]}")
                if ev["prevhash"] != prev[1]:
                    problems.append(f"line {lineno}: {subj} n={n} does not link onto n={prev[0]}")
            elif ev["prevhash"] != "0" * 64:
                problems.append(f"line {lineno}: first event of {subj} is not a chain start")
            last[subj] = (n, ev["hash"])
    print(f"topic events={lines} distinct={len(seen)} duplicates={lines - len(seen)} subjects={len(last)}")
    if len(seen) != expected:
        problems.append(f"expected {expected} distinct events, found {len(seen)}")
    for p in problems[:20]:
        print("ORDER VIOLATION:", p)
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
