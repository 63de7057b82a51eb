"""Shared pieces of the real-browser tests and of ``benchmarks/app_load.py``.

- :class:`AppServer`: ``solara run app.py`` in production mode on a free port of 127.0.0.1, waited
  for until it answers, stopped with its children (by PID, never by name). It also reads the
  server's memory (RSS of the process tree, with psutil) and its kernel count (``/resourcez``).
- :func:`launch_browser`: Debian's chromium (``/usr/bin/chromium``, or ``$LSIM_CHROMIUM``) through
  Playwright; :func:`chromium_missing` says why the browser tests must be skipped, if they must.
- :class:`RequestLog`: every request (and websocket) of every page of the contexts it watches, and
  which of them went anywhere but this machine.
- small helpers that drive the app through its stable CSS classes (see the tables at the top of
  ``sim/ui/explore.py``, ``compare.py``, ``sweep.py``, ``learn.py``).

Why production mode: ``solara run`` in development mode watches the source tree and restarts the
server when a file changes, which would cut a test's sessions short whenever someone edits a file;
``--production`` has no reloader. ``--no-check-version`` stops the one request Solara makes to PyPI
at start-up.

Tests import it as ``from browser_kit import ...`` (pytest puts ``tests/`` on ``sys.path``); the
benchmark adds ``tests/`` to ``sys.path`` itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("LSIM_CHROMIUM", "/usr/bin/chromium"))
#: hosts a page may talk to: this machine only
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: URL schemes that never leave the browser
INTERNAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}
#: what the Explore page shows once it is ready (the play button says what it will do)
EXPLORE_READY = ".lsim-play, .lsim-pause"


# ------------------------------------------------------------------------------------------------
# browser
# ------------------------------------------------------------------------------------------------
def chromium_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; "
                f".ci/run does) — never 'playwright install'")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - a dev dependency
        return "playwright is not installed (uv sync installs the dev group)"
    return None


@contextlib.contextmanager
def chromium(**kw):
    """Playwright and Debian's chromium (:func:`launch_browser`), closed on the way out: the body
    of the tests' module-wide ``browser`` fixture."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p, **kw)
        try:
            yield b
        finally:
            b.close()


def launch_browser(playwright, **kw):
    """Debian's chromium, headless."""
    args = ["--no-sandbox", "--disable-dev-shm-usage", *kw.pop("args", [])]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, **kw)


def output_dir(*parts: str) -> Path:
    """``test-output/…`` of the repository (``$LSIM_TEST_OUTPUT`` replaces ``test-output``), created."""
    base = Path(os.environ.get("LSIM_TEST_OUTPUT") or REPO / "test-output")
    d = base.joinpath(*parts)
    d.mkdir(parents=True, exist_ok=True)
    return d


