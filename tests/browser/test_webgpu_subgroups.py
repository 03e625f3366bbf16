"""WrappedCumsum's subgroup scan on TF.js's webgpu backend, and the opt-in that enables it
(ddspgl.requestWebGPUSubgroups, js/src/webgpu_subgroups.js), in headless Chromium.

The page asks for subgroups before TF.js creates its device (the harness's ?subgroups=1).
There a periodic row of several blocks runs cumsum_run_scan_subgroups as its scan, whose
outputs must equal the fallback's (cumsum_run_scan, run in the same page after
ddspgl._useWebGPUSubgroups(false)) bit for bit, inside kernels/cumsum.py's float32 budget
against the float64 reference, on test_webgpu_cumsum.py's cases that reach the scan. The
module skips where the adapter has no `subgroups` feature (SwiftShader's has, 4 wide).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import test_webgpu_cumsum as fallback
from needs_chromium import require_chromium
from webgpu_host import webgpu_host

from ddspgl.harness.shader import resolve
from ddspgl.kernels import cumsum, cumsum_suite, cumsum_webgpu

require_chromium()

BLOCK = cumsum_webgpu.BLOCK
SUBGROUP_BODIES = ["cumsum_run_sums", "cumsum_run_scan_subgroups", "cumsum_run_final"]
FALLBACK_BODIES = ["cumsum_run_sums", "cumsum_run_scan", "cumsum_run_final"]
# The line of ddspgl's WGSL that js/src/webgpu_subgroups.js puts `enable subgroups;` before.
MARKER = "// ddspgl: enable subgroups"
# requestWebGPUSubgroups' answer before TF.js makes its device, on an adapter with them.
WILL = {"subgroups": True, "reason": "the webgpu backend's device will request 'subgroups'"}


@pytest.fixture(scope="module")
def gpu():
    """The webgpu page with subgroups; a skip naming the reason where the adapter has none."""
    yield from webgpu_host(subgroups=True)


def _page(gpu):
    return gpu.page("float32")


@contextlib.contextmanager
def _fallback(gpu):
    """ddspgl's kernels run their fallbacks inside, as on a device without subgroups."""
    before = _page(gpu).evaluate("() => ddspgl._useWebGPUSubgroups(false)")
    try:
        yield
    finally:
        _page(gpu).evaluate("on => ddspgl._useWebGPUSubgroups(on)", before)


def _both(gpu, x: np.ndarray, **spec) -> np.ndarray:
    """ddspgl.wrappedCumsum(x) with the subgroup scan, checked to be the fallback's bit for
    bit and to have run the dispatches it names."""
    out, rec = _page(gpu).run(x, op="wrapped", **spec)
    with _fallback(gpu):
        want, want_rec = _page(gpu).run(x, op="wrapped", **spec)
    assert rec["bodies"] == SUBGROUP_BODIES
    assert want_rec["bodies"] == FALLBACK_BODIES
    assert out.tobytes() == want.tobytes()
    return out


# -- the opt-in ------------------------------------------------------------------------------


def test_the_page_asked_and_the_device_has_subgroups(gpu):
    """The harness asked before tf.setBackend('webgpu'); asking again once TF.js has its
    device says so and changes nothing; TF.js's requestDevice is GPUAdapter's own again."""
    assert _page(gpu).info["subgroups"] == {
        "requested": True,
        "answer": WILL,
        "device": True,
    }
    got = _page(gpu).evaluate(
        """async () => {
          const device = tf.backend().device;
          const create = device.createShaderModule;
          const answer = await ddspgl.requestWebGPUSubgroups();
          return {answer, same: device.createShaderModule === create,
                  native: String(GPUAdapter.prototype.requestDevice).includes('[native code]')};
        }"""
    )
    assert got == {
        "answer": {"subgroups": True, "reason": "the webgpu backend's device has 'subgroups'"},
        "same": True,
        "native": True,
    }


