"""The timbre-transfer page (``ddspgl serve``'s) in headless Chromium, driven from Python.

An :class:`AppBrowser` serves the page with :class:`ddspgl.tools.serve.AppServer` (the
page, the bundle, the pinned TF.js, the instrument models), opens it in Chromium with the
harness's flags (:mod:`ddspgl.tools.browser`: SwiftShader by default) and waits for
``timbre.ready`` (webgl, ``ddspgl.setEarlyDisposal()``, the page's storage mode). Then
:meth:`AppBrowser.synthesize` runs an instrument from given controls through the page's own
code: ``models.js``'s ``loadInstrument`` (the instrument's model and stats, loaded once per
page) and ``transfer.js``'s ``synthesize`` (the model per chunk of its fixed length,
chunks joined by crossfades): what a transfer runs after it has made its controls.

The page's console errors, page errors and requests are recorded; :meth:`problems` lists
any error and any request that left the server.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from . import browser, serve

# Controls in, audio out (base64 of Float32Array bytes); the instrument loaded once per page
# (kept in window.appBrowserInstruments); tensors counted around the call.
SYNTHESIZE = """async ([name, f0, loud, samples]) => {
  const from64 = (s) => {
    const bin = atob(s);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  };
  const to64 = (a) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    let s = '';
    for (let i = 0; i < bytes.length; i += 8192) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    }
    return btoa(s);
  };
  const {loadInstrument} = await import('/models.js');
  const {synthesize} = await import('/transfer.js');
  const kept = window.appBrowserInstruments = window.appBrowserInstruments || {};
  const base = new URL('models/', location.href).href;
  if (!kept[name]) kept[name] = await loadInstrument(tf, base, name);
  const before = tf.memory().numTensors;
  const audio = await synthesize(tf, kept[name], from64(f0), from64(loud), samples);
  return {audio: to64(audio), tensors: [before, tf.memory().numTensors]};
}"""


def _b64(x: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(x, np.float32).tobytes()).decode()


class AppBrowser:
    """The page in headless Chromium; a context manager. `models`: the instrument models'
    folder (default app/models), `angle`: browser.ANGLE's driver, `storage`: the page's
    TF.js texture storage ('float32', the default, or 'float16')."""

    def __init__(self, models: Path | None = None, angle: str = "swiftshader", storage="float32"):
        if angle not in browser.ANGLE:
            raise ValueError(f"angle: one of {tuple(browser.ANGLE)}, got {angle!r}")
        if storage not in browser.STORAGES:
            raise ValueError(f"storage: one of {browser.STORAGES}, got {storage!r}")
        why = browser.missing()
        if why:
            raise browser.BrowserUnavailable(why)
        from playwright.sync_api import sync_playwright

        self.server = serve.AppServer(models=models).start()
        self._pw = self._browser = None
        self.errors: list[str] = []
        self.requests: list[str] = []
        try:
            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(
                executable_path=browser.chromium_path(),
                headless=True,
                args=[*browser.CHROMIUM_ARGS, *browser.ANGLE[angle]],
                timeout=browser.TIMEOUT_MS,
            )
            self.page = self._browser.new_page()
            self.page.set_default_timeout(browser.TIMEOUT_MS)
            self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
            self.page.on(
                "console", lambda m: self.errors.append(m.text) if m.type == "error" else None
            )
            self.page.on("request", lambda r: self.requests.append(r.url))
            self.page.goto(self.server.url + ("?storage=float16" if storage == "float16" else ""))
            from playwright.sync_api import Error as PlaywrightError

            try:
                self.info = self.page.evaluate("() => timbre.ready")
            except PlaywrightError as exc:
                first = str(exc).splitlines()[0]
                raise browser.BrowserUnavailable(f"the page did not start: {first}") from exc
        except BaseException:
            self.close()
            raise

    @property
    def instruments(self) -> list[str]:
        return list(self.info["instruments"])

    def synthesize(self, instrument: str, f0_hz, loudness_db, samples: int) -> np.ndarray:
        """The instrument's audio (float32 [samples], 16 kHz) for controls at 250
        frames/s (at least ceil(samples / 64) frames of each)."""
        if instrument not in self.instruments:
            raise ValueError(f"instrument: one of {self.instruments}, got {instrument!r}")
        res = self.page.evaluate(
            SYNTHESIZE, [instrument, _b64(f0_hz), _b64(loudness_db), int(samples)]
        )
        before, after = res["tensors"]
        if after != before:
            raise RuntimeError(f"{instrument}: {after - before} tensors left after the call")
        return np.frombuffer(base64.b64decode(res["audio"]), np.float32).copy()

    def problems(self) -> list[str]:
        """The page's errors, and every request that did not stay on the server."""
        url = self.server.url
        far = [u for u in self.requests if urlsplit(u).scheme not in ("blob", "data")]
        far = [u for u in far if not u.startswith(url)]
        return self.errors + [f"request beyond {url}: {u}" for u in far]

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None
        self.server.close()

    def __enter__(self) -> AppBrowser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
