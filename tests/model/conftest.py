"""Fixtures: small DDSP-like TensorFlow models, saved, converted and rewritten once a session.

Four SavedModels are built with TensorFlow (seeded, 2 KB to 4.4 MB) and converted with
the real TF.js converter (tensorflowjs 4.22, its Python API), both in one child process
(tests/model/ddsp_models.py) so that TensorFlow never loads into the test process; then
rewritten here with `ddspgl compress` and `ddspgl fuse` (fuse on the compressed model, as
`ddspgl convert` does; `ddspgl convert` itself is run once, in test_model_convert.py):

- ``decoder``: a conv stack on f0 and loudness producing harmonic amplitudes, then
  harmonic synthesis written with tf ops: ``phase = floormod(cumsum(f0 k / sr, 2), 1)``;
  the harmonic numbers are a [K, n] broadcast constant, as a naive port bakes them;
- ``angular``: magenta/ddsp's oscillator bank with its chunked ``angular_cumsum``
  (reproduced from ddsp/core.py) on [1, n, K] and on [1, n], n not a multiple of the
  chunk (so the pad and crop are in the graph);
- ``broadcast``: 4.4 MB of constants that are broadcasts, tiles or one value (grappler
  folds ``tf.zeros(..) + tf.ones(..) * 2`` into a dense Const), a bool mask, and one
  small weight stored twice;
- ``plain``: nothing to fuse (its cumsum is also an output) and nothing to compress.

Everything skips, saying why, where tensorflow or tensorflowjs is not installed
(``pip install -e ".[dev,convert]"``; CI installs both).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ddsp_models import BUILDERS
from ddspgl import cli

VARIANTS = ("original", "compressed", "fused")


MODELS_PY = Path(__file__).with_name("ddsp_models.py")


def _skip_reason() -> str | None:
    for module in ("tensorflow", "tensorflowjs"):
        if importlib.util.find_spec(module) is None:
            return f'{module} is not installed (pip install -e ".[dev,convert]")'
    return None


@pytest.fixture(scope="session")
def tf_installed():
    """Skips, saying why, where TensorFlow or the TF.js converter is missing."""
    why = _skip_reason()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def built(tf_installed, tmp_path_factory) -> tuple[Path, Path]:
    """(SavedModels root, converted root): ddsp_models.py in a child process, so that
    TensorFlow never loads into the test process (beside Mesa and Chromium)."""
    saved = tmp_path_factory.mktemp("saved")
    converted = tmp_path_factory.mktemp("models")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TFDF_DISABLE_WELCOME_MESSAGE="1")
    cmd = [sys.executable, str(MODELS_PY), str(saved), str(converted)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        pytest.fail(f"building the test models failed:\n{proc.stderr[-4000:]}")
    return saved, converted


@pytest.fixture(scope="session")
def saved_models(built) -> dict[str, Path]:
    return {name: built[0] / name for name in BUILDERS}


@pytest.fixture(scope="session")
def models(built) -> Path:
    """root/<model>/{original,compressed,fused}: converted, then the two CLI rewrites."""
    root = built[1]
    for name in BUILDERS:
        original, compressed, fused = (str(root / name / v) for v in VARIANTS)
        assert cli.main(["compress", original, "-o", compressed]) == 0
        assert cli.main(["fuse", compressed, "-o", fused]) == 0
    return root


# -- real ddsp exports (ddsp_exports.py) ----------------------------------------------------------

EXPORTS_PY = Path(__file__).with_name("ddsp_exports.py")
# A folder to keep the exports in between sessions (they take minutes); default: a tmp dir.
EXPORTS_ENV = "DDSPGL_DDSP_EXPORTS"
DDSP_INSTALL = 'pip install -e ".[dev,convert,ddsp]" && bash model/install_ddsp.sh'


def _ddsp_skip_reason() -> str | None:
    for module in ("tensorflow", "tensorflowjs", "tf_keras", "gin", "ddsp", "crepe"):
        if importlib.util.find_spec(module) is None:
            return f"the ddsp extra is not installed ({module} is missing): {DDSP_INSTALL}"
    return None


def _export_groups(names: list[str]) -> list[list[str]]:
    """Two children (CI has two cores): the GRU export is the longest; the rest beside it."""
    first = [n for n in names if n.startswith("gru")]
    return [g for g in (first, [n for n in names if n not in first]) if g]


@pytest.fixture(scope="session")
def ddsp_exports(tmp_path_factory) -> Path:
    """ROOT/<model>/{saved_model, stock, reference.npz, outputs.json, timing.json} and
    ROOT/not_ddsp/saved_model, built once a session by ddsp_exports.py in two child
    processes (TensorFlow and ddsp never load into the test process)."""
    from ddsp_exports import MODELS

    why = _ddsp_skip_reason()
    if why:
        pytest.skip(why)
    root = Path(os.environ.get(EXPORTS_ENV) or tmp_path_factory.mktemp("ddsp_exports"))
    missing = [n for n in MODELS if not (root / n / "timing.json").is_file()]
    if not (root / "not_ddsp" / "saved_model").is_dir():
        missing.append("not_ddsp")
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        TFDF_DISABLE_WELCOME_MESSAGE="1",
        TF_USE_LEGACY_KERAS="1",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(EXPORTS_PY), str(root), *group],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for group in _export_groups(missing)
    ]
    failed = []
    for proc in procs:
        out, err = proc.communicate()
        print(out, end="")
        if proc.returncode != 0:
            failed.append(err[-4000:])
    if failed:
        pytest.fail("building the ddsp exports failed:\n" + "\n".join(failed))
    return root


@pytest.fixture(scope="session")
def ddsp_converted(ddsp_exports) -> Path:
    """`ddspgl convert` (the command, in a child process) on every export, into
    ROOT/<model>/ddspgl (float32 weights) and, for the convnet, ROOT/conv/ddspgl_f16
    (--quantize-float16); two at a time. What each printed goes to ROOT/<model>/<out>.log,
    its seconds to ROOT/<model>/convert_s.json."""
    import json
    import time
    from concurrent.futures import ThreadPoolExecutor

    from ddsp_exports import MODELS

    jobs = [(name, "ddspgl", []) for name in MODELS]
    jobs.append(("conv", "ddspgl_f16", ["--quantize-float16"]))

    def run(job):
        name, out, flags = job
        target = ddsp_exports / name / out
        if (target / "model.json").is_file():
            return name, out, 0, None, ""
        saved = str(ddsp_exports / name / "saved_model")
        cmd = [sys.executable, "-m", "ddspgl.cli", "convert", saved, "-o", str(target), *flags]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        (ddsp_exports / name / f"{out}.log").write_text(proc.stdout + proc.stderr)
        return name, out, proc.returncode, seconds, proc.stderr[-3000:]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, jobs))
    for name, out, code, seconds, err in results:
        assert code == 0, f"ddspgl convert failed on {name}:\n{err}"
        if seconds is not None:
            path = ddsp_exports / name / "convert_s.json"
            times = json.loads(path.read_text()) if path.is_file() else {}
            times[out] = seconds
            path.write_text(json.dumps(times))
    return ddsp_exports
