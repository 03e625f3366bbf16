"""A converted graph model on disk, for the browser tests."""

from __future__ import annotations

import json


def save_graph_model(folder, nodes):
    """Write `folder`/model.json: a graph model of `nodes`, as the converter lays it out."""
    model = {
        "format": "graph-model",
        "generatedBy": "2.19.0",
        "convertedBy": "tests",
        "modelTopology": {"node": nodes, "library": {}, "versions": {"producer": 1}},
        "weightsManifest": [],
    }
    (folder / "model.json").write_text(json.dumps(model))
    return folder


def placeholder(name: str, dims=None, dtype: str = "DT_FLOAT") -> dict:
    """A graph input of `dtype`, of shape `dims` (None: any shape)."""
    attr: dict = {"dtype": {"type": dtype}}
    if dims is not None:
        attr["shape"] = {"shape": {"dim": [{"size": str(d)} for d in dims]}}
    return {"name": name, "op": "Placeholder", "attr": attr}


def harmonic_nodes(batch: int, frames: int, harmonics: int, hop: int, sample_rate: float):
    """Inputs f0 [batch, frames], amplitude, dist [batch, frames, K] and the HarmonicSynth
    node `audio` reading them (snake_case attrs, normalize on)."""
    return [
        placeholder("f0", [batch, frames]),
        placeholder("amplitude", [batch, frames]),
        placeholder("dist", [batch, frames, harmonics]),
        {
            "name": "audio",
            "op": "HarmonicSynth",
            "input": ["f0", "amplitude", "dist"],
            "attr": {
                "sample_rate": {"f": float(sample_rate)},
                "n_samples": {"i": str(frames * hop)},
                "normalize": {"b": True},
            },
        },
    ]


def filtered_noise_nodes(shape: tuple[int, int, int, int, int], seed: int):
    """Input magnitudes [batch, frames, K] and the FilteredNoise node `noise` reading it;
    `shape` is (batch, frames, K, n_samples, window_size)."""
    b, f, k, n, w = shape
    return [
        placeholder("magnitudes", [b, f, k]),
        {
            "name": "noise",
            "op": "FilteredNoise",
            "input": ["magnitudes"],
            "attr": {
                "n_samples": {"i": str(n)},
                "window_size": {"i": str(w)},
                "seed": {"i": str(seed)},
            },
        },
    ]