# ------------------------------------------------------------------------------------------------
# server
# ------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python -m solara run app.py --production`` on 127.0.0.1 (a context manager; ``host``
    "0.0.0.0" listens on every address, as a server for a room does; ``url`` is 127.0.0.1 all the same).

    ``cull`` sets ``SOLARA_KERNEL_CULL_TIMEOUT``: how long Solara keeps the kernel (the session's
    state: market, settings, threads) of a page whose connection dropped without the page saying
    goodbye (24 h by default). A page that closes normally sends a close beacon on ``beforeunload``
    and its kernel goes at once (Playwright: ``page.close(run_before_unload=True)``)."""

    def __init__(self, port: int | None = None, *, cull: str | None = None, env: dict | None = None,
                 log: Path | None = None, app: str = "app.py", host: str = "127.0.0.1"):
        self.port = port or free_port()
        self.host = host  # "0.0.0.0": reachable from the network too, as a room's server is
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env or {})
        if cull is not None:
            self.env["SOLARA_KERNEL_CULL_TIMEOUT"] = cull
        self.log_path = log
        self.app = app
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- life -------------------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> AppServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", **self.env}
        if self.log_path is None:
            self.log_path = output_dir("logs") / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open while the server runs
        cmd = [sys.executable, "-m", "solara", "run", self.app, "--port", str(self.port), "--host", self.host,
               "--production", "--no-check-version", "--no-open"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the server did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.25)
        return self

    def stop(self) -> None:
        """Stop the server and every process it started (by PID)."""
        if self.proc is None:
            return
        try:
            import psutil

            try:
                procs = [psutil.Process(self.proc.pid)]
                procs += procs[0].children(recursive=True)
            except psutil.NoSuchProcess:
                procs = []
            for p in procs:
                try:
                    p.terminate()
                except psutil.NoSuchProcess:
                    pass
            _, alive = psutil.wait_procs(procs, timeout=10)
            for p in alive:
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(alive, timeout=5)
        finally:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
            self.proc = None
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, n: int = 4000) -> str:
        try:
            return Path(self.log_path).read_bytes()[-n:].decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    # -- measurements -----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def rss(self) -> int:
        return tree_rss(self.pid) if self.pid else 0

    def resources(self) -> dict[str, Any]:
        return resources(self.url)

    def kernels(self) -> int:
        return kernels(self.url)

    def wait_kernels(self, at_most: int = 0, timeout: float = 60.0) -> int:
        """Wait until the server holds at most ``at_most`` kernels (sessions); returns the count."""
        deadline = time.monotonic() + timeout
        while True:
            n = self.kernels()
            if n <= at_most or time.monotonic() > deadline:
                return n
            time.sleep(0.25)


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its children."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def resources(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.rstrip("/") + "/resourcez", timeout=10) as r:
        return json.loads(r.read())


def kernels(url: str) -> int:
    """The number of kernels (browser sessions) the server holds."""
    return int(resources(url)["kernels"]["total"])


def server_errors(path: Path | None, start: int = 0) -> list[str]:
    """Distinct errors a server logged after byte ``start`` of its log, as "N× message" (numbers in
    a message are replaced by N, so the same error with other values counts once)."""
    if not path:
        return []
    try:
        with open(path, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith(("ERROR", "Error")) or re.match(r"^\w+(Error|Exception): ", line):
            key = re.sub(r"\d+", "N", line.strip())[:240]
            counts[key] = counts.get(key, 0) + 1
    return [f"{n}× {msg}" for msg, n in sorted(counts.items(), key=lambda kv: -kv[1])]


# ------------------------------------------------------------------------------------------------
# requests
# ------------------------------------------------------------------------------------------------
def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (or inside the browser: data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in INTERNAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS


class RequestLog:
    """Every request and websocket of every page of the watched browser contexts."""

    def __init__(self):
        self.urls: list[str] = []

    def watch(self, context) -> None:
        context.on("request", lambda r: self.urls.append(r.url))
        context.on("page", self._page)
        for page in context.pages:
            self._page(page)

    def _page(self, page) -> None:
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def foreign(self) -> list[str]:
        return sorted({u for u in self.urls if not is_local(u)})


# ------------------------------------------------------------------------------------------------
# driving the app
# ------------------------------------------------------------------------------------------------
def open_page(context, url: str, path: str = "/", ready: str = EXPLORE_READY, timeout: float = 90_000):
    """A new page at ``url + path``, waited for until ``ready`` shows; page errors are collected
    in ``page.lsim_errors``."""
    page = context.new_page()
    page.lsim_errors = []
    page.on("pageerror", lambda e: page.lsim_errors.append(str(e)))
    page.goto(url.rstrip("/") + path)
    page.wait_for_selector(ready, timeout=timeout)
    return page


_NUM = re.compile(r"\d+")


def week(page) -> int:
    """The week shown by the Explore page's counter (English or Chinese)."""
    return int(_NUM.search(page.locator(".lsim-step-counter").inner_text()).group())


def wait_week(page, at_least: int, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.lsim-step-counter');"
        " const m = e && e.textContent.match(/\\d+/); return m && +m[0] >= n; }",
        arg=at_least, timeout=timeout)


