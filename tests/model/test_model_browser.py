"""Converted, compressed and fused models in TF.js 4.22 (headless Chromium), side by side.

Every model of conftest.py runs in three variants (original, compressed, fused) on the cpu
backend and on webgl in both TF.js modes, on the same inputs. The checks:

- compress is exact: on the cpu backend every output of the compressed model is
  bit-for-bit the original's (Fill, ZerosLike, BroadcastTo and Tile copy values), and so
  on webgl in float32 mode; the broadcast model also matches its float64 formula;
- fuse is exact to the cumsum budget: the fused phase is held to kernels/cumsum.py's
  derived budget against the float64 wrapped cumsum of the increments *as the page holds
  them* (the model also outputs them: in float16 mode they are float16-rounded), while the
  original's phase in float16 mode is noise;
- the audio follows: against the float64 synthesis from the page's own amplitudes and the
  reference phase, the fused model stays within the bound derived in
  :func:`audio_bound`, the original in float16 mode does not come close.
"""

from __future__ import annotations

import numpy as np
import pytest
import tfjs_run

from ddsp_models import FRAMES, HOP, HOP_ANGULAR, N_BROADCAST, K, broadcast_constants
from ddspgl.kernels import cumsum
from ddspgl.tools import browser

if browser.missing():
    pytest.skip(f"browser tests: {browser.missing()}", allow_module_level=True)

VARIANTS = ("original", "compressed", "fused")
TARGETS = ("cpu", "float32", "float16")  # cpu backend; webgl in each TF.js mode
DDSP = ("decoder", "angular")
TWO_PI = np.float32(2 * np.pi)


OUTPUTS = {
    "decoder": ["audio", "phase", "increment", "amplitude"],
    "angular": ["audio", "phase", "omega", "amplitude", "phase0", "omega0"],
    "broadcast": ["y", "z"],
}


def _output_nodes(names: list[str]) -> list[str]:
    """The converted graph's node for each output: tf.function flattens a returned dict in
    sorted key order into Identity, Identity_1, ... (the converter's signature keys are
    these tensor names, not the dict's)."""
    order = sorted(names)
    return [f"Identity_{i}" if i else "Identity" for i in map(order.index, names)]


