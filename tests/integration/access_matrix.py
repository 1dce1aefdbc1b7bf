#!/usr/bin/env python3
"""access_matrix.py - every HTTP endpoint x every caller, against the policy.

    access_matrix.py POLICY --context FILE [--rows REGEX] [--report FILE]
    access_matrix.py POLICY --check-table --source DIR

POLICY is tests/integration/access_policy.txt: one row per endpoint (and
fixture), one column per caller, each cell the answer the policy gives
(2xx, 401, 403 or an exact 4NN). The table is checked first: every row
complete, every value known, and every route the services register in the
source (services/*/http_api.c, plus /healthz and /metrics on each service)
covered by a row. Then each cell is called on the live services named in the
context (test_access_matrix.sh writes it: the services' URLs, each caller's
token, the pools of SIMs and records the fixtures take from) and its status
compared with the table; a 401 must carry the code its credential calls for,
a 403 the code "forbidden". The matrix is printed, one character a cell.

Exit 0 when every cell is as the policy says, 1 when any differs (each
named), 2 when the table or the context is unusable.
"""

import argparse
import http.client
import json
import os
import re
import sys
import urllib.parse

CELL = re.compile(r"^(2xx|401|403|4[0-9][0-9])$")
GUARDED_401_CODES = {
    "none": "no_token", "malf": "no_token", "empty": "no_token",
    "forged": "bad_token", "disab": "bad_token", "old": "bad_token",
    "expir": "token_expired",
}
SERVICES = ("order-intake", "sigverify", "vendor-exchange", "hlr-provisioner",
            "inventory", "notifier", "accounts", "dashboard")
WORDS = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7,
         "tám": 8, "chín": 9}


class TableError(Exception):
    pass


def read_policy(path):
    """(principals, rows): rows are dicts service, method, path, fixture,
    cells (principal -> expected), line."""
    principals, rows, seen = None, [], set()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if principals is None:
                if parts[:4] != ["service", "method", "path", "fixture"]:
                    raise TableError("%s:%d: the first line must be the header "
                                     "(service method path fixture CALLERS...)" % (path, n))
                principals = parts[4:]
                if len(set(principals)) != len(principals) or not principals:
                    raise TableError("%s:%d: callers repeated or missing" % (path, n))
                continue
            if len(parts) != 4 + len(principals):
                raise TableError("%s:%d: %d cells for %d callers" %
                                 (path, n, len(parts) - 4, len(principals)))
            service, method, rpath, fixture = parts[:4]
            if service not in SERVICES:
                raise TableError("%s:%d: unknown service %s" % (path, n, service))
            if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                raise TableError("%s:%d: unknown method %s" % (path, n, method))
            if not rpath.startswith("/"):
                raise TableError("%s:%d: the path must start with /" % (path, n))
            for v in parts[4:]:
                if not CELL.match(v):
                    raise TableError("%s:%d: cell %r is not 2xx, 401, 403 or 4NN" % (path, n, v))
            key = (service, method, rpath, fixture)
            if key in seen:
                raise TableError("%s:%d: row %s repeated" % (path, n, " ".join(key)))
            seen.add(key)
            rows.append({"service": service, "method": method, "path": rpath,
                         "fixture": fixture, "line": n,
                         "cells": dict(zip(principals, parts[4:]))})
    if principals is None:
        raise TableError("%s: no header" % path)
    return principals, rows


