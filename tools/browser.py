"""The browser host: kernels run in headless Chromium through the emitted TF.js bundle.

A :class:`BrowserHost` emits the bundle (:mod:`ddspgl.tools.emit`) into a temporary
folder, serves it with the pinned TF.js from ``node_modules/`` (``npm ci`` in a checkout,
see :func:`node_modules`) and ``js/harness/`` on 127.0.0.1 (a port the OS picks), and opens
Debian's Chromium through Playwright (``executable_path`` = the system ``chromium``;
Playwright never downloads a browser here). Each TF.js mode gets its own page, because
``WEBGL_FORCE_F16_TEXTURES`` must be set before the webgl backend initialises:

- ``float32``: TF.js defaults (float32 render targets where the renderer has them);
- ``float16``: ``WEBGL_FORCE_F16_TEXTURES``, confirmed by ``WEBGL_RENDER_FLOAT32_ENABLED``
  being false and a probe (1/3 through one render pass comes back float16-rounded).

``tfjs_backend="webgpu"`` runs TF.js's webgpu backend instead (float32 only), with
Chromium's WebGPU on SwiftShader (:data:`WEBGPU_ARGS`); its reports are named
``<renderer>-webgpu``. With ``webgpu_subgroups=True`` its page calls
``ddspgl.requestWebGPUSubgroups()`` before TF.js makes its device (``?subgroups=1``), and
``info()["backend"]`` says whether ddspgl's kernels ran with subgroups.

Inputs go to the page as raw float32 bytes over HTTP; results come back as base64 of the
output Float32Array's bytes. ``WEBGL_CPU_FORWARD`` is off so that small ops stay on the
GPU. A host is also a precision-suite context (``renderer``, ``info()``), see
:mod:`ddspgl.kernels.cumsum_browser`. :func:`benchmark` times the cumsum against stock
``tf.cumsum``, :func:`harmonic_benchmark` the harmonic synthesizer against the stock op
chain; :func:`memory_runs` samples ``tf.memory()`` through a DDSP synthesizer call, each run
in a fresh page.
"""

from __future__ import annotations

import base64
import itertools
import mimetypes
import shutil
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from ..kernels import cumsum, harmonic, memory_graphs
from . import emit, reports

HARNESS_DIR = emit.js_root() / "harness"
TFJS_MIN = ("@tensorflow", "tfjs", "dist", "tf.min.js")
STORAGES = ("float16", "float32")
TFJS_BACKENDS = ("webgl", "webgpu")
# WebGPU in headless Chromium without a GPU: Dawn's Vulkan backend on SwiftShader.
WEBGPU_ARGS = (
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    "--use-webgpu-adapter=swiftshader",
)
TIMEOUT_MS = 120_000
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


# Which driver ANGLE runs WebGL on: Chromium's own SwiftShader (Vulkan on the CPU, the
# same everywhere), or the system's EGL driver (`--use-angle=gl-egl`), as the GL harness's
# default context: Mesa llvmpipe on a machine without a GPU, the GPU vendor's driver where
# one is installed. Reports are named by the renderer the page got, whichever it is.
ANGLE = {
    "swiftshader": ("--use-angle=swiftshader", "--enable-unsafe-swiftshader"),
    "egl": ("--use-angle=gl-egl",),
}


class BrowserUnavailable(RuntimeError):
    """Chromium, Playwright or the npm packages are missing."""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def node_modules() -> Path | None:
    """The node_modules/ with the pinned TF.js (``npm ci`` in a checkout): beside the JS
    sources or in a folder above them, else in the working folder or one above it."""
    for start in (emit.js_root(), Path.cwd()):
        for folder in (start.resolve(), *start.resolve().parents):
            if (folder / "node_modules").joinpath(*TFJS_MIN).is_file():
                return folder / "node_modules"
    return None