def wait_quiet(page, quiet_ms: int = 1000, limit_ms: int = 20_000) -> None:
    """Wait until the page's content has not changed for ``quiet_ms`` (at most ``limit_ms``): its
    first renders are over, so a part drawn again no longer takes the keyboard focus away."""
    page.evaluate("""([quiet, limit]) => new Promise(done => {
      let timer = setTimeout(finish, quiet);
      const obs = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(finish, quiet); });
      const stop = setTimeout(finish, limit);
      function finish() { obs.disconnect(); clearTimeout(timer); clearTimeout(stop); done(); }
      obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    })""", [quiet_ms, limit_ms])


def settled_week(page, quiet: float = 800) -> int:
    """The week once the counter has stopped moving (after Pause, the last redraw may still come)."""
    last = week(page)
    for _ in range(40):
        page.wait_for_timeout(quiet)
        now = week(page)
        if now == last:
            return now
        last = now
    return last


def image_src(page, selector: str) -> str:
    """What identifies the picture ``selector`` shows: an ``img``'s URL, or an inline SVG's markup."""
    el = page.locator(selector).first
    if el.evaluate("e => e.tagName") == "IMG":
        return el.get_attribute("src") or ""
    return el.evaluate("e => e.outerHTML")


def wait_image_change(page, selector: str, old_src: str, timeout: float = 30_000) -> None:
    """Wait until the picture ``selector`` shows another than ``old_src`` (:func:`image_src`; Solara
    gives each new PNG a new blob: URL, an SVG chart is new markup)."""
    page.wait_for_function(
        """([sel, old]) => { const i = document.querySelector(sel); if (!i) return false;
             if (i.tagName !== 'IMG') return i.outerHTML !== old;
             return !!i.src && i.src !== old && i.complete; }""",
        arg=[selector, old_src], timeout=timeout)


def wait_text(page, selector: str, pattern: str, timeout: float = 30_000) -> None:
    """Wait until the text of ``selector`` matches the regular expression ``pattern``."""
    page.wait_for_function(
        "([sel, pat]) => { const e = document.querySelector(sel); return !!e && new RegExp(pat).test(e.textContent); }",
        arg=[selector, pattern], timeout=timeout)


def type_value(page, selector: str, value: Any) -> None:
    """Type ``value`` into the text box ``selector`` (a container or the input) and press Enter."""
    loc = page.locator(selector)
    if loc.evaluate("e => e.tagName") != "INPUT":
        loc = loc.locator("input").first
    loc.fill(str(value))
    loc.press("Enter")


def type_slowly(page, selector: str, text: Any, delay: int = 60, enter: bool = True) -> None:
    """Clear the text box in ``selector`` and type ``text`` a key at a time (``delay`` ms a key, as a
    person types), then press Enter (unless ``enter`` is False)."""
    box = page.locator(selector).locator("input").first
    box.click()
    box.fill("")
    box.press_sequentially(str(text), delay=delay)
    if enter:
        box.press("Enter")


def close_contexts(contexts) -> None:
    """Close every page of the browser contexts the way a browser closes a tab (its close beacon
    sent), then the contexts; a page that is gone already is passed over."""
    for ctx in contexts:
        for page in ctx.pages:
            try:
                page.close(run_before_unload=True)
            except Exception:  # noqa: BLE001
                pass
        ctx.close()


def open_panel(page, panel_class: str) -> None:
    """Open an expansion panel (``lsim-group-…``, ``lsim-merchant-…``) unless it is open."""
    panel = page.locator(f".{panel_class}").first
    if "v-expansion-panel--active" not in (panel.get_attribute("class") or ""):
        panel.locator(".lsim-panel-header").first.click()
    page.wait_for_function(
        "c => { const p = document.querySelector('.' + c); return p && p.classList.contains('v-expansion-panel--active')"
        " && p.querySelector('.lsim-param'); }", arg=panel_class, timeout=30_000)


