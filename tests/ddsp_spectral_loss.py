"""magenta/ddsp's own ``losses.SpectralLoss`` on given pairs of signals, in TensorFlow.

Run as a script in a child process (TensorFlow and ddsp never load into the test process):
``python ddsp_spectral_loss.py IN.npz OUT.npz``. IN holds, for each case name c,
``c/target`` and ``c/value`` (float32 [n]); OUT gets ``c`` = the loss (float32) with the
binding of ddsp's ``models/ae.gin`` (FFT sizes 2048 to 64 by default, ``loss_type='L1'``,
``mag_weight=1.0``, ``logmag_weight=1.0``), on a batch of one.

Importing this file needs neither TensorFlow nor ddsp; runs with ``TF_USE_LEGACY_KERAS=1``
(set here: Keras 3 cannot build ddsp's layers).
"""

from __future__ import annotations

import os
import sys

import numpy as np


def main(src: str, dst: str) -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import ddsp.losses  # noqa: PLC0415 (the child process only)

    loss = ddsp.losses.SpectralLoss(loss_type="L1", mag_weight=1.0, logmag_weight=1.0)
    data = np.load(src)
    names = sorted({key.split("/")[0] for key in data.files})
    out = {}
    for name in names:
        target = data[f"{name}/target"][None, :]
        value = data[f"{name}/value"][None, :]
        out[name] = np.asarray(loss(target, value), np.float32)
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
