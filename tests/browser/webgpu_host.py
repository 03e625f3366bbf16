"""The webgpu browser tests' host: one float32 page on TF.js's webgpu backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddspgl.tools import browser


def webgpu_host(
    extra: Path | None = None, subgroups: bool = False
) -> Iterator[browser.BrowserHost]:
    """Yields a webgpu BrowserHost (serving `extra` where given; its page asking for
    subgroups first where `subgroups`) and, after the module's tests, checks its pages
    logged no error; skips, naming the reason, where Chromium gives no WebGPU adapter, or
    with `subgroups` where the adapter has no `subgroups` feature; any other failure to
    start is an error."""
    try:
        host = browser.BrowserHost(
            storages=("float32",), tfjs_backend="webgpu", extra=extra, webgpu_subgroups=subgroups
        )
    except browser.BrowserUnavailable as exc:
        if "no WebGPU adapter" in str(exc):
            pytest.skip(f"this Chromium has no WebGPU adapter: {exc}")
        raise
    with host:
        info = host.page("float32").info
        if subgroups and "subgroups" not in info["features"]:
            why = info["subgroups"]["answer"]["reason"]
            pytest.skip(f"this Chromium's WebGPU adapter has no `subgroups` feature: {why}")
        yield host
        for page in host.pages.values():
            assert page.errors == [], page.errors