def choose(page, select: str, text: str) -> None:
    """Pick the item whose text is ``text`` from the Vuetify select ``select``."""
    page.locator(select).locator(".v-select__slot").first.click()
    menu = page.locator(".v-menu__content.menuable__content__active")
    menu.locator(".v-list-item", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first.click()


def image_digest(page, selector: str) -> str:
    """SHA-256 of the picture ``selector``: an ``img``'s bytes (``blob:``/``data:`` URLs read in the
    page), or an inline SVG's markup."""
    page.wait_for_selector(selector, timeout=30_000)
    digest = page.evaluate(
        """async sel => {
            const img = document.querySelector(sel);
            const bytes = img.tagName === 'IMG' ? await (await fetch(img.src)).arrayBuffer()
                                                : new TextEncoder().encode(img.outerHTML);
            const d = await crypto.subtle.digest('SHA-256', bytes);
            return Array.from(new Uint8Array(d)).map(b => b.toString(16).padStart(2, '0')).join('');
        }""", selector)
    return digest


def screenshot(page, name: str, full: bool = True, folder: str = "screenshots") -> Path:
    """Save ``test-output/FOLDER/NAME.png``. The app scrolls inside its own container, so the
    viewport is stretched to the content's height for a whole-page picture."""
    path = output_dir(folder) / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    if full:
        hidden = page.evaluate(  # the most any scrolling container hides below its fold
            "() => Math.max(0, ...Array.from(document.querySelectorAll('body *'))"
            ".filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))"
            ".map(e => e.scrollHeight - e.clientHeight))")
        page.set_viewport_size({"width": size["width"], "height": int(min(size["height"] + hidden, 6000))})
        page.wait_for_timeout(500)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if full:
            page.set_viewport_size(size)
    return path


def body_text(page, scope: str = "body") -> str:
    """The text of the elements ``scope`` (default: the whole page) as written, not as displayed
    (buttons are upper-cased by CSS): the rendered text nodes, without scripts and styles."""
    return page.evaluate(_TEXT_JS, scope)


_TEXT_JS = """scope => {
  const out = [];
  for (const root of document.querySelectorAll(scope)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: n => {
      const p = n.parentElement;
      if (!p || p.closest('script, style, noscript, template') || !p.getClientRects().length) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT; }});
    while (walker.nextNode()) { const t = walker.currentNode.nodeValue.trim(); if (t) out.push(t); }
  }
  return out.join('\\n');
}"""


def words_missing(text: str, words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in text]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def drop_file(page, selector: str, path: Path) -> None:
    """Drop the file ``path`` on the element ``selector`` the way the browser does when a user drags
    a file from the desktop: Chrome DevTools' ``Input.dispatchDragEvent`` with the file's path, so
    the page gets a real ``DataTransfer`` whose items have file-system entries.

    (Playwright's ``locator.drop`` builds a ``DataTransfer`` in the page instead; its items have no
    entry — ``webkitGetAsEntry()`` is null — and ``solara.FileDrop`` reads files only through
    entries, so that kind of drop throws in the page and never reaches the server.)"""
    el = page.locator(selector).first
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    try:
        data = {"items": [], "files": [str(Path(path).resolve())], "dragOperationsMask": 1 | 2 | 16}
        for kind in ("dragEnter", "dragOver", "drop"):
            cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    finally:
        cdp.detach()


def wait_words(page, present: Iterable[str] = (), absent: Iterable[str] = (), timeout: float = 30.0,
               scope: str = "body") -> str:
    """Wait until the page's visible text has every word of ``present`` and none of ``absent``
    (whole words for Latin text, case as written), within the elements ``scope``; returns the text.
    Raises AssertionError with what is still wrong when it does not happen in time."""
    present, absent = list(present), list(absent)
    deadline = time.monotonic() + timeout
    while True:
        text = body_text(page, scope)
        missing = [w for w in present if not _has_word(text, w)]
        left = [w for w in absent if _has_word(text, w)]
        if not missing and not left:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"on {page.url} ({scope}): missing {missing}, still shown {left}\n"
                                 f"--- text ---\n{text[:3000]}")
        page.wait_for_timeout(250)


