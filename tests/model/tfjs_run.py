"""Running a TF.js graph model in the browser host's page (tests/model's one runner).

``run(host, target, url, feeds, outputs)``: loads ``url`` with ``tf.loadGraphModel``,
runs it with ``executeAsync`` (a GRU is a StatelessWhile) on ``feeds`` (node name ->
float32 array; an intermediate node may be fed, as TF.js allows; ``ints``: int32 scalars)
and reads back
``outputs`` (node names) as float32 arrays; ``target`` is ``cpu`` (the cpu backend) or a
TF.js mode of the webgl backend (``float32``, ``float16``). Every tensor made is
disposed.
"""

from __future__ import annotations

import numpy as np

from ddspgl.tools import browser

RUN = """async spec => {
  await tf.setBackend(spec.backend);
  const made = [];
  try {
    const inputs = {};
    for (const [name, s] of Object.entries(spec.inputs)) {
      inputs[name] = tf.tensor(await harness.input(s.key), s.shape);
      made.push(inputs[name]);
    }
    for (const [name, value] of Object.entries(spec.ints)) {
      inputs[name] = tf.scalar(value, 'int32');
      made.push(inputs[name]);
    }
    const model = await tf.loadGraphModel(spec.url);
    try {
      const outs = await model.executeAsync(inputs, spec.outputs);
      const list = Array.isArray(outs) ? outs : [outs];
      made.push(...list);
      const res = {};
      list.forEach((t, i) => {
        res[spec.outputs[i]] = {b64: harness.b64(t.dataSync()), shape: t.shape, dtype: t.dtype};
      });
      return res;
    } finally {
      model.dispose();
    }
  } finally {
    tf.dispose(made);
    await tf.setBackend('webgl');
  }
}"""

TARGETS = ("cpu", "float32", "float16")


def run(
    host,
    target: str,
    url: str,
    feeds: dict[str, np.ndarray],
    outputs: list[str],
    ints: dict[str, int] | None = None,
):
    """{output node: float32 array} of the model at `url` (served by `host`); `ints`:
    int32 scalars fed by node name."""
    page = host.page("float32" if target == "cpu" else target)
    spec = {
        "backend": "cpu" if target == "cpu" else "webgl",
        "url": url,
        "inputs": {
            k: {"key": host.put(np.asarray(v, np.float32)), "shape": list(np.shape(v))}
            for k, v in feeds.items()
        },
        "outputs": list(outputs),
        "ints": dict(ints or {}),
    }
    res = page.evaluate(RUN, spec)
    return {node: browser.decode(res[node]["b64"], res[node]["shape"]) for node in outputs}