def missing() -> str | None:
    """Why the browser host cannot start here, or None."""
    if chromium_path() is None:
        return "Chromium is not installed (Debian: `apt-get install chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (`pip install playwright`; no `playwright install`)"
    if node_modules() is None:
        return "TF.js is not installed: run `npm ci` in the ddspgl checkout and run from there"
    return None


# "/": an empty page at the server's origin, for tests that import modules from a mount.
BLANK_PAGE = b"<!doctype html><meta charset=utf-8><title>ddspgl</title>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mounts: dict[str, Path]):
        self.mounts = mounts
        self.blobs: dict[str, bytes] = {}
        super().__init__(("127.0.0.1", 0), partial(_Handler))


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **mimetypes.types_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(BLANK_PAGE, "text/html; charset=utf-8")
            return
        if path.startswith("/blob/"):
            data = self.server.blobs.pop(path[len("/blob/") :], None)
            if data is None:
                self.send_error(404)
                return
            self._send(data, "application/octet-stream")
            return
        super().do_GET()

    def _send(self, data: bytes, content_type: str):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        for prefix, folder in self.server.mounts.items():
            if path.startswith(f"/{prefix}/"):
                rel = Path(path[len(prefix) + 2 :])
                if ".." in rel.parts:
                    return str(folder / "__forbidden__")
                return str(folder / rel)
        return str(Path(self.server.mounts["harness"]) / "__missing__")

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class BrowserPage:
    """One harness page: TF.js on the webgl backend in one storage mode."""

    def __init__(self, host: BrowserHost, storage: str):
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
        self.host, self.storage = host, storage
        self.page = host.browser.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        query = f"storage={storage}&tfjs={host.tfjs_backend}"
        if host.webgpu_subgroups:
            query += "&subgroups=1"
        self.page.goto(f"{host.url}/harness/index.html?{query}")
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.info = self.page.evaluate("() => harness.ready")
        except PlaywrightError as exc:  # the page's init failed: no WebGL2 from this driver
            first = str(exc).splitlines()[0]
            raise BrowserUnavailable(
                f"angle={host.angle!r}, {host.tfjs_backend}: TF.js could not start: {first}"
            ) from exc
        if storage == "float16":
            probe = np.float32(self.info["probe"])
            if self.info["float32Render"] or probe == np.float32(1 / 3):
                raise BrowserUnavailable(
                    f"float16 mode did not take: WEBGL_RENDER_FLOAT32_ENABLED="
                    f"{self.info['float32Render']}, probe {float(probe)!r}"
                )

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def call(self, fn: str, spec: dict) -> dict:
        """harness.<fn>(spec), with every numpy array in spec sent as a blob."""
        spec = {k: self.host.put(v) if isinstance(v, np.ndarray) else v for k, v in spec.items()}
        return self.page.evaluate(f"spec => harness.{fn}(spec)", spec)

    def run(self, x: np.ndarray, **spec) -> tuple[np.ndarray, dict]:
        """(output as float32 with x's shape, the call's record) of harness.runOp."""
        x32 = np.ascontiguousarray(x, np.float32)
        res = self.call("runOp", {"key": x32, "shape": list(x32.shape), **spec})
        return decode(res["b64"], res["shape"]), res

    def close(self) -> None:
        self.page.close()


def subgroups_words(subgroups: dict) -> str:
    """Whether ddspgl's webgpu kernels ran with subgroup operations, from a webgpu page's
    info["subgroups"] (js/harness/webgpu.js): they do wherever TF.js's device has them."""
    if subgroups["device"]:
        return "ddspgl with WebGPU subgroups"
    if not subgroups["requested"]:
        return "ddspgl without subgroups (not requested)"
    return f"ddspgl without subgroups ({subgroups['answer']['reason']})"


def decode(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32).reshape(shape)


