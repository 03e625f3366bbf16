"""The timbre-transfer page (app/index.html) served by tools/serve.py, in headless Chromium.

The instrument is the test instrument of synth_instrument.py (a graph model laid out as a
converted ddsp export, 1 s per call, whose audio is a harmonic synthesis of the f0 it is
given), so that the page's whole path can be checked against float64 references: the
input as the page holds it, its pitch (kernels/yin.reference, inside the kernel's derived
per-frame bound), its loudness (instruments/loudness.py, inside the derived bound), and
the output's pitch against the input's after the octave shift. Trained instruments, where
app/models has them, get the end-to-end pitch check too.
"""

from __future__ import annotations

import base64
import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from page_driver import TRANSFER, f32, launch, local, open_page, samples_arg, wav_bytes
from synth_instrument import save as save_synth

from ddspgl.tools import browser, serve
from paths import ROOT

pytest.importorskip("scipy")  # the sung phrases and WAV files (the instruments extra)
if browser.missing():
    pytest.skip(browser.missing(), allow_module_level=True)

from ddspgl.instruments import features, loudness, loudness_bound, sung  # noqa: E402
from ddspgl.kernels import yin  # noqa: E402

SR = 16000
HOP = 64
CENTS = 20  # the end-to-end pitch criterion: within 20 cents ...
VOICED_SHARE = 0.95  # ... on at least 95 % of the voiced frames
SCREENSHOT_ENV = "DDSPGL_PAGE_SCREENSHOT"  # where to keep the screenshot (reports/page/)


@pytest.fixture(scope="module")
def capture_wav(tmp_path_factory) -> Path:
    """What the fake microphone plays: a sung phrase (16-bit, 16 kHz), in a loop."""
    path = tmp_path_factory.mktemp("capture") / "sung.wav"
    path.write_bytes(wav_bytes(_phrase(11, 6.0).audio, SR))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    save_synth(models / "synth")
    with serve.AppServer(models=models) as s:
        yield s


@pytest.fixture(scope="module")
def chromium(capture_wav):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw, capture_wav)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(chromium, server):
    """open(query) -> a page of the app; each checked at the end: no console or page error,
    no request beyond the server."""
    opened = []

    def open_(query: str = ""):
        p = open_page(chromium, server.url + query)
        opened.append(p)
        return p

    yield open_
    for p in opened:
        p.close()
        assert p.errors == [], p.errors
        far = [u for u in p.requests if not local(u, server.url)]
        assert far == [], far


@pytest.fixture(scope="module")
def page(pages):
    """The float32 page, the instrument loaded (its weights stay: tensor counts compare
    against the page after that)."""
    p = pages()
    res = _transfer(p, _phrase(3, 1.5).audio)
    assert res["ok"], res
    return p


def _phrase(seed: int, seconds: float, rate: int = SR, voice: str = "alto"):
    return sung.phrase(seed, seconds, sample_rate=rate, voice=voice)


def _transfer(p, x, rate=SR, instrument="synth", js=None) -> dict:
    spec = {"js": js} if js else samples_arg(x)
    return p.evaluate(TRANSFER, [spec, rate, instrument])


def _pitch_follows(audio: np.ndarray, target_f0: np.ndarray, voiced: np.ndarray) -> float:
    """The share of voiced frames where the output's float64 YIN pitch is within CENTS of
    the f0 the model was given."""
    out = yin.reference(audio).f0[0]
    n = min(out.size, target_f0.size)
    v = voiced[:n].astype(bool)
    err = np.abs(yin.cents(out[:n][v], target_f0[:n][v]))
    return float(np.mean(err <= CENTS))


# -- loading ----------------------------------------------------------------------------------


def test_page_loads_without_errors(pages):
    p = pages()
    assert p.info["backend"] == "webgl"
    assert p.info["storage"] == "float32" and p.info["float32Render"] is True
    assert p.info["instruments"] == ["synth"]
    assert "float32 textures" in p.text("device")
    assert p.evaluate("() => timbre.instruments") == ["synth"]
    assert p.text("message") == ""
    assert p.errors == []


