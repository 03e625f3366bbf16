"""Bad inputs and the errors they must raise: one table for every host of the kernels.

Data only, and JSON-able (``json.dumps(CASES)`` is strict JSON), so that every runner
reads the same cases: ``tests/test_bad_inputs.py`` runs them through the Python API
(``ddspgl.cumsum``, ``ddspgl.harmonic_synth``, ``ddspgl.filtered_noise``), and a runner
for the TF.js bundle runs them through ``wrappedCumsum``, ``harmonicSynth`` and
``filteredNoise`` in the browser.

Each case is a dict:

``id``
    a unique readable name.
``op``
    ``"cumsum"``, ``"harmonic_synth"`` or ``"filtered_noise"``.
``args``
    positional arguments: for cumsum ``[x]``, for harmonic_synth ``[f0_hz, amplitude,
    harmonic_distribution]``, for filtered_noise ``[magnitudes]``.
``kwargs``
    keyword arguments by their Python names (snake_case: ``period``, ``storage``,
    ``sample_rate``, ``n_samples``, ``initial_phase`` ...). A JS runner maps them to the
    bundle's options (camelCase), and ``storage`` to the TF.js mode (float16 forced with
    ``WEBGL_FORCE_F16_TEXTURES``, or float32).
``arg``
    the argument the error names: a Python message starts with it.
``match``
    substrings the message must also contain (the limit, the storage), matched
    case-insensitively.
``hosts``
    the runners the case applies to: ``"python"``, ``"bundle"``.
``skip``
    for each runner the case does not apply to, why (``ctx`` and ``storage`` exist only in
    Python, where the bundle's storage is TF.js's mode); runners report these cases skipped.
``storages``
    the storages under which the call is refused with this message: the one it names,
    else both, or only float16 where float16's limits refuse it. The Python runner calls
    with the storage the case names (the default, float16, if none); the bundle runner in
    each TF.js mode listed (float16: WEBGL_FORCE_F16_TEXTURES).

Values that strict JSON lacks are encoded, and a runner decodes them before the call:

- the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` stand for those numbers
  wherever a number may stand;
- ``{"fill": v, "shape": [d0, d1, ...]}`` stands for an array of that shape filled with v
  (v itself may be an encoded number);
- ``{"values": [...], "dtype": "float64"}`` stands for the array of those numbers held
  as float64 in Python (a JS runner passes the numbers as they are).
"""

from __future__ import annotations

from typing import Any


def _fill(value: Any, *shape: int) -> dict[str, Any]:
    return {"fill": value, "shape": list(shape)}


# Controls that pass every check: 10 frames, 4 harmonics, hop 64.
F0 = _fill(220.0, 1, 10)
AMP = _fill(0.5, 1, 10)
DIST = _fill(1.0, 1, 10, 4)
SYNTH = {"n_samples": 640}
BOTH = ["python", "bundle"]
STORAGES = ["float16", "float32"]
F16 = ["float16"]
F32 = ["float32"]
NO_CTX = "ctx is the Python API's GL context; the bundle runs on TF.js's backend"
NO_STORAGE = "the bundle has no storage argument: its storage is TF.js's mode"


def _case(op, id_, args, kwargs, arg, match, skip, storages):
    storage = kwargs.get("storage")
    return {
        "id": f"{op}-{id_}",
        "op": op,
        "args": args,
        "kwargs": kwargs,
        "arg": arg,
        "match": list(match),
        "hosts": [h for h in BOTH if h not in skip],
        "skip": skip,
        "storages": storages or ([storage] if storage in STORAGES else STORAGES),
    }


def _cumsum(
    id_: str, x: Any, kwargs: dict[str, Any], arg: str, *match: str, skip=None, storages=None
):
    return _case("cumsum", id_, [x], kwargs, arg, match, skip or {}, storages)


# Magnitudes that pass every check: 10 frames, 65 bands (128 taps), hop 64.
MAGS = _fill(0.1, 1, 10, 65)
NOISE = {"n_samples": 640}


def _noise(id_: str, change: dict[str, Any], arg: str, *match: str, skip=None, storages=None):
    args = [change.pop("magnitudes", MAGS)]
    return _case("filtered_noise", id_, args, NOISE | change, arg, match, skip or {}, storages)


def _synth(id_: str, change: dict[str, Any], arg: str, *match: str, skip=None, storages=None):
    args = [change.pop("f0_hz", F0), change.pop("amplitude", AMP)]
    args.append(change.pop("harmonic_distribution", DIST))
    return _case("harmonic_synth", id_, args, SYNTH | change, arg, match, skip or {}, storages)


