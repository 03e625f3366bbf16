"""Fixtures: one GL context per session, checked around every test; markers by folder.

`ctx` is the shared context with two guards: no GL error before or after the test, and
the live-texture counter and allocated bytes back where they started (no leaks, on
success or failure paths alike). `fresh_ctx` is a context of its own for tests that need
isolation (counters from zero, a lowered texture limit).

Tests under tests/browser, tests/bench and tests/model are marked ``browser``, ``bench``
and ``model`` (markers registered in pyproject.toml), and so is any test that opens the
browser (the `host` fixture): ``pytest -m "not slow and not browser and not model"`` is
the fast loop.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ddspgl.harness import Context, default_context

TESTS = Path(__file__).resolve().parent
MARKED_FOLDERS = ("browser", "bench", "model")  # tests/<folder>: marked <folder>


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = item.path.resolve().relative_to(TESTS).parts[0]
        marks = {folder} & set(MARKED_FOLDERS)
        if "host" in getattr(item, "fixturenames", ()):
            marks.add("browser")
        for name in sorted(marks):
            item.add_marker(name)


@pytest.fixture(scope="session")
def session_ctx() -> Context:
    return default_context()


@pytest.fixture
def ctx(session_ctx: Context):
    before = (session_ctx.counters.textures_alive, session_ctx.counters.bytes_alive)
    assert session_ctx.gl_error == "GL_NO_ERROR"
    yield session_ctx
    assert session_ctx.gl_error == "GL_NO_ERROR"
    after = (session_ctx.counters.textures_alive, session_ctx.counters.bytes_alive)
    assert after == before, f"GL textures leaked: (alive, bytes) {before} -> {after}"


@pytest.fixture
def fresh_ctx():
    made: list[Context] = []

    def make(**kwargs) -> Context:
        c = Context(**kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        assert c.counters.textures_alive == 0, "GL textures leaked"
        c.close()


@pytest.fixture(scope="module")
def host(model_dir):
    """One headless browser per browser-test module, serving that module's `model_dir`;
    no page may log an error."""
    from ddspgl.tools import browser

    with browser.BrowserHost(extra=model_dir) as h:
        yield h
        for page in h.pages.values():
            assert page.errors == [], page.errors
