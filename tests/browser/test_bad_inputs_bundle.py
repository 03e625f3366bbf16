"""The shared table of bad inputs (tests/bad_inputs.py) through the TF.js bundle, and the
bundle's checks of values that only the GPU holds.

Every case of the table that applies to the bundle runs in each TF.js mode its
``storages`` lists (float32; float16 forced with WEBGL_FORCE_F16_TEXTURES), with its
arrays given as plain JS arrays, as the Python runner gives numpy arrays: the call must
throw an Error whose message names the same argument (the bundle's camelCase name, first
after the op's name, as a Python message starts with it) and contains every ``match``,
and leave tf.memory()'s tensors, data buffers and GPU bytes as they were. Cases with a
period run through ``ddspgl.wrappedCumsum``; those without, through ``tf.cumsum`` patched
by ``ddspgl.patchCumsum`` (the bundle's plain cumsum); harmonic_synth and filtered_noise
cases through ``ddspgl.harmonicSynth`` and ``ddspgl.filteredNoise``. The cases float32
refuses run on the JS fallback too (the cpu backend, where the plain ones call the
WrappedCumsum kernel, as the gradient does: patchCumsum patches the GPU backends only).
Cases for Python only are reported skipped, with the table's reason.

Values that only the GPU holds (the output of another GPU op) are not read back to be
checked: the kernels write NaN over the rows they spoil (js/src/gpu_checks.js). Those
tests compare every other row bit for bit with the same call on good values.
"""

from __future__ import annotations

import math

import pytest
from bad_inputs import CASES
from needs_chromium import require_chromium

from ddspgl.tools import browser

require_chromium()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """The folder the browser host serves beside the harness: none needed here (empty)."""
    return tmp_path_factory.mktemp("no_model")


# The bundle's names for the Python API's arguments (options are camelCase).
JS_NAMES = {
    "f0_hz": "f0",
    "harmonic_distribution": "harmonicDistribution",
    "initial_phase": "initialPhase",
    "sample_rate": "sampleRate",
    "n_samples": "nSamples",
    "add_endpoint": "addEndpoint",
    "window_size": "windowSize",
    "sample_offset": "sampleOffset",
}

# Decodes a table value (see tests/bad_inputs.py) into the JS value a user would pass, calls
# the op on them and returns the Error's message (null if none) with tf.memory() around.
RUN_CASE = """async ([c, names, backend]) => {
  const special = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity};
  const decode = v => {
    if (typeof v === 'string') return v in special ? special[v] : v;
    if (Array.isArray(v)) return v.map(decode);
    if (v !== null && typeof v === 'object' && 'fill' in v) {
      const fill = (shape, x) => shape.length === 0 ? x :
          Array.from({length: shape[0]}, () => fill(shape.slice(1), x));
      return fill(v.shape, decode(v.fill));
    }
    if (v !== null && typeof v === 'object' && 'values' in v) return decode(v.values);
    return v;
  };
  const args = c.args.map(decode);
  const options = {};
  for (const [key, value] of Object.entries(c.kwargs)) {
    if (key !== 'storage') options[names[key] || key] = decode(value);
  }
  const snap = () => {
    const m = tf.memory();
    return {numTensors: m.numTensors, numDataBuffers: m.numDataBuffers,
            numBytesInGPU: m.numBytesInGPU};
  };
  await tf.setBackend(backend);
  const before = snap();
  let message = null;
  try {
    let y;
    if (c.op === 'harmonic_synth') {
      y = ddspgl.harmonicSynth(args[0], args[1], args[2], options);
    } else if (c.op === 'filtered_noise') {
      y = ddspgl.filteredNoise(args[0], options);
    } else if (options.period !== undefined) {
      y = ddspgl.wrappedCumsum(args[0], options);
    } else if (backend !== 'webgl') {
      y = tf.tidy(() => tf.engine().runKernel('WrappedCumsum', {x: tf.tensor(args[0])},
                                              {exclusive: options.exclusive,
                                               reverse: options.reverse}));
    } else {
      ddspgl.patchCumsum();
      try {
        y = tf.tidy(() => tf.cumsum(args[0], -1, !!options.exclusive, !!options.reverse));
      } finally {
        ddspgl.unpatchCumsum();
      }
    }
    tf.dispose(y);
  } catch (e) {
    message = e.message;
  }
  const after = snap();
  await tf.setBackend('webgl');
  return {message, before, after};
}"""


def _params():
    """(case, storage, backend): each storage on webgl, and the JS fallback (cpu backend,
    float32 storage) where float32 refuses the call."""
    for case in CASES:
        runs = [(storage, "webgl") for storage in case["storages"]]
        runs += [("float32", "cpu")] if "float32" in case["storages"] else []
        for storage, backend in runs:
            marks = []
            if "bundle" not in case["hosts"]:
                marks = [pytest.mark.skip(reason=case["skip"]["bundle"])]
            name = f"{case['id']}-{storage if backend == 'webgl' else backend}"
            yield pytest.param(case, storage, backend, marks=marks, id=name)


