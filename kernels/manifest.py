"""The kernel manifest: one entry per kernel, read by every tool.

An entry says everything the tools need to know of one kernel (README, "Adding a
kernel", has the recipe and which tool reads each field):

- ``ddspgl precision`` and tests/precision run its ``suite`` (and ``browser_suite`` under
  ``--backend browser``), and name its ``budget``'s derivation where a case fails;
- ``ddspgl bench`` runs the pytest-benchmark module its ``bench`` names, and
  ``ddspgl report`` tabulates (and plots) those rows as ``bench`` describes;
- ``ddspgl memory`` profiles the pipeline graphs of its ``memory``;
- the bundle emitter compiles its GLSL ``programs``, hands the JS its ``constants`` and
  bundles its ``js_module``, whose ``js_exports`` both JS entry points export;
- the CLI's ``--kernel`` choices are the entries' names.

Adding a kernel is its GLSL under ``glsl/``, its spec module under ``kernels/``, its JS
kernel module under ``js/src/kernels/``, its tests, and one :class:`Kernel` entry in
:data:`KERNELS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from . import (
    _inputs,
    cumsum,
    cumsum_browser,
    cumsum_suite,
    cumsum_webgpu,
    filtered_noise,
    filtered_noise_browser,
    filtered_noise_suite,
    filtered_noise_webgpu,
    harmonic,
    harmonic_browser,
    harmonic_suite,
    harmonic_webgpu,
    memory_graphs,
    yin,
    yin_browser,
    yin_suite,
    yin_webgpu,
)
from .suite import Case


@dataclass(frozen=True)
class Budget:
    """How far the kernel's output may be from its float64 reference, and why."""

    bound: Callable[..., object]  # the derived bound the suite holds the kernel to
    derivation: str  # the terms it sums, and where they are derived


@dataclass(frozen=True)
class Figure:
    """One figure of a benchmark cell after the kernel's milliseconds: the ratio
    ``numerator / denominator``, each side an implementation of the same run (its
    seconds) or ``"impl.field"`` (a field of that implementation's row)."""

    label: str  # in the column header, e.g. "×TF.js"
    numerator: str
    denominator: str
    fmt: str  # format of the ratio, e.g. "{:.2f}"


@dataclass(frozen=True)
class BenchPlot:
    """A figure of time and ratios against the length ``n``, one line per renderer."""

    storage: str  # the rows drawn
    times: Mapping[str, str]  # implementation -> matplotlib line style of its times
    ratios: tuple[tuple[str, str, str, str], ...]  # (legend, numerator, denominator, style)
    targets: tuple[float, ...] = ()  # ratios drawn as grey lines


@dataclass(frozen=True)
class Bench:
    """A kernel's benchmarks: its pytest-benchmark module and its tables in reports/README.md.

    Every row the module records carries ``kernel`` (the entry's name), ``impl`` and the
    fields named in ``split`` and ``keys``; the table has a line per value of ``keys``,
    one table per value of ``split``, and a column per renderer whose cell is the
    implementation ``impl``'s milliseconds followed by ``figures``.
    """

    module: str  # under tests/bench/, e.g. "test_bench_cumsum.py"
    title: str  # section heading, formatted with the split fields, e.g. "cumsum, storage {storage}"
    caption: str
    keys: tuple[str, ...]  # a table line per value, e.g. ("n",)
    figures: tuple[Figure, ...]
    split: tuple[str, ...] = ()  # a table per value, e.g. ("storage",)
    impl: str = "ddspgl"  # the implementation whose milliseconds open a cell
    plot: BenchPlot | None = None


@dataclass(frozen=True)
class MemoryGraph:
    """A graph ``ddspgl memory`` profiles: ``build(n_samples, storage)`` -> (graph, output)."""

    build: Callable[[int, str], tuple[object, str]]
    about: str  # what it is, for the report


@dataclass(frozen=True)
class Memory:
    """What ``ddspgl memory`` profiles for a kernel, and how the report introduces it."""

    about: str  # e.g. "The DDSP harmonic synthesizer, 16000 Hz, ..."
    graphs: Mapping[str, MemoryGraph]  # the report's graph name -> graph