def test_no_request_leaves_127_0_0_1(page, server):
    urls = {u.split("?")[0] for u in page.requests}
    for path in ("models/index.json", "models/synth/model.json", "models/synth/stats.json"):
        assert server.url + path in urls
    assert any(u.startswith(server.url + "node_modules/@tensorflow/") for u in urls)
    assert [u for u in page.requests if not local(u, server.url)] == []


# -- chunks -------------------------------------------------------------------------------------


def test_chunks_cover_the_input_and_cross_over_at_equal_power(page):
    """app/chunks.js: every frame in a chunk, neighbours overlapping by the plan's overlap;
    the fade-out and fade-in of a crossover, each written to a float32 output, have powers
    summing to 1 within twice their float32 rounding (2 (2 u) with u = 2^-24: each value
    within u relative, its square within 2 u)."""
    got = page.evaluate(
        """async () => {
      const c = await import('/chunks.js');
      const plans = [];
      for (const frames of [4, 125, 250, 1000]) {
        for (const total of [1, 3, frames - 1, frames, frames + 1, 2 * frames, 2501, 75001]) {
          plans.push({frames, total, ...c.plan(total, frames)});
        }
      }
      const fade = 4096;
      const out = (a, b) => {
        const o = new Float32Array(3 * fade);
        c.addChunk(o, new Float32Array(2 * fade).fill(a), 0, fade, true);
        c.addChunk(o, new Float32Array(2 * fade).fill(b), fade, fade, false);
        return Array.from(o.subarray(fade, 2 * fade));
      };
      return {plans, fadeOut: out(1, 0), fadeIn: out(0, 1)};
    }"""
    )
    for p in got["plans"]:
        frames, total, starts, overlap = p["frames"], p["total"], p["starts"], p["overlap"]
        assert overlap == min(64, frames // 4)
        assert starts[0] == 0 and starts[-1] + frames >= total
        assert len(starts) == 1 or starts[-1] + overlap < total  # no chunk past the end
        assert all(b - a == frames - overlap for a, b in zip(starts, starts[1:], strict=False))
    power = np.square(got["fadeOut"]) + np.square(got["fadeIn"])
    assert np.all(np.abs(power - 1) <= 4 * 2.0**-24)
    assert got["fadeOut"][0] > 0.99 and got["fadeIn"][-1] > 0.99


def _joined(chunks: list[np.ndarray], starts: list[int], fade: int, length: int) -> np.ndarray:
    """Float64 model of the page's equal-gain joins (chunks.js addChunk, 'gain')."""
    out = np.zeros(length)
    t = (np.arange(fade) + 0.5) / fade
    fade_in, fade_out = np.sin(0.5 * np.pi * t) ** 2, np.cos(0.5 * np.pi * t) ** 2
    for k, (chunk, start) in enumerate(zip(chunks, starts, strict=True)):
        s = start * HOP
        part = chunk[: max(0, min(chunk.size, length - s))]
        if k:
            m = min(fade, part.size)
            out[s : s + m] = out[s : s + m] * fade_out[:m] + part[:m] * fade_in[:m]
            part = part[m:]
            s += m
        out[s : s + part.size] += part
    return out


def test_chunks_carry_the_phase(page):
    """transfer.js's synthesize on controls of 5 chunks of the test instrument (1 s each):
    each chunk starts from the phase the previous one reached, and the chunks join at equal
    gain. Against a float64 model of the same (each chunk kernels/harmonic.py's reference
    from its controls, started from the exact phase, a Fraction sum over the frames before
    it; the same joins): within each chunk's derived bound (harmonic.derived_bound with two
    float32-radian roundings of the initial phase, the page's and the reference's),
    plus 2 pi K M(n) times the page's float64 phase sum's error (chunks.js nextPhase: (4
    hop max(f0) / sr + 2) 2^-53 cycles per frame), plus the joins' float32 products and
    sum (3 u of the larger part). Loudness 0 dB makes the amplitude exp(0) = 1 exactly;
    f0 glides and trills below 400 Hz, so all 20 harmonics stay under Nyquist. The same
    chunks started from phase 0 are far outside that bound."""
    from fractions import Fraction

    from synth_instrument import HARMONICS

    from ddspgl.kernels import harmonic

    frames, total = 250, 1002  # 5 chunks of 250 frames, 62 overlapping: the last ends at 1002
    t = np.arange(total) / 250
    f0 = (180 + 150 * t / t[-1] + 12 * np.sin(2 * np.pi * 5.5 * t)).astype(np.float32)
    got = page.evaluate(
        """async ([f0, samples]) => {
      const {synthesize} = await import('/transfer.js');
      const {loadInstrument} = await import('/models.js');
      const {plan} = await import('/chunks.js');
      const inst = await loadInstrument(tf, new URL('models/', location.href).href, 'synth');
      try {
        const f = from64(f0);
        const audio = await synthesize(tf, inst, f, new Float32Array(f.length), samples);
        return {audio: b64(audio), frames: inst.frames, harmonics: inst.harmonics,
                plan: plan(f.length, inst.frames)};
      } finally {
        inst.model.dispose();
      }
    }""",
        [base64.b64encode(f0.tobytes()).decode(), total * HOP],
    )
    assert got["frames"] == frames and got["harmonics"] == HARMONICS
    audio = f32(got["audio"]).astype(np.float64)
    starts, step, overlap = got["plan"]["starts"], got["plan"]["step"], got["plan"]["overlap"]
    assert len(starts) == 5
    weights = (1 / np.arange(1, HARMONICS + 1)).astype(np.float32)
    sr, k = float(SR), np.arange(1, HARMONICS + 1, dtype=object)

    def chunk(start: int, cycles: Fraction | None):
        c = f0[np.minimum(np.arange(start, start + frames), total - 1)][None]
        kw = {"sample_rate": SR, "n_samples": frames * HOP, "normalize": True}
        dist = np.broadcast_to(weights, (1, frames, HARMONICS))
        ones = np.ones_like(c)
        phase = None if cycles is None else (2 * np.pi * ((k * cycles) % 1)).astype(np.float64)
        init = None if phase is None else phase[None]
        ref, amb = harmonic.reference(c, ones, dist, initial_phase=init, **kw)
        assert not amb.any()
        return ref[0], harmonic.derived_bound(c, ones, dist, blocks=3, **kw)[0]

    refs, bounds, zero = [], [], []
    cycles = Fraction(0)
    for start in starts:
        ref, bound = chunk(start, cycles)
        refs.append(ref)
        # nextPhase's error over the frames summed so far, and initialPhases' k x, frac
        # and 2 pi (4 roundings of at most K cycles); M(n) = 1: amplitude 1, weights
        # normalised to sum 1
        drift = (4 * HOP * f0.max() / sr + 2) * 2.0**-53 * start + 4 * HARMONICS * 2.0**-53
        bounds.append(bound + 2 * np.pi * HARMONICS * drift)
        zero.append(chunk(start, None)[0])
        for j in range(start, start + step):
            a, b = Fraction(float(f0[j])), Fraction(float(f0[j + 1]))
            cycles += (a * (HOP + 1) + b * (HOP - 1)) / (2 * SR)
        cycles %= 1
    n = audio.size
    fade = overlap * HOP
    want = _joined(refs, starts, fade, n)
    # the bound joined as the audio is (fades are convex), then the joins' float32 roundings
    bound = _joined(bounds, starts, fade, n)
    bound += 3 * 2.0**-24 * _joined([np.abs(r) for r in refs], starts, fade, n)
    dev = np.abs(audio - want)
    print(f"carried: worst {np.max(dev / bound):.3f} of the bound")
    assert np.all(dev <= bound)
    unrelated = np.abs(_joined(zero, starts, fade, n) - want)
    assert unrelated.max() > 100 * bound.max()


# -- the API on a sung phrase ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sung_result(page):
    p = _phrase(5, 4.0)
    res = _transfer(page, p.audio)
    assert res["ok"], res
    return p, res


def test_transfer_gives_audio_and_frame_features(sung_result):
    p, res = sung_result
    n = p.audio.size
    audio = f32(res["audio"])
    assert res["sampleRate"] == SR
    assert audio.size == n and np.all(np.isfinite(audio)) and np.abs(audio).max() > 0
    for key in ("f0Hz", "confidence", "loudnessDb"):
        assert f32(res[key]).size == n // HOP, key  # 250 frames/s: frame i at sample 64 i
    np.testing.assert_array_equal(f32(res["input"]), p.audio)  # 16 kHz mono: as given
    assert res["notes"] == []
    assert res["tensors"][0] == res["tensors"][1]  # nothing left on the GPU


def test_page_pitch_is_yin_of_the_input(sung_result):
    """Where the float64 reference admits one lag only, the page's f0 lies within the
    kernel's derived bound of the reference at that lag (kernels/yin.derived_bound)."""
    p, res = sung_result
    analysis = yin.reference(p.audio)
    allowed = yin.admissible_lags(analysis, "float32")[0]
    single = np.array([len(s) == 1 for s in allowed])
    assert single.mean() > 0.5, single.mean()
    bound = yin.derived_bound(analysis, analysis.lag, "float32")[0]
    err = np.abs(yin.cents(f32(res["f0Hz"]), analysis.f0[0]))
    assert np.all(err[single] <= bound[single]), (err[single] / bound[single]).max()


def test_page_loudness_is_ddsp_loudness_of_the_input(sung_result):
    """The page's loudness (float64, returned as float32) against the float64 twin: twice
    the derived bound of one float64 side, plus the float32 rounding of the result."""
    p, res = sung_result
    got = f32(res["loudnessDb"]).astype(np.float64)
    ref = loudness.loudness_db(p.audio, SR, 250)[: got.size]
    bound = 2 * loudness_bound.deviation_bound(p.audio, SR, 250)[: got.size]
    bound += np.abs(ref) * 2.0**-24
    assert np.all(np.abs(got - ref) <= bound), (np.abs(got - ref) / bound).max()


def test_output_pitch_follows_the_input_after_the_octave_shift(sung_result):
    """The test instrument plays the f0 it is given: the output's float64 YIN pitch must
    follow the page's input pitch times 2^octaves (the octaves as the float64 twin of
    features.js decides them) through chunks and crossfades."""
    p, res = sung_result
    f0 = f32(res["f0Hz"]).astype(np.float64)
    conf = f32(res["confidence"]).astype(np.float64)
    loud = f32(res["loudnessDb"]).astype(np.float64)
    stats = features.Stats(**_synth_stats())
    want = features.controls(f0, conf, loud, stats)
    assert res["octaves"] == want.octaves != 0
    np.testing.assert_array_equal(np.array(res["voiced"], bool), want.voiced)
    target = np.frombuffer(base64.b64decode(res["controlsF0"]), np.float64)
    np.testing.assert_array_equal(target, want.f0_hz)
    share = _pitch_follows(f32(res["audio"]), target, want.voiced)
    assert share >= VOICED_SHARE, share


def _synth_stats() -> dict:
    from synth_instrument import STATS

    return STATS


def test_float16_mode(pages):
    p = pages("?storage=float16")
    assert p.info["storage"] == "float16" and p.info["float32Render"] is False
    assert "float16 textures" in p.text("device")
    ph = _phrase(7, 3.0)
    res = _transfer(p, ph.audio)
    assert res["ok"], res
    audio = f32(res["audio"])
    assert audio.size == ph.audio.size and np.all(np.isfinite(audio))
    target = np.frombuffer(base64.b64decode(res["controlsF0"]), np.float64)
    share = _pitch_follows(audio, target, np.array(res["voiced"], bool))
    assert share >= VOICED_SHARE, share


# -- what is accepted, and what is refused -----------------------------------------------------


def _noise(seconds):
    return np.random.default_rng(1).normal(0, 0.1, int(seconds * SR)).astype(np.float32)


REFUSED = {  # name -> (samples or a page expression, sample rate, instrument, message)
    "silence": (np.zeros(2 * SR, np.float32), SR, "synth", r"^audio: silent: .* -inf dBFS"),
    "noise": (_noise(2), SR, "synth", r"^audio: no melody found: \d+\.\d % of its frames"),
    "0.1 s": (_noise(0.1), SR, "synth", r"^audio: 0\.10 s is too short: at least 0\.5 s"),
    "20 minutes": (
        "new Float32Array(20 * 60 * 16000)",
        SR,
        "synth",
        r"^audio: 1200\.0 s is too long: at most 300 s \(5 minutes\)",
    ),
    "not samples": ("'hello'", SR, "synth", r"^samples: must be a Float32Array.*got String"),
    "NaN": (
        "Float32Array.from({length: 16000}, (_, i) => i === 99 ? NaN : 0.1)",
        SR,
        "synth",
        r"^samples: every sample must be a finite number, got NaN at sample 99",
    ),
    "1 kHz": (_noise(2), 1000, "synth", r"^sampleRate: 1000 Hz is outside .* 3000 to 768000"),
    "unknown instrument": (_noise(2), SR, "tuba", r'^instrument: "tuba" is not one of synth'),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_with_a_message(page, name):
    x, rate, instrument, pattern = REFUSED[name]
    start = time.perf_counter()
    res = (
        _transfer(page, None, rate, instrument, js=x)
        if isinstance(x, str)
        else (_transfer(page, x, rate, instrument))
    )
    assert time.perf_counter() - start < 60
    assert not res["ok"]
    assert re.search(pattern, res["message"]), res["message"]
    assert res["shown"] == res["message"]  # the page says it too
    assert res["tensors"][0] == res["tensors"][1]
    assert page.text("stage") == "stopped"


ACCEPTED = {  # name -> (rate, channels, note)
    "8 kHz": (8000, 1, r"resampled from 8000 Hz to 16000 Hz \(nothing above 4000 Hz in it\)"),
    "96 kHz": (96000, 1, r"resampled from 96000 Hz to 16000 Hz$"),
    "stereo": (SR, 2, r"^2 channels mixed down to one$"),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_with_a_note(page, name):
    rate, channels, note = ACCEPTED[name]
    x = _phrase(9, 2.0, rate).audio
    if channels == 2:
        x = np.stack([x, 0.5 * x])
    res = _transfer(page, x, rate)
    assert res["ok"], res
    assert any(re.search(note, n) for n in res["notes"]), res["notes"]
    audio = f32(res["audio"])
    assert audio.size == round(x.shape[-1] * SR / rate) and np.all(np.isfinite(audio))
    assert res["tensors"][0] == res["tensors"][1]
    assert res["shown"] == ""


# -- the file and microphone paths ---------------------------------------------------------------


def _open_file(p, name: str, data: bytes, mime: str = "audio/wav") -> None:
    p.evaluate("() => { timbre.last = null; document.getElementById('stage').textContent = ''; }")
    p.page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    p.page.wait_for_function(
        "() => timbre.last || ['stopped'].includes(document.getElementById('stage').textContent)"
    )


def test_file_path(page):
    ph = _phrase(13, 3.0, 44100)
    stereo = np.stack([ph.audio, 0.5 * ph.audio], axis=1)
    _open_file(page, "phrase.wav", wav_bytes(stereo, 44100))
    assert page.text("message") == ""
    notes = page.text("notes")
    assert "phrase.wav: 44100 Hz, resampled to 16000 Hz" in notes
    assert "2 channels mixed down to one" in notes
    got = page.evaluate(
        "async () => { const a = document.getElementById('download');"
        " const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());"
        " const out = document.getElementById('output-audio');"
        " if (!(out.duration > 0)) await new Promise(r => out.onloadedmetadata = r);"
        " return {wav: b64(bytes), audio: b64(timbre.last.audio), hidden: a.hidden,"
        " name: a.download, duration: out.duration}; }"
    )
    from scipy.io import wavfile

    rate, wav = wavfile.read(io.BytesIO(base64.b64decode(got["wav"])))
    audio = f32(got["audio"])
    assert rate == SR and wav.dtype == np.float32
    np.testing.assert_array_equal(wav, audio)  # the download is the result, bit for bit
    assert audio.size == round(ph.audio.size * SR / 44100) and np.all(np.isfinite(audio))
    assert not got["hidden"] and got["name"] == "synth.wav"
    assert got["duration"] == pytest.approx(audio.size / SR, abs=1e-3)  # the player reads it


BAD_FILES = {  # name -> (file name, bytes, message)
    "not audio": (
        "notes.txt",
        b"these are not the samples you are looking for\n" * 20,
        r"^notes\.txt: not audio this browser can decode",
    ),
    "0.1 s": ("short.wav", wav_bytes(_noise(0.1), SR), r"^audio: 0\.10 s is too short"),
    "20 minutes": (
        "long.wav",
        wav_bytes(np.zeros(20 * 60 * 8000), 8000),
        r"^audio: 1200\.0 s is too long: at most 300 s",
    ),
    "silence": ("silence.wav", wav_bytes(np.zeros(2 * SR), SR), r"^audio: silent"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_gives_a_message(page, name):
    file_name, data, pattern = BAD_FILES[name]
    before = page.evaluate("() => tf.memory().numTensors")
    _open_file(page, file_name, data, "text/plain" if file_name.endswith(".txt") else "audio/wav")
    assert re.search(pattern, page.text("message")), page.text("message")
    assert page.evaluate("() => timbre.last") is None
    assert page.evaluate("() => tf.memory().numTensors") == before
    assert page.page.locator("#file").is_enabled()  # ready for the next file


def test_microphone_path(pages):
    """Record from Chromium's fake microphone (the capture WAV, a sung phrase, looped) for
    3 s: the page records at its AudioContext's rate, resamples, and transfers; the pitch it
    tracks lies within the phrase's sung range (a wrong sample rate would move it by the
    ratio of the rates)."""
    p = pages()
    p.evaluate("() => { timbre.last = null; }")
    p.page.click("#record")
    p.page.wait_for_function("() => document.getElementById('record').textContent.includes('Stop')")
    p.page.wait_for_timeout(3000)
    p.page.click("#record")
    p.page.wait_for_function("() => timbre.last")
    res = p.evaluate(
        "() => ({audio: b64(timbre.last.audio), f0: b64(timbre.last.f0Hz),"
        " conf: b64(timbre.last.confidence), notes: timbre.last.notes})"
    )
    assert p.text("message") == ""
    audio, f0, conf = f32(res["audio"]), f32(res["f0"]), f32(res["conf"])
    assert audio.size >= 2.5 * SR and np.all(np.isfinite(audio))
    truth = _phrase(11, 6.0).f0
    lo, hi = truth[truth > 0].min(), truth.max()
    voiced = conf >= features.THRESHOLD
    assert voiced.mean() > 0.3, voiced.mean()
    inside = (f0[voiced] >= lo * 2 ** (-50 / 1200)) & (f0[voiced] <= hi * 2 ** (50 / 1200))
    assert inside.mean() >= VOICED_SHARE, (inside.mean(), lo, hi)


# -- the screenshot -----------------------------------------------------------------------------


def test_screenshot_after_a_transfer(page, tmp_path):
    res = _transfer(page, _phrase(5, 4.0).audio)
    assert res["ok"], res
    drawn = page.evaluate(
        "() => ['wave', 'pitch', 'loudness'].map(id => {"
        " const c = document.getElementById(id);"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let red = 0, blue = 0;"
        " for (let i = 0; i < d.length; i += 4) {"
        "   if (d[i] > 150 && d[i + 2] < 100) red++;"
        "   if (d[i + 2] > 120 && d[i] < 100) blue++; }"
        " return [red, blue]; })"
    )
    for name, (red, blue) in zip(("wave", "pitch", "loudness"), drawn, strict=True):
        assert red > 100 and blue > 100, (name, red, blue)  # the input and the result
    path = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- trained instruments --------------------------------------------------------------------------


# Shipped models measured short of the 95 %: strict, so a better model must drop
# its entry here. None at present (the shehnai, 89.4 % at 250 steps, reached 99.3 % at 550).
SHORT_OF_TARGET: dict[str, str] = {}
TRAINED = serve.instruments(ROOT / "app" / "models")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=SHORT_OF_TARGET[n]))
        if n in SHORT_OF_TARGET
        else n
        for n in TRAINED
    ]
    or [pytest.param(None, marks=pytest.mark.skip(reason="no trained models in app/models"))],
)
def test_trained_instruments_follow_the_pitch(chromium, name):
    """A committed instrument (app/models): the end-to-end pitch criterion."""
    with serve.AppServer() as s:
        p = open_page(chromium, s.url)
        try:
            ph = _phrase(5, 4.0)
            res = _transfer(p, ph.audio, instrument=name)
            assert res["ok"], res
            target = np.frombuffer(base64.b64decode(res["controlsF0"]), np.float64)
            share = _pitch_follows(f32(res["audio"]), target, np.array(res["voiced"], bool))
            print(f"{name}: {share:.1%} of voiced frames within 20 cents")
            assert share >= VOICED_SHARE, (name, share)
            assert p.errors == []
            assert [u for u in p.requests if not local(u, s.url)] == []
        finally:
            p.close()
