#!/usr/bin/env python3
"""dashboard_cdp.py: drive headless Chromium over the DevTools protocol against vmatlasd's
dashboard, with nothing but the Python standard library (a minimal WebSocket client included).

    dashboard_cdp.py check CONFIG.json    the browser checks of tests/http/dashboard.sh
    dashboard_cdp.py shots CONFIG.json    screenshots of each view (docs/screenshots.sh)

CONFIG is written by the calling script; see check() and shots() for its keys. Exit status: 0
passed, 1 failed, 77 skipped (no browser).
"""
import base64
import hashlib
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


class Failure(Exception):
    pass


# --- a minimal WebSocket client (RFC 6455: text frames, client masking, ping/pong) ----------

class WebSocket:
    GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout=10):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16))
        req = (f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Failure("DevTools closed the WebSocket handshake")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0]:
            raise Failure(f"WebSocket handshake refused: {lines[0]}")
        want = base64.b64encode(hashlib.sha1(key + self.GUID).digest()).decode()
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                   for l in lines[1:] if ":" in l}
        if headers.get("sec-websocket-accept") != want:
            raise Failure("WebSocket handshake: bad Sec-WebSocket-Accept")
        self.sock.settimeout(None)

    @staticmethod
    def _mask(data, key):
        n = len(data)
        k = (key * (n // 4 + 1))[:n]
        return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")

    def _send_frame(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        key = os.urandom(4)
        self.sock.sendall(head + key + self._mask(payload, key))

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def _read(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise TimeoutError
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Failure("DevTools closed the WebSocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, deadline):
        """One whole message (text), or TimeoutError at the deadline."""
        parts = []
        while True:
            b0, b1 = self._read(2, deadline)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8, deadline))[0]
            mask = self._read(4, deadline) if b1 & 0x80 else None
            data = self._read(n, deadline)
            if mask:
                data = self._mask(data, mask)
            if opcode == 0x8:
                raise Failure("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send_frame(0xA, data)
                continue
            if opcode == 0xA:
                continue
            parts.append(data)
            if fin:
                return b"".join(parts).decode()


# --- the DevTools protocol ----------------------------------------------------------------

class Browser:
    """A headless Chromium with a fresh profile, and one page attached with a flat session."""

    def __init__(self, width=1440, height=900):
        exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise FileNotFoundError("chromium")
        self.profile = tempfile.mkdtemp(prefix="vmatlas-chromium-")
        args = [exe, "--headless=new", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-default-apps",
                "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                "--no-pings", "--mute-audio", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--force-color-profile=srgb", "--lang=en-US", "about:blank"]
        # Its sandbox refuses root and needs user namespaces; the browser visits only the
        # daemons on loopback.
        args.insert(1, "--no-sandbox")
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while True:
            if os.path.exists(port_file):
                lines = open(port_file).read().split("\n")
                if len(lines) >= 2 and lines[1]:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise Failure("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        self.ws = WebSocket(f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}")
        self.next_id = 0
        self.events = []
        self.dialogs = []
        self.fulfil = None  # url -> bytes, for requests paused by Fetch.enable
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def close(self):
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def _send(self, method, params):
        """A command whose answer nobody waits for (call() skips it)."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params,
                                 "sessionId": self.session}))

    def _event(self, m):
        if m.get("method") == "Fetch.requestPaused":
            p = m["params"]
            self._send("Fetch.fulfillRequest", {
                "requestId": p["requestId"], "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": "application/json"}],
                "body": base64.b64encode(self.fulfil(p["request"]["url"])).decode()})
            return
        self.events.append(m)
        if m.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(m["params"])
            # Dismiss it so the page goes on; the test fails on it anyway.
            self._send("Page.handleJavaScriptDialog", {"accept": False})

    def call(self, method, params=None, timeout=60):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = json.loads(self.ws.recv(deadline))
            except TimeoutError:
                raise Failure(f"{method}: no answer in {timeout} s")
            if m.get("id") == mid:
                if "error" in m:
                    raise Failure(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self._event(m)

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            try:
                m = json.loads(self.ws.recv(deadline))
            except TimeoutError:
                return
            if "method" in m:
                self._event(m)

    def eval(self, expr, timeout=60):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, timeout)
        if "exceptionDetails" in r:
            raise Failure(f"evaluate {expr[:80]!r}: {r['exceptionDetails'].get('text')} "
                          f"{r['exceptionDetails'].get('exception', {}).get('description', '')}")
        return r["result"].get("value")

    def wait(self, expr, timeout=20, what=None):
        deadline = time.monotonic() + timeout
        while True:
            # The document may not exist yet right after a navigation.
            v = self.eval(f"(() => {{ try {{ return ({expr}); }} catch (e) {{ return false; }} }})()")
            if v:
                return v
            if time.monotonic() > deadline:
                raise Failure(f"timed out waiting for {what or expr}")
            self.pump(0.02)

    def navigate(self, url):
        self.call("Page.navigate", {"url": url})

    def key(self, key, code=None, vk=0, text=None, shift=False):
        p = {"key": key, "code": code or key, "windowsVirtualKeyCode": vk,
             "nativeVirtualKeyCode": vk, "modifiers": 8 if shift else 0}
        down = dict(p, type="keyDown")
        if text:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent", dict(p, type="keyUp"))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def get_json(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


# --- the checks ---------------------------------------------------------------------------

READY = "document.body.dataset.view === {view!r} && document.body.dataset.ready === '1'"
# No element that markup from the API could have made, and no inline handler anywhere.
NO_INJECTION = """(() => {
  const bad = document.querySelectorAll('img, svg, b, iframe, object, embed, script:not([src]), style, link:not([rel=stylesheet]):not([rel=icon])');
  const handlers = [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on')));
  return {bad: [...bad].map(e => e.outerHTML.slice(0, 80)), handlers: handlers.map(e => e.tagName)};
})()"""


class Checker:
    def __init__(self, cfg):
        self.cfg = cfg
        self.b = Browser()
        self.origins = []
        self.allowed_log = []  # (substring of URL, status text) that a phase expects
        self.passed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok {self.passed} - {what}", flush=True)

    def no_injection(self, where):
        r = self.b.eval(NO_INJECTION)
        if r["bad"] or r["handlers"]:
            raise Failure(f"{where}: elements made from API text: {r}")

    def view(self, origin, hash_, view, timeout=30):
        if self.b.eval("location.origin") == origin:
            self.b.eval(f"delete document.body.dataset.ready; location.hash = {hash_!r}")
        else:
            self.b.navigate(origin + "/" + hash_)
        self.b.wait(READY.format(view=view), timeout, f"view {view} at {origin}/{hash_}")

    def errors(self):
        """Console errors, exceptions, error log entries (less the expected ones), dialogs."""
        out = []
        for m in self.b.events:
            meth, p = m.get("method"), m.get("params", {})
            if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(("console." + p["type"], [a.get("value", a.get("description")) for a in p.get("args", [])]))
            elif meth == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(("exception", d.get("text"), d.get("exception", {}).get("description")))
            elif meth == "Log.entryAdded" and p["entry"].get("level") == "error":
                e = p["entry"]
                if not any(u in e.get("url", "") and s in e.get("text", "") for u, s in self.allowed_log):
                    out.append(("log", e.get("source"), e.get("text"), e.get("url")))
        return out

    def requests(self):
        return [m["params"]["request"]["url"] for m in self.b.events
                if m.get("method") == "Network.requestWillBeSent"]

    def run(self):
        cfg = self.cfg
        live = cfg["live"]
        self.origins.append(live)
        probe = cfg["probe"]
        api_probe = get_json(f"{live}/api/v1/processes/{probe['pid']}")["process"]
        if api_probe["comm"] != probe["comm"]:
            raise Failure(f"the daemon sees comm {api_probe['comm']!r}, not {probe['comm']!r}")

        # 1. The process table lists the probe, its comm as text.
        self.view(live, "#/processes", "processes")
        n = self.b.eval("document.querySelectorAll('.vt-row:not([hidden])').length")
        if n < 3:
            raise Failure(f"process table: only {n} rows drawn")
        total = self.b.eval("document.querySelector('.vt-inner').getAttribute('aria-rowcount') - 1")
        self.ok(f"process table drawn ({total} processes, {n} rows in the DOM)")
        self.b.eval(f"""(() => {{ const i = document.getElementById('filter-comm');
            i.value = {probe['comm'][:4]!r}; i.dispatchEvent(new Event('input')); }})()""")
        cells = self.b.wait(f"""(() => {{ const c = [...document.querySelectorAll('.vt-row:not([hidden]) .comm')]
            .filter(c => c.textContent === {probe['comm']!r}); return c.length && c.map(c => c.innerHTML); }})()""",
                            10, "the probe's row")
        if any("<" in h for h in cells):
            raise Failure(f"the probe's comm cell holds markup: {cells}")
        self.no_injection("process table")
        self.ok(f"the probe {probe['comm']!r} is listed as text, no element made of it")

        # 2. Keyboard: Tab reaches the table; Enter on the active row opens the process.
        self.b.eval("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        seen = []
        for _ in range(40):
            self.b.key("Tab", vk=9)
            d = self.b.eval("""(() => { const e = document.activeElement;
                const s = getComputedStyle(e);
                return {tag: e.tagName, cls: e.className, id: e.id,
                        ring: s.outlineStyle !== 'none' || s.boxShadow !== 'none'}; })()""")
            seen.append(d)
            if "vt-body" in (d["cls"] or ""):
                break
        kinds = {(d["tag"], "vt-body" in (d["cls"] or "")) for d in seen}
        if ("A", False) not in kinds or ("INPUT", False) not in kinds or ("BUTTON", False) not in kinds \
                or not any(d["cls"] and "vt-body" in d["cls"] for d in seen):
            raise Failure(f"tab order misses links, filters, sort buttons or the table: {seen}")
        if not all(d["ring"] for d in seen):
            raise Failure(f"focus without a visible ring: {[d for d in seen if not d['ring']]}")
        # Other processes may share the probe's name: arrow down to the probe's own row.
        active = "(document.querySelector('.vt-row.active') || {firstChild: {}}).firstChild.textContent"
        for _ in range(20):
            if self.b.eval(active) == str(probe["pid"]):
                break
            self.b.key("ArrowDown", vk=40)
        else:
            raise Failure(f"ArrowDown never reached the probe's row (active: {self.b.eval(active)})")
        self.b.key("Enter", vk=13, text="\r")
        self.b.wait(f"location.hash === '#/process/{probe['pid']}'", 10, "Enter to open the row")
        self.ok(f"Tab order reaches the table in {len(seen)} steps, every stop with a focus ring; arrows and Enter opened the process")

        # 3. The process view draws every VMA of the probe on the map.
        self.b.wait("(() => { const m = document.getElementById('vma-map'); return m && m.dataset.ready === '1'; })()",
                    30, "the probe's map")
        drawn = int(self.b.eval("document.getElementById('vma-map').dataset.vmasDrawn"))
        if drawn != api_probe["vma_count"]:
            raise Failure(f"map drew {drawn} VMAs, the API says vma_count {api_probe['vma_count']}")
        title = self.b.eval("document.querySelector('h1').textContent")
        if title != f"{probe['comm']} ({probe['pid']})":
            raise Failure(f"process title {title!r}")
        cmd = self.b.eval("document.querySelector('.cmdline').textContent")
        if probe["cmdline_marker"] not in cmd:
            raise Failure(f"cmdline not shown as text: {cmd!r}")
        # The memfd's name is markup too: filter the VMA list to it.
        self.b.eval("""(() => { const i = document.getElementById('vma-filter');
            i.value = 'memfd:'; i.dispatchEvent(new Event('input')); })()""")
        name = self.b.wait("""(() => { const r = [...document.querySelectorAll('.vt-row:not([hidden])')]
            .map(r => r.lastElementChild.textContent).filter(t => t.includes('memfd:')); return r[0]; })()""",
                           10, "the memfd VMA in the list")
        if "<img src=y onerror=alert(2)>" not in name:
            raise Failure(f"memfd name shown as {name!r}")
        # Hover over the map shows a VMA's figures.
        box = self.b.eval("(() => { const r = document.getElementById('vma-map').getBoundingClientRect(); "
                          "return {x: r.left, y: r.top}; })()")
        self.b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": box["x"] + 122, "y": box["y"] + 20})
        tip = self.b.wait("!document.getElementById('tooltip').hidden && document.getElementById('tooltip').textContent",
                          5, "the hover tooltip")
        if "size" not in tip or "kind" not in tip:
            raise Failure(f"tooltip without figures: {tip!r}")
        self.no_injection("process view")
        self.ok(f"process view: {drawn} VMAs on the map (= vma_count), cmdline and memfd name as text, hover shows figures")

        # 4. The other views. Without fleet mode /api/v1/fleet/nodes is a 404, which Chromium
        # logs as a failed resource load: that one is expected.
        self.allowed_log.append((live + "/api/v1/fleet/", "status of 404"))
        for hash_, view, check in (
                ("#/hiwater", "hiwater", "document.querySelectorAll('.vt-row:not([hidden])').length > 0"),
                ("#/hiwater?by=cgroup", "hiwater", "document.querySelector('.vt-head').textContent.includes('memory.peak')"),
                ("#/hugepages", "hugepages", "!!document.getElementById('pools') || document.body.textContent.includes('No hugetlb pools')"),
                ("#/fleet", "fleet", "!!document.body.dataset.fleet")):
            self.view(live, hash_, view)
            if not self.b.eval(check):
                raise Failure(f"{hash_}: {check}")
            self.no_injection(hash_)
        fleet = self.b.eval("document.body.dataset.fleet")
        if fleet == "off" and "Fleet mode is off" not in self.b.eval("document.body.textContent"):
            raise Failure("fleet view: 404 without 'Fleet mode is off'")
        self.ok(f"hiwater (comm, cgroup), hugepages and fleet views drawn (fleet: {fleet})")

        # 5. The 65,530-VMA process opens in its process view within the budget.
        big = cfg["big"]
        api_big = get_json(f"{live}/api/v1/processes/{big['pid']}")["process"]
        # On a machine shared with other work one slow run is noise: the best of three counts.
        times = []
        for attempt in range(3):
            self.b.navigate("about:blank")
            self.b.wait("location.href === 'about:blank'", 10)
            t0 = time.monotonic()
            self.b.navigate(f"{live}/#/process/{big['pid']}")
            self.b.wait("(() => { const m = document.getElementById('vma-map'); return !!m && m.dataset.ready === '1'; })()",
                        120, "the big process's map")
            wall_ms = (time.monotonic() - t0) * 1000
            mark_ms = self.b.eval("performance.getEntriesByName('vmatlas:map-drawn')[0].startTime")
            steps = self.b.eval("""(() => { const t = (n) => { const e = performance.getEntriesByName(n);
                return e.length ? Math.round(e[e.length - 1].startTime) : null; };
                const r = performance.getEntriesByType('resource').find(e => e.name.endsWith('/vmas'));
                return {response: t('vmatlas:vmas-response'), read: t('vmatlas:vmas-read'),
                        request: r ? Math.round(r.requestStart || r.startTime) : null}; })()""")
            drawn = int(self.b.eval("document.getElementById('vma-map').dataset.vmasDrawn"))
            heap = self.b.eval("performance.memory ? performance.memory.usedJSHeapSize : null")
            print(f"# 65,530-VMA process: {drawn} VMAs (vma_count {api_big['vma_count']}): navigation to map "
                  f"drawn {mark_ms:.0f} ms (performance mark), {wall_ms:.0f} ms as seen over CDP (/vmas asked "
                  f"at {steps['request']} ms, headers at {steps['response']} ms, read at {steps['read']} ms); "
                  f"JS heap after {(heap or 0) / 2**20:.0f} MiB", flush=True)
            if drawn != api_big["vma_count"]:
                raise Failure(f"big map drew {drawn} VMAs, vma_count is {api_big['vma_count']}")
            times.append(mark_ms)
            if mark_ms <= cfg["budget_ms"]:
                break
        mark_ms = min(times)
        if mark_ms > cfg["budget_ms"]:
            raise Failure(f"the {drawn}-VMA process took {', '.join(f'{t:.0f}' for t in times)} ms to draw "
                          f"(budget {cfg['budget_ms']} ms)")
        # Still responsive: scroll the VMA list to the end and hover.
        t1 = time.monotonic()
        self.b.eval("(() => { const b = document.querySelectorAll('.vt-body'); const l = b[b.length - 1]; l.scrollTop = l.scrollHeight; })()")
        self.b.wait("[...document.querySelectorAll('.vt-row:not([hidden])')].some(r => r.dataset.index >= " + str(drawn - 5) + ")",
                    10, "the end of the VMA list")
        scroll_ms = (time.monotonic() - t1) * 1000
        self.no_injection("big process")
        self.ok(f"{drawn}-VMA process drawn in {mark_ms:.0f} ms (budget {cfg['budget_ms']} ms); list scrolled to its end in {scroll_ms:.0f} ms")

        # 5b. 10,000 processes (this host has fewer: the browser is handed a document of
        # 10,000 made from the live one's processes, with markup among the names).
        sample = get_json(f"{live}/api/v1/processes?limit=200")
        base = [p for p in sample["processes"] if p.get("memory")] or sample["processes"]
        procs = []
        for i in range(10000):
            p = json.loads(json.dumps(base[i % len(base)]))
            p["pid"] = 3000000 + i
            p["id"] = f"{p['pid']}:{i}"
            p["comm"] = ["<img src=x>", "w\"k\\r", "proc-%d" % (i % 700)][i % 3]
            for k in ("vm_rss", "vm_hwm", "vm_size"):
                if p["memory"].get(k) is not None:
                    p["memory"][k] = (p["memory"][k] or 4096) * (1 + (i * 7919) % 97)
            procs.append(p)
        doc = json.dumps({"snapshot": sample["snapshot"], "total": 10000, "processes": procs}).encode()
        self.b.fulfil = lambda url: doc
        self.b.call("Fetch.enable", {"patterns": [{"urlPattern": "*/api/v1/processes?*"}]})
        self.b.navigate("about:blank")
        self.b.wait("location.href === 'about:blank'", 10)
        t0 = time.monotonic()
        self.b.navigate(f"{live}/#/processes")
        self.b.wait(READY.format(view="processes"), 60, "the 10,000-process table")
        open_ms = (time.monotonic() - t0) * 1000
        rows = self.b.eval("document.querySelector('.vt-inner').getAttribute('aria-rowcount') - 1")
        in_dom = self.b.eval("document.querySelectorAll('.vt-row').length")
        if rows != 10000 or in_dom > 100:
            raise Failure(f"10,000 processes: {rows} rows, {in_dom} in the DOM")
        sort_ms = self.b.eval("""(() => { const t = performance.now();
            [...document.querySelectorAll('.vt-head button')].find(b => b.textContent === 'Peak RSS').click();
            return performance.now() - t; })()""")
        self.b.eval("(() => { const b = document.querySelector('.vt-body'); b.scrollTop = b.scrollHeight; })()")
        self.b.wait("[...document.querySelectorAll('.vt-row:not([hidden])')].some(r => r.dataset.index === '9999')",
                    10, "the last of 10,000 rows")
        self.no_injection("10,000 processes")
        self.b.call("Fetch.disable")
        self.b.fulfil = None
        self.ok(f"10,000 processes: table ready {open_ms:.0f} ms after navigation, {in_dom} rows in the DOM, "
                f"sorted in {sort_ms:.0f} ms, scrolled to the last row")

        # 6. The fixture tree: comm with '"', '\\', a newline and parentheses, as text.
        fx = cfg["fixture"]
        self.origins.append(fx)
        procs = get_json(f"{fx}/api/v1/processes?limit=100&kthreads=include")["processes"]
        comms = {p["pid"]: p["comm"] for p in procs}
        want = [c for c in comms.values() if '"' in c or "\\" in c or "\n" in c]
        if not any('"' in c and "\\" in c for c in want):
            raise Failure(f"the fixture has no comm with both '\"' and '\\\\': {comms}")
        self.view(fx, "#/processes?kthreads=include", "processes")
        shown = self.b.eval("[...document.querySelectorAll('.vt-row:not([hidden]) .comm')].map(c => c.textContent)")
        for c in want:
            if c not in shown:
                raise Failure(f"fixture comm {c!r} not shown as text; shown: {shown}")
        pid = next(p for p, c in comms.items() if '"' in c and "\\" in c)
        self.view(fx, f"#/process/{pid}", "process")
        title = self.b.eval("document.querySelector('h1').textContent")
        if title != f"{comms[pid]} ({pid})":
            raise Failure(f"fixture process title {title!r}, want {comms[pid]!r}")
        self.no_injection("fixture")
        self.ok(f"fixture comms {want!r} shown exactly, as text")

        # Every fixture process (a kernel thread, a zombie, torn maps, unreadable files) opens,
        # also with addresses redacted (null): no exception, the map drawn.
        red = cfg["fixture_redacted"]
        self.origins.append(red)
        for origin in (fx, red):
            self.b.navigate("about:blank")
            self.b.wait("location.href === 'about:blank'", 10)
            for pid in sorted(comms):
                vc = next(p["vma_count"] for p in procs if p["pid"] == pid) or 0  # null: torn maps
                self.view(origin, f"#/process/{pid}", "process")
                drawn = self.b.wait("(() => { const m = document.getElementById('vma-map'); "
                                    "return m && m.dataset.ready === '1' && m.dataset.vmasDrawn; })()",
                                    10, f"the map of fixture process {pid}")
                if int(drawn) != vc:
                    raise Failure(f"{origin} process {pid}: {drawn} VMAs drawn, vma_count {vc}")
        self.ok(f"all {len(comms)} fixture processes open, with addresses and redacted")

        # 7. With a token: the page loads without it, asks once, keeps it for the tab.
        tok = cfg["token"]
        self.origins.append(tok["url"])
        self.allowed_log.append((tok["url"] + "/api/v1/", "status of 401"))
        self.b.navigate("about:blank")
        self.b.wait("location.href === 'about:blank'", 10)
        self.b.navigate(tok["url"] + "/#/processes")
        self.b.wait("!!document.getElementById('token-input')", 20, "the token prompt")
        self.b.eval(f"""(() => {{ document.getElementById('token-input').value = {tok['token']!r};
            document.getElementById('token-form').requestSubmit(); }})()""")
        self.b.wait(READY.format(view="processes"), 20, "the table after the token")
        if self.b.eval("sessionStorage.getItem('vmatlas.token')") != tok["token"]:
            raise Failure("the token is not in sessionStorage")
        self.b.call("Page.reload")
        self.b.pump(0.3)
        self.b.wait(READY.format(view="processes"), 20, "the table after a reload")
        if self.b.eval("!!document.getElementById('token-input')"):
            raise Failure("asked for the token again after a reload")
        self.b.eval("sessionStorage.removeItem('vmatlas.token')")
        self.ok("token: asked once, kept in sessionStorage, sent on every request")

        # 8. Nothing went wrong along the way, and nothing left the daemons.
        self.b.pump(0.5)
        errs = self.errors()
        if errs:
            raise Failure(f"console errors: {errs}")
        if self.b.dialogs:
            raise Failure(f"dialogs opened: {self.b.dialogs}")
        reqs = self.requests()
        outside = [u for u in reqs if not any(u.startswith(o + "/") for o in self.origins)
                   and not u.startswith("data:") and u != "about:blank"]
        if outside:
            raise Failure(f"requests outside the daemons: {outside}")
        self.ok(f"no console error, exception or dialog; all {len(reqs)} requests went to the daemons")


def check(cfg):
    try:
        c = Checker(cfg)
    except FileNotFoundError:
        print("dashboard_cdp.py: chromium is missing; skipping")
        return 77
    try:
        c.run()
    except Failure as e:
        print(f"dashboard_cdp.py: FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        c.b.close()
    print(f"{c.passed} passed, 0 failed")
    return 0


def shots(cfg):
    """Screenshots of each view into cfg["out"] (PNG, 1440x900 CSS px)."""
    b = Browser(1440, 900)
    url = cfg["url"]
    try:
        for name, hash_, view, extra in cfg["views"]:
            b.navigate("about:blank")
            b.wait("location.href === 'about:blank'", 10)
            b.navigate(f"{url}/{hash_}")
            b.wait(READY.format(view=view), 60, f"view {view}")
            if extra:
                b.eval(extra)
            b.pump(0.8)
            path = os.path.join(cfg["out"], name)
            b.screenshot(path)
            print(f"{path}: {os.path.getsize(path)} bytes")
    finally:
        b.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "shots"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[2]) as f:
        config = json.load(f)
    sys.exit(check(config) if sys.argv[1] == "check" else shots(config))
