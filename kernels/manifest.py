"""The kernel manifest: one entry per kernel, read by every tool.

``ddspgl precision`` takes its suites from here, ``ddspgl bench`` and the report their
cases, ``ddspgl memory`` its graphs, the bundle emitter its GLSL programs, constants and
JS modules, and both JS entry points (script tag and ES module) their exports. Adding a
kernel is its GLSL under ``glsl/``, its spec module under ``kernels/``, its JS kernel
module under ``js/src/kernels/``, its tests, and one :class:`Kernel` entry in
:data:`KERNELS` (README, "Adding a kernel").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from . import _inputs, cumsum, cumsum_suite, harmonic, harmonic_suite
from .suite import Case


@dataclass(frozen=True)
class Kernel:
    """What the tools need to know of one kernel."""

    name: str  # the suite and report key, e.g. "cumsum"
    tfjs_kernel: str  # the kernel name registered with TF.js, e.g. "WrappedCumsum"
    spec: ModuleType  # kernels/<name>.py: pass plan, float64 reference, budget
    suite: Callable[[bool], list[Case]]  # precision cases: suite(quick)
    # Bundle program name -> GLSL body under glsl/ (expanded by harness.shader.resolve).
    programs: Mapping[str, str]
    # Constants the JS kernel module reads from the generated module, by JS name.
    constants: Mapping[str, int | float]
    js_module: str  # under js/src/: the kernel's webgl plans, kernel functions and op
    js_exports: tuple[str, ...]  # the public op functions it adds to `ddspgl`
    bench_kernel: str = ""  # the `kernel` of its benchmark rows ("" when none)
    extra: Mapping[str, object] = field(default_factory=dict)


ABS_SUM_BLOCK = 256  # elements per block of abs_sum.frag (a plain cumsum's sum of |x|)

KERNELS: tuple[Kernel, ...] = (
    Kernel(
        name="cumsum",
        tfjs_kernel="WrappedCumsum",
        spec=cumsum,
        suite=cumsum_suite.cases,
        programs={
            "cumsum_reduce": cumsum.BODY_REDUCE,
            "cumsum_scan": cumsum.BODY_SCAN,
            "cumsum_leaf4": "kernels/cumsum_leaf4.frag",
            "cumsum_reduce4": "kernels/cumsum_reduce4.frag",
            "cumsum_scan4": "kernels/cumsum_scan4.frag",
            "cumsum_final_packed": "kernels/cumsum_final_packed.frag",
            "abs_sum": "kernels/abs_sum.frag",
        },
        constants={
            "LEAF_BLOCK": cumsum.LEAF_BLOCK,
            "TOP_MAX": cumsum.TOP_MAX,
            "SIGNED_MODULUS_HI": cumsum.SIGNED_MODULUS >> 32,
            "PERIOD_MIN": _inputs.PERIOD_MIN,
            "PERIOD_MAX": _inputs.PERIOD_MAX,
            "ABS_SUM_BLOCK": ABS_SUM_BLOCK,
        },
        js_module="kernels/wrapped_cumsum.js",
        js_exports=("wrappedCumsum", "patchCumsum", "unpatchCumsum"),
        bench_kernel="cumsum",
    ),
    Kernel(
        name="harmonic",
        tfjs_kernel="HarmonicSynth",
        spec=harmonic,
        suite=harmonic_suite.cases,
        programs={
            "harmonic_increment": harmonic.BODY_INCREMENT,
            "harmonic_gain": harmonic.BODY_GAIN,
            "harmonic_synth": harmonic.BODY_SYNTH,
        },
        constants={
            "MAX_HARMONICS": harmonic.MAX_HARMONICS,
            "MAX_HOP": harmonic.MAX_HOP,
        },
        js_module="kernels/harmonic_synth.js",
        js_exports=("harmonicSynth",),
        bench_kernel="harmonic",
    ),
)

BY_NAME: dict[str, Kernel] = {k.name: k for k in KERNELS}


def get(name: str) -> Kernel:
    """The entry called `name`; a ValueError listing the known names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"kernel: unknown {name!r}; known: {sorted(BY_NAME)}") from None
