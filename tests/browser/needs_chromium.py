"""The browser test modules' skip where Chromium is not installed."""

from __future__ import annotations

import pytest

from ddspgl.tools import browser


def require_chromium() -> None:
    """Skips the calling test module, at import, where Chromium is not installed."""
    if browser.chromium_path() is None:
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium); the browser tests "
            "need it",
            allow_module_level=True,
        )