@dataclass(frozen=True)
class Kernel:
    """What the tools need to know of one kernel."""

    name: str  # the suite, report and --kernel key; the spec module's NAME
    tfjs_kernel: str  # the kernel name registered with TF.js, e.g. "WrappedCumsum"
    spec: ModuleType  # kernels/<name>.py
    plan: Callable  # adds the kernel's passes to a harness.pipeline.Graph
    reference: Callable  # the float64 numpy reference of the same float32 inputs
    budget: Budget
    suite: Callable[[bool], list[Case]]  # precision cases: suite(quick)
    # Bundle program name -> GLSL body under glsl/ (expanded by harness.shader.resolve).
    programs: Mapping[str, str]
    # Constants the JS kernel module reads from the generated module, by JS name (a tuple
    # becomes a JS array).
    constants: Mapping[str, int | float | tuple[int | float, ...]]
    js_module: str  # under js/src/: the kernel's webgl plans, kernel functions and op
    js_exports: tuple[str, ...]  # the public op functions it adds to `ddspgl`
    bench: Bench | None = None
    memory: Memory | None = None
    # The suite through the TF.js bundle in headless Chromium: browser_suite(quick).
    browser_suite: Callable[[bool], list[Case]] | None = None
    # Bundle program name -> WGSL body under glsl/ (for TF.js's webgpu backend), expanded
    # like the GLSL.
    wgsl: Mapping[str, str] = field(default_factory=dict)


