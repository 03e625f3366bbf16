"""The `ddspgl` command: info, precision (and the commands later kernels add).

Every failure is one line on stderr, ``ddspgl: <what went wrong>``, and exit status 2;
arguments and output folders are checked before any work, and a failed command writes
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .harness.context import BACKEND_ENV, BACKENDS, Context, ContextError
from .model.graph import ModelError, check_output


class CliError(Exception):
    """A command that cannot run as asked: :func:`main` prints it as one line."""


# What a command may fail with: reported as one line and exit status 2, never a traceback.
FAILURES = (CliError, ContextError, ModelError, OSError)


class _Parser(argparse.ArgumentParser):
    """argparse, its errors raised as CliError (one line, like every other failure)."""

    def error(self, message):
        raise CliError(f"{message} (see `{self.prog} --help`)")


def _fail(exc: BaseException) -> int:
    """The one failure path: `ddspgl: ...` on one line of stderr, exit status 2."""
    text = " | ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    print(f"ddspgl: {text or type(exc).__name__}", file=sys.stderr)
    return 2


def _writable(folder: Path) -> Path:
    """`folder` is (or can be made) a folder this process writes in; checked before work."""
    return check_output(folder, new=False)


def _gl(args) -> None:
    """--backend and --angle of a command that runs on a GL context, not in the browser."""
    if args.backend == "browser":
        raise CliError(
            f"--backend browser is for `ddspgl precision`, `ddspgl bench` and "
            f"`ddspgl memory`, not `ddspgl {args.command}`"
        )
    if args.angle is not None:
        raise CliError("--angle picks the browser's WebGL driver: use it with --backend browser")
    if args.tfjs_backend is not None:
        raise CliError(
            "--tfjs-backend picks TF.js's backend in the browser: use it with --backend browser"
        )


def _context(args, make=Context) -> Context:
    """The GL context of a command: `make(--backend)` (Context, or default_context)."""
    _gl(args)
    try:
        return make(args.backend)
    except ValueError as exc:  # a bad $DDSPGL_BACKEND
        raise CliError(str(exc)) from None


def cmd_info(args) -> int:
    info = _context(args).info()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_precision(args) -> int:
    from .tools import precision

    _writable(Path(args.root) / precision.REPORT_DIR)
    if args.backend == "browser":
        return _precision_browser(args)
    ctx = _context(args)
    cases = precision.all_cases(quick=args.quick, kernels=args.kernel)
    print(f"{len(cases)} cases on {ctx.renderer} ({ctx.backend})", file=sys.stderr)
    results = precision.run_cases(ctx, cases)
    paths, rows = precision.write_report(ctx, results, Path(args.root))
    failed = [r for r in rows if not r["ok"] or r["regression"]]
    print(precision.markdown(ctx.info(), rows))
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    if failed:
        for r in failed:
            why = r["regression"] or f"error {r['error']:.3e} > budget {r['budget']:.3e}"
            print(f"FAIL {r['id']}: {why}", file=sys.stderr)
        return 1
    print(f"all {len(rows)} cases inside their budgets", file=sys.stderr)
    return 0


def _browser_host(args):
    """The browser host for --backend browser; on webgpu the page asks for WebGPU subgroups
    first (ddspgl.requestWebGPUSubgroups), as a user would, and ddspgl's kernels use them
    wherever the adapter has them (the reports' header line says which)."""
    from .tools import browser

    backend = args.tfjs_backend or "webgl"
    storages = ("float32",) if backend == "webgpu" else browser.STORAGES
    try:
        return browser.BrowserHost(
            storages=storages,
            angle=args.angle or "swiftshader",
            tfjs_backend=backend,
            webgpu_subgroups=backend == "webgpu",
        )
    except browser.BrowserUnavailable as exc:
        raise ContextError(f"browser backend unavailable: {exc}") from exc


def _precision_browser(args) -> int:
    """The cumsum suite through the TF.js bundle in headless Chromium, both TF.js modes."""
    from .tools import precision

    try:
        cases = precision.browser_cases(quick=args.quick, kernels=args.kernel)
    except ValueError as exc:
        raise ContextError(f"--backend browser: {exc}") from exc
    with _browser_host(args) as host:
        cases = [c for c in cases if c.storage in host.pages]  # webgpu: float32 only
        print(f"{len(cases)} cases on {host.renderer} (browser)", file=sys.stderr)
        results = precision.run_cases(host, cases)
        paths, rows = precision.write_report(host, results, Path(args.root))
        info = host.info()
    failed = [r for r in rows if not r["ok"] or r["regression"]]
    print(precision.markdown(info, rows))
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    for r in failed:
        why = r["regression"] or f"error {r['error']:.3e} > budget {r['budget']:.3e}"
        print(f"FAIL {r['id']}: {why}", file=sys.stderr)
    return 1 if failed else 0


def _bench_browser(args) -> int:
    """The cumsum and harmonic benchmarks in headless Chromium, each TF.js mode of the
    backend, as bench JSON."""
    import json

    from .tools import bench_report, browser

    kernels = args.kernel or list(browser.BENCH_KERNELS)
    if not set(kernels) <= set(browser.BENCH_KERNELS):
        timed = " and ".join(browser.BENCH_KERNELS)
        raise ContextError(f"--backend browser: the browser benchmark times {timed}")
    lengths = (16000, 64000) if args.quick else (1000, 16000, 64000, 256000, 2**20)
    reps = 5 if args.quick else 15
    out = _writable(Path(args.root) / bench_report.BENCH_DIR)
    with _browser_host(args) as host:
        print(f"benchmarks on {host.renderer} (browser)", file=sys.stderr)

        def progress(what: str) -> None:
            print(f"  {what}", file=sys.stderr, flush=True)

        rows = []
        if browser.BENCH_KERNEL in kernels:
            rows += browser.benchmark(host, lengths=lengths, reps=reps, progress=progress)
        if "harmonic" in kernels:
            rows += browser.harmonic_benchmark(host, reps=3 if args.quick else 5, progress=progress)
        info = host.info()
        slug = host.renderer
    out.mkdir(parents=True, exist_ok=True)
    data = bench_report.browser_json(info, slug, rows)
    (out / f"{slug}.json").write_text(json.dumps(data, indent=1))
    text = browser.bench_markdown(info, rows)
    (out / f"{slug}.md").write_text(text)
    print(text)
    print(f"wrote {out / slug}.json and .md", file=sys.stderr)
    return 0


def cmd_bundle(args) -> int:
    from .tools import emit

    for path in emit.emit(_writable(Path(args.output))):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    from .tools import serve

    try:
        serve.serve(args.port, Path(args.models) if args.models else None)
    except serve.ServeError as exc:
        raise CliError(str(exc)) from None
    return 0


def _serve_parser(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the timbre-transfer page (app/) on 127.0.0.1 and print its URL",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port on 127.0.0.1 (default: 8000; 0: any free port)",
    )
    p.add_argument(
        "--models",
        default=None,
        help="folder of instrument models: <name>/model.json and <name>/stats.json each "
        "(default: app/models of the checkout)",
    )
    p.set_defaults(func=cmd_serve)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must lie in [0, 65535], got {value}")
    return value


def cmd_bench(args) -> int:
    if args.backend == "browser":
        return _bench_browser(args)
    _gl(args)
    root = Path(args.root)
    suite = root / "tests" / "bench"
    if not suite.is_dir():
        raise CliError(f"no benchmark suite at {suite} (run from a clone of ddspgl)")

    import pytest

    from .harness import default_context
    from .kernels import manifest
    from .tools import bench_report
    from .tools.reports import renderer_slug

    folder = _writable(root / bench_report.BENCH_DIR)
    modules = [str(suite / k.bench.module) for k in manifest.select(args.kernel) if k.bench]
    ctx = _context(args, default_context)
    if args.backend:
        os.environ[BACKEND_ENV] = args.backend
    os.environ["DDSPGL_BENCH"] = "quick" if args.quick else "full"
    out = folder / f"{renderer_slug(ctx.renderer)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"benchmarks on {ctx.renderer} ({ctx.backend}) -> {out}", file=sys.stderr)
    return pytest.main(
        [
            *modules,
            "-v",
            "-p",
            "no:cacheprovider",
            f"--rootdir={root}",
            f"--benchmark-json={out}",
            "--benchmark-columns=min,median,iqr,rounds",
            "--benchmark-group-by=group",
            "--benchmark-sort=name",
        ]
    )


def cmd_memory(args) -> int:
    from .tools import memory
    from .tools.reports import renderer_slug

    _writable(Path(args.root) / memory.REPORT_DIR)
    if args.backend == "browser":
        return _memory_browser(args)
    try:
        memory.entries(args.kernel)
    except ValueError as exc:
        raise ContextError(str(exc)) from exc
    ctx = _context(args)
    lengths = memory.LENGTHS[:1] if args.quick else memory.LENGTHS
    print(f"memory by disposal policy on {ctx.renderer} ({ctx.backend})", file=sys.stderr)
    rows = memory.run_all(
        ctx,
        lengths,
        progress=lambda what: print(f"  {what}", file=sys.stderr, flush=True),
        kernels=args.kernel,
    )
    info = ctx.info()
    paths = memory.write_report(info, renderer_slug(ctx.renderer), rows, Path(args.root))
    print(memory.markdown(info, rows))
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    problems = memory.check(rows)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


def _memory_browser(args) -> int:
    """Peak tf.memory() of the stock-op synth and ddspgl's, in headless Chromium."""
    from .tools import browser, memory

    n_samples = memory.LENGTHS[0]
    with _browser_host(args) as host:
        print(f"memory in the browser on {host.renderer}", file=sys.stderr)
        runs = browser.memory_runs(
            host,
            n_samples,
            progress=lambda what: print(f"  {what}", file=sys.stderr, flush=True),
        )
        info, slug = host.info(), host.renderer
    paths = memory.write_browser_report(info, slug, runs, Path(args.root))
    print(memory.browser_markdown(info, runs))
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    from .tools import bench_report

    root = Path(args.root)
    folder = root / bench_report.BENCH_DIR
    try:
        runs = bench_report.load(folder) if folder.is_dir() else {}
    except (ValueError, LookupError, TypeError, AttributeError) as exc:  # parsing a JSON file
        raise CliError(f"{folder}: a file there is not a `ddspgl bench` report: {exc}") from None
    if not runs:
        raise CliError(f"no benchmark reports in {folder}; run `ddspgl bench` first")
    _writable(root / bench_report.README.parent)
    path = bench_report.write(root)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from .instruments import train

    # The options given on the command line (None: not given).
    given = {n: getattr(args, n) for n, _, _ in _TRAIN_OPTIONS if getattr(args, n) is not None}
    if args.instrument is not None:
        given["instrument"] = args.instrument

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        if args.resume is not None:
            if args.sweep:
                raise CliError("--sweep: trains new models; it cannot --resume a run")
            report = train.resume(args.resume, args.output, given, log=log)
        elif args.instrument is None:
            raise CliError(
                f"instrument: one of {', '.join(train.INSTRUMENTS)} (or --resume RUN_DIR)"
            )
        else:
            config = train.Config(**given)
            report = None
        if args.sweep:
            doc = train.sweep(config, args.sweep, args.output, log=log)
            print(train.sweep_markdown(doc), end="")
        else:
            if report is None:
                report = train.train(config, args.output, log=log)
            held = report["held_out_loss"]["after"]
            held_text = "" if held is None else f", held-out loss {held:.4f}"
            name = report["config"]["instrument"]
            print(
                f"{name}: {report['steps']} steps, loss {report['losses'][0]:.4f} -> "
                f"{report['losses'][-1]:.4f}{held_text}, {report['parameters']:,} parameters"
            )
    except train.TrainError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _channel_list(text: str) -> tuple[int, ...]:
    """A --sweep value: decoder sizes separated by commas, e.g. 16,32,64."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not sizes separated by commas: {text!r}") from None


# `ddspgl train`'s numeric options, as Config's fields; with --resume, the ones given
# replace the resumed run's.
_TRAIN_OPTIONS = (
    ("steps", int, "training steps (with --resume: more steps)"),
    ("batch", int, "examples per step"),
    ("seed", int, "seeds the phrases, the weights, the shuffling and the noise"),
    ("decoder_channels", int, "channels of the dilated-convolution decoder (model size)"),
    ("phrases", int, "training phrases"),
    ("held_out", int, "held-out phrases (never trained on)"),
    ("phrase_seconds", float, "seconds per phrase"),
    ("example_seconds", float, "seconds per training example"),
    ("export_seconds", float, "seconds the export takes per call"),
)


def _train_parser(sub) -> None:
    """`ddspgl train`: an instrument model trained with magenta's ddsp (instruments/)."""
    from .instruments import train

    defaults = train.Config(instrument=train.INSTRUMENTS[0])
    p = sub.add_parser(
        "train",
        help="train an instrument model with magenta's ddsp on FluidSynth phrases; writes "
        "the checkpoint, the export (saved_model/), stats.json and train.json (needs the "
        "ddsp extra, FluidSynth and the FluidR3 soundfont)",
    )
    p.add_argument(
        "instrument",
        nargs="?",
        choices=train.INSTRUMENTS,
        help="shehnai (General MIDI Shanai), bansuri (Flute) or sarangi (Fiddle); with "
        "--resume, the resumed run's",
    )
    p.add_argument("-o", "--output", required=True, help="output folder (new or empty)")
    for name, kind, what in _TRAIN_OPTIONS:
        lo, hi = train.LIMITS[name]
        default = getattr(defaults, name)
        p.add_argument(
            train.option(name),
            type=kind,
            help=f"{what} (default {default}, with --resume the resumed run's; {lo} to {hi})",
        )
    p.add_argument(
        "--sweep",
        type=_channel_list,
        metavar="C,C,...",
        help="train one model per decoder size into OUT/ch<C>/ and keep the smallest whose "
        f"held-out loss is within {train.SWEEP_MARGIN * 100:g} %% of the largest's (sweep.md)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run `ddspgl train` wrote into RUN_DIR from its checkpoint "
        "(weights, optimizer, step), its options unless given here; OUT's train.json "
        "holds the whole loss history",
    )
    p.set_defaults(func=cmd_train)


def _page_report(args, module, error, go) -> int:
    """A report made in the page (`quality`, `page-speed`): `go(log)` gives its payload,
    printed as `module.markdown` and written by `module.write` into -o; `error` (the
    module's) and a ServeError are one-line errors, no browser a context error."""
    from .tools import browser, serve

    out = _writable(Path(args.output))
    try:
        doc = go(lambda what: print(what, file=sys.stderr, flush=True))
    except (error, serve.ServeError) as exc:
        raise CliError(str(exc)) from None
    except browser.BrowserUnavailable as exc:
        raise ContextError(f"browser unavailable: {exc}") from exc
    print(module.markdown(doc), end="")
    for path in module.write(doc, out):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_quality(args) -> int:
    from .instruments import quality

    models = Path(args.models) if args.models else None
    return _page_report(
        args,
        quality,
        quality.QualityError,
        lambda log: quality.run(args.phrases, args.seconds, models, angle=args.angle, log=log),
    )


def _quality_parser(sub) -> None:
    """`ddspgl quality`: the instrument models against the soundfont (instruments/quality.py)."""
    from .instruments import quality

    p = sub.add_parser(
        "quality",
        help="each instrument model in the page, from a held-out phrase's exact controls, "
        "against the three instruments' FluidSynth renderings (ddsp's multi-scale spectral "
        "distance): the 3x3 table; writes OUT/timbre.{md,json,png}",
    )
    p.add_argument("-o", "--output", required=True, help="folder for the report (reports/quality)")
    lo, hi = quality.PHRASES
    p.add_argument(
        "--phrases", type=int, default=8, help=f"held-out phrases (default 8; {lo} to {hi})"
    )
    lo_s, hi_s = quality.SECONDS
    p.add_argument(
        "--seconds",
        type=float,
        default=8.0,
        help=f"seconds per phrase (default 8: three calls of a 4 s model; {lo_s:g} to {hi_s:g})",
    )
    p.add_argument(
        "--models",
        default=None,
        help="folder of instrument models, shehnai, bansuri and sarangi each with model.json "
        "and stats.json (default: app/models of the checkout)",
    )
    p.add_argument("--angle", choices=("swiftshader", "egl"), default="swiftshader")
    p.set_defaults(func=cmd_quality)


def cmd_page_speed(args) -> int:
    from .tools import page_speed

    models = Path(args.models) if args.models else None
    return _page_report(
        args,
        page_speed,
        page_speed.PageSpeedError,
        lambda log: page_speed.run(
            args.seconds,
            args.reps,
            args.instruments,
            tuple(args.storage),
            models,
            angle=args.angle,
            log=log,
        ),
    )


def _page_speed_parser(sub) -> None:
    """`ddspgl page-speed`: the page's timbre.transfer timed (tools/page_speed.py)."""
    from .tools import page_speed

    p = sub.add_parser(
        "page-speed",
        help="the timbre-transfer page's speed and GPU memory: timbre.transfer on a sung "
        "phrase, per instrument model and TF.js storage, a fresh page each; writes "
        "OUT/<renderer>.{md,json,png}",
    )
    p.add_argument("-o", "--output", required=True, help="folder for the report (reports/page)")
    lo, hi = page_speed.SECONDS
    p.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help=f"seconds of input (default 10; {lo:g} to {hi:g})",
    )
    lo_r, hi_r = page_speed.REPS
    p.add_argument(
        "--reps",
        type=int,
        default=3,
        help=f"transfers after the first, per page (default 3; {lo_r} to {hi_r})",
    )
    p.add_argument(
        "--instruments",
        type=lambda text: [n for n in text.split(",") if n],
        default=None,
        metavar="NAME,...",
        help="instrument models to time (default: every one in the models folder)",
    )
    p.add_argument(
        "--storage",
        nargs="+",
        default=list(page_speed.STORAGES),
        help="TF.js texture storage modes (default: float32 float16)",
    )
    p.add_argument(
        "--models", default=None, help="folder of instrument models (default: app/models)"
    )
    p.add_argument("--angle", choices=("swiftshader", "egl"), default="swiftshader")
    p.set_defaults(func=cmd_page_speed)