def test_only_modules_with_the_marker_get_the_directive(gpu):
    """On the page's device a module holding the marker compiles with subgroup operations;
    the same code without it does not (no directive added to anyone else's module), and
    a TF.js op still computes."""
    assert MARKER in resolve(cumsum_webgpu.WGSL_RUN_SCAN_SUBGROUPS)
    got = _page(gpu).evaluate(
        """async marker => {
          const device = tf.backend().device;
          const body = 'fn count() -> u32 { return subgroupAdd(1u); }\\n';
          const errors = async code => {
            device.pushErrorScope('validation');
            const info = await device.createShaderModule({code}).getCompilationInfo();
            await device.popErrorScope();
            return info.messages.filter(m => m.type === 'error').length;
          };
          const a = tf.tensor1d([1, 2, 3]);
          const b = tf.add(a, a);
          const sum = Array.from(await b.data());
          tf.dispose([a, b]);
          return {marked: await errors(`${marker}\\n${body}`), unmarked: await errors(body),
                  sum};
        }""",
        MARKER,
    )
    assert got["marked"] == 0
    assert got["unmarked"] > 0
    assert got["sum"] == [2, 4, 6]


def test_the_opt_in_before_tfjs_makes_its_device(gpu):
    """In a bare page: without TF.js's webgpu backend registered, and with an adapter
    lacking `subgroups`, the opt-in does nothing and says why; then it wraps TF.js's factory
    once however often it is called, the device TF.js makes has `subgroups`, and
    GPUAdapter.prototype.requestDevice is its own again."""
    page = gpu.new_page("/")
    try:
        for script in (
            "/node_modules/@tensorflow/tfjs/dist/tf.min.js",
            "/dist/ddspgl-tfjs.js",
        ):
            page.add_script_tag(url=script)
        unregistered = page.evaluate("() => ddspgl.requestWebGPUSubgroups()")
        page.add_script_tag(
            url="/node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js"
        )
        got = page.evaluate(
            """async () => {
              const entry = tf.engine().registryFactory.webgpu;
              const factory = entry.factory;
              const requestAdapter = navigator.gpu.requestAdapter;
              navigator.gpu.requestAdapter = async options => {
                const adapter = await requestAdapter.call(navigator.gpu, options);
                return {features: new Set([...adapter.features].filter(f => f !== 'subgroups'))};
              };
              const lacking = await ddspgl.requestWebGPUSubgroups();
              const untouched = entry.factory === factory;
              navigator.gpu.requestAdapter = requestAdapter;
              const first = await ddspgl.requestWebGPUSubgroups();
              const wrapped = entry.factory;
              const second = await ddspgl.requestWebGPUSubgroups();
              await tf.setBackend('webgpu');
              return {lacking, untouched, first, second,
                      wrappedOnce: wrapped !== factory && entry.factory === wrapped,
                      device: tf.backend().device.features.has('subgroups'),
                      native: String(GPUAdapter.prototype.requestDevice).includes('[native code]')};
            }"""
        )
    finally:
        page.close()
    assert unregistered == {
        "subgroups": False,
        "reason": "TF.js's webgpu backend is not registered (load "
        "@tensorflow/tfjs-backend-webgpu before calling this)",
    }
    assert got == {
        "lacking": {"subgroups": False, "reason": "the WebGPU adapter has no 'subgroups' feature"},
        "untouched": True,
        "first": WILL,
        "second": WILL,
        "wrappedOnce": True,
        "device": True,
        "native": True,
    }


# -- the subgroup scan: the fallback's bits, inside the budget --------------------------------

# test_webgpu_cumsum's float32 cases that run the scan dispatch (periodic, several blocks),
# two of its four modes and two of its four inputs (its rows of the wrap point, random
# and vibrato increments; of constant tones and a chirp).
SCAN_CASES = [
    c
    for c in fallback.PRECISION_CASES
    if c.n > BLOCK
    and (c.run.keywords["exclusive"], c.run.keywords["reverse"]) in {(False, False), (True, True)}
    and (c.run.keywords["kind"], c.series) in {("mod", "P1"), ("tones", "P2pi")}
]


