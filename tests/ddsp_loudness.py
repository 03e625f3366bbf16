"""magenta/ddsp's own ``spectral_ops.compute_loudness`` on given audio, in TensorFlow.

Run as a script in a child process (TensorFlow and ddsp never load into the test process):
``python ddsp_loudness.py IN.npz OUT.npz``. IN holds, for each case name c, ``c/audio``
(float32 [n]), ``c/sample_rate``, ``c/frame_rate``, ``c/n_fft`` (integers), ``c/padding``
(a string) and optionally ``c/ref_db`` and ``c/range_db``; OUT gets ``c`` = ddsp's
loudness (float32 [frames]), computed as ``F0LoudnessPreprocessor(compute_loudness=True)``
and data preparation compute it: ``use_tf`` left at its default (True), ref_db and
range_db at theirs unless the case gives them.

Importing this file needs neither TensorFlow nor ddsp. Needs the ``ddsp`` extra
(``pip install -e ".[dev,convert,ddsp]" && bash model/install_ddsp.sh``); runs with
``TF_USE_LEGACY_KERAS=1`` (set here: Keras 3 cannot build ddsp's layers).
"""

from __future__ import annotations

import os
import sys

import numpy as np


def main(src: str, dst: str) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import ddsp.spectral_ops  # noqa: PLC0415 (the child process only)

    data = np.load(src)
    names = sorted({key.split("/")[0] for key in data.files})
    out = {}
    for name in names:
        given = [k for k in ("ref_db", "range_db") if f"{name}/{k}" in data.files]
        loudness = ddsp.spectral_ops.compute_loudness(
            data[f"{name}/audio"],
            sample_rate=int(data[f"{name}/sample_rate"]),
            frame_rate=int(data[f"{name}/frame_rate"]),
            n_fft=int(data[f"{name}/n_fft"]),
            padding=str(data[f"{name}/padding"]),
            **{k: float(data[f"{name}/{k}"]) for k in given},
        )
        out[name] = np.asarray(loudness, np.float32)
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