ROUTE = re.compile(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)"\s*,\s*"(/[^"]*)"')


def source_routes(src):
    """Every (service, method, route) the code registers."""
    routes = set()
    sdir = os.path.join(src, "services")
    for svc in sorted(os.listdir(sdir)):
        if not os.path.exists(os.path.join(sdir, svc, "main.c")):
            continue
        if svc not in SERVICES:
            raise TableError("service %s is not known to access_matrix.py" % svc)
        routes.add((svc, "GET", "/healthz"))  # common/http.c, built in
        routes.add((svc, "GET", "/metrics"))
        api = os.path.join(sdir, svc, "http_api.c")
        if os.path.exists(api):
            with open(api, encoding="utf-8") as f:
                for m in ROUTE.finditer(f.read()):
                    routes.add((svc, m.group(1), m.group(2)))
    return routes


def covers(row, route):
    svc, method, rpath = route
    if row["service"] != svc or row["method"] != method:
        return False
    path = row["path"].split("?", 1)[0]
    if rpath.endswith("*"):
        return path.startswith(rpath[:-1]) and len(path) > len(rpath) - 1
    return path == rpath


def check_table(principals, rows, src):
    problems = []
    for route in sorted(source_routes(src)):
        if not any(covers(r, route) for r in rows):
            problems.append("route %s %s of %s has no row" % (route[1], route[2], route[0]))
    for r in rows:
        if not any(covers(r, route) for route in source_routes(src)):
            problems.append("row %s %s %s (line %d) matches no route" %
                            (r["service"], r["method"], r["path"], r["line"]))
    if problems:
        raise TableError("; ".join(problems))


# ---- the calls ------------------------------------------------------------

class Caller:
    def __init__(self, ctx):
        self.ctx = ctx
        self.pools = {k: list(v) for k, v in ctx["pools"].items()}
        self.notice_no = 0

    def take(self, pool):
        if not self.pools.get(pool):
            raise TableError("the pool %s is empty: more cells than fixtures" % pool)
        return self.pools[pool].pop(0)

    def request(self, service, method, path, headers=None, body=None, stream=False):
        u = urllib.parse.urlsplit(self.ctx["urls"][service])
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10 if not stream else 5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            # A stream (server-sent events) never ends: its status is enough;
            # a refusal is an ordinary answer.
            data = b"" if stream and 200 <= resp.status < 300 else resp.read()
            return resp.status, data
        finally:
            conn.close()

    def captcha(self):
        st, data = self.request("accounts", "GET", "/v1/captcha")
        if st != 200:
            raise TableError("no captcha to solve: %d" % st)
        c = json.loads(data)
        q = c["question"].lower().replace("?", "").split()
        a, op, b = WORDS[q[0]], q[1], WORDS[q[2]]
        return c["id"], str({"cộng": a + b, "trừ": a - b, "nhân": a * b}[op])

    def fixture(self, name, path):
        """(path, body bytes or None, extra headers) for one cell."""
        ctx, js = self.ctx, {"Content-Type": "application/json"}
        path = (path.replace("{order}", ctx["order_id"])
                .replace("{vendor}", ctx["vendor_id"])
                .replace("{connection}", ctx["connection_id"])
                .replace("{invoice}", ctx["invoice"]))
        if "{ref}" in path:
            self.notice_no += 1
            ref = "%s-%03d" % (ctx["notice_prefix"], self.notice_no)
            path = path.replace("{ref}", ref)

        def j(obj):
            return json.dumps(obj).encode(), js
        if name == "-":
            return path, None, {}
        if name == "signed-order":
            return (path,) + j({"document": ctx["order_document_b64"],
                                "signature": ctx["order_signature_b64"]})
        if name == "notice":
            # A new person each time: the id number is unique.
            idno = "%012d" % (990000000000 + self.notice_no + 1000 * ctx.get("notice_offset", 0))
            csv = ("agency,full_name,id_number,msisdn,wants_new_number\n"
                   "Bộ Tư pháp,Người Thử %d,%s,,yes\n" % (self.notice_no, idno))
            return path, csv.encode(), {"Content-Type": "text/csv"}
        if name == "password":
            return (path,) + j({"login": ctx["account_login"],
                                "password": ctx["account_password"]})
        if name == "captcha-solved":
            cid, ans = self.captcha()
            return (path,) + j({"login": ctx["recovery_login"], "cert_type": "personal",
                                "id_number": "001190000999", "captcha_id": cid,
                                "captcha_answer": ans})
        if name == "no-otp":
            return (path,) + j({"login": ctx["recovery_login"]})
        pool_of = {"handover": "provisioned", "faulty-unhanded": "provisioned",
                   "stock-in": "handed_over", "transfer": "in_stock",
                   "walk-in": "in_stock", "connect": "at_shop",
                   "faulty-at-shop": "at_shop", "sale": "connected",
                   "return": "connected", "delivery": "sold"}
        if name not in pool_of:
            raise TableError("unknown fixture %s" % name)
        iccid = self.take(pool_of[name])
        body = {
            "handover": {"ctkv": "CTKV1", "purpose": "customers",
                         "iccid_first": iccid, "iccid_last": iccid},
            "stock-in": {"ctkv": "CTKV1", "iccid_first": iccid, "iccid_last": iccid},
            "transfer": {"shop": "HNI-001", "iccid_first": iccid, "iccid_last": iccid},
            "walk-in": {"shop": "HNI-001", "iccid": iccid},
            "connect": {"shop": "HNI-001", "iccid": iccid, "swap": False,
                        "package": "PKI-1Y"},
            "sale": {"shop": "HNI-001", "iccid": iccid,
                     "buyer": {"name": "Người Mua", "id_number": "001190000998"}},
            "delivery": {"shop": "HNI-001", "iccid": iccid, "received_by": "Người Mua",
                         "amount_paid": 0},
            "faulty-at-shop": {"iccid": iccid, "reason": "thử quyền (access test)"},
            "faulty-unhanded": {"iccid": iccid, "reason": "thử quyền (access test)"},
            "return": {"iccid": iccid, "reason": "thử quyền (access test)"},
        }[name]
        return (path,) + j(body)

    def credentials(self, principal, path):
        """(path, headers) carrying the principal's credentials."""
        tok = self.ctx["tokens"]
        query = path.endswith("?token")
        if query:
            path = path[:-len("?token")]
        if principal == "none":
            return path, {}
        if principal == "malf":
            return path, {"Authorization": tok["khdn"]}
        if principal == "empty":
            return (path + "?token=", {}) if query else (path, {"Authorization": "Bearer "})
        t = tok[principal]
        if query:
            return path + "?token=" + t, {}
        return path, {"Authorization": "Bearer " + t}


def classify(status):
    return "2xx" if 200 <= status < 300 else str(status)


def agrees(expected, status):
    return classify(status) == expected


def run(principals, rows, ctx, only):
    caller = Caller(ctx)
    results, problems = [], []
    for r in rows:
        if only and not only.search("%s %s %s %s" % (r["service"], r["method"], r["path"], r["fixture"])):
            continue
        got = {}
        for p in principals:
            path, body, headers = caller.fixture(r["fixture"], r["path"])
            path, cred = caller.credentials(p, path)
            headers = dict(headers, **cred)
            stream = r["path"].startswith("/api/events")
            try:
                status, data = caller.request(r["service"], r["method"], path, headers, body, stream)
            except (OSError, http.client.HTTPException) as e:
                status, data = 0, str(e).encode()
            got[p] = status
            want = r["cells"][p]
            name = "%s %s %s [%s] x %s" % (r["service"], r["method"], r["path"], r["fixture"], p)
            if not agrees(want, status):
                problems.append("%s: the policy says %s, the service answered %d: %s" %
                                (name, want, status, data[:200].decode("utf-8", "replace")))
                continue
            if status in (401, 403):
                try:
                    answer = json.loads(data)
                except ValueError:
                    answer = {}
                code = answer.get("code")
                need = "forbidden" if status == 403 else GUARDED_401_CODES.get(p)
                if code != need:
                    problems.append("%s: %d with code %r, not %r" % (name, status, code, need))
                # A refusal says nothing of whose token it was.
                for user in ctx["users"].values():
                    if status == 401 and user in data.decode("utf-8", "replace"):
                        problems.append("%s: the 401 names user %s" % (name, user))
                if p == "expir" and "expired" not in answer.get("error", ""):
                    problems.append("%s: the answer does not say the token expired" % name)
        results.append((r, got))
    return results, problems


def mark(want, status):
    if not agrees(want, status):
        return "!"
    c = classify(status)
    return {"2xx": "2", "401": "U", "403": "F"}.get(c, "o")


def print_matrix(principals, results, out):
    cells = sum(len(g) for _, g in results)
    bad = sum(1 for r, g in results for p in g if not agrees(r["cells"][p], g[p]))
    letters = "abcdefghijklmnopqrstuvwxyz"[:len(principals)]
    out.write("access matrix: %d endpoints x %d callers = %d cells, %d as the policy says\n"
              % (len(results), len(principals), cells, cells - bad))
    out.write("  callers: %s\n" % " ".join("%s=%s" % (letters[i], p) for i, p in enumerate(principals)))
    out.write("  2 = 2xx, U = 401, F = 403, o = the other 4xx the policy gives, ! = not as the policy says\n")
    out.write("  %-72s %s\n" % ("", letters))
    for r, got in results:
        label = "%-15s %-4s %-34s %s" % (r["service"], r["method"], r["path"],
                                         r["fixture"] if r["fixture"] != "-" else "")
        out.write("  %-72s %s\n" % (label, "".join(mark(r["cells"][p], got[p]) for p in principals)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("policy")
    ap.add_argument("--context")
    ap.add_argument("--source", default=os.environ.get("SIMPKI_SOURCE_DIR", "."))
    ap.add_argument("--rows", help="only the rows matching this regular expression")
    ap.add_argument("--check-table", action="store_true", help="check the table only")
    ap.add_argument("--report", help="write the statuses as JSON here")
    a = ap.parse_args()
    try:
        principals, rows = read_policy(a.policy)
        check_table(principals, rows, a.source)
        if a.check_table:
            print("policy table: %d rows x %d callers, every route covered" % (len(rows), len(principals)))
            return 0
        with open(a.context, encoding="utf-8") as f:
            ctx = json.load(f)
        missing = [p for p in principals if p not in ("none", "malf", "empty") and p not in ctx["tokens"]]
        if missing:
            raise TableError("no token for %s in the context" % ", ".join(missing))
        results, problems = run(principals, rows, ctx, re.compile(a.rows) if a.rows else None)
    except TableError as e:
        print("access_matrix: %s" % e, file=sys.stderr)
        return 2
    print_matrix(principals, results, sys.stdout)
    if a.report:
        with open(a.report, "w", encoding="utf-8") as f:
            json.dump([{"service": r["service"], "method": r["method"], "path": r["path"],
                        "fixture": r["fixture"], "got": g} for r, g in results], f)
    for p in problems:
        print("MISMATCH %s" % p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