class BrowserHost:
    """Headless Chromium with the emitted bundle and the pinned TF.js, served locally."""

    def __init__(
        self,
        storages=STORAGES,
        extra: Path | None = None,
        angle: str = "swiftshader",
        tfjs_backend: str = "webgl",
        webgpu_subgroups: bool = False,
    ):
        if angle not in ANGLE:
            raise ValueError(f"angle must be one of {tuple(ANGLE)}, got {angle!r}")
        if tfjs_backend not in TFJS_BACKENDS:
            raise ValueError(f"tfjs_backend must be one of {TFJS_BACKENDS}, got {tfjs_backend!r}")
        if tfjs_backend == "webgpu" and tuple(storages) != ("float32",):
            raise ValueError("the webgpu backend has float32 storage only: storages=('float32',)")
        if webgpu_subgroups and tfjs_backend != "webgpu":
            raise ValueError("webgpu_subgroups=True is for tfjs_backend='webgpu'")
        why = missing()
        if why:
            raise BrowserUnavailable(why)
        from playwright.sync_api import sync_playwright

        self._tmp = tempfile.TemporaryDirectory(prefix="ddspgl-bundle-")
        self.dist = Path(self._tmp.name)
        emit.emit(self.dist)
        mounts = {"harness": HARNESS_DIR, "node_modules": node_modules(), "dist": self.dist}
        if extra is not None:
            mounts["extra"] = Path(extra)
        self.server = _Server(mounts)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.angle = angle
        self.tfjs_backend = tfjs_backend
        self.webgpu_subgroups = webgpu_subgroups
        self._keys = itertools.count()
        self._pw = self.browser = None
        self.pages: dict[str, BrowserPage] = {}
        try:
            self._pw = sync_playwright().start()
            self.browser = self._pw.chromium.launch(
                executable_path=chromium_path(),
                headless=True,
                args=[
                    *CHROMIUM_ARGS,
                    *ANGLE[angle],
                    *(WEBGPU_ARGS if tfjs_backend == "webgpu" else ()),
                ],
                timeout=TIMEOUT_MS,
            )
            for storage in storages:
                self.pages[storage] = BrowserPage(self, storage)
        except BaseException:
            self.close()
            raise
        first = next(iter(self.pages.values())).info
        self.vendor = first["vendor"]
        self.renderer = reports.renderer_slug(first["renderer"], browser=True)  # report name
        if tfjs_backend == "webgpu":
            self.renderer += "-webgpu"
        self.backend = "browser"

    def put(self, array: np.ndarray) -> str:
        key = str(next(self._keys))
        self.server.blobs[key] = np.ascontiguousarray(array, np.float32).tobytes()
        return key

    def page(self, storage: str) -> BrowserPage:
        return self.pages[storage]

    def new_page(self, path: str) -> object:
        """A bare Playwright page at `path` on this host's server (closed by the caller);
        "/" is an empty page."""
        page = self.browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{self.url}{path}")
        return page

    def info(self) -> dict:
        """The precision report's header (the shape of Context.info())."""
        first = next(iter(self.pages.values())).info
        backend = f"browser: TF.js {first['tfjs']} {self.tfjs_backend} in headless Chromium"
        if self.tfjs_backend == "webgpu":
            backend += f", {subgroups_words(first['subgroups'])}"
        return {
            "backend": backend,
            "vendor": first["vendor"],
            "renderer": first["renderer"],
            "version": first["glVersion"],
            "user_agent": first["userAgent"],
            "max_texture_size": first["maxTextureSize"],
            **(
                {"webgpu_features": first["features"], "webgpu_subgroups": first["subgroups"]}
                if self.tfjs_backend == "webgpu"
                else {}
            ),
            "modes": {
                s: {
                    "WEBGL_RENDER_FLOAT32_ENABLED": p.info["float32Render"],
                    "WEBGL_FORCE_F16_TEXTURES": p.info["forceF16"],
                    "probe_1/3": p.info["probe"],
                }
                for s, p in self.pages.items()
            },
        }

    def finish(self) -> None:
        """Nothing to drain: every call reads its result back."""

    def close(self) -> None:
        for page in self.pages.values():
            try:
                page.close()
            except Exception:  # the browser may already be gone
                pass
        self.pages = {}
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
        self._tmp.cleanup()

    def __enter__(self) -> BrowserHost:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- benchmark ----------------------------------------------------------------------------------

