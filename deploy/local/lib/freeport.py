#!/usr/bin/python3
"""Free TCP ports on loopback, as the kernel sees them.

  freeport.py [HOST]              print a port the kernel picks for HOST
                                  (default 127.0.0.1)
  freeport.py --check HOST PORT.. exit 0 if every PORT can be bound on HOST,
                                  1 (naming the first busy one) otherwise

A port printed here is only free at that instant: callers retry on a start
failure. --check sets SO_REUSEADDR like the servers do, so a TIME_WAIT left
by an earlier run does not count as busy.
"""
import socket
import sys


def bindable(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


def main(argv):
    if len(argv) > 1 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) >= 2 and argv[1] == "--check":
        if len(argv) < 4:
            print("usage: freeport.py --check HOST PORT...", file=sys.stderr)
            return 2
        host = argv[2]
        for p in argv[3:]:
            if not p.isdigit() or not 0 < int(p) < 65536:
                print("freeport.py: bad port %r" % p, file=sys.stderr)
                return 2
            if not bindable(host, int(p)):
                print("%s:%s busy" % (host, p), file=sys.stderr)
                return 1
        return 0
    if len(argv) > 2:
        print("usage: freeport.py [HOST]", file=sys.stderr)
        return 2
    host = argv[1] if len(argv) == 2 else "127.0.0.1"
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        print(s.getsockname()[1])
    except OSError as e:
        print("freeport.py: %s: %s" % (host, e), file=sys.stderr)
        return 1
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
