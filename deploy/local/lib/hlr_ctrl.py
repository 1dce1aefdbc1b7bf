#!/usr/bin/python3
"""Send one command to an Osmocom CTRL interface (OsmoHLR) and print the reply.

  hlr_ctrl.py [--timeout SECONDS] HOST PORT "GET 1 subscriber.by-imsi-...info"

Framing (IPA): 2-byte big-endian length, stream byte 0xEE, then the payload:
an extension byte 0x00 and the ASCII command. The length counts the payload.

Prints the reply text (e.g. "GET_REPLY 1 var value" or "ERROR 1 reason").
Exit: 0 for GET_REPLY/SET_REPLY, 3 for an ERROR reply, 1 when the interface
cannot be reached or answers garbage, 2 for a bad invocation.
"""
import socket
import struct
import sys
import time

IPA_STREAM_OSMO = 0xEE
IPA_EXT_CTRL = 0x00


def usage(msg=None):
    if msg:
        print("hlr_ctrl.py: %s" % msg, file=sys.stderr)
    print('usage: hlr_ctrl.py [--timeout SECONDS] HOST PORT "GET|SET ID VAR [VALUE]"',
          file=sys.stderr)
    return 2


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out waiting for a reply")
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by peer")
        buf += chunk
    return buf


def main(argv):
    args = argv[1:]
    timeout = 5.0
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(args) >= 2 and args[0] == "--timeout":
        try:
            timeout = float(args[1])
        except ValueError:
            return usage("bad --timeout")
        args = args[2:]
    if len(args) != 3:
        return usage()
    host, port, cmd = args
    if not port.isdigit() or not 0 < int(port) < 65536:
        return usage("bad port %r" % port)
    words = cmd.split(None, 2)
    if len(words) < 3 or words[0] not in ("GET", "SET"):
        return usage("command must be GET ID VAR or SET ID VAR VALUE")
    req_id = words[1]
    try:
        data = bytes([IPA_EXT_CTRL]) + cmd.encode("ascii")
    except UnicodeEncodeError:
        return usage("command must be ASCII")
    if len(data) > 0xFFFF:
        return usage("command too long")

    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(struct.pack(">HB", len(data), IPA_STREAM_OSMO) + data)
            while True:
                hdr = recv_exact(s, 3, deadline)
                length, stream = struct.unpack(">HB", hdr)
                payload = recv_exact(s, length, deadline)
                # Other IPA streams (CCM pings) and TRAPs are not our answer.
                if stream != IPA_STREAM_OSMO or not payload or payload[0] != IPA_EXT_CTRL:
                    continue
                text = payload[1:].decode("ascii", "replace")
                kind, _, rest = text.partition(" ")
                rid = rest.split(" ", 1)[0]
                if kind == "TRAP" or rid != req_id:
                    continue
                print(text)
                if kind in ("GET_REPLY", "SET_REPLY"):
                    return 0
                if kind == "ERROR":
                    return 3
                print("hlr_ctrl.py: unexpected reply kind %r" % kind, file=sys.stderr)
                return 1
    except (OSError, TimeoutError, ConnectionError) as e:
        print("hlr_ctrl.py: %s:%s: %s" % (host, port, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
