"""Real DDSP models, built with magenta's ``ddsp`` 3.7.0 and exported as ``ddsp_export`` does.

Run as a script (in a child process, so that TensorFlow and ddsp never load into the test
process): ``python ddsp_exports.py ROOT [NAME ...]`` writes, for each model,

- ``ROOT/<name>/ckpt``: a ``tf.train.Checkpoint`` of the gin-built ``Autoencoder``
  (untrained, seeded weights) and its ``operative_config-0.gin``, as training leaves them;
- ``ROOT/<name>/saved_model``: ``ddsp.training.inference.AutoencoderInference(ckpt,
  length_seconds=LENGTH, remove_reverb=...).save_model(...)``;
- ``ROOT/<name>/stock``: tensorflowjs_converter with ``ddsp_export``'s flags
  (``--control_flow_v2=True --skip_op_check --experiments=True``) and the bare
  ``--quantize_float16`` (every float weight stored as float16; ``=True`` quantizes none);
- ``ROOT/<name>/reference.npz``: TensorFlow's outputs (float32) on :func:`inputs`, keyed
  by output name, with the filtered noise's ``tf.random.uniform`` replaced by
  :func:`uniform` (the model run eagerly, as the SavedModel's function runs it), and
  ``ROOT/<name>/outputs.json``: output name -> the converted graph's node (``Identity_N``);
- ``ROOT/<name>/timing.json``: seconds spent building, exporting and converting;
- ``ROOT/not_ddsp/saved_model``: a plain ``tf.Module`` SavedModel with an op TF.js lacks
  (``MatrixDeterminant``), for the bad-input tests.

Importing this file needs neither TensorFlow nor ddsp (the tests read MODELS and inputs).
Needs ``pip install -e ".[convert,ddsp]"``, ``bash model/install_ddsp.sh`` and runs with
``TF_USE_LEGACY_KERAS=1`` (set here: Keras 3 cannot build ddsp's layers).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Seconds exported: 8000 samples at 16 kHz, 24000 at 48 kHz; the end-to-end report
# (`ddspgl models`, README "Bring your ddsp model") exports 4 s, ddsp_export's default.
LENGTH = float(os.environ.get("DDSPGL_EXPORT_SECONDS", "0.5"))
TRAIN_SECONDS = 4  # the training example length, from which the exporter reads the hop
NOISE_BANDS = 65


@dataclass(frozen=True)
class Spec:
    """One test model: decoder, synth options and shapes (frames/s, harmonics, Hz)."""

    decoder: str  # "conv": DilatedConvDecoder; "gru": RnnFcDecoder with a GRU
    sample_rate: int
    frame_rate: int
    harmonics: int
    angular: bool  # Harmonic(use_angular_cumsum=True)
    reverb: bool  # the trainable Reverb kept (remove_reverb=False)

    @property
    def hop(self) -> int:
        return self.sample_rate // self.frame_rate

    @property
    def frames(self) -> int:
        return int(LENGTH * self.sample_rate / self.hop)

    @property
    def samples(self) -> int:
        return self.frames * self.hop


# Three exports cover what a ddsp user has: the production convnet at ddsp's defaults, the
# solo-instrument GRU with the angular cumsum at the VST shapes (48 kHz, 50 frames/s, 60
# harmonics), and a reverb-kept model between the two (16 kHz, 50 frames/s, 100).
MODELS = {
    "conv": Spec("conv", 16000, 250, 100, angular=False, reverb=False),
    "gru_angular": Spec("gru", 48000, 50, 60, angular=True, reverb=False),
    "conv_reverb": Spec("conv", 16000, 50, 100, angular=False, reverb=True),
}

# Outputs the tests read (keys of the SavedModel's serving signature).
OUTPUTS = (
    "audio_synth",
    "harmonic_signal",
    "filtered_noise_signal",
    "amps",
    "harmonic_distribution",
    "noise_magnitudes",
    "harmonic_controls_amplitudes",
    "harmonic_controls_harmonic_distribution",
    "harmonic_controls_f0_hz",
    "filtered_noise_controls_magnitudes",
)


def inputs(spec: Spec) -> dict[str, np.ndarray]:
    """f0 (a 220-440 Hz glide with vibrato) and loudness (-60 to -10 dB), one per frame."""
    t = np.arange(spec.frames) / spec.frame_rate
    f0 = 220 * 2 ** (t / LENGTH) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    loudness = -60 + 50 * t / LENGTH
    return {"f0_hz": f0.astype(np.float32), "loudness_db": loudness.astype(np.float32)}


def uniform(spec: Spec) -> np.ndarray:
    """The filtered noise's uniform [0, 1) draw, [1, samples]: multiples of 2^-23, so that
    ddsp's ``2 u - 1`` is exact in float32 in TensorFlow and TF.js alike."""
    rng = np.random.default_rng(spec.samples)
    return (rng.integers(0, 2**23, (1, spec.samples)) / 2**23).astype(np.float32)


