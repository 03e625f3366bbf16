"""The shared table of bad inputs (tests/bad_inputs.py) through the Python API, and the
storage limits from the inside: inputs at a limit still give a correct result."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from bad_inputs import CASES

import ddspgl
from ddspgl.kernels import _inputs, cumsum, harmonic

SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
OPS = {
    "cumsum": ddspgl.cumsum,
    "harmonic_synth": ddspgl.harmonic_synth,
    "filtered_noise": ddspgl.filtered_noise,
}


def decode(value: Any) -> Any:
    """A table value as the Python API takes it (see the table's docstring)."""
    if isinstance(value, str):
        return SPECIAL.get(value, value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict) and "fill" in value:
        return np.full(value["shape"], decode(value["fill"]), np.float64)
    if isinstance(value, dict) and "values" in value:
        return np.array(decode(value["values"]), value["dtype"])
    return value


PYTHON_CASES = [c for c in CASES if "python" in c["hosts"]]


def test_table_is_strict_json_with_unique_ids():
    text = json.dumps(CASES, allow_nan=False)
    assert json.loads(text) == CASES
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case["op"] in OPS and set(case["hosts"]) <= {"python", "bundle"}
        assert case["arg"] and all(isinstance(m, str) and m for m in case["match"])


@pytest.mark.parametrize("case", PYTHON_CASES, ids=[c["id"] for c in PYTHON_CASES])
def test_bad_input_raises_value_error_naming_argument_and_limit(ctx, case):
    args = [decode(a) for a in case["args"]]
    kwargs = {k: decode(v) for k, v in case["kwargs"].items()}
    kwargs.setdefault("ctx", ctx)
    before = (ctx.counters.textures_alive, ctx.counters.passes)
    with pytest.raises(ValueError) as info:
        OPS[case["op"]](*args, **kwargs)
    message = str(info.value)
    assert message.startswith(case["arg"] + ":") or message.startswith(case["arg"] + " "), message
    for part in case["match"]:
        assert part.lower() in message.lower(), (part, message)
    # Refused before any pass: nothing allocated, nothing run.
    assert (ctx.counters.textures_alive, ctx.counters.passes) == before


# -- the limits from the inside: at the limit, the result is finite and within budget ------------


@pytest.mark.parametrize(
    "period",
    [_inputs.FLOAT16_MAX, _inputs.FLOAT16_TINY],
    ids=["65504", "2^-14"],
)
def test_float16_period_at_its_limits_stays_within_the_ceiling(ctx, period):
    rng = np.random.default_rng(1)
    x = (rng.uniform(0.0, 0.9, 3000) * period).astype(np.float32)
    out = ddspgl.cumsum(x, period=period, storage="float16", ctx=ctx)
    assert np.isfinite(out).all()
    p32 = np.float32(period)
    err = cumsum.error(out, cumsum.reference(x, period=p32), x, p32)
    assert err <= cumsum.CEILING["float16"], err


@pytest.mark.parametrize(
    "storage, x",
    [
        ("float16", np.full(65504 // 8, 8.0, np.float32)),  # reaches 65504 exactly
        ("float32", np.array([3e38, 4e37], np.float32)),  # 3.4e38 < max (1 - 2^-22)
        ("float16", np.full(1024, 2.0**-24, np.float32)),  # sum|x| = 2^-14: the smallest
        ("float32", np.full(4, 2.0**-84, np.float32)),  # sum|x| = 2^-82: the smallest
    ],
    ids=["float16-65504", "float32-3.4e38", "float16-2^-14", "float32-2^-82"],
)
def test_plain_cumsum_at_its_limits_is_finite_and_within_budget(ctx, storage, x):
    out = ddspgl.cumsum(x, storage=storage, ctx=ctx)
    assert np.isfinite(out).all()
    err = cumsum.error(out, cumsum.reference(x), x)
    assert err <= cumsum.budget(storage, x.size), err


def test_float16_harmonic_output_near_65504_is_finite_and_within_budget(ctx):
    """Amplitude 65000 (< 65504 / (1 + EPS_SAMPLE)): a sine of that peak fits float16."""
    f0 = np.full((1, 10), 220.0, np.float32)
    amp = np.full((1, 10), 65000.0, np.float32)
    dist = np.ones((1, 10, 1), np.float32)
    out = ddspgl.harmonic_synth(f0, amp, dist, n_samples=640, storage="float16", ctx=ctx)
    assert np.isfinite(out).all()
    ref, amb = harmonic.reference(f0, amp, dist, n_samples=640)
    bound = harmonic.derived_bound(f0, amp, dist, n_samples=640)
    assert harmonic.max_error(out, ref, amb) <= harmonic.budget_float16(ref, bound)


def test_normalized_distribution_of_large_values_is_not_silent(ctx):
    """Sums up to float32's range are normalised: the result matches the reference."""
    f0 = np.full((1, 10), 220.0, np.float32)
    amp = np.full((1, 10), 0.5, np.float32)
    dist = np.full((1, 10, 4), 1e37, np.float32)
    out = ddspgl.harmonic_synth(f0, amp, dist, n_samples=640, storage="float32", ctx=ctx)
    ref, amb = harmonic.reference(f0, amp, dist, n_samples=640)
    assert np.abs(ref).max() > 0.3
    assert harmonic.snr_db(out, ref, amb) >= harmonic.SNR_BUDGET_DB
