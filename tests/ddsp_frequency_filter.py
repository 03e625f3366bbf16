"""magenta/ddsp's own ``core.frequency_filter`` on given noise and magnitudes, in TensorFlow.

Run as a script in a child process (TensorFlow and ddsp never load into the test process):
``python ddsp_frequency_filter.py IN.npz OUT.npz``. IN holds, for each case name c,
``c/magnitudes`` (float32 [batch, frames, K]), ``c/noise`` (float32 [batch, n]) and
``c/window_size`` (an integer); OUT gets ``c`` = ddsp's output (float32 [batch, n]: ddsp
computes in float32, its FFTs included).

Importing this file needs neither TensorFlow nor ddsp. Needs the ``ddsp`` extra
(``pip install -e ".[dev,convert,ddsp]" && bash model/install_ddsp.sh``); runs with
``TF_USE_LEGACY_KERAS=1`` (set here: Keras 3 cannot build ddsp's layers).
"""

from __future__ import annotations

import os
import sys

import numpy as np

MODULES = ("tensorflow", "tf_keras", "gin", "ddsp", "crepe")


def main(src: str, dst: str) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import ddsp.core  # noqa: PLC0415 (the child process only)

    data = np.load(src)
    names = sorted({key.split("/")[0] for key in data.files})
    out = {}
    for name in names:
        mags = data[f"{name}/magnitudes"]
        noise = data[f"{name}/noise"]
        window = int(data[f"{name}/window_size"])
        y = ddsp.core.frequency_filter(noise, mags, window_size=window, padding="same")
        out[name] = np.asarray(y, np.float32)
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
