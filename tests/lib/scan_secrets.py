#!/usr/bin/python3
"""Look for secrets in files, without ever printing one.

  scan_secrets.py collect [--reveal FILE]... [--transport-key FILE]...
                          [--kek FILE] [--sms-json FILE] [--token FILE]...
                          [--secret KIND:text:VALUE]... -o SECRETS
  scan_secrets.py scan --secrets SECRETS [--exclude PATH]... [--db-dir DIR]
                       [--label NAME=PATH]... TARGET...

collect writes SECRETS (mode 600), one "KIND<TAB>TYPE<TAB>VALUE" per line,
TYPE "hex" for a binary key given in hex (Ki, OPc, transport key, KEK, API
token) or "text" (password, OTP), and prints how many of each kind on
stderr. --reveal: the vendor simulator's "ICCID KI OPC" lines; --kek:
"KEK_ID HEX" lines; --sms-json: fakesmsc_decode.py --json output (account
passwords, new passwords after a recovery, OTPs).

scan looks through every TARGET (a file, or a folder walked recursively,
skipping every --exclude path) for each secret in its forms:
  hex key  its hex in any case (also found inside a longer hex run, so the
           hex dump of raw bytes, a bytea column, matches), its base64
           (the part that does not depend on the alignment), and its raw
           bytes in files that are not text;
  text     as is (an OTP only between non-digits), its hex in any case and
           its base64.
Files under --db-dir are CSV dumps of one table each (first column the
row's key): a hit names TABLE.COLUMN and the key. Other hits name the
file (with its --label, if under one) and the line. Each hit prints only
the kind of secret, the place and its first 4 characters. Exit 1 on any
hit, 0 otherwise; a summary line on stderr.
"""
import argparse
import base64
import csv
import os
import re
import stat
import sys

HEX_RUN = re.compile(r"[0-9A-Fa-f]{12,}")
B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{20,}")
HEX_KEY = re.compile(r"^[0-9A-Fa-f]+$")


def b64_forms(raw):
    """The base64 characters of raw that hold whatever precedes it: full
    3-byte groups only (standard and URL-safe alphabets)."""
    n = len(raw) // 3 * 3
    s = base64.b64encode(raw[:n]).decode()
    return {s, s.replace("+", "-").replace("/", "_")} if s else set()


# ---- collect ---------------------------------------------------------------

