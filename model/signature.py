"""The SavedModel's output names on the converted graph's signature.

tensorflowjs_converter 4.22 keys a graph model's signature outputs by node
(``Identity_4:0``), so a converted ddsp export no longer says which output is
``audio_synth``. TF.js's executor maps signature keys to nodes
(``model.executeAsync(inputs, ['audio_synth'])``), so ``ddspgl convert`` keys them by the
SavedModel signature's own output names again: the converter's child process reads them
(:data:`CHILD_KEYS`: the function's structured outputs, flattened in TensorFlow's order,
are its ``outputs`` in order, and the converter names each output node after its tensor).
"""

from __future__ import annotations

from .graph import Model, input_node

# Appended to the converter's child: argv[5] receives {output node: signature key}.
CHILD_KEYS = (
    "import json\n"
    "import tensorflow as tf\n"
    "fn = tf.saved_model.load(sys.argv[1], tags=sys.argv[4].split(',')).signatures[sys.argv[3]]\n"
    "keys = tf.nest.flatten({k: k for k in fn.structured_outputs})\n"
    "names = {t.name.split(':')[0]: k for k, t in zip(keys, fn.outputs)}\n"
    "open(sys.argv[5], 'w').write(json.dumps(names))\n"
)


def rename_outputs(model: Model, names: dict[str, str]) -> int:
    """Key `model`'s signature outputs by `names` (output node -> SavedModel key), in
    place; returns how many were renamed. Nodes `names` lacks keep their keys."""
    outputs = (model.doc.get("signature") or {}).get("outputs")
    if not outputs:
        return 0
    renamed, new = 0, {}
    for key, entry in outputs.items():
        name = names.get(input_node(entry.get("name", key)))
        if name is not None and name not in outputs and name not in new:
            new[name] = entry
            renamed += 1
        else:
            new[key] = entry
    model.doc["signature"]["outputs"] = new
    return renamed
