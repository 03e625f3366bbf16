"""A test instrument for the page: a graph model laid out as `ddspgl convert` lays out a ddsp
export (inputs f0_hz and loudness_db [-1], signature output audio_synth [1, samples], a
fixed number of frames; the synthesizer's initial phases as the graph input initial_phase
[1, K], zeros unless fed, and its audio as the output harmonic_signal, as `ddspgl convert`
fuses a ddsp export), whose audio is known: ddspgl's HarmonicSynth of the f0 it is given,
amplitude 10^(loudness_db / 20), harmonic k weighted 1/k (normalised, harmonics above
Nyquist silent). Its output's pitch is its input's, so the page's whole path (pitch,
controls, chunks, crossfades) can be checked against the input; a trained model's can
not be, beyond what it learned."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
HOP = 64
HARMONICS = 20
PHASE_INPUT = "initial_phase"
STATS = {"f0_mean_midi": 72.0, "loudness_mean_db": -20.0, "loudness_std_db": 6.0}


def _placeholder(name: str) -> dict:
    return {
        "name": name,
        "op": "Placeholder",
        "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": [{"size": "-1"}]}}},
    }


def _const(name: str, dtype: str) -> dict:
    return {"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}, "value": {}}}


def _op(name: str, op: str, inputs: list[str], **attr) -> dict:
    return {"name": name, "op": op, "input": inputs, "attr": attr}


def save(folder: Path, frames: int = 250, stats: dict | None = None) -> Path:
    """folder/model.json, its shard and stats.json: `frames` frames per call."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = frames * HOP
    weights = {  # name -> (array, dtype name in the manifest)
        "shape2": (np.array([1, frames], np.int32), "int32"),
        "shape3": (np.array([1, frames, 1], np.int32), "int32"),
        "db_to_amp": (np.array(np.log(10) / 20, np.float32), "float32"),
        "weights": (
            (1 / np.arange(1, HARMONICS + 1)).astype(np.float32).reshape(1, 1, HARMONICS),
            "float32",
        ),
        "phase_zeros": (np.zeros((1, HARMONICS), np.float32), "float32"),
    }
    phase_shape = {"dim": [{"size": "1"}, {"size": str(HARMONICS)}]}
    nodes = [
        _placeholder("f0_hz"),
        _placeholder("loudness_db"),
        _const("shape2", "DT_INT32"),
        _const("shape3", "DT_INT32"),
        _const("db_to_amp", "DT_FLOAT"),
        _const("weights", "DT_FLOAT"),
        _const("phase_zeros", "DT_FLOAT"),
        _op(
            PHASE_INPUT,
            "PlaceholderWithDefault",
            ["phase_zeros"],
            dtype={"type": "DT_FLOAT"},
            shape={"shape": phase_shape},
        ),
        _op("f0", "Reshape", ["f0_hz", "shape2"]),
        _op("loud", "Reshape", ["loudness_db", "shape2"]),
        _op("amp", "Exp", ["scaled"]),
        _op("scaled", "Mul", ["loud", "db_to_amp"]),
        _op("f0_3", "Reshape", ["f0", "shape3"]),
        _op("ones", "OnesLike", ["f0_3"]),
        _op("distribution", "Mul", ["ones", "weights"]),
        _op(
            "synth",
            "HarmonicSynth",
            ["f0", "amp", "distribution", PHASE_INPUT],
            sample_rate={"f": float(SAMPLE_RATE)},
            n_samples={"i": str(samples)},
            normalize={"b": True},
        ),
        _op("Identity", "Identity", ["synth"]),
        _op("Identity_1", "Identity", ["synth"]),
    ]
    shard = b"".join(a.tobytes() for a, _ in weights.values())
    (folder / "group1-shard1of1.bin").write_bytes(shard)

    def info(name, dims):
        return {"name": name, "dtype": "DT_FLOAT", "tensorShape": {"dim": dims}}

    model = {
        "format": "graph-model",
        "generatedBy": "2.19.0",
        "convertedBy": "tests",
        "signature": {
            "inputs": {
                "f0_hz:0": info("f0_hz:0", [{"size": "-1"}]),
                "loudness_db:0": info("loudness_db:0", [{"size": "-1"}]),
                f"{PHASE_INPUT}:0": info(f"{PHASE_INPUT}:0", phase_shape["dim"]),
            },
            "outputs": {
                "audio_synth": info("Identity:0", [{"size": "1"}, {"size": str(samples)}]),
                "harmonic_signal": info("Identity_1:0", [{"size": "1"}, {"size": str(samples)}]),
            },
        },
        "modelTopology": {"node": nodes, "library": {}, "versions": {"producer": 1}},
        "weightsManifest": [
            {
                "paths": ["group1-shard1of1.bin"],
                "weights": [
                    {"name": name, "shape": list(a.shape), "dtype": dtype}
                    for name, (a, dtype) in weights.items()
                ],
            }
        ],
    }
    (folder / "model.json").write_text(json.dumps(model))
    (folder / "stats.json").write_text(json.dumps(stats or STATS))
    return folder
