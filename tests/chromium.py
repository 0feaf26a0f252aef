"""Headless Debian Chromium driven over the DevTools protocol on a pipe, for the report tests.

Chromium's ``--remote-debugging-pipe`` reads NUL-terminated JSON commands on file descriptor 3
and writes replies and events on descriptor 4, so no driver binary, browser download or extra
Python package is needed. The ``chromium`` fixture installs the Debian package when it can.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

# Offline, reproducible start-up: no sandbox (CI runs as root), no GPU, no network side channels.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1600,1000")


class DevToolsError(RuntimeError):
    """A DevTools command failed, timed out, or the browser went away."""


def _high_pipe(*, reader: bool) -> tuple[int, int]:
    """A pipe whose end for the browser (the read end if ``reader``) is numbered 10 or above."""
    read, write = os.pipe()
    child = read if reader else write
    high = fcntl.fcntl(child, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(child)
    return (high, write) if reader else (read, high)


class Chromium:
    """One headless Chromium process and one page, controlled by DevTools commands."""

    def __init__(self, executable: str | os.PathLike[str]) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_browser_read, self._to_browser = _high_pipe(reader=True)
        self._from_browser, from_browser_write = _high_pipe(reader=False)
        # bash puts the browser's pipe ends (numbered >= 10, so neither is 3 or 4) on descriptors
        # 3 and 4, then becomes Chromium
        command = ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{to_browser_read} 4>&{from_browser_write}',
                   str(executable), *FLAGS, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
                   "about:blank"]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__ with the browser)
        self._process = subprocess.Popen(command, pass_fds=(to_browser_read, from_browser_write),
                                         stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the browser and remove its profile."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()
        self._profile.cleanup()

    def browser_log(self) -> str:
        """Chromium's own stdout and stderr so far (for failure messages)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        """Send one command (to the page session if given) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                return reply["result"]

    def _read(self, deadline: float, method: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError(f"{method}: no reply within the time limit\n{self.browser_log()}")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise DevToolsError(f"{method}: Chromium closed the pipe\n{self.browser_log()}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str, *, timeout: float = 60.0) -> None:
        """Open ``url`` in a fresh page and wait until its document has loaded."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=self._session)
        self.call("Page.navigate", {"url": url}, session=self._session)
        self.wait_for("document.readyState === 'complete'", timeout=timeout)

    def evaluate(self, expression: str, *, context: int | None = None, timeout: float = 60.0) -> Any:
        """Evaluate JavaScript in the page (awaiting a returned promise) and return its JSON value."""
        params: dict[str, Any] = {"expression": expression, "awaitPromise": True, "returnByValue": True}
        if context is not None:
            params["contextId"] = context
        reply = self.call("Runtime.evaluate", params, session=self._session, timeout=timeout)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise DevToolsError(f"JavaScript error: {text}")
        return reply["result"].get("value")

    def wait_for(self, condition: str, *, timeout: float = 30.0) -> None:
        """Poll a JavaScript condition until it holds."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise DevToolsError(f"timed out waiting for {condition}\n{self.browser_log()}")
            time.sleep(0.1)

    def frame_text(self, *, timeout: float = 30.0) -> str:
        """The rendered text of the page's child frame (an HTML result shown in an iframe), once it
        has some."""
        deadline = time.monotonic() + timeout
        while True:
            tree = self.call("Page.getFrameTree", session=self._session)["frameTree"]
            for child in tree.get("childFrames", []):
                world = self.call("Page.createIsolatedWorld", {"frameId": child["frame"]["id"]},
                                  session=self._session)
                text = self.evaluate("document.body ? document.body.innerText : ''",
                                     context=world["executionContextId"])
                if text:
                    return text
            if time.monotonic() > deadline:
                raise DevToolsError(f"no child frame with text within {timeout} s\n{self.browser_log()}")
            time.sleep(0.1)


def find_or_install_chromium() -> str:
    """Path to Debian's chromium, installing it with apt-get when running as root; skip (with the
    reason) where that is impossible, fail if an install that should work does not."""
    found = shutil.which("chromium")
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip("the browser test needs Debian's chromium: not installed, and installing it needs root and "
                    "apt-get (run `apt-get install -y chromium` as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:  # empty or stale package lists on a fresh machine
        subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env)
        result = subprocess.run(install, capture_output=True, text=True, env=env)
    found = shutil.which("chromium")
    if result.returncode != 0 or not found:
        pytest.fail(f"`{' '.join(install)}` failed (exit {result.returncode}):\n{result.stdout[-2000:]}"
                    f"{result.stderr[-2000:]}")
    return found


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable (installed on first use where possible)."""
    return find_or_install_chromium()


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


# Walks a Snakemake 9 HTML report the way a reader does: menu -> category (-> subcategory) ->
# the result's row -> its view button (the result is shown in the content pane) -> its info
# button (the caption is shown in the navigation bar).
REPORT_WALKER = r"""
window.reportWalker = (() => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const text = (node) => (node.innerText || node.textContent || "").replace(/\s+/g, " ").trim();
  const navbar = () => document.querySelector("#app nav");
  async function until(check, what, ms = 15000) {
    const start = Date.now();
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() - start > ms) throw new Error("timed out waiting for " + what);
      await sleep(25);
    }
  }
  function link(label) {
    return [...navbar().querySelectorAll("a")].find((a) => text(a) === label);
  }
  function place(path) {
    for (const [category, subcategories] of Object.entries(categories)) {
      for (const [subcategory, paths] of Object.entries(subcategories)) {
        if (paths.includes(path)) return [category, subcategory];
      }
    }
    throw new Error(path + " is in no category");
  }
  async function openRow(path) {
    const [category, subcategory] = place(path);
    app.setView({navbarMode: "menu"});
    const entry = Object.keys(categories).length === 1 ? "Results" : category;
    (await until(() => link(entry), "menu entry " + entry)).click();
    if (Object.keys(categories[category]).length > 1) {
      (await until(() => link(subcategory), "subcategory " + subcategory)).click();
    }
    return until(() => [...navbar().querySelectorAll("tbody tr")].find(
      (row) => row.cells.length > 1 && text(row.cells[0]) === path), "the table row of " + path);
  }
  async function show(path) {
    const result = results[path];
    const row = await openRow(path);
    const [view, info] = row.cells[row.cells.length - 1].querySelectorAll("a");
    view.click();
    const record = {path: path, mime: result.mime_type};
    if (result.mime_type.startsWith("image/")) {
      const image = await until(() => [...document.images].find(
        (img) => img.src === result.data_uri && !img.closest("nav")), "the image of " + path);
      await until(() => image.complete, "the image of " + path + " to load");
      const box = image.getBoundingClientRect();
      Object.assign(record, {naturalWidth: image.naturalWidth, naturalHeight: image.naturalHeight,
                             shownWidth: box.width, shownHeight: box.height});
    } else if (result.mime_type === "text/html") {
      await until(() => [...document.querySelectorAll("iframe")].some((frame) => frame.src === result.data_uri),
                  "the frame of " + path);
    }
    info.click();
    const caption = document.createElement("div");
    caption.innerHTML = result.caption;
    record.caption = text(caption);
    if (record.caption) {
      await until(() => text(navbar()).includes(record.caption.slice(0, 100)), "the caption of " + path);
    }
    record.captionShown = Boolean(record.caption);
    return record;
  }
  return {show: show};
})();
true
"""


def walk_report(browser: Chromium, report: Path, *, timeout: float = 60.0) -> dict[str, dict[str, Any]]:
    """Open a Snakemake report and show every result as a reader would; per result: its MIME type,
    the image's natural and shown size (images), the text of its page (HTML results) and its caption."""
    browser.open(file_url(report), timeout=timeout)
    browser.wait_for("typeof app !== 'undefined' && typeof results !== 'undefined' && "
                     "document.querySelector('#app nav') !== null", timeout=timeout)
    browser.evaluate(REPORT_WALKER)
    records = {}
    for path in browser.evaluate("Object.keys(results)"):
        record = browser.evaluate(f"reportWalker.show({json.dumps(path)})", timeout=timeout)
        if record["mime"] == "text/html":
            record["text"] = browser.frame_text(timeout=timeout)
        records[path] = record
    return records
