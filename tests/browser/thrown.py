"""A bad input's Error in a test page: the check every bad-input test of the bundle makes."""

from __future__ import annotations

# `script` (a function body) run in tf.tidy on `backend` (the page's own where null, which
# is restored after): the Error's message, or null, and the tensors it left behind.
THROWN = """async ([script, backend]) => {
  const active = tf.getBackend();
  if (backend) await tf.setBackend(backend);
  const n = tf.memory().numTensors;
  let message = null;
  try {
    tf.tidy(() => (new Function(script))());
  } catch (e) {
    message = e.message;
  } finally {
    if (backend) await tf.setBackend(active);
  }
  return {message, leaked: tf.memory().numTensors - n};
}"""


def assert_throws(page, script: str, message: str, backend: str | None = None) -> None:
    """`script` throws in `page` (on `backend`) an Error whose message holds `message`,
    and leaves no tensor behind."""
    got = page.evaluate(THROWN, [script, backend])
    assert got["message"] is not None and message in got["message"], got
    assert got["leaked"] == 0, got
