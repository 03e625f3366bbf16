"""The YIN precision suite in the browser: the TF.js bundle's Yin kernel against float64.

The specs, references and per-frame budget of :mod:`yin_suite` (every frame's error in
units of its derived bound, budget 1; inf for a lag the d' intervals exclude), run by
:class:`ddspgl.tools.browser.BrowserHost` through the ``Yin`` kernel of the page's backend
in each of its TF.js modes (webgl: both; webgpu: float32). The baseline is the float64
numpy reference's time, as in the GL suite.

The webgl kernel uploads each row scaled by a power of two (exact), in float16 mode into
an R32F texture of its own (js/src/exact_upload.js; with ``ddspgl.setExactUpload(false)``
TF.js rounds that upload to float16 as the driver converts), so the reference is computed
from the scaled rows as the kernel holds them (:func:`cumsum_browser.kernel_held`), scaled
back (exact): the suite measures the kernel, not the input rounding. The long
input (a minute) stays with the GL suite.
"""

from __future__ import annotations

import base64
import time
from functools import partial

import numpy as np

from . import yin, yin_suite
from .cumsum_browser import kernel_held
from .suite import Case, Result

SPECS = tuple(name for name, spec in yin_suite.SPECS.items() if not spec.slow)
_REFERENCES: dict[tuple, tuple[yin.Analysis, float]] = {}


def options(name: str) -> dict:
    """yin_suite's arguments under the bundle's names (camelCase)."""
    names = {"sample_rate": "sampleRate", "frame_length": "frameLength"}
    return {names.get(k, k): v for k, v in yin_suite._kwargs(name).items()}


def stored(page, storage: str, name: str) -> np.ndarray:
    """The case's rows as the kernel reads them, at the input's own scale: x itself in
    float32 mode; in float16 mode (webgl), the scaled upload as the kernel holds it, scaled
    back."""
    x = yin_suite.inputs(name)
    if storage == "float32":
        return x
    rows = x.reshape(-1, x.shape[-1])
    scale = yin.row_scale(rows)[:, None].astype(np.int32)
    kept, _ = kernel_held(page, np.ldexp(rows, scale))
    return np.ldexp(kept, -scale).reshape(x.shape)


def reference(host, storage: str, name: str) -> tuple[yin.Analysis, float]:
    """(float64 analysis of the stored rows, its seconds), once per renderer, mode and case."""
    key = (host.renderer, storage, name)  # the float16 upload is the driver's
    if key not in _REFERENCES:
        x = stored(host.page(storage), storage, name)
        start = time.perf_counter()
        analysis = yin.reference(x, **yin_suite._kwargs(name))
        _REFERENCES[key] = (analysis, time.perf_counter() - start)
    return _REFERENCES[key]


def call(page, x: np.ndarray, opts: dict) -> tuple[np.ndarray, dict]:
    """harness.yin: the kernel's whole output [..., frames, 4] and the call's record."""
    res = page.call("yin", {"key": x, "shape": list(x.shape), "options": opts})
    out = np.frombuffer(base64.b64decode(res["b64"]), np.float32).reshape(res["shape"])
    return out, res


def _run(host, name: str, storage: str) -> Result:
    analysis, ref_seconds = reference(host, storage, name)
    out, rec = call(host.page(storage), yin_suite.inputs(name), options(name))
    dev = yin.deviation(out, analysis, storage)
    same = dev.same_lag
    seconds = rec["ms"] / 1e3
    return Result(
        error=float(dev.ratio.max()),
        budget=1.0,
        unit="frame bound",
        passes=rec["passes"],
        seconds=seconds,
        baseline_seconds=ref_seconds,
        extra={
            "frames": int(dev.ratio.size),
            "outside": int((~dev.inside).sum()),
            "max_cents_vs_reference": float(np.nanmax(np.abs(dev.cents[same]), initial=0.0)),
            "lag_differs": int((~same).sum()),
            "median_bound_cents": float(np.median(dev.bound_cents)),
            "reference_seconds_per_kernel_second": ref_seconds / seconds,
        },
    )


def cases(quick: bool = False, names=None) -> list[Case]:
    """The browser cases: :mod:`yin_suite`'s specs but the minute-long one (``names``
    overrides them)."""
    chosen = names or [n for n in SPECS if not quick or n in yin_suite.QUICK]
    out = []
    for name in chosen:
        spec = yin_suite.SPECS[name]
        for storage in ("float16", "float32"):
            out.append(
                Case(
                    kernel=yin.NAME,
                    id=f"yin-tfjs-{storage}-{name}",
                    storage=storage,
                    n=int(spec.seconds * spec.sample_rate),
                    series=spec.signal,
                    run=partial(_run, name=name, storage=storage),
                )
            )
    return out