BENCH_KERNEL = cumsum.NAME  # the browser benchmark's lengths are the wrapped cumsum's
BENCH_KERNELS = (cumsum.NAME, harmonic.NAME)  # what the browser benchmark times
BENCH_LENGTHS = (16000, 64000, 256000)
BENCH_INCREMENT = 440.0 / 16000.0  # cycles per sample: a 440 Hz phase at 16 kHz


# impl -> the page's op spec. The headline rows take x as tf.tensor uploads it (unpacked);
# the "packed x" rows take it as an op inside a model does, from a packed op. "ddspgl_empty"
# runs ddspgl's passes with bodies that write zeros: what its plan costs (the passes, TF.js's
# work around each, the readback) before any arithmetic.
BENCH_OPS = {
    "ddspgl": {"op": "wrapped", "period": 1.0},
    "ddspgl_empty": {"op": "wrapped", "period": 1.0, "emptyBodies": True},
    "tfjs": {"op": "stock", "period": None},
    "copy": {"op": "copy", "period": None},
    "ddspgl_packed_x": {"op": "wrapped", "period": 1.0, "input": "packed"},
    "tfjs_packed_x": {"op": "stock", "period": None, "input": "packed"},
}
# On webgpu: ddspgl, stock tf.cumsum and a copy dispatch (no packed layouts, and the empty
# bodies are a webgl pass-plan measure).
WEBGPU_BENCH_OPS = {k: BENCH_OPS[k] for k in ("ddspgl", "tfjs", "copy")}


def benchmark(host: BrowserHost, lengths=BENCH_LENGTHS, reps: int = 15, progress=None):
    """Per-call ms (with readback) of ddspgl.wrappedCumsum, its passes with empty bodies,
    stock tf.cumsum and a copy, and of ddspgl and stock again on x from a packed op
    (BENCH_OPS).

    All run in the same page on the same input [1, n], resident on the GPU after one
    untimed call each, interleaved call by call (harness.benchInterleaved) so that load
    from other processes falls on all of them alike; stock is timed without the tf.mod a
    DDSP graph adds to wrap its phase, which favours it. Returns rows with every timed
    call's milliseconds.
    """
    rows = []
    bench_ops = WEBGPU_BENCH_OPS if host.tfjs_backend == "webgpu" else BENCH_OPS
    for storage, page in host.pages.items():
        for n in lengths:
            if progress is not None:
                progress(f"n={n} {storage}: {', '.join(bench_ops)}")
            x = np.full((1, n), BENCH_INCREMENT, np.float32)
            ops = list(bench_ops.values())
            spec = {"key": x, "shape": [1, n], "reps": reps, "ops": ops}
            if host.tfjs_backend == "webgpu":  # timestamp queries: device time as well
                spec["deviceReps"] = reps
            results = page.call("benchInterleaved", spec)
            for impl, res in zip(bench_ops, results, strict=True):
                rows.append(
                    {
                        "kernel": BENCH_KERNEL,
                        "storage": storage,
                        "n": n,
                        "impl": impl,
                        "times_ms": res["times"],
                        **({"device_ms": res["device"]} if res.get("device") else {}),
                    }
                )
    return rows


# The harmonic benchmark's shape and controls: the GL benchmark's
# (tests/bench/test_bench_harmonic.py), so that `ddspgl report` puts both in one table.
HARMONIC_SR, HARMONIC_N, HARMONIC_FRAMES, HARMONIC_K = 16000, 64000, 1000, 100
HARMONIC_SHAPE = (
    f"{HARMONIC_SR // 1000} kHz, {HARMONIC_N} samples, {HARMONIC_FRAMES} frames, "
    f"{HARMONIC_K} harmonics"
)


