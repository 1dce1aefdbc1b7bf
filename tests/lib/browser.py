#!/usr/bin/env python3
"""browser.py - drive one page in headless Chromium over the DevTools
protocol, for tests of web pages that keep updating themselves (server-sent
events), which `chromium --dump-dom` cannot wait for. Standard library only:
a minimal WebSocket client (RFC 6455) is below.

  browser.py --url URL --dom OUT.html [--screenshot OUT.png]
             [--wait-js EXPR] [--change-js EXPR --step CMD ...]
             [--width W] [--height H] [--timeout S] [--profile DIR]

Opens URL, waits until the JavaScript EXPR of --wait-js is true, then for
each --step runs CMD (with sh) and waits until the value of --change-js
differs from before it; then writes the page's DOM to --dom and, with
--screenshot, a PNG of the window (W x H, default 1400 x 2000). Exits 1 with
the reason when a wait times out (--timeout seconds each, default 30).
"""
import argparse
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


class WebSocket:
    def __init__(self, url, timeout=30):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, u.hostname, u.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("websocket handshake refused: %r" % head[:200])

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise OSError("websocket closed")
            buf += chunk
        return buf

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text):
        self._send_frame(1, text.encode())

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 9:  # ping
                self._send_frame(10, data)
                continue
            if opcode == 8:
                raise OSError("websocket closed by the browser")
            message += data
            if b0 & 0x80:
                return message.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            return None
        return r.get("result", {}).get("value")

    def wait(self, expr, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            if self.eval(expr):
                return
            time.sleep(0.2)
        raise TimeoutError("timed out after %ss waiting for %s" % (timeout, what))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--dom")
    ap.add_argument("--screenshot")
    ap.add_argument("--wait-js", default="document.readyState === 'complete'")
    ap.add_argument("--change-js")
    ap.add_argument("--step", action="append", default=[])
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--profile")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    a = ap.parse_args()
    if a.step and not a.change_js:
        ap.error("--step needs --change-js")

    profile = a.profile or tempfile.mkdtemp(prefix="browser-profile.")
    os.makedirs(profile, exist_ok=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(profile, "chromium.log"), "ab")
    proc = subprocess.Popen([a.chromium, "--headless", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                             "--remote-debugging-port=0", "--user-data-dir=" + profile,
                             "--window-size=%d,%d" % (a.width, a.height), "about:blank"],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        end = time.time() + a.timeout
        port = None
        while time.time() < end and port is None:
            if proc.poll() is not None:
                raise RuntimeError("chromium exited (%s); see %s" % (proc.returncode, log.name))
            try:
                port = int(open(port_file).read().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.1)
        if port is None:
            raise TimeoutError("chromium did not open its DevTools port")
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(WebSocket(target["webSocketDebuggerUrl"], timeout=a.timeout))
        page.call("Page.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=a.width, height=a.height,
                  deviceScaleFactor=1, mobile=False)
        page.call("Page.navigate", url=a.url)
        page.wait(a.wait_js, a.timeout, "the page: " + a.wait_js)
        for cmd in a.step:
            before = page.eval(a.change_js)
            subprocess.run(["sh", "-c", cmd], check=True)
            page.wait("JSON.stringify(%s) !== %s" % (a.change_js, json.dumps(json.dumps(before))),
                      a.timeout, "a change of %s after: %s" % (a.change_js, cmd))
            print("browser: after %r: %s" % (cmd[:60], page.eval(a.change_js)), file=sys.stderr)
        if a.dom:
            with open(a.dom, "w", encoding="utf-8") as f:
                f.write(page.eval("document.documentElement.outerHTML") or "")
        if a.screenshot:
            time.sleep(0.5)  # the last drawing
            shot = page.call("Page.captureScreenshot", format="png")
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        return 0
    except Exception as e:  # noqa: BLE001 - one line for the test's log
        print("browser.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not a.profile:
            shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