KERNELS: tuple[Kernel, ...] = (
    Kernel(
        name="cumsum",
        tfjs_kernel="WrappedCumsum",
        spec=cumsum,
        plan=cumsum.scan_graph,
        reference=cumsum.reference,
        budget=Budget(
            bound=cumsum.budget,
            derivation="input quantisation (n·2^-44 periods; n·2^-42.9 Σ|x| unwrapped), exact "
            "integer accumulation, 2^-23 converting the residue, half a float16 ulp on the "
            "write (kernels/cumsum.py)",
        ),
        suite=cumsum_suite.cases,
        browser_suite=cumsum_browser.cases,
        programs={
            "cumsum_reduce": cumsum.BODY_REDUCE,
            "cumsum_scan": cumsum.BODY_SCAN,
            "cumsum_leaf4": cumsum.BODY_LEAF4,
            "cumsum_reduce4": cumsum.BODY_REDUCE4,
            "cumsum_scan4": cumsum.BODY_SCAN4,
            "cumsum_final_packed": cumsum.BODY_FINAL,
            "abs_sum": cumsum.BODY_ABS_SUM,
        },
        constants={
            "LEAF_BLOCK": cumsum.LEAF_BLOCK,
            "QUAD_LEVELS": cumsum.QUAD_LEVELS,
            "UPPER_BLOCK": cumsum.UPPER_BLOCK,
            "TOP_MAX": cumsum.TOP_MAX,
            "SIGNED_MODULUS_HI": cumsum.SIGNED_MODULUS >> 32,
            "PERIOD_MIN": _inputs.PERIOD_MIN,
            "PERIOD_MAX": _inputs.PERIOD_MAX,
            "ABS_SUM_BLOCK": cumsum.ABS_SUM_BLOCK,
            "WGSL_WORKGROUP": cumsum_webgpu.WORKGROUP,
            "WGSL_PER_THREAD": cumsum_webgpu.PER_THREAD,
        },
        wgsl={
            "cumsum_abs_blocks": cumsum_webgpu.WGSL_ABS_BLOCKS,
            "cumsum_block_sums": cumsum_webgpu.WGSL_BLOCK_SUMS,
            "cumsum_final": cumsum_webgpu.WGSL_FINAL,
            "cumsum_run_sums": cumsum_webgpu.WGSL_RUN_SUMS,
            "cumsum_run_scan": cumsum_webgpu.WGSL_RUN_SCAN,
            "cumsum_run_scan_subgroups": cumsum_webgpu.WGSL_RUN_SCAN_SUBGROUPS,
            "cumsum_run_final": cumsum_webgpu.WGSL_RUN_FINAL,
        },
        js_module="kernels/wrapped_cumsum.js",
        js_exports=("wrappedCumsum", "patchCumsum", "unpatchCumsum"),
        bench=Bench(
            module="test_bench_cumsum.py",
            title="cumsum, storage {storage}",
            caption="ddspgl's time, its ratio to the TF.js algorithm (lower is faster) and to "
            "a copy pass (the memory-traffic floor).",
            keys=("n",),
            split=("storage",),
            figures=(
                Figure("×TF.js", "ddspgl", "tfjs", "{:.2f}"),
                Figure("×copy", "ddspgl", "copy", "{:.1f}"),
            ),
            plot=BenchPlot(
                storage="float16",
                times={"ddspgl": "o-", "tfjs": "s--", "copy": ":"},
                ratios=(
                    ("ddspgl / TF.js", "ddspgl", "tfjs", "o-"),
                    ("ddspgl / copy", "ddspgl", "copy", "^:"),
                ),
                targets=(0.25, 3.0),
            ),
        ),
    ),
    Kernel(
        name="harmonic",
        tfjs_kernel="HarmonicSynth",
        spec=harmonic,
        plan=harmonic.graph,
        reference=harmonic.reference,
        budget=Budget(
            bound=harmonic.derived_bound,
            derivation="SNR >= 100 dB with float32 storage, every sample within "
            "2^-11·max|reference| with float16; derived_bound is the worst case per sample "
            "(phase quantisation, sin/cos, amplitude, Kahan sum, write; kernels/harmonic.py)",
        ),
        suite=harmonic_suite.cases,
        browser_suite=harmonic_browser.cases,
        programs={
            "harmonic_increment": harmonic.BODY_INCREMENT,
            "harmonic_gain": harmonic.BODY_GAIN,
            "harmonic_synth": harmonic.BODY_SYNTH,
        },
        constants={
            "MAX_HARMONICS": harmonic.MAX_HARMONICS,
            "MAX_HOP": harmonic.MAX_HOP,
            "HARMONIC_WGSL_FRAME_WORKGROUP": harmonic_webgpu.FRAME_WORKGROUP,
            "HARMONIC_WGSL_SCAN_WORKGROUP": harmonic_webgpu.SCAN_WORKGROUP,
            "HARMONIC_INV_TWO_PI_WORDS": harmonic_webgpu.INV_TWO_PI_WORDS,
            "HARMONIC_TWO_PI_SPLIT": harmonic_webgpu.TWO_PI_SPLIT,
        },
        wgsl={
            "harmonic_frames": harmonic_webgpu.WGSL_FRAMES,
            "harmonic_scan": harmonic_webgpu.WGSL_SCAN,
            "harmonic_amplitudes": harmonic_webgpu.WGSL_AMPLITUDES,
            "harmonic_audio": harmonic_webgpu.WGSL_AUDIO,
            "harmonic_final_phase": harmonic_webgpu.WGSL_FINAL_PHASE,
        },
        js_module="kernels/harmonic_synth.js",
        js_exports=("harmonicSynth",),
        bench=Bench(
            module="test_bench_harmonic.py",
            title="harmonic synthesis",
            caption="The fused kernel's time, its speed-up over the TF.js op chain, and the "
            "real-time factor (seconds of audio per second of compute).",
            keys=("shape", "storage"),
            figures=(
                Figure("×op chain", "opchain", "ddspgl", "{:.1f}× faster"),
                Figure("real-time factor", "ddspgl.audio_seconds", "ddspgl", "{:.0f}"),
            ),
        ),
        memory=Memory(
            about=f"The DDSP harmonic synthesizer, {memory_graphs.SAMPLE_RATE} Hz, "
            f"{memory_graphs.FRAME_RATE} frames/s, {memory_graphs.HARMONICS} harmonics, "
            "batch 1.",
            graphs={
                "ddspgl": MemoryGraph(memory_graphs.harmonic_graph, "this project's kernels"),
                "opchain": MemoryGraph(
                    memory_graphs.opchain_graph,
                    "the same synthesis as a converted DDSP graph runs it on TF.js",
                ),
            },
        ),
    ),
    Kernel(
        name="yin",
        tfjs_kernel="Yin",
        spec=yin,
        plan=yin.graph,
        reference=yin.reference,
        budget=Budget(
            bound=yin.derived_bound,
            derivation="per frame: a lag the d' intervals allow (float32 sums of non-negative "
            "terms within (B + 2 + W/B - 1)u of d, a float16 ulp more per write), f0 and "
            "confidence inside the intervals the parabola's box, its roundings and the "
            "division give at that lag (kernels/yin.py)",
        ),
        suite=yin_suite.cases,
        browser_suite=yin_browser.cases,
        programs={
            "yin_blocks": yin.BODY_BLOCKS,
            "yin_difference": yin.BODY_DIFFERENCE,
            "yin_pick": yin.BODY_PICK,
        },
        constants={
            "YIN_MAX_LAG": yin.MAX_LAG,
            "YIN_MAX_WINDOW": yin.MAX_WINDOW,
            "YIN_MAX_HOP": yin.MAX_HOP,
            "YIN_MIN_SAMPLE_RATE": yin.MIN_SAMPLE_RATE,
            "YIN_MAX_SAMPLE_RATE": yin.MAX_SAMPLE_RATE,
            "YIN_WGSL_SCALE_WORKGROUP": yin_webgpu.SCALE_WORKGROUP,
            "YIN_WGSL_WORKGROUP": yin_webgpu.WORKGROUP,
        },
        wgsl={
            "yin_scale": yin_webgpu.WGSL_SCALE,
            "yin_blocks": yin_webgpu.WGSL_BLOCKS,
            "yin_difference": yin_webgpu.WGSL_DIFFERENCE,
            "yin_pick": yin_webgpu.WGSL_PICK,
        },
        js_module="kernels/yin.js",
        js_exports=("yin",),
    ),
    Kernel(
        name="filtered_noise",
        tfjs_kernel="FilteredNoise",
        spec=filtered_noise,
        plan=filtered_noise.graph,
        reference=filtered_noise.reference,
        budget=Budget(
            bound=filtered_noise.derived_bound,
            derivation="per sample, (8u + 2^-32) sum_j c_j H_i over the taps reaching it "
            "(cosine table, products, compensated sums, the tap's scale; taps stored exactly "
            "as digits) plus 2^-100 per tap for flushed subnormals, half a float16 ulp on the "
            "write (kernels/filtered_noise.py)",
        ),
        suite=filtered_noise_suite.cases,
        browser_suite=filtered_noise_browser.cases,
        programs={
            "filtered_noise_ir": filtered_noise.BODY_IR,
            "filtered_noise_audio": filtered_noise.BODY_AUDIO,
        },
        constants={
            "NOISE_MIN_BANDS": filtered_noise.MIN_BANDS,
            "NOISE_MAX_BANDS": filtered_noise.MAX_BANDS,
            "NOISE_MAX_INDEX": filtered_noise.MAX_INDEX,
            "NOISE_MAX_SEED": filtered_noise.MAX_SEED,
            "NOISE_EPS_TAP": filtered_noise.EPS_TAP,
            "NOISE_SUM_ROUNDING": filtered_noise.SUM_ROUNDING,
            "NOISE_WGSL_WORKGROUP": filtered_noise_webgpu.WORKGROUP,
        },
        wgsl={
            "filtered_noise_ir": filtered_noise_webgpu.WGSL_IR,
            "filtered_noise_audio": filtered_noise_webgpu.WGSL_AUDIO,
        },
        js_module="kernels/filtered_noise.js",
        js_exports=("filteredNoise",),
        bench=Bench(
            module="test_bench_filtered_noise.py",
            title="filtered noise",
            caption="The two-pass kernel's time, its speed-up over the float64 numpy reference "
            "(direct convolution), and the real-time factor (seconds of audio per second of "
            "compute).",
            keys=("shape", "storage"),
            figures=(
                Figure("×numpy", "numpy", "ddspgl", "{:.1f}× faster"),
                Figure("real-time factor", "ddspgl.audio_seconds", "ddspgl", "{:.0f}"),
            ),
        ),
    ),
)

BY_NAME: dict[str, Kernel] = {k.name: k for k in KERNELS}


def get(name: str) -> Kernel:
    """The entry called `name`; a ValueError listing the known names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"kernel: unknown {name!r}; known: {', '.join(BY_NAME)}") from None


def select(names, having: str | None = None) -> list[Kernel]:
    """The entries called `names` (every entry when `names` is empty or None); with
    `having`, a field, only those where it is set, and a ValueError naming the entries that
    have it when one of `names` has not."""
    chosen = [get(name) for name in names] if names else list(KERNELS)
    if having is None:
        return chosen
    lacking = [k.name for k in chosen if getattr(k, having) is None]
    if names and lacking:
        have = [k.name for k in KERNELS if getattr(k, having) is not None]
        what = having.replace("_", " ")
        raise ValueError(f"kernel: {', '.join(lacking)} has no {what}; these do: {have}")
    return [k for k in chosen if getattr(k, having) is not None]