def test_every_case_outside_the_bundle_says_why():
    for case in CASES:
        assert set(case["skip"]) == {"python", "bundle"} - set(case["hosts"]), case["id"]
        assert all(isinstance(why, str) and why for why in case["skip"].values()), case["id"]
        assert case["storages"] and set(case["storages"]) <= set(browser.STORAGES), case["id"]


def assert_refused(got: dict, case: dict) -> None:
    """The page's outcome of RUN_CASE: an Error naming the op, then the argument right after
    it and every `match` string, with tf.memory() as it was before the call."""
    message = got["message"]
    assert message is not None, "no Error"
    arg = JS_NAMES.get(case["arg"], case["arg"])
    op, _, rest = message.partition(": ")
    assert op.isidentifier() and rest.startswith((arg + ":", arg + " ")), message
    for part in case["match"]:
        assert part.lower() in message.lower(), (part, message)
    assert got["after"] == got["before"]


@pytest.mark.parametrize("case, storage, backend", list(_params()))
def test_bad_input_is_refused_naming_argument_and_limit(host, case, storage, backend):
    got = host.page(storage).evaluate(RUN_CASE, [case, JS_NAMES, backend])
    assert_refused(got, case)


# -- values only on the GPU ------------------------------------------------------------------

# `good` and `bad` are JS expressions for arrays; on the GPU, each is the output of x + 0.
CUMSUM_ON_GPU = """([good, bad, period]) => {
  const run = (rows, gpu) => {
    const x = tf.tensor(rows);
    const xg = gpu ? tf.add(x, 0) : x;
    const onHost = tf.backend().texData.get(xg.dataId).values != null;
    const y = ddspgl.wrappedCumsum(xg, {period});
    const out = y.arraySync();
    tf.dispose([x, xg, y]);
    return {out, onHost};
  };
  const before = tf.memory();
  const ref = run([good, good], true);  // the same residency: host x uploads exactly
  const got = run([bad, good], true);
  const after = tf.memory();
  return {ref: ref.out, got: got.out, onHost: got.onHost,
          leaked: after.numTensors - before.numTensors,
          bytes: after.numBytesInGPU - before.numBytesInGPU};
}"""

GOOD_ROW = [0.5, 0.25, 0.125, 0.75, 0.3, 0.9, 0.1]
BAD_ROWS = {
    "nan": [0.5, "NaN", 0.25, 0.75, 0.3, 0.9, 0.1],
    "inf": [0.5, 0.25, 0.125, 0.75, 0.3, 0.9, "Infinity"],
    "minus-inf": ["-Infinity", 0.25, 0.125, 0.75, 0.3, 0.9, 0.1],
    "beyond-float16": [0.5, 0.25, 70000.0, 0.75, 0.3, 0.9, 0.1],
}


@pytest.mark.parametrize("storage", browser.STORAGES)
@pytest.mark.parametrize("bad", list(BAD_ROWS))
def test_gpu_resident_bad_values_make_their_rows_nan(host, storage, bad):
    """A row of x holding NaN or Inf (in float16 mode also 70000, which a float16 texture
    holds as Inf) comes out NaN whole; the good row is bit for bit the good call's. In
    float32 mode 70000 is a good value: that row is compared with the reference instead."""
    got = host.page(storage).evaluate(
        "([good, bad, period]) => {"
        " const decode = v => ({NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity})[v] ?? v;"
        f" return ({CUMSUM_ON_GPU})([good, bad.map(decode), period]); }}",
        [GOOD_ROW, BAD_ROWS[bad], 1.0],
    )
    assert not got["onHost"], "x + 0 should live on the GPU only"
    assert got["leaked"] == 0 and got["bytes"] == 0
    assert got["got"][1] == got["ref"][1]
    spoiled = bad != "beyond-float16" or storage == "float16"
    if spoiled:
        assert all(math.isnan(v) for v in got["got"][0]), got["got"][0]
    else:
        assert all(0 <= v < 1 for v in got["got"][0]), got["got"][0]


HARMONIC_ON_GPU = """([bad, value]) => {
  const frames = 10, k = 4;
  const controls = () => ({
    f0: Array.from({length: 2}, () => Array(frames).fill(220)),
    amplitude: Array.from({length: 2}, () => Array(frames).fill(0.5)),
    harmonicDistribution: Array.from({length: 2}, () =>
        Array.from({length: frames}, () => Array(k).fill(1))),
  });
  const run = (c, gpu) => {
    const ts = [c.f0, c.amplitude, c.harmonicDistribution].map(v => tf.tensor(v));
    const inputs = gpu ? ts.map(t => tf.add(t, 0)) : ts;
    const [audio, phase] = ddspgl.harmonicSynth(
        inputs[0], inputs[1], inputs[2], {nSamples: 640, returnFinalPhase: true});
    const out = {audio: audio.arraySync(), phase: phase.arraySync()};
    tf.dispose([...ts, ...inputs, audio, phase]);
    return out;
  };
  const before = tf.memory();
  const ref = run(controls(), false);
  const c = controls();
  if (bad === 'harmonicDistribution') c[bad][0][3][2] = value; else c[bad][0][3] = value;
  const got = run(c, true);
  const after = tf.memory();
  return {ref, got, leaked: after.numTensors - before.numTensors,
          bytes: after.numBytesInGPU - before.numBytesInGPU};
}"""