def collect(a):
    out = []

    def add(kind, typ, value):
        value = value.strip()
        if not value:
            return
        if typ == "hex" and (not HEX_KEY.match(value) or len(value) % 2):
            sys.exit("collect: a %s is not hex" % kind)
        out.append((kind, typ, value))

    for f in a.reveal:
        for line in open(f):
            p = line.split()
            if len(p) >= 3:
                add("ki", "hex", p[1])
                add("opc", "hex", p[2])
    for f in a.transport_key:
        add("transport_key", "hex", open(f).read())
    if a.kek:
        for line in open(a.kek):
            p = line.split()
            if len(p) >= 2 and not p[0].startswith("#") and HEX_KEY.match(p[-1]):
                add("kek", "hex", p[-1])
    if a.sms_json:
        import json
        for line in open(a.sms_json, encoding="utf-8"):
            if not line.strip():
                continue
            t = json.loads(line)["text"]
            for m in re.findall(r"mat khau: ([A-Za-z0-9]{12})", t):
                add("password", "text", m)
            for m in re.findall(r"mat khau moi .*? la: ([A-Za-z0-9]{12})", t):
                add("password", "text", m)
            for m in re.findall(r"ma OTP .*? la ([0-9]{6}), co hieu luc", t):
                add("otp", "text", m)
    for f in a.token:
        add("api_token", "hex", open(f).read())
    for s in a.secret:
        kind, typ, value = s.split(":", 2)
        add(kind, typ, value)
    seen, uniq = set(), []
    for s in out:
        if s[2] not in seen:
            seen.add(s[2])
            uniq.append(s)
    fd = os.open(a.o, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as w:
        for s in uniq:
            w.write("%s\t%s\t%s\n" % s)
    counts = {}
    for k, _, _ in uniq:
        counts[k] = counts.get(k, 0) + 1
    print("secrets: " + " ".join("%s=%d" % kv for kv in sorted(counts.items())), file=sys.stderr)


# ---- scan ------------------------------------------------------------------

class Secrets:
    def __init__(self, path):
        self.hex = {}      # first 12 lower-case hex chars -> [(form, kind, first4)]
        self.b64 = {}      # first 20 chars -> [(form, kind, first4)]
        self.raw = {}      # first 8 bytes -> [(bytes, kind, first4)]
        small = {}         # form -> (kind, first4): the few text secrets
        otps = {}
        for line in open(path):
            kind, typ, value = line.rstrip("\n").split("\t", 2)
            f4 = value[:4]
            if typ == "hex":
                raw = bytes.fromhex(value)
                self._add(self.hex, value.lower(), kind, f4, 12)
                for b in b64_forms(raw):
                    if len(b) >= 20:
                        self._add(self.b64, b, kind, f4, 20)
                    else:
                        small[b] = (kind, f4)
                self._add(self.raw, raw, kind, f4, 8)
            else:
                raw = value.encode()
                if kind == "otp":
                    otps[value] = (kind, f4)
                else:
                    small[value] = (kind, f4)
                self._add(self.hex, raw.hex(), kind, f4, 12)
                for b in b64_forms(raw):
                    small[b] = (kind, f4)
        self.small = small
        self.otps = otps
        alts = sorted((re.escape(s) for s in small), key=len, reverse=True)
        alts += [r"(?<![0-9])%s(?![0-9])" % re.escape(o) for o in otps]
        self.small_re = re.compile("|".join(alts)) if alts else None

    @staticmethod
    def _add(index, form, kind, f4, n):
        if len(form) < n:
            raise SystemExit("scan: a %s form shorter than %d" % (kind, n))
        index.setdefault(form[:n], []).append((form, kind, f4))

    def find(self, text):
        """(kind, first4) of every secret form in text (a str)."""
        hits = []
        for m in HEX_RUN.finditer(text):
            run = m.group().lower()
            for i in range(len(run) - 11):
                c = self.hex.get(run[i:i + 12])
                if c:
                    hits += [(k, f) for form, k, f in c if run.startswith(form, i)]
        for m in B64_RUN.finditer(text):
            run = m.group()
            for i in range(len(run) - 19):
                c = self.b64.get(run[i:i + 20])
                if c:
                    hits += [(k, f) for form, k, f in c if run.startswith(form, i)]
        if self.small_re:
            for m in self.small_re.finditer(text):
                s = m.group()
                hits.append(self.small[s] if s in self.small else self.otps[s])
        return hits

    def find_raw(self, data):
        """Raw key bytes in binary data."""
        hits = []
        get = self.raw.get
        for i in range(len(data) - 7):
            c = get(data[i:i + 8])
            if c:
                hits += [(k, f) for form, k, f in c if data.startswith(form, i)]
        return hits


def scan(a):
    sec = Secrets(a.secrets)
    excl = [os.path.abspath(e) for e in a.exclude]
    labels = [(os.path.abspath(p), n) for n, p in (l.split("=", 1) for l in a.label)]
    db_dir = os.path.abspath(a.db_dir) if a.db_dir else None
    nfiles = nlines = nbytes = nrows = 0
    hits = []

    def place(path):
        for p, n in labels:
            if path == p or path.startswith(p + os.sep):
                return n + path[len(p):]
        return path

    def excluded(path):
        return any(path == e or path.startswith(e + os.sep) for e in excl)

    def scan_db(path):
        nonlocal nrows
        table = os.path.basename(path)[:-len(".csv")]
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
            r = csv.reader(f)
            head = next(r, None)
            for row in r:
                nrows += 1
                # A key that holds a secret is not printed either.
                key = "withheld" if sec.find(row[0]) else row[0]
                for col, v in zip(head[1:], row[1:]):
                    for k, f4 in sec.find(v):
                        hits.append((k, "%s.%s (row %s)" % (table, col, key), f4))

    def scan_file(path):
        nonlocal nfiles, nlines, nbytes
        nfiles += 1
        if db_dir and path.startswith(db_dir + os.sep) and path.endswith(".csv"):
            scan_db(path)
            return
        with open(path, "rb") as f:
            data = f.read()
        nbytes += len(data)
        # latin-1: one char per byte, so ASCII runs are found in any file.
        for n, line in enumerate(data.decode("latin-1").split("\n"), 1):
            nlines += 1
            for k, f4 in sec.find(line):
                hits.append((k, "%s:%d" % (place(path), n), f4))
        if b"\0" in data:
            for k, f4 in sec.find_raw(data):
                hits.append((k, "%s (raw bytes)" % place(path), f4))

    for t in a.targets:
        t = os.path.abspath(t)
        if excluded(t):
            continue
        if os.path.isdir(t):
            for root, dirs, files in os.walk(t):
                dirs[:] = sorted(d for d in dirs if not excluded(os.path.join(root, d)))
                for fn in sorted(files):
                    p = os.path.join(root, fn)
                    if excluded(p):
                        continue
                    st = os.lstat(p)
                    if stat.S_ISREG(st.st_mode):
                        scan_file(p)
        elif os.path.isfile(t):
            scan_file(t)
        else:
            sys.exit("scan: no such file or folder: %s" % t)
    for k, p, f4 in hits:
        print("HIT %s in %s (starts %s)" % (k, p, f4))
    print("scanned: %d files, %d lines, %d bytes, %d database rows; %d hits"
          % (nfiles, nlines, nbytes, nrows, len(hits)), file=sys.stderr)
    return 1 if hits else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--reveal", action="append", default=[])
    c.add_argument("--transport-key", action="append", default=[])
    c.add_argument("--kek")
    c.add_argument("--sms-json")
    c.add_argument("--token", action="append", default=[])
    c.add_argument("--secret", action="append", default=[])
    c.add_argument("-o", required=True)
    s = sub.add_parser("scan")
    s.add_argument("--secrets", required=True)
    s.add_argument("--exclude", action="append", default=[])
    s.add_argument("--label", action="append", default=[])
    s.add_argument("--db-dir")
    s.add_argument("targets", nargs="+")
    a = ap.parse_args()
    if a.cmd == "collect":
        collect(a)
        return 0
    return scan(a)


if __name__ == "__main__":
    sys.exit(main())
