"""The browser host, shared by the browser test modules."""

from __future__ import annotations

import pytest

from ddspgl.harness import browser


@pytest.fixture(scope="module")
def host(model_dir):
    """One browser per test module, serving the module's `model_dir`; no page errors."""
    with browser.BrowserHost(extra=model_dir) as h:
        yield h
        for page in h.pages.values():
            assert page.errors == [], page.errors
