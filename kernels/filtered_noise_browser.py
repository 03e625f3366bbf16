"""The filtered noise precision suite in the browser: the TF.js bundle against float64.

The specs, references and per-sample budget of :mod:`filtered_noise_suite` (every sample's
error in units of its derived bound, :func:`filtered_noise.derived_bound` plus half a
float16 ulp in float16 mode; budget 1), run by :class:`ddspgl.tools.browser.BrowserHost`
through ``ddspgl.filteredNoise`` in each TF.js mode of the page (webgl: both; webgpu:
float32), on the kernel of the page's backend. The baseline is the float64 numpy
reference's time, as in the GL suite (its error is 0 by definition).

In float16 mode the webgl kernel uploads magnitudes the host holds into an RGBA32F texture
of its own (js/src/exact_upload.js; with ``ddspgl.setExactUpload(false)`` TF.js rounds
that upload to float16 as the driver converts), so the reference is computed from the
magnitudes as the kernel holds them (:func:`cumsum_browser.kernel_held`): the suite
measures the kernel, not the input rounding. The minute-long render stays with the GL
suite.
"""

from __future__ import annotations

import base64
import time
from functools import partial

import numpy as np

from . import filtered_noise, filtered_noise_suite
from .cumsum_browser import kernel_held
from .suite import Case, Result

SPECS = tuple(name for name, spec in filtered_noise_suite.SPECS.items() if not spec.slow)
_REFERENCES: dict[tuple, tuple[np.ndarray, np.ndarray, float]] = {}


def options(name: str, **extra) -> dict:
    """The case's arguments under the bundle's names (camelCase)."""
    spec = filtered_noise_suite.SPECS[name]
    return {
        "nSamples": spec.n_samples,
        "windowSize": spec.window_size,
        "seed": filtered_noise_suite.SEED,
        **extra,
    }


def stored(page, storage: str, name: str) -> np.ndarray:
    """The case's magnitudes as the kernel reads them: as given in float32 mode; in float16
    mode (webgl), as the kernel's upload holds them."""
    mags, _ = filtered_noise_suite.inputs(name)
    if storage == "float32":
        return mags
    b, f, k = mags.shape
    held, _ = kernel_held(page, mags.reshape(b * f, k))
    return held.reshape(mags.shape)


def reference(host, storage: str, name: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(float64 reference of the stored magnitudes, float32 bound before the write, the
    reference's seconds), once per renderer, mode and case; the GL suite's own where the
    page holds the magnitudes exactly."""
    key = (host.renderer, storage, name)  # a rounded upload would be the driver's
    if key not in _REFERENCES:
        mags = stored(host.page(storage), storage, name)
        if np.array_equal(mags, filtered_noise_suite.inputs(name)[0]):
            _REFERENCES[key] = filtered_noise_suite._reference(name)
        else:
            spec = filtered_noise_suite.SPECS[name]
            x = filtered_noise_suite.inputs(name)[1]
            start = time.perf_counter()
            ref = filtered_noise.reference(mags, x, window_size=spec.window_size)
            seconds = time.perf_counter() - start
            bound = filtered_noise.derived_bound(
                mags, n_samples=spec.n_samples, window_size=spec.window_size
            )
            _REFERENCES[key] = (ref, bound, seconds)
    return _REFERENCES[key]


def call(page, mags: np.ndarray, opts: dict) -> tuple[np.ndarray, dict]:
    """harness.filteredNoise: the audio [batch, nSamples] and the call's record."""
    res = page.call("filteredNoise", {"key": mags, "shape": list(mags.shape), "options": opts})
    out = np.frombuffer(base64.b64decode(res["b64"]), np.float32).reshape(res["shape"])
    return out, res


def _run(host, name: str, storage: str) -> Result:
    ref, bound32, ref_seconds = reference(host, storage, name)
    mags, _ = filtered_noise_suite.inputs(name)
    out, rec = call(host.page(storage), mags, options(name))
    bound = filtered_noise.write_bound(ref, bound32, storage)
    ratio = filtered_noise.deviation(out, ref, bound)
    seconds = rec["ms"] / 1e3
    return Result(
        error=float(ratio.max()),
        budget=1.0,
        unit="sample bound",
        passes=rec["passes"],
        seconds=seconds,
        baseline_seconds=ref_seconds,
        extra={
            "snr_db": filtered_noise.snr_db(out, ref),
            "max_abs_error": float(np.abs(out - ref).max()),
            "max_abs_reference": float(np.abs(ref).max()),
            "median_bound": float(np.median(bound)),
            "reference_seconds_per_kernel_second": ref_seconds / seconds,
        },
    )


def cases(quick: bool = False, names=None) -> list[Case]:
    """The browser cases: :mod:`filtered_noise_suite`'s specs but the minute-long one
    (``names`` overrides them)."""
    chosen = names or [n for n in SPECS if not quick or n in filtered_noise_suite.QUICK]
    out = []
    for name in chosen:
        spec = filtered_noise_suite.SPECS[name]
        for storage in ("float16", "float32"):
            out.append(
                Case(
                    kernel=filtered_noise.NAME,
                    id=f"filtered_noise-tfjs-{storage}-{name}",
                    storage=storage,
                    n=spec.n_samples,
                    series=spec.magnitudes,
                    run=partial(_run, name=name, storage=storage),
                )
            )
    return out