def _has_word(text: str, word: str) -> bool:
    if re.search(r"[A-Za-z]", word):
        return re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text) is not None
    return word in text


#: font families that have Chinese glyphs (the one the app serves is WenQuanYi Micro Hei)
CJK_FONTS = re.compile(r"CJK|WenQuanYi|Hei\b|Han Sans|Han Serif|Song|Ming|Kai|YaHei|PingFang|Noto Sans SC|Noto Serif SC|"
                       r"Droid Sans Fallback|AR PL|Unifont", re.IGNORECASE)

_MARK_CJK_JS = r"""() => {
  for (const e of document.querySelectorAll('[data-lsim-cjk]')) e.removeAttribute('data-lsim-cjk');
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('script, style, noscript, template')) continue;
    const own = Array.from(el.childNodes).filter(c => c.nodeType === 3).map(c => c.nodeValue).join('').trim();
    if (!own || !/[\u4e00-\u9fff]/.test(own) || !el.getClientRects().length) continue;
    el.setAttribute('data-lsim-cjk', String(out.length));
    const cls = typeof el.className === 'string' ? el.className : (el.className && el.className.baseVal) || '';
    const where = el.closest('.solara-markdown') ? 'markdown' : el.closest('svg') ? 'svg' : 'widget';
    out.push({tag: el.tagName.toLowerCase(), cls: cls, text: own.slice(0, 30), where: where});
  }
  return out;
}"""


def chinese_without_font(page) -> list[dict]:
    """Elements whose Chinese text the browser drew without any font that has Chinese glyphs (it
    shows empty boxes, "tofu"). Asks Chrome which platform fonts rendered each element's own text
    (DevTools ``CSS.getPlatformFontsForNode``). Each item: tag, class, text, where (``markdown``,
    ``svg`` or ``widget``) and the fonts used."""
    elements = page.evaluate(_MARK_CJK_JS)
    if not elements:
        return []
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        ids = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-lsim-cjk]"})["nodeIds"]
        bad = []
        for nid in ids:
            attrs = cdp.send("DOM.getAttributes", {"nodeId": nid})["attributes"]
            index = int(dict(zip(attrs[::2], attrs[1::2]))["data-lsim-cjk"])
            fonts = [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": nid})["fonts"]]
            if not any(CJK_FONTS.search(f) for f in fonts):
                bad.append({**elements[index], "fonts": fonts})
        return bad
    finally:
        cdp.detach()


# ------------------------------------------------------------------------------------------------
# a browser that can die
# ------------------------------------------------------------------------------------------------
class KillableBrowser:
    """Debian's chromium started here as a process of its own (headless, a fresh profile) and
    driven through the DevTools protocol (``connect_over_cdp``), so that a test can kill it the
    way a browser dies, a laptop's lid closes or its Wi-Fi drops: :meth:`kill` sends SIGKILL to
    its process group (by PID), with no page closing and no close beacon."""

    def __init__(self, playwright, profile: Path, timeout: float = 60.0):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", f"--remote-debugging-port={self.port}", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("chromium did not start with remote debugging")
                time.sleep(0.2)
        self.browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{self.port}")

    def new_context(self, **kw):
        return self.browser.new_context(**kw)

    def kill(self) -> None:
        """SIGKILL the browser and every process it started (its process group)."""
        import signal

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass

    def _signal(self, sig) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def freeze(self) -> None:
        """SIGSTOP the browser's process group: its connections stay open but nothing answers, as
        when a laptop sleeps or its network drops without the connection being closed."""
        import signal

        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: the frozen browser wakes up (the laptop opened again)."""
        import signal

        self._signal(signal.SIGCONT)

    def __enter__(self) -> KillableBrowser:
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its children."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def cores_busy(pid: int, seconds: float) -> float:
    """Cores a process tree keeps busy over the next ``seconds`` (CPU seconds ÷ wall seconds)."""
    c0, t0 = process_cpu(pid), time.monotonic()
    time.sleep(seconds)
    return (process_cpu(pid) - c0) / (time.monotonic() - t0)
