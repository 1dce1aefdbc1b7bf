#!/usr/bin/python3
"""Print the texts Kannel's fakesmsc received, decoded to UTF-8.

  fakesmsc_decode.py [--json] [--to NUMBER] LOG

fakesmsc logs each message it is sent as

  ... Got message N: <FROM TO TYPE DATA>

where TYPE is "text" (DATA as is), "data" (8-bit, URL-encoded), "ucs-2"
(UTF-16 big-endian, URL-encoded: "%00M%1E%AD..."), or "udh UDH data DATA"
for one part of a long message. Parts of a concatenated message (UDH
information element 00 or 08) are put together in order; as the project
sends every SMS with coding=2, their data is UCS-2.

Default output: one message per line, its text with "\\" written "\\\\"
and a line break "\\n". --json: one JSON object per line, {"from", "to",
"text", "parts"}, nothing escaped beyond JSON. --to keeps the messages to
one number. A concatenated message missing parts is left out with a
warning on stderr.
"""
import json
import re
import sys
import urllib.parse

LINE = re.compile(r"Got message \d+: <(.*)>\s*$")


def unquote(data):
    # fakesmsc writes a space as "+" (form encoding), so "+" means 0x20.
    return urllib.parse.unquote_to_bytes(data.replace("+", "%20"))


def ucs2(raw):
    return raw.decode("utf-16-be", "replace")


def concat_info(udh):
    """(reference, total, sequence) of a concatenation UDH, else None."""
    if not udh:
        return None
    i, end = 1, min(len(udh), 1 + udh[0])
    while i + 1 < end:
        iei, length = udh[i], udh[i + 1]
        body = udh[i + 2:i + 2 + length]
        if iei == 0x00 and length == 3:
            return body[0], body[1], body[2]
        if iei == 0x08 and length == 4:
            return (body[0] << 8) | body[1], body[2], body[3]
        i += 2 + length
    return None


def messages(lines):
    """Yields dicts {from, to, text, parts} in the order they completed."""
    pending = {}
    for line in lines:
        m = LINE.search(line)
        if not m:
            continue
        fields = m.group(1).split(" ", 3)
        if len(fields) < 4:
            continue
        frm, to, kind, rest = fields
        if kind == "text":
            yield {"from": frm, "to": to, "text": rest, "parts": 1}
        elif kind == "ucs-2":
            yield {"from": frm, "to": to, "text": ucs2(unquote(rest)), "parts": 1}
        elif kind == "data":
            yield {"from": frm, "to": to,
                   "text": unquote(rest).decode("utf-8", "backslashreplace"), "parts": 1}
        elif kind == "udh":
            udh_s, _, after = rest.partition(" ")
            dkind, _, data = after.partition(" ")
            udh = unquote(udh_s)
            info = concat_info(udh)
            raw = unquote(data)
            if info is None:
                yield {"from": frm, "to": to, "text": ucs2(raw), "parts": 1}
                continue
            ref, total, seq = info
            key = (frm, to, ref, total)
            parts = pending.setdefault(key, {})
            parts[seq] = raw
            if len(parts) == total and all(s in parts for s in range(1, total + 1)):
                del pending[key]
                joined = b"".join(parts[s] for s in range(1, total + 1))
                yield {"from": frm, "to": to, "text": ucs2(joined), "parts": total}
    for (frm, to, ref, total), parts in pending.items():
        print("fakesmsc_decode: message %d to %s has %d of %d parts; left out"
              % (ref, to, len(parts), total), file=sys.stderr)


def main(argv):
    as_json, to, path = False, None, None
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a == "--json":
            as_json = True
        elif a == "--to" and args:
            to = args.pop(0)
        elif path is None and not a.startswith("-"):
            path = a
        else:
            print("usage: fakesmsc_decode.py [--json] [--to NUMBER] LOG", file=sys.stderr)
            return 2
    if path is None:
        print("usage: fakesmsc_decode.py [--json] [--to NUMBER] LOG", file=sys.stderr)
        return 2
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        print("fakesmsc_decode: %s" % e, file=sys.stderr)
        return 1
    for msg in messages(lines):
        if to is not None and msg["to"] != to:
            continue
        if as_json:
            print(json.dumps(msg, ensure_ascii=False))
        else:
            print(msg["text"].replace("\\", "\\\\").replace("\n", "\\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