def _print_changes(lines) -> None:
    for line in lines:
        print(f"  {line}", file=sys.stderr)


def cmd_convert(args) -> int:
    from .model import convert

    res = convert.convert(
        args.saved_model,
        args.output,
        signature=args.signature_name,
        tags=args.saved_model_tags,
        min_bytes=args.min_bytes,
        compress=not args.no_compress,
        fuse=not args.no_fuse,
        compact=not args.no_compact,
        float16=args.quantize_float16,
    )
    print(f"TF.js fixes: {len(res.fixes)} rewrites", file=sys.stderr)
    _print_changes(res.fixes)
    if not args.no_compress:
        print(f"compress: {len(res.changes)} rewrites", file=sys.stderr)
        _print_changes(res.changes)
    if not args.no_fuse:
        fused = sum(1 for m in res.matches if isinstance(m, convert.fuse_mod.Match))
        print(f"fuse: {fused} patterns fused", file=sys.stderr)
        _print_changes(res.matches)
    if not args.no_compact:
        print("compact:", file=sys.stderr)
        _print_changes(res.compacted)
    if args.quantize_float16:
        _print_changes(res.quantized)
    print(convert.size_table(res.sizes))
    print(f"wrote {Path(args.output)}", file=sys.stderr)
    return 0


def cmd_compress(args) -> int:
    from .model import convert

    res = convert.compress_folder(args.model_dir, args.output, min_bytes=args.min_bytes)
    print(f"compress: {len(res.changes)} rewrites", file=sys.stderr)
    _print_changes(res.changes)
    print(convert.size_table(res.sizes))
    print(f"wrote {Path(args.output)}", file=sys.stderr)
    return 0


