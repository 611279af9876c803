#!/usr/bin/env python3
"""dashboard_bidi.py: the dashboard in headless Firefox, driven over WebDriver BiDi (the
protocol Firefox speaks natively; Python standard library only, the WebSocket client of
dashboard_cdp.py).

    dashboard_bidi.py check CONFIG.json

A shorter pass than the Chromium one, for what could differ between engines: every view
draws; the probe's comm is text and no element is made of it; the map of the probe and of
the process at vm.max_map_count VMAs draws exactly vma_count VMAs (the time of the latter is
printed, and must stay under twice the Chromium budget); no console error or JavaScript
error, no prompt, and no request outside the daemon. Exit status: 0 passed, 1 failed, 77
skipped (no Firefox).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_cdp import NO_INJECTION, READY, Failure, WebSocket, get_json  # noqa: E402

# A profile that does not phone home (there is no network here anyway).
PREFS = {
    "app.update.enabled": False, "app.update.auto": False,
    "toolkit.telemetry.enabled": False, "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False, "extensions.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False, "browser.startup.homepage_override.mstone": "ignore",
    "media.autoplay.default": 5, "remote.prefs.recommended": True,
}


class Firefox:
    def __init__(self):
        exe = os.environ.get("FIREFOX") or shutil.which("firefox-esr") or shutil.which("firefox")
        if not exe:
            raise FileNotFoundError("firefox")
        self.profile = tempfile.mkdtemp(prefix="vmatlas-firefox-")
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in PREFS.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
        self.log = open(os.path.join(self.profile, "firefox.log"), "w+")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-remote", "--profile", self.profile,
             "--remote-debugging-port", "0", "--window-size", "1440,900", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        port = None
        deadline = time.monotonic() + 60
        while port is None:
            self.log.seek(0)
            m = re.search(r"WebDriver BiDi listening on ws://127\.0\.0\.1:(\d+)", self.log.read())
            if m:
                port = m.group(1)
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise Failure("firefox did not start (no WebDriver BiDi address)")
            else:
                time.sleep(0.1)
        self.ws = WebSocket(f"ws://127.0.0.1:{port}/session")
        self.next_id = 0
        self.events = []
        self.call("session.new", {"capabilities": {}})
        self.call("session.subscribe", {"events": [
            "log.entryAdded", "network.beforeRequestSent", "browsingContext.userPromptOpened"]})
        self.ctx = self.call("browsingContext.getTree", {})["contexts"][0]["context"]
        self.call("browsingContext.setViewport", {"context": self.ctx,
                                                  "viewport": {"width": 1440, "height": 900}})

    def close(self):
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, params, timeout=90):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = json.loads(self.ws.recv(deadline))
            except TimeoutError:
                raise Failure(f"{method}: no answer in {timeout} s")
            if m.get("id") == mid:
                if m.get("type") == "error":
                    raise Failure(f"{method}: {m.get('error')}: {m.get('message')}")
                return m["result"]
            if m.get("type") == "event":
                self.events.append(m)
                if m["method"] == "browsingContext.userPromptOpened":
                    self.call("browsingContext.handleUserPrompt",
                              {"context": m["params"]["context"], "accept": False})

    def eval(self, expr):
        """The value of expr, through JSON; false when it throws (e.g. no document yet)."""
        r = self.call("script.evaluate", {
            "expression": f"(() => {{ try {{ return JSON.stringify({expr}); }} "
                          f"catch (e) {{ return 'false'; }} }})()",
            "target": {"context": self.ctx}, "awaitPromise": True})
        if r.get("type") != "success":
            raise Failure(f"evaluate {expr[:80]!r}: {r}")
        return json.loads(r["result"]["value"])

    def wait(self, expr, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            v = self.eval(expr)
            if v:
                return v
            if time.monotonic() > deadline:
                raise Failure(f"firefox: timed out waiting for {what}")
            time.sleep(0.03)

    def navigate(self, url):
        self.call("browsingContext.navigate", {"context": self.ctx, "url": url, "wait": "interactive"})


def run(ff, cfg):
    live = cfg["live"]
    probe, big = cfg["probe"], cfg["big"]
    passed = 0
    for hash_, view in (("#/processes", "processes"), ("#/hiwater", "hiwater"),
                        ("#/hugepages", "hugepages"), ("#/fleet", "fleet")):
        ff.navigate("about:blank")
        ff.navigate(f"{live}/{hash_}")
        ff.wait(READY.format(view=view), 30, f"view {view}")
        r = ff.eval(NO_INJECTION)
        if r["bad"] or r["handlers"]:
            raise Failure(f"firefox {hash_}: elements made from API text: {r}")
    passed += 1
    print(f"ok {passed} - firefox: processes, hiwater, hugepages and fleet views drawn", flush=True)

    ff.navigate("about:blank")
    ff.navigate(f"{live}/#/processes?comm={urllib.parse.quote(probe['comm'][:4])}")
    ff.wait(READY.format(view="processes"), 30, "the filtered table")
    ff.wait(f"""[...document.querySelectorAll('.vt-row:not([hidden]) .comm')]
        .some(c => c.textContent === {probe['comm']!r} && c.children.length === 0)""", 10, "the probe's row")
    for who in (probe, big):
        vc = get_json(f"{live}/api/v1/processes/{who['pid']}")["process"]["vma_count"]
        times = []
        for _ in range(3 if who is big else 1):
            ff.navigate("about:blank")
            t0 = time.monotonic()
            ff.navigate(f"{live}/#/process/{who['pid']}")
            drawn = ff.wait("(() => { const m = document.getElementById('vma-map'); "
                            "return m && m.dataset.ready === '1' && Number(m.dataset.vmasDrawn); })()",
                            120, f"the map of {who['pid']}")
            times.append((time.monotonic() - t0) * 1000)
            if drawn != vc:
                raise Failure(f"firefox: {drawn} VMAs drawn for {who['pid']}, vma_count {vc}")
            if times[-1] <= 2 * cfg["budget_ms"]:
                break
        r = ff.eval(NO_INJECTION)
        if r["bad"] or r["handlers"]:
            raise Failure(f"firefox process view: elements made from API text: {r}")
        if who is big:
            print(f"# firefox: the {drawn}-VMA process: navigation to map drawn "
                  f"{', '.join(f'{t:.0f}' for t in times)} ms", flush=True)
            if min(times) > 2 * cfg["budget_ms"]:
                raise Failure(f"firefox: the {drawn}-VMA process took {min(times):.0f} ms")
    passed += 1
    print(f"ok {passed} - firefox: the probe listed as text; both maps drawn with vma_count VMAs", flush=True)

    time.sleep(0.3)
    ff.eval("true")  # collect the last events
    errors = [e["params"] for e in ff.events if e["method"] == "log.entryAdded"
              and e["params"].get("level") == "error"]
    prompts = [e["params"] for e in ff.events if e["method"] == "browsingContext.userPromptOpened"]
    urls = [e["params"]["request"]["url"] for e in ff.events if e["method"] == "network.beforeRequestSent"]
    outside = [u for u in urls if not u.startswith(live + "/") and not u.startswith("data:")
               and u != "about:blank"]
    if errors:
        raise Failure(f"firefox: console/JavaScript errors: {errors}")
    if prompts:
        raise Failure(f"firefox: prompts opened: {prompts}")
    if outside:
        raise Failure(f"firefox: requests outside the daemon: {outside}")
    passed += 1
    print(f"ok {passed} - firefox: no console or JavaScript error, no prompt; all {len(urls)} "
          "requests went to the daemon", flush=True)
    return passed


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "check":
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2]) as f:
        cfg = json.load(f)
    try:
        ff = Firefox()
    except FileNotFoundError:
        print("dashboard_bidi.py: firefox is missing; skipping")
        return 77
    try:
        n = run(ff, cfg)
    except Failure as e:
        print(f"dashboard_bidi.py: FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        ff.close()
    print(f"{n} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