@pytest.mark.parametrize("case", SCAN_CASES, ids=lambda c: c.id)
def test_same_bits_as_the_fallback_inside_the_budget(gpu, case):
    kw = case.run.keywords
    x = cumsum_suite._input(kw["kind"], kw["n"], kw["period"])
    p32 = np.float32(kw["period"])
    mode = {"exclusive": kw["exclusive"], "reverse": kw["reverse"]}
    out = _both(gpu, x, period=float(p32), **mode)
    ref = cumsum.reference(x, period=p32, **mode)
    err = cumsum.error(out, ref, x, p32)
    assert err <= cumsum.budget("float32", kw["n"], p32), err


@pytest.mark.parametrize("bad", ["nan", "overflowing-sum"])
def test_bad_rows_as_the_fallback(gpu, bad):
    """test_webgpu_cumsum's rows with NaN or an overflowing sum of |x|, only on the GPU:
    the same output as the fallback's, the bad row NaN, the others finite."""
    x = fallback.bad_periodic_rows(2 * BLOCK + 5, bad)
    options = {"period": 1.0, "exclusive": False, "reverse": False}
    got = fallback.run_resident(gpu, x, options)
    with _fallback(gpu):
        want = fallback.run_resident(gpu, x, options)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[1]).all()
    assert np.isfinite(got[[0, 2]]).all()


def _left_fold(values) -> np.float32:
    """float32 additions from 0.0 in the given order (overflow to Inf allowed)."""
    acc = np.float32(0.0)
    with np.errstate(over="ignore"):
        for v in values:
            acc = np.float32(acc + np.float32(v))
    return acc


def test_sum_of_abs_added_in_the_fallbacks_order(gpu):
    """Two rows whose float32 sum of |x| is finite or not by the order of its additions
    alone: FLT_MAX and 2^102 twice (half of FLT_MAX's ulp is 2^103, and FLT_MAX + 2^103
    rounds to Inf). The scan adds its slots' sums left to right as cumsum_run_scan does,
    so row 0 (FLT_MAX in slot 0, 2^102 in slots 2 and 3) stays finite, where adding in
    pairs or from the right, or rounding the exact sum, gives Inf; row 1 (2^102 in slots
    0 and 1, FLT_MAX in slot 2) is Inf in that order. Multiples of the period: row 0's
    outputs are all 0; row 1 is NaN; row 2, 0.25 each, inside the budget."""
    n = 2 * BLOCK + 5
    runs_per_slot = math.ceil(math.ceil(n / cumsum_webgpu.PER_THREAD) / cumsum_webgpu.WORKGROUP)
    slot = runs_per_slot * cumsum_webgpu.PER_THREAD  # elements per slot: 3 runs here
    big, small = np.finfo(np.float32).max, np.float32(2.0**102)
    x = np.zeros((3, n), np.float32)
    x[0, [0, 2 * slot, 3 * slot]] = [big, small, small]
    x[1, [0, slot, 2 * slot]] = [small, small, big]
    x[2] = 0.25
    # The documented order: slot sums (each only one nonzero value here), then slots.
    slot_sums = [[v for v in row[::slot][: cumsum_webgpu.WORKGROUP]] for row in x[:2]]
    assert np.isfinite(_left_fold(slot_sums[0])) and np.isinf(_left_fold(slot_sums[1]))
    assert np.isinf(_left_fold(sorted(slot_sums[0])))  # other orders overflow
    got = fallback.run_resident(gpu, x, {"period": 1.0})
    with _fallback(gpu):
        want = fallback.run_resident(gpu, x, {"period": 1.0})
    assert np.array_equal(got, want, equal_nan=True)
    assert (got[0] == 0).all()
    assert np.isnan(got[1]).all()
    p32 = np.float32(1.0)
    err = cumsum.error(got[2:], cumsum.reference(x[2:], period=p32), x[2:], p32)
    assert err <= cumsum.budget("float32", n, p32), err


def test_no_leak_over_200_calls(gpu):
    """test_webgpu_cumsum's count of tensors, bytes and buffers around the calls (a leak
    shows after one), with the subgroup scan."""
    fallback.test_no_leak_over_1000_calls(gpu, "wrapped", 1.0, 2 * BLOCK, calls=200)


# -- the library alone, workgroups of any width ------------------------------------------------