CASES: list[dict[str, Any]] = [
    # -- cumsum: values ----------------------------------------------------------------------
    _cumsum("x-nan", [0.5, "NaN", 0.25], {"period": 1.0}, "x", "NaN"),
    _cumsum("x-inf", [0.5, "Infinity", 0.25], {"period": 1.0}, "x", "Inf"),
    _cumsum("x-minus-inf", [0.5, "-Infinity"], {}, "x", "Inf"),
    _cumsum(
        "x-beyond-float32",
        {"values": [1e39], "dtype": "float64"},
        {},
        "x",
        "float32",
        skip={
            "bundle": "the bundle's plain cumsum is tf.cumsum, which rounds x to float32 "
            "(1e39 to Inf) before ddspgl sees it; x-beyond-float32-wrapped covers it"
        },
    ),
    _cumsum(
        "x-beyond-float32-wrapped",
        {"values": [1e39], "dtype": "float64"},
        {"period": 1.0},
        "x",
        "float32",
    ),
    _cumsum("x-empty", [], {}, "x", "empty"),
    # -- cumsum: period ----------------------------------------------------------------------
    _cumsum("period-zero", [0.3, 0.4], {"period": 0.0}, "period", "> 0"),
    _cumsum("period-negative", [0.3, 0.4], {"period": -1.0}, "period", "> 0"),
    _cumsum("period-nan", [0.3, 0.4], {"period": "NaN"}, "period", "finite"),
    _cumsum("period-inf", [0.3, 0.4], {"period": "Infinity"}, "period", "finite"),
    _cumsum("period-list", [0.3, 0.4], {"period": [1.0]}, "period", "number"),
    # float16 storage: the period bounds every output, which float16 must hold.
    _cumsum(
        "period-beyond-float16-max",
        [70000.0, 1.0],
        {"period": 1e5},
        "period",
        "65504",
        "float16",
        storages=F16,
    ),
    _cumsum(
        "period-2-pow-100-float16",
        [0.3, 0.4],
        {"period": 2.0**100},
        "period",
        "65504",
        "float16",
        storages=F16,
    ),
    _cumsum(
        "period-below-float16-normal",
        [0.3, 0.4],
        {"period": 1e-30},
        "period",
        "2^-14",
        "float16",
        storages=F16,
    ),
    _cumsum(
        "period-1e-5-float16",
        [0.3, 0.4],
        {"period": 1e-5, "storage": "float16"},
        "period",
        "2^-14",
        "float16",
    ),
    _cumsum(
        "period-below-float32-range",
        [0.3, 0.4],
        {"period": 1e-35, "storage": "float32"},
        "period",
        "2^-100",
        "float32",
    ),
    _cumsum(
        "period-above-float32-range",
        [0.3, 0.4],
        {"period": 1e31, "storage": "float32"},
        "period",
        "2^100",
        "float32",
    ),
    # -- cumsum: storage limits of a plain sum -----------------------------------------------
    _cumsum("plain-beyond-float16", _fill(1.0, 70000), {}, "x", "65504", "float16", storages=F16),
    _cumsum(
        "plain-beyond-float32",
        [3e38, 3e38],
        {"storage": "float32"},
        "x",
        "float32",
        "3.40282e+38",
    ),
    _cumsum(
        "plain-subnormal-float32",
        [1e-40, 1e-40],
        {"storage": "float32"},
        "x",
        "2^-82",
        "float32",
    ),
    _cumsum("plain-subnormal-float16", _fill(1e-9, 100), {}, "x", "2^-14", "float16", storages=F16),
    # -- cumsum: the other arguments ---------------------------------------------------------
    _cumsum(
        "storage-float64",
        [0.3],
        {"storage": "float64"},
        "storage",
        "float16",
        skip={"bundle": NO_STORAGE},
    ),
    _cumsum("ctx-string", [0.3], {"ctx": "egl"}, "ctx", "Context", skip={"bundle": NO_CTX}),
    # -- harmonic_synth: values --------------------------------------------------------------
    _synth("f0-nan", {"f0_hz": _fill("NaN", 1, 10)}, "f0_hz", "NaN"),
    _synth("f0-negative", {"f0_hz": _fill(-1.0, 1, 10)}, "f0_hz", "non-negative"),
    _synth("amplitude-inf", {"amplitude": _fill("Infinity", 1, 10)}, "amplitude", "Inf"),
    _synth("amplitude-negative", {"amplitude": _fill(-0.1, 1, 10)}, "amplitude", "non-negative"),
    _synth(
        "distribution-nan",
        {"harmonic_distribution": _fill("NaN", 1, 10, 4)},
        "harmonic_distribution",
        "NaN",
    ),
    _synth(
        "initial-phase-nan",
        {"initial_phase": _fill("NaN", 1, 4)},
        "initial_phase",
        "NaN",
    ),
    _synth(
        "initial-phase-1e300",
        {"initial_phase": {"values": [[1e300, 0.0, 0.0, 0.0]], "dtype": "float64"}},
        "initial_phase",
        "float32",
    ),
    # -- harmonic_synth: storage limits ------------------------------------------------------
    _synth(
        "amplitude-beyond-float16",
        {"amplitude": _fill(1e5, 1, 10)},
        "amplitude",
        "65504",
        "float16",
        storages=F16,
    ),
    _synth(
        "amplitude-times-distribution-beyond-float16",
        {"normalize": False, "harmonic_distribution": _fill(4e4, 1, 10, 4)},
        "amplitude",
        "65504",
        "float16",
        storages=F16,
    ),
    _synth(
        "amplitude-beyond-float32",
        {
            "normalize": False,
            "amplitude": _fill(3e38, 1, 10),
            "harmonic_distribution": _fill(1.0, 1, 10, 4),
            "storage": "float32",
        },
        "amplitude",
        "float32",
        "3.40282e+38",
    ),
    _synth(
        "distribution-sum-beyond-float32",
        {"harmonic_distribution": _fill(1e37, 1, 10, 100), "storage": "float32"},
        "harmonic_distribution",
        "float32",
    ),
    _synth(
        "distribution-subnormal",
        {"harmonic_distribution": _fill(1e-40, 1, 10, 4), "storage": "float32"},
        "harmonic_distribution",
        "2^-99",
    ),
    _synth(
        "gain-subnormal",
        {"amplitude": _fill(1e-20, 1, 10), "harmonic_distribution": _fill(1e30, 1, 10, 4)},
        "amplitude",
        "2^-126",
        storages=F32,  # float16 mode refuses the distribution first: 1e30 is beyond 65504
    ),
    _synth(
        "gain-beyond-float32",
        {"amplitude": _fill(1e30, 1, 10), "harmonic_distribution": _fill(1e-20, 1, 10, 4)},
        "amplitude",
        "float32",
        storages=F32,  # float16 mode refuses the amplitude first: 1e30 is beyond 65504
    ),
    _synth(
        "amplitude-subnormal-output",
        {"amplitude": _fill(1e-35, 1, 10), "storage": "float32"},
        "amplitude",
        "2^-99",
    ),
    # -- harmonic_synth: the other arguments -------------------------------------------------
    _synth("sample-rate-zero", {"sample_rate": 0}, "sample_rate", "> 0"),
    _synth("sample-rate-nan", {"sample_rate": "NaN"}, "sample_rate", "finite"),
    _synth(
        "sample-rate-beyond-float32",
        {"sample_rate": 1e300},
        "sample_rate",
        "float32",
    ),
    _synth("n-samples-unreachable", {"n_samples": 641}, "n_samples", "multiple"),
    _synth(
        "storage-float64", {"storage": "float64"}, "storage", "float16", skip={"bundle": NO_STORAGE}
    ),
    _synth("ctx-string", {"ctx": "egl"}, "ctx", "Context", skip={"bundle": NO_CTX}),
    # -- filtered_noise: values ---------------------------------------------------------------
    _noise("magnitudes-nan", {"magnitudes": _fill("NaN", 1, 10, 65)}, "magnitudes", "NaN"),
    _noise("magnitudes-inf", {"magnitudes": _fill("-Infinity", 1, 10, 65)}, "magnitudes", "Inf"),
    _noise(
        "magnitudes-beyond-float32",
        {"magnitudes": {"values": [[[1e39, 0.0, 0.0]]], "dtype": "float64"}, "n_samples": 64},
        "magnitudes",
        "float32",
    ),
    # -- filtered_noise: storage limits ------------------------------------------------------
    _noise(
        "output-beyond-float16",
        {"magnitudes": _fill(2000.0, 1, 10, 65)},
        "magnitudes",
        "65504",
        "float16",
        storages=F16,
    ),
    _noise(
        "sum-beyond-float32",
        {"magnitudes": _fill(3e36, 1, 10, 65), "storage": "float32"},
        "magnitudes",
        "float32's range",
    ),
    # -- filtered_noise: the other arguments -------------------------------------------------
    _noise("bands-2", {"magnitudes": _fill(0.1, 1, 10, 2)}, "magnitudes", "3 ... 1025"),
    _noise("n-samples-below-frames", {"n_samples": 9}, "n_samples", "fewer than the 10 frames"),
    _noise("n-samples-unsplittable", {"n_samples": 81}, "n_samples", "split into 10 frames"),
    _noise("n-samples-fractional", {"n_samples": 640.5}, "n_samples", "integer"),
    _noise("window-size-2", {"window_size": 2}, "window_size", ">= 3"),
    _noise("seed-negative", {"seed": -1}, "seed", "[0, 2^32 - 1]"),
    _noise("seed-2-pow-32", {"seed": 2**32}, "seed", "[0, 2^32 - 1]"),
    _noise("sample-offset-negative", {"sample_offset": -1}, "sample_offset", ">= 0"),
    _noise("sample-offset-2-pow-31", {"sample_offset": 2**31}, "sample_offset", "2^31"),
    _noise(
        "storage-float64", {"storage": "float64"}, "storage", "float16", skip={"bundle": NO_STORAGE}
    ),
    _noise("ctx-string", {"ctx": "egl"}, "ctx", "Context", skip={"bundle": NO_CTX}),
]
