"""WrappedCumsum on TF.js's webgpu backend (WGSL compute shaders) in headless Chromium.

Chromium's WebGPU runs on SwiftShader here (tools/browser.py, WEBGPU_ARGS). Every result is
compared with a float64 reference under kernels/cumsum.py's float32 budget (webgpu tensors
are float32; the residue arithmetic is the webgl kernel's, see kernels/cumsum_webgpu.py).
The module skips only where the browser has no WebGPU adapter.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from bad_inputs import CASES as BAD_TABLE
from needs_chromium import require_chromium
from test_bad_inputs_bundle import JS_NAMES, RUN_CASE, assert_refused
from test_tfjs_bundle import BAD
from thrown import assert_throws
from webgpu_host import webgpu_host

from ddspgl.harness.shader import resolve
from ddspgl.kernels import cumsum, cumsum_browser, cumsum_webgpu, manifest
from ddspgl.tools import emit

require_chromium()

BLOCK = cumsum_webgpu.BLOCK
# One element; a row inside one block (one dispatch); one element past a block; the
# benchmark's length (16 blocks, so every block adds earlier block sums).
CASE_LENGTHS = (1, 1000, BLOCK + 1, 64000)


@pytest.fixture(scope="module")
def gpu():
    """A webgpu page; a skip naming the reason where Chromium gives no WebGPU adapter."""
    yield from webgpu_host()


def _page(gpu):
    return gpu.page("float32")


# -- the bundle -------------------------------------------------------------------------------


def test_bundle_carries_the_wgsl_with_its_hashes(tmp_path):
    programs = {n: b for k in manifest.KERNELS for n, b in k.wgsl.items()}
    assert set(programs) >= {"cumsum_block_sums", "cumsum_final", "cumsum_abs_blocks"}
    wgsl = [resolve(body) for body in programs.values()]
    assert all("#include" not in text for text in wgsl)
    for name, text in zip(programs, wgsl, strict=True):
        assert "fn res_add(" in text or not name.startswith("cumsum"), name
    for path in emit.emit(tmp_path)[:2]:
        text = path.read_text()
        for (name, body), expanded in zip(programs.items(), wgsl, strict=True):
            assert f"glsl/{body} {emit.sha256(expanded)}" in text, name
            assert f"{name}: {emit.js_literal(expanded)}" in text, name
    script = "console.log(JSON.stringify([" + ",".join(map(emit.js_literal, wgsl)) + "]))"
    # On stdin: every kernel's WGSL is longer than one argument may be.
    out = subprocess.run(["node", "-"], input=script, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == wgsl


def test_page_runs_webgpu_with_the_kernel_registered(gpu):
    got = _page(gpu).evaluate(
        "() => ({backend: tf.getBackend(),"
        " kernel: tf.getKernel('WrappedCumsum', 'webgpu') != null})"
    )
    assert got == {"backend": "webgpu", "kernel": True}


# -- precision: the browser suite's float32 cases ---------------------------------------------

PRECISION_CASES = [c for c in cumsum_browser.cases(lengths=CASE_LENGTHS) if c.storage == "float32"]


@pytest.mark.parametrize("case", PRECISION_CASES, ids=lambda c: c.id)
def test_precision(gpu, case):
    result = case.run(gpu)
    assert result.ok, f"error {result.error:.3e} {result.unit} > budget {result.budget:.3e}"


def test_dispatches(gpu):
    """Three dispatches for a periodic row of several blocks (its runs' sums, their scan,
    the outputs), one for a single block, three for a plain cumsum (its shift chosen on the
    GPU): TF.js counts every program it runs."""
    page = _page(gpu)
    x = np.full((1, 3 * BLOCK), 0.01, np.float32)
    counts, bodies = {}, {}
    for label, op, n in [("periodic", "wrapped", 3 * BLOCK), ("one block", "wrapped", BLOCK),
                         ("plain", "patched", 3 * BLOCK)]:  # fmt: skip
        _, rec = page.run(x[:, :n], op=op, period=1.0 if op == "wrapped" else None)
        counts[label] = rec["passes"]
        bodies[label] = rec["bodies"]
    assert counts == {"periodic": 3, "one block": 1, "plain": 3}
    # Without ddspgl.requestWebGPUSubgroups TF.js's device has no subgroups: the fallback
    # scan (test_webgpu_subgroups.py runs the other).
    assert page.info["subgroups"] == {"requested": False, "answer": None, "device": False}
    assert bodies["periodic"] == ["cumsum_run_sums", "cumsum_run_scan", "cumsum_run_final"]


def test_subgroups_asked_for_once_the_device_is_made(gpu):
    """Here TF.js made its device before anyone asked: the opt-in says so and changes
    nothing."""
    got = _page(gpu).evaluate(
        """async () => {
          const create = tf.backend().device.createShaderModule;
          const answer = await ddspgl.requestWebGPUSubgroups();
          return {answer, same: tf.backend().device.createShaderModule === create};
        }"""
    )
    reason = (
        "TF.js's webgpu backend was created without 'subgroups' before this call "
        "(call it before tf.setBackend('webgpu'))"
    )
    assert got == {"answer": {"subgroups": False, "reason": reason}, "same": True}


@pytest.mark.parametrize("shape", [(3, 2, 5000), (7, BLOCK + 3), (1, 2**20)])
@pytest.mark.parametrize("period", [1.0, None], ids=["P1", "plain"])
def test_rows_and_ranks(gpu, shape, period):
    """Every row on its own (rank 3, many rows, 256 blocks per row), periodic and plain."""
    rng = np.random.default_rng(len(shape) + shape[-1])
    x = rng.uniform(-0.5 if period is None else 0, 0.5, shape).astype(np.float32)
    p32 = None if period is None else np.float32(period)
    for exclusive, reverse in [(False, False), (True, True)]:
        op = "wrapped" if period else "patched"
        out, _ = _page(gpu).run(x, op=op, period=period, exclusive=exclusive, reverse=reverse)
        rows = x.reshape(-1, shape[-1])
        ref = cumsum.reference(rows, exclusive=exclusive, reverse=reverse, period=p32)
        for r in range(rows.shape[0]):  # a plain budget is per row: its own sum of |x|
            got = out.reshape(rows.shape)[r : r + 1]
            err = cumsum.error(got, ref[r : r + 1], rows[r : r + 1], p32)
            assert err <= cumsum.budget("float32", shape[-1], p32), (r, err)


def test_patched_cumsum_on_another_axis(gpu):
    """tf.cumsum along axis 0 with patchCumsum: the webgpu kernel between two transposes."""
    x = np.random.default_rng(5).normal(size=(300, 4)).astype(np.float32)
    out, _ = _page(gpu).run(x, op="patched", period=None, axis=0)
    ref = cumsum.reference(x.T.copy()).T
    for c in range(4):
        col = np.ascontiguousarray(x[:, c : c + 1].T)
        err = cumsum.error(out[:, c : c + 1].T, np.ascontiguousarray(ref[:, c : c + 1].T), col)
        assert err <= cumsum.budget("float32", 300), (c, err)


def test_non_finite_sum_gives_nan(gpu):
    """A plain cumsum over a row whose sum of |x| is not finite, with x only on the GPU,
    writes NaN (the webgl kernel throws after reading its bound back; webgpu keeps the call
    free of readbacks). Values the host still holds are refused before any dispatch."""
    got = _page(gpu).evaluate(
        """async () => {
          ddspgl.patchCumsum();
          try {
            const ones = tf.ones([2, 100]);
            const scale = tf.tensor2d([[1], [0]]);
            // 1 / 0 on the GPU: row 1 is Inf everywhere, and no host copy of x exists.
            const x = tf.div(ones, scale);
            const y = tf.cumsum(x, 1);
            const out = Array.from(await y.data());
            tf.dispose([ones, scale, x, y]);
            return out.map(v => (Number.isNaN(v) ? 'NaN' : v));
          } finally {
            ddspgl.unpatchCumsum();
          }
        }"""
    )
    assert got[:100] == list(range(1, 101))
    assert got[100:] == ["NaN"] * 100


# A periodic row that only the GPU holds with NaN or Inf, or finite values whose float32
# sum of |x| overflows: (position, value) put into row 1 of three.
BAD_PERIODIC = {
    "nan": (lambda n: n // 2, np.nan),
    "inf-last": (lambda n: n - 1, np.inf),
    "minus-inf-first": (lambda n: 0, -np.inf),
    "overflowing-sum": (None, 3e38),  # every value 3e38: finite, the sum is not
}


def bad_periodic_rows(n: int, bad: str) -> np.ndarray:
    """Three rows of n, row 1 made bad as BAD_PERIODIC[bad] says."""
    x = np.random.default_rng(11).uniform(0, 0.5, (3, n)).astype(np.float32)
    where, value = BAD_PERIODIC[bad]
    if where is None:
        x[1] = value
    else:
        x[1, where(n)] = value
    return x


def run_resident(gpu, x: np.ndarray, options: dict) -> np.ndarray:
    """ddspgl.wrappedCumsum(x + 0, options) on the page: x only on the GPU (no host copy
    for the kernel to check), checked to leave no tensor behind; float64, NaN kept."""
    got = _page(gpu).evaluate(
        """async ([key, shape, options]) => {
          const x = tf.tensor(await harness.input(key), shape);
          const xg = tf.add(x, 0);
          const onHost = tf.backend().tensorMap.get(xg.dataId).values != null;
          const tensors = tf.memory().numTensors;
          const y = ddspgl.wrappedCumsum(xg, options);
          const out = Array.from(await y.data(), v => (Number.isNaN(v) ? 'NaN' : v));
          y.dispose();
          const leaked = tf.memory().numTensors - tensors;
          tf.dispose([x, xg]);
          return {out, onHost, leaked};
        }""",
        [gpu.put(x), list(x.shape), options],
    )
    assert not got["onHost"], "x + 0 should live on the GPU only"
    assert got["leaked"] == 0
    return np.array([np.nan if v == "NaN" else v for v in got["out"]], np.float64).reshape(x.shape)


@pytest.mark.parametrize("n", [1000, 2 * BLOCK + 5], ids=["one-block", "blocks"])
@pytest.mark.parametrize("bad", list(BAD_PERIODIC))
@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, True)], ids=["fwd", "rev"])
def test_gpu_resident_bad_values_make_their_periodic_rows_nan(gpu, n, bad, exclusive, reverse):
    """As on webgl (tests/browser/test_bad_inputs_bundle.py): a periodic row, only on the
    GPU (x + 0), holding NaN or Inf, or whose float32 sum of |x| overflows, comes out NaN
    whole, wherever the float64 reference is NaN and before it; the rows beside it stay
    inside the float32 budget against the float64 reference."""
    x = bad_periodic_rows(n, bad)
    out = run_resident(gpu, x, {"period": 1.0, "exclusive": exclusive, "reverse": reverse})
    with np.errstate(invalid="ignore", over="ignore"):
        ref = cumsum.reference(x, exclusive=exclusive, reverse=reverse, period=np.float32(1.0))
    assert np.isnan(out[1]).all(), out[1]
    if bad != "overflowing-sum":
        assert np.isnan(ref[1]).any()  # the reference has no value there either
    for r in (0, 2):
        err = cumsum.error(out[r : r + 1], ref[r : r + 1], x[r : r + 1], np.float32(1.0))
        assert err <= cumsum.budget("float32", n, np.float32(1.0)), (r, err)


def test_non_finite_host_values_are_refused(gpu):
    x = np.ones((2, 100), np.float32)
    x[1, 7] = np.inf
    message = _page(gpu).evaluate(
        """x => { ddspgl.patchCumsum();
          try { tf.cumsum(tf.tensor2d(x), 1); return null; }
          catch (e) { return e.message; } finally { ddspgl.unpatchCumsum(); } }""",
        [[float(v) if np.isfinite(v) else 1e39 for v in row] for row in x],
    )
    assert message is not None and "x" in message, message


# -- bad input and memory ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_throws_as_on_webgl(gpu, name):
    script, message = BAD[name]
    assert_throws(_page(gpu), script, message)


# The shared table's cumsum cases that float32 refuses in the bundle, given as plain arrays
# (held on the host: checked there, as on webgl), run on the webgpu page; it stays there.
assert RUN_CASE.count("await tf.setBackend('webgl');") == 1
RUN_CASE_WEBGPU = RUN_CASE.replace("await tf.setBackend('webgl');", "")
TABLE = [
    c
    for c in BAD_TABLE
    if c["op"] == "cumsum" and "bundle" in c["hosts"] and "float32" in c["storages"]
]


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c["id"])
def test_table_bad_input_is_refused_as_on_webgl(gpu, case):
    got = _page(gpu).evaluate(RUN_CASE_WEBGPU, [case, JS_NAMES, "webgpu"])
    assert_refused(got, case)


@pytest.mark.parametrize(
    "op,period,n", [("wrapped", 1.0, 2 * BLOCK), ("wrapped", 1.0, 1000), ("patched", None, 2048)]
)
def test_no_leak_over_1000_calls(gpu, op, period, n, calls=1000):
    x = np.random.default_rng(3).uniform(0, 0.5, (2, n)).astype(np.float32)
    got = _page(gpu).call(
        "memory",
        {"key": x, "shape": list(x.shape), "op": op, "period": period, "warmup": 5, "calls": calls},
    )
    assert got["after"] == got["before"]
    assert got["after"]["numBytesAllocatedInGPU"] > 0  # the webgpu backend's own count
