"""Small DDSP-like TensorFlow models for the model-tool tests (see conftest.py).

Importing this file needs no TensorFlow: the builders take the `tf` module. Run as a
script, ``python ddsp_models.py SAVED_ROOT CONVERTED_ROOT`` saves every model as
``SAVED_ROOT/<name>`` and converts it with tensorflowjs into
``CONVERTED_ROOT/<name>/original``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

SR = 16000
K = 16  # harmonics
FRAMES = 125
HOP = 64  # decoder: 8000 samples
HOP_ANGULAR = 66  # angular: 8250 samples, not a multiple of the 1000-sample chunk
N_BROADCAST = 16000
CHUNK = 1000


# -- the models -------------------------------------------------------------------------------


def _pad_axis(tf, x, padding=(0, 0), axis=0):
    """magenta/ddsp core.pad_axis."""
    n_end_dims = len(x.shape) - axis - 1
    n_end_dims *= n_end_dims > 0
    paddings = [[0, 0]] * axis + [list(padding)] + [[0, 0]] * n_end_dims
    return tf.pad(x, paddings)


def angular_cumsum(tf, angular_frequency, chunk_size=CHUNK):
    """magenta/ddsp core.angular_cumsum (Apache-2.0), statement for statement."""
    n_batch = angular_frequency.shape[0]
    n_time = angular_frequency.shape[1]
    n_dims = len(angular_frequency.shape)
    n_ch_dims = n_dims - 2
    remainder = n_time % chunk_size
    if remainder:
        pad_amount = chunk_size - remainder
        angular_frequency = _pad_axis(tf, angular_frequency, [0, pad_amount], axis=1)
    length = angular_frequency.shape[1]
    n_chunks = int(length / chunk_size)
    chunks = tf.reshape(angular_frequency, [n_batch, n_chunks, chunk_size] + [-1] * n_ch_dims)
    phase = tf.cumsum(chunks, axis=2)
    offsets = phase[:, :, -1:, ...] % (2.0 * np.pi)
    offsets = _pad_axis(tf, offsets, [1, 0], axis=1)
    offsets = offsets[:, :-1, ...]
    offsets = tf.cumsum(offsets, axis=1) % (2.0 * np.pi)
    phase = phase + offsets
    phase = phase % (2.0 * np.pi)
    phase = tf.reshape(phase, [n_batch, length] + [-1] * n_ch_dims)
    if remainder:
        phase = phase[:, :n_time]
    return phase


def _decoder(tf):
    rng = np.random.default_rng(7)
    n = FRAMES * HOP
    w1 = rng.normal(0, 0.7, (3, 2, 32)).astype(np.float32)
    b1 = rng.normal(0, 0.1, (32,)).astype(np.float32)
    w2 = rng.normal(0, 0.25, (3, 32, 32)).astype(np.float32)
    b2 = rng.normal(0, 0.1, (32,)).astype(np.float32)
    w3 = rng.normal(0, 0.3, (32, K + 1)).astype(np.float32)
    ratios = np.broadcast_to(np.arange(1, K + 1, dtype=np.float32)[:, None], (K, n)).copy()
    spec = tf.TensorSpec([1, FRAMES], tf.float32)

    class Decoder(tf.Module):
        @tf.function(input_signature=[spec, spec])
        def __call__(self, f0, loudness):
            x = tf.stack([f0 / 1000.0, loudness / 100.0 + 1.0], axis=-1)  # [1, F, 2]
            h = tf.nn.relu(tf.nn.conv1d(x, w1, 1, "SAME") + b1)
            h = tf.nn.relu(tf.nn.conv1d(h, w2, 1, "SAME") + b2)  # [1, F, 32]
            out = tf.reshape(tf.matmul(tf.reshape(h, [FRAMES, 32]), w3), [1, FRAMES, K + 1])
            harm = tf.sigmoid(out[..., :1]) * tf.nn.softmax(out[..., 1:])  # [1, F, K]
            amplitude = tf.transpose(tf.repeat(harm, HOP, axis=1), [0, 2, 1])  # [1, K, n]
            f0_up = tf.repeat(f0, HOP, axis=1)  # [1, n] Hz
            increment = f0_up[:, None, :] * ratios / float(SR)  # [1, K, n] cycles/sample
            # axis 2, not -1: stock TF.js 4.22 cannot run a Cumsum on a negative axis
            phase = tf.math.floormod(tf.cumsum(increment, axis=2), 1.0)
            audio = tf.reduce_sum(amplitude * tf.sin(2.0 * np.pi * phase), axis=1)
            return {"audio": audio, "phase": phase, "increment": increment, "amplitude": amplitude}

    return Decoder()


def _angular(tf):
    harmonics = np.arange(1, K + 1, dtype=np.float32)
    f0_spec = tf.TensorSpec([1, FRAMES], tf.float32)
    amp_spec = tf.TensorSpec([1, FRAMES, K], tf.float32)

    class Angular(tf.Module):
        @tf.function(input_signature=[f0_spec, amp_spec])
        def __call__(self, f0, amps):
            omega0 = tf.repeat(f0, HOP_ANGULAR, axis=1) * (2.0 * np.pi / SR)  # [1, n] rad
            omega = omega0[:, :, None] * harmonics  # [1, n, K]
            amplitude = tf.repeat(amps, HOP_ANGULAR, axis=1)  # [1, n, K]
            phase = angular_cumsum(tf, omega)
            audio = tf.reduce_sum(amplitude * tf.sin(phase), axis=-1)
            return {
                "audio": audio,
                "phase": phase,
                "omega": omega,
                "amplitude": amplitude,
                "phase0": angular_cumsum(tf, omega0),
                "omega0": omega0,
            }

    return Angular()


def broadcast_constants():
    """The broadcast model's constants (also its float64 reference's)."""
    rng = np.random.default_rng(3)
    n = N_BROADCAST
    return {
        "ratios": np.broadcast_to(np.arange(1, K + 1, dtype=np.float32)[:, None], (K, n)),
        "gain": np.full((1, K, n), 0.5, np.float32),
        "zeros": np.zeros((1, K, n), np.float32),
        "pattern": np.tile(rng.uniform(-1, 1, (1, 1, 64)).astype(np.float32), (1, K, n // 64)),
        "mask": np.broadcast_to((np.arange(K) < K // 2)[None, :, None], (1, K, n)),
        "noise": rng.uniform(-1, 1, (1, K, 64)).astype(np.float32),
    }


def _broadcast(tf):
    c = broadcast_constants()
    spec = tf.TensorSpec([1, K, N_BROADCAST], tf.float32)

    class Broadcast(tf.Module):
        @tf.function(input_signature=[spec])
        def __call__(self, x):
            y = (x + tf.constant(c["zeros"])) * tf.constant(c["ratios"]) * tf.constant(c["gain"])
            y = tf.where(tf.constant(c["mask"]), y + tf.constant(c["pattern"]), -x)
            twos = tf.zeros([1, K, N_BROADCAST]) + tf.ones([1, K, N_BROADCAST]) * 2.0
            z = x[:, :, :64] * tf.constant(c["noise"]) + x[:, :, 64:128] * tf.constant(
                c["noise"].copy()
            )
            return {"y": y + twos, "z": z}

    return Broadcast()


def _plain(tf):
    spec = tf.TensorSpec([2, 1000], tf.float32)

    class Plain(tf.Module):
        @tf.function(input_signature=[spec])
        def __call__(self, x):
            c = tf.cumsum(x, axis=-1)
            return {"wrapped": tf.math.floormod(c, 1.0), "raw": c, "other": x % 0.5}

    return Plain()


BUILDERS = {"decoder": _decoder, "angular": _angular, "broadcast": _broadcast, "plain": _plain}


def build_and_convert(saved_root: Path, converted_root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf
        from tensorflowjs.converters import tf_saved_model_conversion_v2 as converter

        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(2)
        for name, build in BUILDERS.items():
            module = build(tf)
            saved = saved_root / name
            tf.saved_model.save(module, str(saved), signatures=module.__call__)
            converter.convert_tf_saved_model(str(saved), str(converted_root / name / "original"))


if __name__ == "__main__":
    build_and_convert(Path(sys.argv[1]), Path(sys.argv[2]))