def harmonic_controls() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f0 a 110 Hz vibrato (+-1 semitone at 5.5 Hz: about 70 of the 100 harmonics below
    Nyquist, which the fused kernel stops at and the op chain computes anyway), amplitude
    0.5, a seeded uniform distribution; float32 [1, frames(, K)]."""
    rng = np.random.default_rng(0)
    t = np.arange(HARMONIC_FRAMES) / 250
    f0 = (110 * 2 ** (np.sin(2 * np.pi * 5.5 * t) / 12))[None].astype(np.float32)
    amp = np.full((1, HARMONIC_FRAMES), 0.5, np.float32)
    dist = rng.uniform(0, 1, (1, HARMONIC_FRAMES, HARMONIC_K)).astype(np.float32)
    return f0, amp, dist


def harmonic_benchmark(host: BrowserHost, reps: int = 5, progress=None) -> list[dict]:
    """Per-call ms (with readback) of ddspgl.harmonicSynth and of the same synthesis from
    stock TF.js ops (js/harness/stock_synth.js, the op chain a converted DDSP graph runs) at
    DDSP's production shape, in each page of `host`, interleaved call by call on the same
    controls resident on the GPU (harness.harmonicBench), and 2 more rounds of each for
    device time (tf.time's kernelMs: timestamp queries on webgpu). Rows as
    :func:`benchmark`'s, with the shape and the seconds of audio."""
    f0, amp, dist = harmonic_controls()
    rows = []
    for storage, page in host.pages.items():
        if progress is not None:
            progress(f"harmonic {HARMONIC_SHAPE} {storage}: ddspgl, stock op chain")
        spec = {
            "f0": f0,
            "amplitude": amp,
            "dist": dist,
            "frames": list(f0.shape),
            "k": HARMONIC_K,
            "options": {"sampleRate": HARMONIC_SR, "nSamples": HARMONIC_N},
            "reps": reps,
            "deviceReps": 2,
        }
        for res in page.call("harmonicBench", spec):
            rows.append(
                {
                    "kernel": harmonic.NAME,
                    "storage": storage,
                    "n": HARMONIC_N,
                    "shape": HARMONIC_SHAPE,
                    "audio_seconds": HARMONIC_N / HARMONIC_SR,
                    "impl": res["impl"],
                    "times_ms": res["times"],
                    **({"device_ms": res["device"]} if res.get("device") else {}),
                }
            )
    return rows


def speedups(rows: list[dict], suffix: str = "") -> list[dict]:
    """Median stock time over median ddspgl time, per mode and length; suffix "_packed_x"
    for the runs on x from a packed op."""
    rows = [r for r in rows if r["kernel"] == BENCH_KERNEL]
    med = {(r["storage"], r["n"], r["impl"]): float(np.median(r["times_ms"])) for r in rows}
    out = []
    for (storage, n, impl), ms in med.items():
        if impl == "ddspgl" + suffix:
            stock = med[(storage, n, "tfjs" + suffix)]
            out.append(
                {
                    "storage": storage,
                    "n": n,
                    "ddspgl_ms": ms,
                    "stock_ms": stock,
                    "copy_ms": med.get((storage, n, "copy")),
                    "empty_ms": med.get((storage, n, "ddspgl_empty" + suffix)),
                    "speedup": stock / ms,
                }
            )
    return out


def bench_markdown(info: dict, rows: list[dict]) -> str:
    lines = [
        f"# Benchmark: {info['renderer']}",
        "",
        f"{info['backend']} · {info['version']}",
        "",
        "Median wall time of one call with readback (`dataSync`; `data()` on webgpu), input "
        "resident on the GPU.",
    ]
    tables = (
        ("", "x as `tf.tensor` uploads it (an unpacked texture)"),
        ("_packed_x", "x from a packed op (`x * 1`), as inside a model"),
    )
    for suffix, title in tables:
        if not speedups(rows, suffix):
            continue  # webgpu: no packed layouts
        lines += [
            "",
            f"## {title}",
            "",
            "| TF.js mode | n | ddspgl WrappedCumsum ms | empty bodies ms | stock tf.cumsum ms "
            "| copy ms | speedup |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in speedups(rows, suffix):
            empty = "-" if r["empty_ms"] is None else f"{r['empty_ms']:.1f}"
            lines.append(
                f"| {r['storage']} | {r['n']} | {r['ddspgl_ms']:.1f} | {empty} | "
                f"{r['stock_ms']:.1f} | {r['copy_ms']:.1f} | {r['speedup']:.2f}x |"
            )
    cumsum_rows = [r for r in rows if r["kernel"] == BENCH_KERNEL]
    if any("device_ms" in r for r in cumsum_rows):
        lines += _device_lines(cumsum_rows)
    lines += _harmonic_lines([r for r in rows if r["kernel"] == harmonic.NAME])
    lines += [
        "",
        "Empty bodies: ddspgl's passes with GLSL bodies that write zeros (the same textures,",
        "draws and readback, TF.js's packing of an unpacked x included), the cost of its plan",
        "before any arithmetic. Copy: one pass that reads and writes each element, and the",
        "readback.",
    ]
    return "\n".join(lines) + "\n"


def _harmonic_lines(rows: list[dict]) -> list[str]:
    """The harmonic synthesizer against the stock op chain, measured in the same page."""
    if not rows:
        return []
    lines = [
        "",
        f"## Harmonic synthesis, {HARMONIC_SHAPE}",
        "",
        "ddspgl.harmonicSynth against the same synthesis from stock TF.js ops (resizeBilinear, "
        "cumsum over [1, n, K], sin, weighted sum), interleaved call by call in one page; "
        "device time from timestamp queries where the backend has them.",
        "",
        "| TF.js mode | ddspgl ms | stock op chain ms | stock / ddspgl (wall) | ddspgl device ms "
        "| stock device ms | stock / ddspgl (device) | real-time factor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for storage in dict.fromkeys(r["storage"] for r in rows):
        by = {r["impl"]: r for r in rows if r["storage"] == storage}
        wall = {i: float(np.median(by[i]["times_ms"])) for i in ("ddspgl", "opchain")}
        dev = {i: float(np.median(by[i].get("device_ms") or [np.nan])) for i in wall}
        rtf = by["ddspgl"]["audio_seconds"] / (wall["ddspgl"] / 1e3)
        lines.append(
            f"| {storage} | {wall['ddspgl']:.1f} | {wall['opchain']:.1f} "
            f"| {wall['opchain'] / wall['ddspgl']:.1f} | {dev['ddspgl']:.1f} | "
            f"{dev['opchain']:.1f} | {dev['opchain'] / dev['ddspgl']:.1f} | {rtf:.0f} |"
        )
    return lines


def _device_lines(rows: list[dict]) -> list[str]:
    """The ratios the webgpu targets name (ddspgl within 2x a copy, 6x faster than stock),
    on wall time with readback and on device time (timestamp queries, tf.time's kernelMs)."""
    med = {(r["n"], r["impl"]): r for r in rows}
    lines = [
        "",
        "## Ratios, and device time (timestamp queries: the sum over a call's dispatches)",
        "",
        "| n | ddspgl / copy (wall) | stock / ddspgl (wall) | ddspgl device ms | stock device "
        "ms | copy device ms | ddspgl / copy (device) | stock / ddspgl (device) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in sorted({r["n"] for r in rows}):
        wall = {i: float(np.median(med[(n, i)]["times_ms"])) for i in ("ddspgl", "tfjs", "copy")}
        dev = {i: float(np.median(med[(n, i)].get("device_ms") or [np.nan])) for i in wall}
        lines.append(
            f"| {n} | {wall['ddspgl'] / wall['copy']:.2f} | {wall['tfjs'] / wall['ddspgl']:.2f} "
            f"| {dev['ddspgl']:.3f} | {dev['tfjs']:.3f} | {dev['copy']:.3f} "
            f"| {dev['ddspgl'] / dev['copy']:.2f} | {dev['tfjs'] / dev['ddspgl']:.2f} |"
        )
    return lines


# -- GPU memory ---------------------------------------------------------------------------------

MEMORY_RUNS = (
    # (name, synth, earlyDisposal: absent = TF.js defaults, None = setEarlyDisposal())
    ("stock TF.js ops", "stock", ...),
    ("ddspgl.harmonicSynth", "ddspgl", ...),
    ("ddspgl.harmonicSynth + setEarlyDisposal()", "ddspgl", None),
)


def memory_runs(host: BrowserHost, n_samples: int = 64000, progress=None) -> list[dict]:
    """GPU memory of one DDSP harmonic-synthesizer call, sampled after every kernel.

    For each TF.js mode of `host` and each of MEMORY_RUNS, in a fresh page (an empty
    texture or buffer pool): (a) the synthesizer from stock TF.js ops with TF.js's defaults
    (resizeBilinear upsampling, tf.cumsum over [1, n_samples, 100], sin, weighted sum;
    harness.js stockSynth), (b) ddspgl.harmonicSynth with TF.js's defaults, (c) on webgl,
    ddspgl.harmonicSynth after ddspgl.setEarlyDisposal() (a webgl flag; TF.js's webgpu
    buffer manager pools every released buffer and has no such setting). Each returns
    {"name", "storage", "labels", "bytes", "peak", "final", "seconds", "finite",
    "threshold"} and, on webgl, "textures"; on webgpu "in_use", "buffers", "peak_in_use",
    "final_in_use". ``bytes`` is the GPU memory TF.js has allocated (webgl
    ``tf.memory().numBytesInGPUAllocated``: textures in use and pooled; webgpu
    ``numBytesAllocatedInGPU``: buffers in use and pooled) after every WebGL program or
    WebGPU dispatch and op of the stock synth or every pass and intermediate disposal
    inside ddspgl's kernels (its ``ddspgl._onPass`` hook), then after the readback and
    after disposing the output; ``textures`` / ``buffers`` count TF.js's allocated
    textures or buffers at the same points (tf.memory() has no such count); ``in_use``
    is webgpu's ``numBytesInGPU`` (buffers in use; one released while the pending command
    encoder still uses it counts until TF.js submits it); ``finite`` says whether the
    audio was finite (stock ops give NaN in float16 mode: the phase overflows float16;
    the memory still counts); ``threshold`` is WEBGL_DELETE_TEXTURE_THRESHOLD during the
    run (None on webgpu).
    """
    f0, amp, dist = memory_graphs.controls(n_samples)
    webgpu = host.tfjs_backend == "webgpu"
    runs = [r for r in MEMORY_RUNS if not (webgpu and r[2] is not ...)]
    out = []
    for storage in host.pages:
        for name, synth, early in runs:
            if progress is not None:
                progress(f"{name} ({storage})")
            page = BrowserPage(host, storage)
            try:
                spec = {
                    "synth": synth,
                    "f0": f0,
                    "amplitude": amp,
                    "dist": dist,
                    "frames": list(f0.shape),
                    "k": dist.shape[2],
                    "options": {"sampleRate": memory_graphs.SAMPLE_RATE, "nSamples": n_samples},
                }
                if early is not ...:
                    spec["earlyDisposal"] = early
                res = page.call("memoryRun", spec)
                if page.errors:
                    raise RuntimeError(f"{name} ({storage}): {page.errors}")
            finally:
                page.close()
            run = {
                "name": name,
                "storage": storage,
                "labels": res["labels"],
                "bytes": res["bytes"],
                "peak": max(res["bytes"]),
                "final": res["bytes"][-1],
                "seconds": res["seconds"],
                "finite": res["finite"],
                "threshold": res["threshold"],
            }
            if webgpu:
                run |= {
                    "in_use": res["inUse"],
                    "buffers": res["buffers"],
                    "peak_in_use": max(res["inUse"]),
                    "final_in_use": res["inUse"][-1],
                }
            else:
                run["textures"] = res["textures"]
            out.append(run)
    return out