@pytest.mark.parametrize("storage", browser.STORAGES)
@pytest.mark.parametrize(
    "control, value",
    [
        ("f0", "NaN"),
        ("f0", -1.0),
        ("amplitude", "Infinity"),
        ("harmonicDistribution", "NaN"),
        ("harmonicDistribution", -0.5),
    ],
    ids=["f0-nan", "f0-negative", "amplitude-inf", "distribution-nan", "distribution-negative"],
)
def test_gpu_resident_bad_controls_make_their_batch_rows_nan(host, storage, control, value):
    """A control of batch row 0 that is NaN, Inf or negative, on the GPU only: row 0's
    audio and final phases come out NaN; row 1's are bit for bit the good call's."""
    got = host.page(storage).evaluate(
        "([bad, value]) => { const v = ({NaN: NaN, Infinity: Infinity})[value] ?? value;"
        f" return ({HARMONIC_ON_GPU})([bad, v]); }}",
        [control, value],
    )
    assert got["leaked"] == 0 and got["bytes"] == 0
    for key in ("audio", "phase"):
        assert all(math.isnan(v) for v in got["got"][key][0]), key
        assert got["got"][key][1] == got["ref"][key][1], key


def test_gpu_resident_plain_cumsum_of_nan_throws(host):
    """The plain cumsum reads each row's sum of |x| back to choose its scale: a NaN found
    there throws, naming x, and frees what the call made."""
    got = host.page("float32").evaluate(
        "() => { const x = tf.add(tf.tensor([[0.5, NaN, 0.25]]), 0); const before = tf.memory();"
        " let message = null; ddspgl.patchCumsum();"
        " try { tf.dispose(tf.cumsum(x, 1)); } catch (e) { message = e.message; }"
        " finally { ddspgl.unpatchCumsum(); }"
        " const after = tf.memory(); x.dispose();"
        " return {message, leaked: after.numTensors - before.numTensors,"
        " bytes: after.numBytesInGPU - before.numBytesInGPU}; }"
    )
    assert got["message"].startswith("WrappedCumsum: x: a row's sum of |x| is nan"), got
    assert got["leaked"] == 0 and got["bytes"] == 0


# -- the op layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("storage", browser.STORAGES)
def test_plain_array_input_leaves_no_tensor(host, storage):
    """wrappedCumsum and harmonicSynth convert plain arrays to tensors and dispose them,
    whether the call succeeds or throws."""
    got = host.page(storage).evaluate(
        "() => { const n = () => tf.memory().numTensors; const start = n(); const seen = [];"
        " const y = ddspgl.wrappedCumsum([0.3, 0.4], {period: 1}); seen.push(n() - start);"
        " y.dispose();"
        " try { ddspgl.wrappedCumsum([0.3, 0.4], {period: NaN}); } catch (e) {}"
        " seen.push(n() - start);"
        " const a = ddspgl.harmonicSynth([[220, 220]], [[0.5, 0.5]], [[[1], [1]]], {nSamples: 8});"
        " seen.push(n() - start); a.dispose();"
        " try { ddspgl.harmonicSynth([[NaN, 220]], [[0.5, 0.5]], [[[1], [1]]], {nSamples: 8}); }"
        " catch (e) {} seen.push(n() - start); return seen; }"
    )
    assert got == [1, 0, 1, 0]  # only the results, while alive


@pytest.mark.parametrize(
    "call, message",
    [
        ("ddspgl.wrappedCumsum(tf.ones([3]), null)", "options must be an object"),
        ("ddspgl.wrappedCumsum(tf.ones([3]), 1)", "options must be an object"),
        ("ddspgl.wrappedCumsum(tf.ones([3]), {period: 1, perod: 2})", "unknown option 'perod'"),
        ("ddspgl.wrappedCumsum(null, {period: 1})", "x must be a tensor or an array"),
        ("ddspgl.wrappedCumsum([[1, 2], [3]], {period: 1})", "x is not a tensor-like array"),
        (
            "ddspgl.harmonicSynth(tf.ones([1, 2]), tf.ones([1, 2]), tf.ones([1, 2, 1]), null)",
            "options must be an object",
        ),
    ],
    ids=[
        "options-null",
        "options-number",
        "options-unknown",
        "x-null",
        "x-ragged",
        "harmonic-options-null",
    ],
)
def test_bad_call_shapes_throw_clear_errors(host, call, message):
    got = host.page("float32").evaluate(
        f"() => {{ try {{ tf.dispose({call}); return null; }} catch (e) {{ return e.message; }} }}"
    )
    assert got is not None and message in got, got
