"""The app's browser tests' host: headless Chromium serving app/ at /extra/, and a blank
page at its origin with one of the app's modules imported (the app itself never runs, so
nothing it fetches at start, such as models/index.json, is asked for)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from page_driver import B64

from paths import ROOT

# b64 (a typed array's bytes as base64) as the page tests define it, and a Float32Array
# or Float64Array ('f64') from a blob.
HELPERS = (
    B64
    + """
window.blob = async (key, type) => {
  const buf = await (await fetch('/blob/' + key)).arrayBuffer();
  return type === 'f64' ? new Float64Array(buf) : new Float32Array(buf);
};
"""
)


def app_host() -> Iterator:
    """Yields a BrowserHost (one float32 harness page) serving app/ at /extra/; skips,
    naming the reason, where no browser is installed."""
    from ddspgl.tools import browser

    why = browser.missing()
    if why:
        pytest.skip(why)
    with browser.BrowserHost(storages=("float32",), extra=ROOT / "app") as host:
        yield host


def module_page(host, module: str) -> Iterator:
    """Yields a blank page with app/`module`.js imported as `window.<module>` and the
    HELPERS defined; after the module's tests, checks it logged no error."""
    page = host.new_page("/")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.evaluate(
        f"async () => {{ {HELPERS}; window.{module} = await import('/extra/{module}.js'); }}"
    )
    yield page
    page.close()
    assert errors == [], errors


def put64(host, x) -> str:
    """A float64 array as a blob (host.put sends float32): its bytes as float32 pairs."""
    return host.put(np.ascontiguousarray(x, np.float64).view(np.float32))
