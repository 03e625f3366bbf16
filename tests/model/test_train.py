"""`ddspgl train`: a few steps of ddsp's trainer on a tiny rendered set lower the loss, and
the export converts with `ddspgl convert`, harmonic and noise synthesizers fused.

One run (about two minutes on two cores): one 2 s shehnai phrase cut into two 1 s
examples, both in every batch, and one held-out phrase. Training runs in the command's
child process; the conversion's rewrites run here, TensorFlow only in children.

The loss is judged against the run's own noise: the filtered-noise draws make a step's
loss vary even where the weights would not, so the first step's loss must exceed the
mean of the last K steps by more than three standard deviations of that difference,
the per-step deviation measured from the last K steps' successive differences (for
independent per-step noise of deviation s, a difference of neighbours has deviation
s sqrt 2, whatever a locally linear trend; the difference of one step and a K-step mean
has deviation s sqrt(1 + 1/K)). The held-out loss, measured before and after training
with the same noise draws, must be lower after.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ddspgl import cli
from ddspgl.instruments import dataset, train
from ddspgl.model import graph
from ddspgl.model.fuse_harmonic import OP as HARMONIC_OP
from ddspgl.model.fuse_noise import OP as NOISE_OP

STEPS = 24
K = STEPS // 3  # the last third of the run
MORE = 12  # steps of the resumed run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    why = train.missing()
    if why:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("train") / "shehnai"
    argv = ["train", "shehnai", "-o", str(out), "--steps", str(STEPS), "--batch", "2"]
    argv += ["--phrases", "1", "--held-out", "1", "--phrase-seconds", "2"]
    argv += ["--example-seconds", "1", "--export-seconds", "1", "--decoder-channels", "16"]
    assert cli.main(argv) == 0
    return out


@pytest.fixture(scope="module")
def resumed(trained):
    """`trained` continued for MORE steps (its options; the command names none but -o)."""
    out = trained.parent / "more"
    assert cli.main(["train", "-o", str(out), "--resume", str(trained), "--steps", str(MORE)]) == 0
    return out


def test_folder_holds_checkpoint_config_export_and_reports(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"ckpt", "saved_model", "stats.json", "train.json", "train.log"} <= names
    ckpt = {p.name for p in (trained / "ckpt").iterdir()}
    assert "operative_config-0.gin" in ckpt and f"ckpt-{STEPS}.index" in ckpt
    assert (trained / "saved_model" / "saved_model.pb").is_file()
    gin = (trained / "ckpt" / "operative_config-0.gin").read_text()
    for binding in (
        "DilatedConvDecoder.ch = 16",
        "Harmonic.n_samples = 16000",
        "F0LoudnessPreprocessor.time_steps = 250",
        "SpectralLoss.logmag_weight = 1.0",
    ):
        assert binding in gin, binding
    report = json.loads((trained / "train.json").read_text())
    assert report["steps"] == len(report["losses"]) == STEPS
    assert report["examples"] == {"train": 2, "held_out": 2, "samples": 16000, "frames": 250}
    assert report["config"]["instrument"] == "shehnai" and report["parameters"] > 0


def test_stats_describe_the_training_phrase(trained):
    """stats.json against the phrase's own MIDI truth (rendered again here, no ddsp):
    the pitch statistics over its voiced frames, frame counts, the loudness's shape."""
    stats = json.loads((trained / "stats.json").read_text())
    assert stats["format"] == dataset.STATS_FORMAT and stats["instrument"] == "shehnai"
    (seed,) = dataset.phrase_seeds(0, 1)
    p = dataset.phrases.phrase(seed, "shehnai", 2.0)
    f0, voiced = p.frames(dataset.HOP)
    assert stats["frames"] == f0.size == 500 and stats["voiced_frames"] == int(voiced.sum())
    midi = 69 + 12 * np.log2(f0[voiced] / 440.0)
    assert stats["pitch_midi"]["mean"] == pytest.approx(float(midi.mean()), rel=1e-12)
    assert stats["pitch_midi"]["min"] == pytest.approx(float(midi.min()), rel=1e-12)
    assert stats["f0_mean_midi"] == stats["pitch_midi"]["mean"]
    assert stats["loudness_std_db"] == stats["loudness_db"]["std"]
    ld = stats["loudness_db"]
    q = ld["quantiles"]
    assert len(q) == 101 and q[0] == ld["min"] and q[-1] == ld["max"]
    assert np.all(np.diff(q) >= 0) and ld["min"] <= ld["mean"] <= ld["max"] and ld["std"] > 0


def test_loss_falls(trained):
    report = json.loads((trained / "train.json").read_text())
    losses = np.array(report["losses"], np.float64)
    assert np.all(np.isfinite(losses))
    tail = losses[-K:]
    step_sd = np.std(np.diff(tail), ddof=1) / math.sqrt(2)
    fall = losses[0] - tail.mean()
    assert fall > 3 * step_sd * math.sqrt(1 + 1 / K), (losses, step_sd)
    held = report["held_out_loss"]
    assert held["after"] < held["before"], held


def test_export_converts_fused(trained, tmp_path):
    out = tmp_path / "web"
    assert cli.main(["convert", str(trained / "saved_model"), "-o", str(out)]) == 0
    ops = [n["op"] for n in graph.load(out).nodes]
    assert ops.count(HARMONIC_OP) == 1 and ops.count(NOISE_OP) == 1, sorted(set(ops))
    assert not {"Cumsum", "Sin", "RFFT", "IRFFT"} & set(ops), sorted(set(ops))


def test_resume_continues_the_run(trained, resumed):
    """The resumed run restores weights, optimizer and step: its checkpoint is step
    STEPS + MORE, its history begins with the first run's, its held-out loss at the
    restored weights is the first run's final one (the same weights, the same noise
    draws), and its losses go on from where they were, not from the untrained value."""
    first = json.loads((trained / "train.json").read_text())
    report = json.loads((resumed / "train.json").read_text())
    total = STEPS + MORE
    assert report["steps"] == len(report["losses"]) == total
    assert report["losses"][:STEPS] == first["losses"]
    assert report["resumed"] == {
        "from": str(trained.resolve()),
        "steps_before": STEPS,
        "steps_after": total,
    }
    assert report["config"] == {**first["config"], "steps": MORE}
    assert f"ckpt-{total}.index" in {p.name for p in (resumed / "ckpt").iterdir()}
    assert (resumed / "saved_model" / "saved_model.pb").is_file()
    assert report["held_out_loss"]["before"] == first["held_out_loss"]["after"]
    # The new steps against the first run's first step (untrained weights), with the
    # noise test of test_loss_falls: the per-step deviation from the new steps'
    # successive differences, the gap at three deviations of a one-step-minus-mean.
    new = np.array(report["losses"][STEPS:], np.float64)
    step_sd = np.std(np.diff(new), ddof=1) / math.sqrt(2)
    fall = first["losses"][0] - new.mean()
    assert fall > 3 * step_sd * math.sqrt(1 + 1 / MORE), (new, step_sd)
