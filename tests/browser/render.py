"""Renders one local HTML page in headless Chromium and reports what the browser saw.

    python render.py PAGE.html SHOT.png [--eval EXPR]... [--width W] [--height H] [--full-page]

Chromium is driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: file
descriptors 3 and 4, NUL-terminated JSON messages), so nothing but the Python standard library
and the browser is needed, and no port is opened. The page is opened from disk with the
network left as it is: a self-contained page needs none. Prints one JSON object on stdout:

    {"console": [{"level", "text"}...],     every console message and logged browser entry
     "exceptions": ["..."],                 uncaught script errors
     "values": [...],                       each --eval EXPR's value, in order
     "screenshot": "SHOT.png"}

Exit status 0 when the page was rendered (whatever it logged), 2 when the browser could not be
driven; the caller judges the rest. The browser is CHROMIUM (environment) or `chromium`.
"""

import argparse
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60.0


class Browser:
    """One headless Chromium, spoken to over the DevTools pipe."""

    def __init__(self, binary, profile, width, height):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4. The child's ends are
        # moved above 10 first: a dup2 onto the same number would leave it close-on-exec.
        child_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child_fds():
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self._process = subprocess.Popen(
            [
                binary,
                "--headless",
                # Root in a container has no user namespace for the sandbox.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=child_fds,
            # Every other descriptor of this process is close-on-exec (PEP 446).
            close_fds=False,
        )
        os.close(child_r)
        os.close(child_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def wait_for(self, matches, what):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if matches(message):
                    return message
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"the browser closed the pipe while waiting for {what}: {self.stderr()}")
            self._buffer += chunk
        raise RuntimeError(f"no {what} within {TIMEOUT:.0f} s")

    def call(self, method, params=None, session=None):
        sent = self.send(method, params, session)
        answer = self.wait_for(lambda m: m.get("id") == sent, method)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def stderr(self):
        if self._process.poll() is None:
            return ""
        return self._process.stderr.read().decode(errors="replace")[-2000:]

    def close(self):
        try:
            self.send("Browser.close")
            self._process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()


def messages(events):
    """Console messages and browser log entries; uncaught exceptions."""
    console, exceptions = [], []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            console.append({"level": params.get("type", "log"), "text": text})
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            console.append({"level": entry.get("level", "info"), "text": entry.get("text", "")})
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exception = details.get("exception", {})
            exceptions.append(exception.get("description") or details.get("text", "exception"))
    return console, exceptions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("screenshot")
    parser.add_argument("--eval", action="append", default=[], dest="expressions")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the viewport")
    args = parser.parse_args()
    binary = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not binary:
        print("render.py: no chromium on PATH (apt-get install -y chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="peerwire-chromium-") as profile:
        browser = Browser(binary, profile, args.width, args.height)
        try:
            page = next(t for t in browser.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
            session = browser.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
            # Listen before navigating, so that nothing the page logs while loading is missed.
            for domain in ("Page", "Runtime", "Log"):
                browser.call(f"{domain}.enable", None, session)
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": args.width, "height": args.height, "deviceScaleFactor": 1, "mobile": False},
                session,
            )
            url = "file://" + os.path.abspath(args.page)
            browser.call("Page.navigate", {"url": url}, session)
            browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired", "the page's load event")
            values = []
            for expression in args.expressions:
                result = browser.call(
                    "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
                )
                if "exceptionDetails" in result:
                    raise RuntimeError(f"--eval {expression!r}: {result['exceptionDetails']}")
                values.append(result["result"].get("value"))
            capture = {"format": "png"}
            if args.full_page:
                size = browser.call("Page.getLayoutMetrics", None, session)["cssContentSize"]
                capture["captureBeyondViewport"] = True
                capture["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            shot = browser.call("Page.captureScreenshot", capture, session)
            with open(args.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            console, exceptions = messages(browser.events)
        except (RuntimeError, StopIteration, OSError) as err:
            print(f"render.py: {err}", file=sys.stderr)
            return 2
        finally:
            browser.close()
    json.dump(
        {"console": console, "exceptions": exceptions, "values": values, "screenshot": args.screenshot},
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
