"""The training process of `ddspgl train` (:mod:`.train`): TensorFlow and ddsp load here only.

``python -m ddspgl.instruments.ddsp_train CONFIG_JSON OUT [RESUME_JSON]`` renders the data set
(:mod:`.dataset`, loudness by ddsp's own ``spectral_ops.compute_loudness``), builds ddsp's
``Autoencoder`` from :func:`gin_config` (no encoder; ``DilatedConvDecoder`` on
``ld_scaled`` and ``f0_scaled``; ``Harmonic`` + ``FilteredNoise`` added; ddsp's
multi-scale ``SpectralLoss`` as its ``ae.gin`` binds it), trains it with ddsp's
``trainers.Trainer`` under TensorFlow's default distribution strategy on the CPU, and
writes into OUT (a new folder the parent moves into place):

- ``ckpt/``: the trainer's checkpoint (model and optimizer) and ``operative_config-0.gin``,
  as ``ddsp_run`` leaves its save_dir;
- ``saved_model/``: ``AutoencoderInference(ckpt, length_seconds=export_seconds)
  .save_model(...)``, what ``ddspgl convert`` reads;
- ``stats.json``: :func:`.dataset.statistics` of the training phrases;
- ``train.json``: the run (config, sizes, per-step losses, held-out losses before and
  after, seconds);
  a resumed run (RESUME_JSON: ``from``, ``ckpt``, ``losses``, :func:`.train.resume_from`)
  restores the trainer from ``ckpt`` (weights, optimizer state and its step, so the
  learning-rate schedule goes on), skips the batches the earlier steps drew (the same
  seeded order an uninterrupted run would take, at the same batch size), trains
  ``steps`` more, and its train.json holds the whole loss history, ``steps`` the total,
  ``held_out_loss`` measured at the restored and the final weights, and ``resumed``
  (from where, steps before and after);
- ``train.log``: what TensorFlow and ddsp printed.

Progress goes to stdout as ``step S/N  loss L  R steps/s`` (what TensorFlow and ddsp
print goes to train.log, their logs to stderr). Seeded: `seed` picks the
phrases, the initial weights, the shuffling and the noise draws (TensorFlow's op
determinism on), so a seed gives the same losses.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import dataset

NOISE_BANDS = 65
HARMONICS = 100


def gin_config(config: dict) -> str:
    """ddsp's ``models/ae.gin`` without its encoder, the convnet decoder of `config`'s
    size, lengths of `config`'s examples, and ``optimization/base.gin``'s trainer."""
    frames = int(round(config["example_seconds"] * dataset.FRAME_RATE))
    n = frames * dataset.HOP
    ch, layers, stacks = config["decoder_channels"], config["decoder_layers"], 2
    outputs = f"(('amps', 1), ('harmonic_distribution', {HARMONICS}), "
    outputs += f"('noise_magnitudes', {NOISE_BANDS}))"
    return f"""
import ddsp
import ddsp.training

get_model.model = @models.Autoencoder()
Autoencoder.preprocessor = @preprocessing.F0LoudnessPreprocessor()
F0LoudnessPreprocessor.time_steps = {frames}
F0LoudnessPreprocessor.frame_rate = {dataset.FRAME_RATE}
F0LoudnessPreprocessor.sample_rate = {dataset.phrases.SAMPLE_RATE}
F0LoudnessPreprocessor.compute_loudness = False
Autoencoder.encoder = None

Autoencoder.decoder = @decoders.DilatedConvDecoder()
DilatedConvDecoder.ch = {ch}
DilatedConvDecoder.kernel_size = 3
DilatedConvDecoder.layers_per_stack = {layers}
DilatedConvDecoder.stacks = {stacks}
DilatedConvDecoder.dilation = 2
DilatedConvDecoder.norm_type = 'layer'
DilatedConvDecoder.conditioning_keys = None
DilatedConvDecoder.input_keys = ('ld_scaled', 'f0_scaled')
DilatedConvDecoder.output_splits = {outputs}

Autoencoder.losses = [@losses.SpectralLoss()]
SpectralLoss.loss_type = 'L1'
SpectralLoss.mag_weight = 1.0
SpectralLoss.logmag_weight = 1.0

