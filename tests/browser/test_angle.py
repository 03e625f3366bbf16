"""The browser harness on the system's EGL driver (`BrowserHost(angle="egl")`, ANGLE's
`--use-angle=gl-egl`): Mesa llvmpipe on a machine without a GPU, the vendor's driver on
one with a GPU, the same driver as the GL harness's default EGL context.

The same cases and budgets as the SwiftShader page (kernels/cumsum_browser.py) run on it in
both TF.js modes, and a host that cannot reach the driver fails with an error naming the
choice.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from needs_chromium import require_chromium

from ddspgl import cli
from ddspgl.kernels import cumsum_browser
from ddspgl.tools import browser

require_chromium()

# The system's EGL vendor libraries (glvnd) are found through this variable: pointing it at
# nothing leaves Chromium's ANGLE without an EGL driver.
NO_EGL_VENDOR = {"__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl_vendor.json"}


@pytest.fixture(scope="module")
def egl_host():
    with browser.BrowserHost(angle="egl") as h:
        yield h
        for page in h.pages.values():
            assert page.errors == [], page.errors


def test_egl_host_runs_on_the_gl_harness_driver(egl_host, session_ctx):
    renderer = egl_host.info()["renderer"]
    assert "swiftshader" not in renderer.lower()
    # ANGLE names the native driver inside its own string: "ANGLE (Mesa/X.org, llvmpipe
    # (LLVM ...), OpenGL ES 3.2)" for the EGL context's "llvmpipe (LLVM ...)".
    assert session_ctx.renderer.split()[0] in renderer
    assert egl_host.renderer != "chromium-swiftshader"


def test_egl_host_modes(egl_host):
    f16, f32 = egl_host.page("float16").info, egl_host.page("float32").info
    assert f16["forceF16"] and not f16["float32Render"]
    assert not f32["forceF16"] and f32["float32Render"]


@pytest.mark.parametrize("case", cumsum_browser.cases(lengths=(1000, 64000)), ids=lambda c: c.id)
def test_precision_on_egl(egl_host, case):
    result = case.run(egl_host)
    assert result.ok, f"error {result.error:.3e} {result.unit} > budget {result.budget:.3e}"


def _host_error(env: dict) -> str:
    """The error of BrowserHost(angle="egl") in a child process with `env` added (a second
    Playwright cannot start beside the module's host)."""
    script = (
        "from ddspgl.tools import browser\n"
        "try:\n"
        "    browser.BrowserHost(angle='egl', storages=('float32',)).close()\n"
        "except browser.BrowserUnavailable as exc:\n"
        "    print(f'BrowserUnavailable: {exc}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_no_egl_driver_is_a_clear_error():
    out = _host_error(NO_EGL_VENDOR)
    assert out.startswith("BrowserUnavailable: angle='egl', webgl: TF.js could not start"), out


def test_unknown_angle_is_rejected():
    with pytest.raises(ValueError, match=r"angle must be one of \('swiftshader', 'egl'\)"):
        browser.BrowserHost(angle="vulkan")


def test_angle_needs_the_browser_backend(capsys):
    assert cli.main(["info", "--angle", "egl"]) == 2
    assert "--angle picks the browser's WebGL driver" in capsys.readouterr().err