def gin_config(spec: Spec) -> str:
    """The training config: models/ae.gin's structure, no encoder, small decoders."""
    outputs = f"(('amps', 1), ('harmonic_distribution', {spec.harmonics}), "
    outputs += f"('noise_magnitudes', {NOISE_BANDS}))"
    if spec.decoder == "conv":
        decoder = f"""
Autoencoder.decoder = @decoders.DilatedConvDecoder()
DilatedConvDecoder.ch = 64
DilatedConvDecoder.layers_per_stack = 3
DilatedConvDecoder.stacks = 2
DilatedConvDecoder.conditioning_keys = None
DilatedConvDecoder.input_keys = ('ld_scaled', 'f0_scaled')
DilatedConvDecoder.output_splits = {outputs}
"""
    else:
        decoder = f"""
Autoencoder.decoder = @decoders.RnnFcDecoder()
RnnFcDecoder.rnn_channels = 64
RnnFcDecoder.rnn_type = 'gru'
RnnFcDecoder.ch = 64
RnnFcDecoder.layers_per_stack = 2
RnnFcDecoder.input_keys = ('ld_scaled', 'f0_scaled')
RnnFcDecoder.output_splits = {outputs}
"""
    reverb = "  (@effects.Reverb(), ['add/signal']),\n" if spec.reverb else ""
    n = spec.sample_rate * TRAIN_SECONDS
    return f"""
import ddsp
import ddsp.training
get_model.model = @models.Autoencoder()
Autoencoder.preprocessor = @preprocessing.F0LoudnessPreprocessor()
F0LoudnessPreprocessor.time_steps = {spec.frame_rate * TRAIN_SECONDS}
F0LoudnessPreprocessor.frame_rate = {spec.frame_rate}
F0LoudnessPreprocessor.sample_rate = {spec.sample_rate}
F0LoudnessPreprocessor.compute_loudness = False
Autoencoder.encoder = None
{decoder}
Autoencoder.losses = []
Autoencoder.processor_group = @processors.ProcessorGroup()
ProcessorGroup.dag = [
  (@synths.Harmonic(), ['amps', 'harmonic_distribution', 'f0_hz']),
  (@synths.FilteredNoise(), ['noise_magnitudes']),
  (@processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
{reverb}]
Harmonic.name = 'harmonic'
Harmonic.n_samples = {n}
Harmonic.sample_rate = {spec.sample_rate}
Harmonic.normalize_below_nyquist = True
Harmonic.scale_fn = @core.exp_sigmoid
Harmonic.use_angular_cumsum = {spec.angular}
FilteredNoise.name = 'filtered_noise'
FilteredNoise.n_samples = {n}
FilteredNoise.window_size = 0
FilteredNoise.scale_fn = @core.exp_sigmoid
processors.Add.name = 'add'
Reverb.name = 'reverb'
Reverb.reverb_length = 4000
Reverb.trainable = True
"""


# -- building (TensorFlow and ddsp from here on) ---------------------------------------------


def _checkpoint(tf, gin, ddsp, spec: Spec, folder: Path, seed: int) -> None:
    """Build the Autoencoder from its gin config, create its variables, save a checkpoint
    and the operative config beside it (what `ddsp_run` leaves in its save_dir)."""
    gin.clear_config()
    gin.parse_config(gin_config(spec))
    tf.random.set_seed(seed)
    model = ddsp.training.models.get_model()
    frames = spec.frame_rate * TRAIN_SECONDS
    features = {
        "f0_hz": tf.fill([1, frames], 220.0),
        "loudness_db": tf.fill([1, frames], -30.0),
    }
    model(features, training=False)
    folder.mkdir(parents=True)
    tf.train.Checkpoint(model=model).save(str(folder / "ckpt"))
    (folder / "operative_config-0.gin").write_text(gin.operative_config_str())
    gin.clear_config()