def _inputs(name: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    t = np.arange(FRAMES) / FRAMES
    f0 = (300 + 100 * np.sin(2 * np.pi * 3 * t))[None].astype(np.float32)  # 200-400 Hz
    if name == "decoder":
        loudness = (-40 + 30 * t)[None].astype(np.float32)
        return {"f0": f0, "loudness": loudness}
    if name == "angular":
        amps = rng.uniform(0, 1 / K, (1, FRAMES, K)).astype(np.float32)
        return {"f0": f0, "amps": amps}
    return {"x": rng.uniform(-1, 1, (1, K, N_BROADCAST)).astype(np.float32)}


@pytest.fixture(scope="module")
def model_dir(models):
    return models


@pytest.fixture(scope="module")
def run(host):
    """run(model, variant, target) -> {output: float32 array}, each computed once."""
    cache: dict[tuple, dict] = {}

    def go(name: str, variant: str, target: str) -> dict[str, np.ndarray]:
        key = (name, variant, target)
        if key not in cache:
            nodes = _output_nodes(OUTPUTS[name])
            url = f"/extra/{name}/{variant}/model.json"
            res = tfjs_run.run(host, target, url, _inputs(name), nodes)
            cache[key] = {k: res[node] for k, node in zip(OUTPUTS[name], nodes, strict=True)}
        return cache[key]

    return go


@pytest.fixture(scope="module")
def sin_error(host):
    """sin_error(target): the largest |tf.sin(x) - sin(x)| over x in [0, 2π), measured.

    GLSL ES 3.00 leaves sin's precision to the driver (SwiftShader's is near 2^-12 here),
    so the audio bounds take it as measured: 10^5 points of the phase range, exact in the
    mode's storage (float16-rounded in float16 mode, where the output rounding is in it).
    """
    cache: dict[str, float] = {}

    def go(target: str) -> float:
        if target not in cache:
            x = np.linspace(0, 2 * np.pi, 100_001, dtype=np.float32)[:-1]
            if target == "float16":
                x = x.astype(np.float16).astype(np.float32)
            page = host.page("float32" if target == "cpu" else target)
            b64 = page.evaluate(
                "async s => { await tf.setBackend(s.backend); const x = tf.tensor("
                "await harness.input(s.key)); const y = tf.sin(x); const out = "
                "harness.b64(y.dataSync()); tf.dispose([x, y]); await tf.setBackend('webgl');"
                " return out; }",
                {"key": host.put(x), "backend": "cpu" if target == "cpu" else "webgl"},
            )
            y = browser.decode(b64, x.shape)
            cache[target] = float(np.abs(y - np.sin(x.astype(np.float64))).max())
        return cache[target]

    return go


# -- compress: exact ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["cpu", "float32"])
@pytest.mark.parametrize("name", ["decoder", "angular", "broadcast"])
def test_compressed_is_bit_exact(run, name, target):
    original, compressed = run(name, "original", target), run(name, "compressed", target)
    for key, value in original.items():
        assert compressed[key].tobytes() == value.tobytes(), key


def test_broadcast_model_matches_its_formula(run):
    """The compressed broadcast model against float64 numpy of the same formula.

    Per element y = where(mask, x r g + p, -x) + 2 takes at most three float32 roundings
    (x r g: r g = r / 2 is exact, one rounding; + p; + 2), each within 2^-24 of a partial
    result bounded by |x| r g + |p| + 2: the tolerance is 3 * 2^-24 of that bound. z: two
    products and a sum, 3 * 2^-24 (|x1 n| + |x2 n|).
    """
    c = broadcast_constants()
    x = _inputs("broadcast")["x"].astype(np.float64)
    r, g, p = (c[k].astype(np.float64) for k in ("ratios", "gain", "pattern"))
    scale = np.abs(x) * r * g + np.abs(p) + 2
    y = np.where(c["mask"], x * r * g + p, -x) + 2
    n = c["noise"].astype(np.float64)
    z = x[:, :, :64] * n + x[:, :, 64:128] * n
    z_scale = np.abs(x[:, :, :64] * n) + np.abs(x[:, :, 64:128] * n)
    out = run("broadcast", "compressed", "cpu")
    assert np.all(np.abs(out["y"] - y) <= 3 * 2.0**-24 * scale)
    assert np.all(np.abs(out["z"] - z) <= 3 * 2.0**-24 * z_scale)


# -- fuse: the phase, against the float64 cumsum -------------------------------------------------


def phases(name: str, out: dict) -> list[tuple[np.ndarray, np.ndarray, np.float32]]:
    """(phase, increments, period) per fused cumsum, time on the last axis."""
    if name == "decoder":
        return [(out["phase"], out["increment"], np.float32(1))]
    t = (0, 2, 1)
    return [
        (out["phase"].transpose(t), out["omega"].transpose(t), TWO_PI),
        (out["phase0"], out["omega0"], TWO_PI),
    ]


def phase_error(name: str, out: dict) -> float:
    """Largest circular error in periods against cumsum.reference of the page's increments."""
    errs = []
    for phase, inc, period in phases(name, out):
        ref = cumsum.reference(inc, period=period)
        errs.append(cumsum.error(phase, ref, inc, period))
    return max(errs)


def _storage(target: str) -> str:
    return "float16" if target == "float16" else "float32"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", DDSP)
def test_fused_phase_within_cumsum_budget(run, name, target):
    """The fused phase within kernels/cumsum.py's budget for the storage (the cpu backend's
    JS fallback: float64 sums, one float32 rounding, inside the float32 budget)."""
    out = run(name, "fused", target)
    n = out["audio"].shape[-1]
    period = phases(name, out)[0][2]
    budget = cumsum.budget(_storage(target), n, period)
    error = phase_error(name, out)
    original = phase_error(name, run(name, "original", target))
    print(
        f"{name} {target}: phase error fused {error:.3e} periods (budget {budget:.3e}), "
        f"original {original:.3e}"
    )
    assert error <= budget


@pytest.mark.parametrize("name", DDSP)
def test_original_phase_in_float16_is_noise(run, name):
    """Stock TF.js cumsum in float16 mode: the unwrapped sum passes 2048 cycles (decoder) or
    2048 rad (a 1000-sample chunk, angular), where float16 cannot hold the phase."""
    out = run(name, "original", "float16")
    error = phase_error(name, out)
    fused = phase_error(name, run(name, "fused", "float16"))
    print(f"{name} original float16: phase error {error:.3e} periods, fused {fused:.3e}")
    assert error > 0.05 and error > 100 * fused


# -- the audio ------------------------------------------------------------------------------------


def audio_reference(name: str, out: dict) -> tuple[np.ndarray, np.ndarray]:
    """(float64 audio from the page's amplitudes and the reference phases, Σ_k |a_k|)."""
    if name == "decoder":
        phase = cumsum.reference(out["increment"], period=np.float32(1))
        amp = out["amplitude"].astype(np.float64)
        return (amp * np.sin(2 * np.pi * phase)).sum(1), np.abs(amp).sum(1)
    inc = out["omega"].transpose(0, 2, 1)
    phase = cumsum.reference(inc, period=TWO_PI).transpose(0, 2, 1)
    amp = out["amplitude"].astype(np.float64)
    return (amp * np.sin(phase)).sum(-1), np.abs(amp).sum(-1)


def audio_bound(name: str, target: str, n: int, amp_sum: np.ndarray, sin_err: float):
    """Per-sample bound on |audio - reference| for the fused model.

    Each harmonic term a_k sin(θ_k) is off by |a_k| times: the phase error, at most the
    cumsum budget B (periods) times 2π rad; the rounding of sin's argument where it is
    stored (decoder: 2π·phase is a stored product in [0, 2π) rad: half a float16 ulp in
    [4, 8) is 2^-9, half a float32 ulp 2^-22; angular: the phase itself, inside B); sin
    itself as measured (`sin_err`, its float16 output rounding included); the stored
    product, 2^-11 (float16) or 2^-24 (float32) relative. The sum over K is one shader
    pass (fp32 inside: K 2^-24) stored once, 2^-11 or 2^-24 of Σ_k |a_k|.
    """
    storage = _storage(target)
    period = 1.0 if name == "decoder" else float(TWO_PI)
    b = cumsum.budget(storage, n, period)
    u = 2.0**-11 if storage == "float16" else 2.0**-24
    arg = (2.0**-9 if storage == "float16" else 2.0**-22) if name == "decoder" else 0.0
    return amp_sum * (2 * np.pi * b + arg + sin_err + 2 * u + K * 2.0**-24)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", DDSP)
def test_fused_audio_within_bound(run, sin_error, name, target):
    fused = run(name, "fused", target)
    ref, amp_sum = audio_reference(name, fused)
    bound = audio_bound(name, target, ref.shape[-1], amp_sum, sin_error(target))
    err = np.abs(fused["audio"] - ref)
    original = run(name, "original", target)
    ref_o, _ = audio_reference(name, original)
    err_o = np.abs(original["audio"] - ref_o).max()
    print(
        f"{name} {target}: audio max error fused {err.max():.3e} (bound {bound.max():.3e}), "
        f"original {err_o:.3e}"
    )
    assert np.all(err <= bound)
    if target == "float16":
        assert err_o > 10 * bound.max()


def test_models_have_their_shapes(run):
    out = run("decoder", "fused", "cpu")
    assert out["audio"].shape == (1, FRAMES * HOP)
    assert out["phase"].shape == (1, K, FRAMES * HOP)
    out = run("angular", "fused", "cpu")
    assert out["phase"].shape == (1, FRAMES * HOP_ANGULAR, K)
    assert out["phase0"].shape == (1, FRAMES * HOP_ANGULAR)
