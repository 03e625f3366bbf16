"""float32 weights stored as float16 (tensorflowjs_converter's ``--quantize_float16``).

Why here and not in the converter
    ``tensorflowjs_converter --quantize_float16=True`` quantizes nothing in tensorflowjs
    4.22 (the value is read as a weight-name pattern, ``'True'``); the bare flag
    quantizes everything. `ddspgl convert --quantize-float16` quantizes after its
    rewrites, which read constant values (a quantized weight has no float32 view).

What
    Every float32 weight whose values all fit float16 (|x| <= 65504, or NaN/inf already)
    is stored as float16, round to nearest; TF.js decodes it to float32 on load, so the
    graph is unchanged and each value moves by at most 2^-11 relative (2^-25 absolute
    below 2^-14, the subnormals). A weight with a finite value beyond 65504 would become
    inf: it stays float32 and the report says so. int32 and bool weights stay as they are.
"""

from __future__ import annotations

import numpy as np

from .graph import Model

FLOAT16_MAX = 65504.0


def quantize_float16(model: Model) -> tuple[Model, list[str]]:
    """A copy of `model` with its float32 weights stored as float16, and a report."""
    out = model.copy()
    done, kept, before, after = 0, [], 0, 0
    for name, w in model.weights.items():
        if w.dtype != "float32" or w.quantization is not None:
            continue
        x = w.array()
        finite = x[np.isfinite(x)]
        if finite.size and np.abs(finite).max() > FLOAT16_MAX:
            kept.append(f"kept float32 {name}: max |x| {np.abs(finite).max():.6g} > 65504")
            continue
        data = np.ascontiguousarray(x, "<f2").tobytes()
        extra = dict(w.extra, quantization={"dtype": "float16", "original_dtype": "float32"})
        out.weights[name] = type(w)(w.name, w.shape, w.dtype, data, extra)
        done += 1
        before, after = before + len(w.data), after + len(data)
    if not done and not kept:
        return model, []
    report = [f"float16    {done} float32 weights: {before:,} B -> {after:,} B"] + kept
    return out, report
