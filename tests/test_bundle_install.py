"""`ddspgl bundle` from an installed package: ``pip install`` of a wheel (not editable)
into a fresh virtualenv, run from a folder outside the checkout, with no esbuild there.

The bundle must come out byte for byte as the checkout builds it (which the browser tests
run), with esbuild installed into the user cache by npm; without npm the command fails
with one line and writes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ddspgl.tools import emit
from paths import ROOT

pytestmark = pytest.mark.slow

if shutil.which("npm") is None:
    pytest.skip(
        "npm is not installed (Debian: apt-get install nodejs npm)", allow_module_level=True
    )


def _run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with ddspgl installed from a wheel of this checkout."""
    tmp = tmp_path_factory.mktemp("install")
    wheels = tmp / "wheels"
    res = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT])
    assert res.returncode == 0, res.stderr
    (wheel,) = wheels.glob("ddspgl-*.whl")
    env = tmp / "venv"
    assert _run([sys.executable, "-m", "venv", env]).returncode == 0
    res = _run([env / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    assert res.returncode == 0, res.stderr
    return env


def _outside(tmp_path: Path, venv: Path, path: str) -> dict:
    """The environment of a user outside the checkout: no esbuild, an empty cache."""
    env = {k: v for k, v in os.environ.items() if k not in (emit.ESBUILD_ENV, "PYTHONPATH")}
    env["PATH"] = path
    env[emit.CACHE_ENV] = str(tmp_path / "cache")
    env["HOME"] = str(tmp_path / "home")
    return env


def test_installed_package_bundles_outside_the_checkout(tmp_path, venv):
    work = tmp_path / "work"
    work.mkdir()
    path = os.pathsep.join([str(venv / "bin"), os.environ["PATH"]])
    res = _run(["ddspgl", "bundle", "-o", "dist"], cwd=work, env=_outside(tmp_path, venv, path))
    assert res.returncode == 0, res.stderr
    assert f"installing esbuild {emit.esbuild_version()}" in res.stderr
    cached = tmp_path / "cache" / "ddspgl" / f"esbuild-{emit.esbuild_version()}"
    assert (cached / "node_modules" / ".bin" / "esbuild").exists()
    expected = {p.name: p.read_text() for p in emit.emit(tmp_path / "checkout")}
    got = {p.name: p.read_text() for p in (work / "dist").iterdir()}
    assert got == expected


def test_without_npm_one_line_and_nothing_written(tmp_path, venv):
    work = tmp_path / "work"
    work.mkdir()
    res = _run(
        ["ddspgl", "bundle", "-o", "dist"],
        cwd=work,
        env=_outside(tmp_path, venv, str(venv / "bin")),  # no node, no npm
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddspgl: "), res.stderr
    assert "npm" in lines[0] and emit.ESBUILD_ENV in lines[0]
    assert list(work.iterdir()) == []