def cmd_compact(args) -> int:
    from .model import convert

    res = convert.compact_folder(args.model_dir, args.output)
    print("compact:", file=sys.stderr)
    _print_changes(res.compacted)
    print(convert.size_table(res.sizes))
    print(f"wrote {Path(args.output)}", file=sys.stderr)
    return 0


def cmd_fuse(args) -> int:
    from .model import convert

    res = convert.fuse_folder(args.model_dir, args.output)
    fused = sum(1 for m in res.matches if isinstance(m, convert.fuse_mod.Match))
    what = "unchanged, copied" if not fused else f"{fused} patterns fused"
    print(f"fuse: {what}", file=sys.stderr)
    _print_changes(res.matches)
    print(convert.size_table(res.sizes))
    print(f"wrote {Path(args.output)}", file=sys.stderr)
    return 0


def cmd_models(args) -> int:
    from .tools import browser, models_report

    for saved in args.saved_model:
        if not (Path(saved) / "saved_model.pb").is_file():
            raise CliError(f"{saved}: no saved_model.pb (expected a ddsp export's SavedModel)")
    _writable(Path(args.root) / models_report.REPORT_DIR)
    try:
        report = models_report.run(
            [Path(s) for s in args.saved_model],
            angle=args.angle,
            reps=args.reps,
            storages=args.storage or models_report.STORAGES,
            log=lambda what: print(what, file=sys.stderr, flush=True),
        )
    except browser.BrowserUnavailable as exc:
        raise ContextError(f"browser unavailable: {exc}") from exc
    print(models_report.markdown(report))
    for path in models_report.write(report, Path(args.root) / models_report.REPORT_DIR):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ddspgl", description=__doc__)
    common = _Parser(add_help=False)
    common.add_argument(
        "--backend",
        choices=BACKENDS + ("browser",),
        default=None,
        help=f"GL context backend (default: ${BACKEND_ENV} or egl); browser: TF.js in "
        "headless Chromium (precision, bench, memory)",
    )
    common.add_argument(
        "--angle",
        choices=("swiftshader", "egl"),
        default=None,
        help="with --backend browser, the driver ANGLE runs WebGL on: swiftshader "
        "(Chromium's own, the default) or egl (the system's EGL driver: Mesa llvmpipe "
        "without a GPU, the vendor's driver with one)",
    )
    common.add_argument(
        "--tfjs-backend",
        choices=("webgl", "webgpu"),
        default=None,
        help="with --backend browser, TF.js's backend: webgl (the default, both storage "
        "modes) or webgpu (float32; Chromium's WebGPU on SwiftShader)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", parents=[common], help="GL vendor, renderer, version, capabilities")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "precision",
        parents=[common],
        help="run the precision suite, write reports/precision/<renderer>.*",
    )
    p.add_argument("--quick", action="store_true", help="lengths up to 64000 only")
    _kernel_option(p, "only this kernel's cases")
    p.add_argument("--root", default=".", help="folder that holds reports/ (default: .)")
    p.set_defaults(func=cmd_precision)

    p = sub.add_parser("bundle", help="emit the TF.js bundle (script and ES module) from glsl/")
    p.add_argument("-o", "--output", default="dist", help="output folder (default: dist)")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser(
        "bench", parents=[common], help="run tests/bench, write reports/bench/<renderer>.json"
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    _kernel_option(p, "only this kernel's benchmarks")
    p.add_argument("--root", default=".", help="the ddspgl checkout (default: .)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "memory",
        parents=[common],
        help="peak GPU memory of the DDSP synth under keep/pool/early texture disposal, "
        "write reports/memory/<renderer>.*",
    )
    p.add_argument("--quick", action="store_true", help="64000 samples only")
    _kernel_option(p, "only this kernel's graphs")
    p.add_argument("--root", default=".", help="folder that holds reports/ (default: .)")
    p.set_defaults(func=cmd_memory)

    p = sub.add_parser("report", help="write reports/README.md from reports/bench/*.json")
    p.add_argument("--root", default=".", help="folder that holds reports/ (default: .)")
    p.set_defaults(func=cmd_report)
    _model_parsers(sub)
    _train_parser(sub)
    _quality_parser(sub)
    _page_speed_parser(sub)
    _serve_parser(sub)
    return parser


def _kernel_option(p: argparse.ArgumentParser, what: str) -> None:
    """--kernel NAME (repeatable), NAME one of the manifest's kernels."""
    from .kernels import manifest

    p.add_argument(
        "--kernel",
        action="append",
        choices=list(manifest.BY_NAME),
        metavar="NAME",
        help=f"{what} (repeatable; one of: {', '.join(manifest.BY_NAME)})",
    )


def _positive(text: str) -> int:
    """A count of 1 or more."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


def _byte_count(text: str) -> int:
    """A --min-bytes value: a whole number of bytes, 0 or more."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def _model_parsers(sub) -> None:
    """convert, compress, fuse, compact: the model tools of ddspgl.model."""
    from .model.compress import MIN_BYTES

    out_help = "output folder, created (must not exist or be empty)"
    min_help = f"rebuild constants of at least this many bytes (default: {MIN_BYTES})"
    p = sub.add_parser(
        "convert",
        help="tensorflowjs_converter on a SavedModel (a ddsp export too: Roll and "
        "layer norm rewritten for TF.js), then compress, fuse and compact "
        '(needs pip install "ddspgl[convert]")',
    )
    p.add_argument("saved_model", help="TF SavedModel folder")
    p.add_argument("-o", "--output", required=True, help=out_help)
    p.add_argument("--signature-name", default="serving_default", help="signature to convert")
    p.add_argument("--saved-model-tags", default="serve", help="MetaGraph tags to load")
    p.add_argument("--min-bytes", type=_byte_count, default=MIN_BYTES, help=min_help)
    p.add_argument("--no-compress", action="store_true", help="skip the compress rewrite")
    p.add_argument("--no-fuse", action="store_true", help="skip the fuse rewrite")
    p.add_argument("--no-compact", action="store_true", help="skip the compact rewrite")
    p.add_argument(
        "--quantize-float16",
        action="store_true",
        help="store float32 weights as float16 (half the bytes; TF.js decodes them on load)",
    )
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser(
        "compress",
        help="rebuild uniform / broadcast / tiled constants with ops, store identical "
        "weights once, drop unused ones (TF.js graph model; no TensorFlow needed)",
    )
    p.add_argument("model_dir", help="TF.js graph model folder (model.json + shards)")
    p.add_argument("-o", "--output", required=True, help=out_help)
    p.add_argument("--min-bytes", type=_byte_count, default=MIN_BYTES, help=min_help)
    p.set_defaults(func=cmd_compress)

    p = sub.add_parser(
        "fuse",
        help="FloorMod(Cumsum(x), P) and DDSP's angular_cumsum -> one WrappedCumsum node",
    )
    p.add_argument("model_dir", help="TF.js graph model folder (model.json + shards)")
    p.add_argument("-o", "--output", required=True, help=out_help)
    p.set_defaults(func=cmd_fuse)

    p = sub.add_parser(
        "compact",
        help="short node names, no control inputs or attrs TF.js never reads, model.json "
        'without whitespace (TF.js graph model; needs pip install "ddspgl[convert]" for '
        "TF.js's op lists)",
    )
    p.add_argument("model_dir", help="TF.js graph model folder (model.json + shards)")
    p.add_argument("-o", "--output", required=True, help=out_help)
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser(
        "models",
        help="ddsp exports in headless Chromium: the stock conversion against ddspgl's, "
        "time per call (decoder and synthesizers), peak GPU memory, bytes, accuracy; "
        "writes reports/models/<renderer>.*",
    )
    p.add_argument("saved_model", nargs="+", help="ddsp export (SavedModel folder)")
    p.add_argument("--angle", choices=("swiftshader", "egl"), default="swiftshader")
    p.add_argument("--reps", type=_positive, default=5, help="timed calls per variant (default 5)")
    p.add_argument(
        "--storage",
        action="append",
        choices=("float32", "float16"),
        help="TF.js mode, repeatable (default: both)",
    )
    p.add_argument("--root", default=".", help="folder that holds reports/ (default: .)")
    p.set_defaults(func=cmd_models)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except FAILURES as exc:
        return _fail(exc)


if __name__ == "__main__":
    sys.exit(main())