# subgroup_scan.wgsl's functions in a bare compute shader on a device of the page's own:
# per invocation, its slot, the exclusive prefix of the residues in slot order, and at slot
# 0 the float32 sum of the floats in slot order.
LIB_TEST = """
@group(0) @binding(0) var<storage, read> values: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read> floats: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(3) var<uniform> modulus: vec2<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>) {
  let at = sg_place();
  let k = group.x * WG + sg_slot(at);
  let prefix = sg_scan_residues_and_sum(at, values[k], floats[k], modulus);
  let sum = sg_sum_floats();
  out[k] = vec4<u32>(prefix, sg_slot(at), select(0u, bitcast<u32>(sum), sg_slot(at) == 0u));
}
"""

RUN_LIB_TEST = """async ({code, wg, groups, values, floats, modulus}) => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice({requiredFeatures: ['subgroups']});
  try {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({code});
    const messages = (await module.getCompilationInfo()).messages
        .filter(m => m.type === 'error').map(m => m.message);
    const pipeline = device.createComputePipeline(
        {layout: 'auto', compute: {module, entryPoint: 'main'}});
    const buffer = (data, usage) => {
      const b = device.createBuffer(
          {size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST});
      device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const n = wg * groups;
    const out = buffer(new Uint32Array(4 * n).fill(0xffffffff),
                       GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const read = device.createBuffer(
        {size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST});
    const entries = [buffer(new Uint32Array(values), GPUBufferUsage.STORAGE),
                     buffer(new Float32Array(floats), GPUBufferUsage.STORAGE), out,
                     buffer(new Uint32Array(modulus), GPUBufferUsage.UNIFORM)]
        .map((b, binding) => ({binding, resource: {buffer: b}}));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({layout: pipeline.getBindGroupLayout(0), entries}));
    pass.dispatchWorkgroups(groups);
    pass.end();
    encoder.copyBufferToBuffer(out, 0, read, 0, 16 * n);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const words = Array.from(new Uint32Array(read.getMappedRange()));
    const error = await device.popErrorScope();
    return {messages, error: error && error.message, words};
  } finally {
    device.destroy();
  }
}"""


@pytest.mark.parametrize("wg", [1, 3, 7, 30, 32, 33, 256])
def test_the_subgroup_scan_on_any_workgroup_width(gpu, wg):
    """Workgroups of widths that are and are not multiples of the subgroup size (4 on
    SwiftShader: 7 is one full subgroup and one of 3), three workgroups each, residues
    below the largest modulus (2^44, every limb bit used) and below a periodic one: each
    invocation's slot is its own, the prefixes are the exact sums modulo p (Python
    integers), and slot 0 adds the floats in slot order as numpy's float32 does."""
    groups = 3
    code = "enable subgroups;\n" + f"const WG = {wg}u;\n"
    code += resolve("wgsl/lib/subgroup_scan.wgsl") + LIB_TEST
    rng = np.random.default_rng(wg)
    for p in (2**44, 2**43 + 2**21 * 3 + 1):
        res = [int(v) for v in rng.integers(0, p, wg * groups, dtype=np.int64)]
        res[:2] = [p - 1, p - 1]  # sums that wrap
        floats = rng.uniform(0, 2**20, wg * groups).astype(np.float32) * np.float32(2.0**-20)
        got = _page(gpu).evaluate(
            RUN_LIB_TEST,
            {
                "code": code,
                "wg": wg,
                "groups": groups,
                "values": [w for v in res for w in (v & 0xFFFFFFFF, v >> 32)],
                "floats": floats.tolist(),
                "modulus": [p & 0xFFFFFFFF, p >> 32],
            },
        )
        assert got["messages"] == [] and got["error"] is None, got
        words = np.array(got["words"], np.uint64).reshape(groups, wg, 4)
        assert (words[:, :, 2] == np.arange(wg)).all()  # every slot written once, by its own
        for g in range(groups):
            block = res[g * wg : (g + 1) * wg]
            want = [sum(block[:k]) % p for k in range(wg)]
            assert [int(lo) | int(hi) << 32 for lo, hi in words[g, :, :2]] == want
            want_sum = _left_fold(floats[g * wg : (g + 1) * wg])
            assert np.uint32(words[g, 0, 3]) == want_sum.view(np.uint32)
