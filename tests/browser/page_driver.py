"""The timbre-transfer page (app/) in headless Chromium, as `ddspgl serve` serves it.

One Chromium per test module, launched with the harness's flags (tools/browser.py:
SwiftShader) and Chromium's fake capture device fed from a WAV file, so that the
microphone path records known audio; every page records its console errors, page errors
and network requests.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ddspgl.tools import browser

# Chromium's fake microphone: a WAV file played in a loop, no permission prompt.
FAKE_CAPTURE = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
TIMEOUT_MS = 300_000
B64 = """
window.b64 = (a) => {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return btoa(s);
};
window.from64 = (s) => {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
};
"""


def launch(playwright, capture_wav: Path):
    """Chromium with the harness's flags and the fake microphone playing `capture_wav`."""
    return playwright.chromium.launch(
        executable_path=browser.chromium_path(),
        headless=True,
        args=[
            *browser.CHROMIUM_ARGS,
            *browser.ANGLE["swiftshader"],
            *FAKE_CAPTURE,
            f"--use-file-for-fake-audio-capture={capture_wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
        timeout=browser.TIMEOUT_MS,
    )


@dataclass
class Page:
    """A page of the app with what it logged and requested."""

    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def text(self, element_id: str) -> str:
        return self.page.locator(f"#{element_id}").inner_text()

    def close(self) -> None:
        self.page.close()


def open_page(chromium, url: str) -> Page:
    """The app at `url`, after `timbre.ready`."""
    page = chromium.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    p = Page(page)
    page.on("pageerror", lambda exc: p.errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: p.requests.append(r.url))
    page.goto(url)
    p.info = page.evaluate("() => timbre.ready")
    page.evaluate(f"() => {{ {B64} }}")
    return p


def local(url: str, server_url: str) -> bool:
    """Whether a request stays on this machine: the server itself, or a blob: or data: URL
    of the page."""
    parts = urlsplit(url)
    if parts.scheme in ("blob", "data"):
        inner = urlsplit(parts.path) if parts.scheme == "blob" else None
        return inner is None or inner.hostname == "127.0.0.1"
    return parts.hostname == "127.0.0.1" and url.startswith(server_url)


def f32(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32)


def wav_bytes(x: np.ndarray, rate: int, channels: int = 1) -> bytes:
    """16-bit PCM WAV of x ([n] or [n, channels]) in [-1, 1]."""
    from scipy.io import wavfile

    pcm = np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)
    buf = io.BytesIO()
    wavfile.write(buf, rate, pcm)
    return buf.getvalue()


def samples_arg(x: np.ndarray) -> dict:
    """Samples for TRANSFER: [n] goes as one Float32Array, [channels, n] as an Array of them."""
    x = np.asarray(x, np.float32)
    rows = [x] if x.ndim == 1 else list(x)
    return {"b64": [base64.b64encode(r.tobytes()).decode() for r in rows], "mono": x.ndim == 1}


# A transfer through the API: samples from samples_arg, or {js: an expression the page
# evaluates}; the result as base64 (Float32Array bytes) and scalars, or the error, the
# page's message and the tensor count before and after.
TRANSFER = """async ([spec, rate, instrument]) => {
  const samples = spec.js ? (0, eval)(spec.js) :
    spec.mono ? from64(spec.b64[0]) : spec.b64.map(from64);
  const before = tf.memory().numTensors;
  try {
    const r = await timbre.transfer(samples, rate, {instrument});
    return {ok: true, audio: b64(r.audio), input: b64(r.input), sampleRate: r.sampleRate,
            f0Hz: b64(r.f0Hz), confidence: b64(r.confidence), loudnessDb: b64(r.loudnessDb),
            controlsF0: b64(r.controls.f0Hz),
            voiced: Array.from(r.controls.voiced), octaves: r.controls.octaves,
            notes: r.notes, timings: r.timings, tensors: [before, tf.memory().numTensors],
            shown: document.getElementById('message').textContent};
  } catch (e) {
    return {ok: false, message: e.message, name: e.name,
            tensors: [before, tf.memory().numTensors],
            shown: document.getElementById('message').textContent};
  }
}"""