def _outputs(tf, fn) -> dict[str, str]:
    """Signature output key -> the node the converter names it (Identity, Identity_1 ...):
    the function's outputs are its structured outputs flattened (keys sorted)."""
    keys = tf.nest.flatten({k: k for k in fn.structured_outputs})
    return {key: t.name.split(":")[0] for key, t in zip(keys, fn.outputs, strict=True)}


def _reference(tf, ddsp, model, spec: Spec) -> dict[str, np.ndarray]:
    """The inference model's outputs on :func:`inputs` with the noise fixed: its Python
    call runs eagerly (not the traced tf.function), with ``tf.random.uniform`` (as
    ddsp.synths sees it: ``tensorflow.compat.v2``) returning ``minval + (maxval - minval)
    * uniform(spec)``, as TF's RandomUniform op would from that draw."""
    u = tf.constant(uniform(spec))
    calls = []

    def fixed(shape, minval=0.0, maxval=None, dtype=tf.float32, seed=None, name=None):
        assert list(shape) == list(u.shape), shape
        calls.append(shape)
        return minval + (maxval - minval) * u

    module = ddsp.synths.tf.random
    real = module.uniform
    xs = {k: tf.constant(v) for k, v in inputs(spec).items()}
    module.uniform = fixed
    try:
        out = ddsp.training.models.Autoencoder.call(model, xs, training=False)
    finally:
        module.uniform = real
    assert len(calls) == 1, calls  # FilteredNoise's draw, and nothing else
    flat = {}
    for key in OUTPUTS:  # the signature's flat names: harmonic_signal = out['harmonic']['signal']
        node = out
        for part in _path(out, key):
            node = node[part]
        flat[key] = np.asarray(node)
    return flat


def _path(tree: dict, key: str) -> list[str]:
    """The nested keys whose '_'-join is `key` (``harmonic_controls_f0_hz`` ->
    ``['harmonic', 'controls', 'f0_hz']``)."""
    if key in tree:
        return [key]
    for k, v in tree.items():
        if isinstance(v, dict) and key.startswith(k + "_"):
            rest = _path(v, key[len(k) + 1 :])
            if rest:
                return [k, *rest]
    return []


def build_not_ddsp(root: Path) -> None:
    import tensorflow as tf

    class Det(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([4, 4], tf.float32)])
        def __call__(self, x):
            return {"det": tf.linalg.det(x) + 1.0}

    tf.saved_model.save(Det(), str(root / "not_ddsp" / "saved_model"))


def build(root: Path, name: str, seed: int) -> None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import ddsp.training
    import gin
    import tensorflow as tf
    from ddsp.training.inference import AutoencoderInference
    from tensorflowjs.converters import tf_saved_model_conversion_v2 as converter

    spec = MODELS[name]
    folder = root / name
    timing = {}
    t0 = time.perf_counter()
    _checkpoint(tf, gin, ddsp, spec, folder / "ckpt", seed)
    timing["checkpoint_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = AutoencoderInference(
        str(folder / "ckpt"), length_seconds=LENGTH, remove_reverb=not spec.reverb, verbose=False
    )
    saved = folder / "saved_model"
    model.save_model(str(saved))
    timing["export_s"] = time.perf_counter() - t0
    gin.clear_config()

    np.savez(folder / "reference.npz", **_reference(tf, ddsp, model, spec))
    fn = tf.saved_model.load(str(saved)).signatures["serving_default"]
    (folder / "outputs.json").write_text(json.dumps(_outputs(tf, fn), indent=1))

    t0 = time.perf_counter()
    converter.convert_tf_saved_model(
        str(saved),
        str(folder / "stock"),
        signature_def="serving_default",
        control_flow_v2=True,
        skip_op_check=True,
        experiments=True,
        quantization_dtype_map={"float16": True},  # the bare --quantize_float16
    )
    timing["stock_convert_s"] = time.perf_counter() - t0
    (folder / "timing.json").write_text(json.dumps(timing, indent=1))
    print(f"{name}: " + ", ".join(f"{k} {v:.1f}" for k, v in timing.items()), flush=True)


def main(argv: list[str]) -> None:
    root = Path(argv[0])
    names = argv[1:] or [*MODELS, "not_ddsp"]
    for name in names:
        if name == "not_ddsp":
            build_not_ddsp(root)
        else:
            build(root, name, seed=100 + list(MODELS).index(name))


if __name__ == "__main__":
    main(sys.argv[1:])
