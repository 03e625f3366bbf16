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