Autoencoder.processor_group = @processors.ProcessorGroup()
ProcessorGroup.dag = [
  (@synths.Harmonic(), ['amps', 'harmonic_distribution', 'f0_hz']),
  (@synths.FilteredNoise(), ['noise_magnitudes']),
  (@processors.Add(), ['filtered_noise/signal', 'harmonic/signal']),
]
Harmonic.name = 'harmonic'
Harmonic.n_samples = {n}
Harmonic.sample_rate = {dataset.phrases.SAMPLE_RATE}
Harmonic.normalize_below_nyquist = True
Harmonic.scale_fn = @core.exp_sigmoid
FilteredNoise.name = 'filtered_noise'
FilteredNoise.n_samples = {n}
FilteredNoise.window_size = 0
FilteredNoise.scale_fn = @core.exp_sigmoid
processors.Add.name = 'add'

Trainer.learning_rate = {config["learning_rate"]!r}
Trainer.lr_decay_steps = 10000
Trainer.lr_decay_rate = 0.98
Trainer.grad_clip_norm = 3.0
Trainer.checkpoints_to_keep = 1
"""


def _say(text: str) -> None:
    """A progress line: the process's real stdout (the parent passes it on); what
    TensorFlow and ddsp print goes to train.log."""
    print(text, file=sys.__stdout__, flush=True)


def _refuse(text: str) -> None:
    """One line on stderr and exit status 2: the parent reports it as it is."""
    print(text, file=sys.stderr, flush=True)
    sys.exit(2)


def _render(config: dict, ddsp, log) -> tuple[list, list]:
    """(training phrases, held-out phrases) as :class:`.dataset.Rendered`."""

    def loudness(audio):
        with np.errstate(divide="ignore"):  # librosa's A-weighting of 0 Hz: -inf dB
            return ddsp.spectral_ops.compute_loudness(
                audio,
                sample_rate=dataset.phrases.SAMPLE_RATE,
                frame_rate=dataset.FRAME_RATE,
                n_fft=512,
                padding="center",
            ).numpy()

    sets = []
    for held_out, count in ((False, config["phrases"]), (True, config["held_out"])):
        seeds = dataset.phrase_seeds(config["seed"], count, held_out=held_out)
        sets.append(
            [
                dataset.render(s, config["instrument"], config["phrase_seconds"], loudness)
                for s in seeds
            ]
        )
        log(f"rendered {count} {'held-out' if held_out else 'training'} phrases")
    return sets[0], sets[1]


def _provider(ddsp, tf, features: dict[str, np.ndarray], seed: int):
    class ArrayProvider(ddsp.training.data.DataProvider):
        """The examples in memory, shuffled by a seeded tf.data shuffle each epoch."""

        def get_dataset(self, shuffle=True):
            ds = tf.data.Dataset.from_tensor_slices(features)
            if shuffle:
                size = len(next(iter(features.values())))
                ds = ds.shuffle(size, seed=seed, reshuffle_each_iteration=True)
            return ds

    return ArrayProvider(dataset.phrases.SAMPLE_RATE, dataset.FRAME_RATE)


def _held_out_loss(tf, model, examples: dataset.Examples) -> float:
    """Mean spectral loss over the held-out examples, one at a time (the model's loss
    object on its inference output; the noise drawn from the seeded generator)."""
    if len(examples) == 0:
        return float("nan")
    loss_obj = model.loss_objs[0]

    @tf.function
    def one(batch):
        out = model(batch, training=False)
        return loss_obj(batch["audio"], out["audio_synth"])

    feats = examples.features()
    values = [float(one({k: v[i : i + 1] for k, v in feats.items()})) for i in range(len(examples))]
    return float(np.mean(values))


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(config: dict, out: Path, resume: dict | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "train.log", "w") as log_file:
        _run(config, out, log_file, resume)


def _run(config: dict, out: Path, log_file, resume: dict | None) -> None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    t_start = time.perf_counter()
    quiet = contextlib.redirect_stdout(log_file)
    with quiet, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ddsp.training
        import gin
        import tensorflow as tf
        from absl import logging as absl_logging
        from ddsp.training.inference import AutoencoderInference

        absl_logging.set_verbosity(absl_logging.ERROR)
        tf.get_logger().setLevel("ERROR")
    tf.keras.utils.set_random_seed(config["seed"])
    tf.config.experimental.enable_op_determinism()
    timing: dict[str, float] = {}

    t0 = time.perf_counter()
    train_phrases, held_phrases = _render(config, ddsp, _say)
    train_set = dataset.cut(train_phrases, config["example_seconds"], dataset.EXAMPLE_HOP_SECONDS)
    held_set = (
        dataset.cut(held_phrases, config["example_seconds"], config["example_seconds"])
        if held_phrases
        else None
    )
    stats = dataset.statistics(config["instrument"], train_phrases)
    timing["data_s"] = time.perf_counter() - t0
    if config["batch"] > len(train_set):
        _refuse(
            f"--batch: {config['batch']} is more than the {len(train_set)} training examples "
            f"of {config['phrases']} phrases"
        )
    _say(f"{len(train_set)} training examples, {0 if held_set is None else len(held_set)} held out")

    gin.clear_config()
    gin.parse_config(gin_config(config))
    strategy = tf.distribute.get_strategy()  # the default strategy: this CPU
    with strategy.scope():
        model = ddsp.training.models.get_model()
        trainer = ddsp.training.trainers.Trainer(model, strategy)
    provider = _provider(ddsp, tf, train_set.features(), config["seed"])
    batches = provider.get_batch(config["batch"], shuffle=True, repeats=-1)
    earlier: list[float] = [] if resume is None else list(resume["losses"])
    if earlier:
        batches = batches.skip(len(earlier))
    data_iter = iter(trainer.distribute_dataset(batches))
    t0 = time.perf_counter()
    with quiet:
        trainer.build(next(data_iter))
    timing["build_s"] = time.perf_counter() - t0
    if resume is not None:
        with quiet:
            trainer.restore(resume["ckpt"])
        if int(trainer.step.numpy()) != len(earlier):
            _refuse(
                f"--resume: {resume['ckpt']} restored step {int(trainer.step.numpy())}, "
                f"not the {len(earlier)} its train.json reports"
            )
        _say(f"resumed from {resume['ckpt']} at step {len(earlier)}")
    params = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    _say(f"model: {params} parameters (decoder channels {config['decoder_channels']})")

    # Held-out losses before and after training draw the same noise (the generator
    # reseeded), so that they differ by the weights alone.
    tf.random.set_seed(config["seed"])
    held_before = _held_out_loss(tf, model, held_set) if held_set is not None else None
    tf.random.set_seed(config["seed"])

    losses: list[float] = list(earlier)
    first = len(earlier) + 1
    steps = len(earlier) + config["steps"]
    t0 = tick = time.perf_counter()
    last_step = first - 1
    for step in range(first, steps + 1):
        result = trainer.train_step(data_iter)
        losses.append(float(result["total_loss"]))
        now = time.perf_counter()
        if step == steps or step == first or now - tick >= config["log_seconds"]:
            rate = (step - last_step) / (now - tick) if now > tick else float("nan")
            _say(f"step {step}/{steps}  loss {losses[-1]:.4f}  {rate:.2f} steps/s")
            tick, last_step = now, step
    timing["train_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tf.random.set_seed(config["seed"])
    held_after = _held_out_loss(tf, model, held_set) if held_set is not None else None
    timing["held_out_s"] = time.perf_counter() - t0

    ckpt = out / "ckpt"
    ckpt.mkdir()
    (ckpt / "operative_config-0.gin").write_text(gin.operative_config_str())
    with quiet:
        trainer.save(str(ckpt))
    gin.clear_config()

    t0 = time.perf_counter()
    with quiet:
        export = AutoencoderInference(
            str(ckpt), length_seconds=config["export_seconds"], verbose=False
        )
        export.save_model(str(out / "saved_model"))
    gin.clear_config()
    timing["export_s"] = time.perf_counter() - t0
    _say(f"exported {config['export_seconds']} s to {out / 'saved_model'}")

    (out / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    timing["total_s"] = time.perf_counter() - t_start
    report = {
        "format": "ddspgl-train/1",
        "config": config,
        "parameters": params,
        "examples": {
            "train": len(train_set),
            "held_out": 0 if held_set is None else len(held_set),
            "samples": int(train_set.audio.shape[1]),
            "frames": int(train_set.f0_hz.shape[1]),
        },
        "steps": len(losses),
        "steps_per_s": config["steps"] / timing["train_s"] if timing["train_s"] else None,
        "losses": losses,
        "held_out_loss": {"before": held_before, "after": held_after},
        "seconds": timing,
        "bytes": {
            "checkpoint": _folder_bytes(ckpt),
            "saved_model": _folder_bytes(out / "saved_model"),
        },
    }
    if resume is not None:
        report["resumed"] = {
            "from": resume["from"],
            "steps_before": len(earlier),
            "steps_after": len(losses),
        }
    (out / "train.json").write_text(json.dumps(report, indent=1) + "\n")
    held = "" if held_after is None else f", held-out loss {held_before:.4f} -> {held_after:.4f}"
    _say(f"trained {config['steps']} steps in {timing['train_s']:.0f} s{held}")


def main(argv: list[str]) -> None:
    config = json.loads(argv[0])
    run(config, Path(argv[1]), json.loads(argv[2]) if len(argv) > 2 else None)


if __name__ == "__main__":
    main(sys.argv[1:])
