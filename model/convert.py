"""`ddspgl convert`: tensorflowjs_converter, the TF.js fixes, :mod:`.compress`, :mod:`.fuse`,
:mod:`.compact`.

The converter (``pip install "ddspgl[convert]"``: tensorflowjs 4.22.0, which pulls
TensorFlow 2.19, with ydf pinned to 0.12.0 because a newer ydf's protobuf breaks it) runs
in a child Python process on the SavedModel, writing a graph model into a temporary
folder; the rewrites run here, without TensorFlow, and only the final model lands in the
output folder. Paths are passed as arguments of the converter's Python API (its
command line splits on spaces).

The converter runs as magenta/ddsp's ``ddsp_export`` runs it (control flow v2: a GRU stays
one StatelessWhile) but with its op check off: ops TF.js 4.22 lacks or computes wrongly
in a ddsp export are rewritten first (:mod:`.rewrite_roll`: ``Roll``;
:mod:`.rewrite_layernorm`: tf-keras LayerNormalization's training-mode
``FusedBatchNormV3``), and the final graph then passes the converter's own op list
(:mod:`.op_check`), or nothing is written. The graph is compacted after the rewrites (short
names, no control inputs or attrs TF.js never reads: :mod:`.compact`). Weights are stored as
float16 last, when asked (:mod:`.quantize`), since the rewrites read constant values.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..kernels.manifest import KERNELS
from . import compact as compact_mod
from . import compress as compress_mod
from . import fuse as fuse_mod
from . import op_check, quantize, rewrite_layernorm, rewrite_roll
from . import signature as signature_mod
from .graph import Model, ModelError, check_output, copy_files, load, save, sizes

_CHILD = (
    "import sys\n"
    "from tensorflowjs.converters import tf_saved_model_conversion_v2 as c\n"
    "c.convert_tf_saved_model(sys.argv[1], sys.argv[2], signature_def=sys.argv[3],"
    " saved_model_tags=sys.argv[4], control_flow_v2=True, skip_op_check=True)\n"
    + signature_mod.CHILD_KEYS
)


def converter_missing() -> str | None:
    """Why the TF.js converter cannot run here, or None."""
    if importlib.util.find_spec("tensorflowjs") is None:
        return 'the TF.js converter is not installed: pip install "ddspgl[convert]"'
    return None


def run_converter(
    saved_model, out, *, signature: str = "serving_default", tags: str = "serve"
) -> None:
    """tensorflowjs_converter --input_format=tf_saved_model SAVED_MODEL OUT, in a child,
    with the signature's outputs keyed by the SavedModel's output names (:mod:`.signature`)."""
    saved_model = Path(saved_model)
    if not (saved_model / "saved_model.pb").is_file():
        raise ModelError(
            f"{saved_model}: no saved_model.pb (expected a TF SavedModel folder)"
            + _training_folder_hint(saved_model)
        )
    why = converter_missing()
    if why:
        raise ModelError(why)
    # Quiet TF's C++ logs; without a terminal, tensorflow_decision_forests (a converter
    # dependency) would import IPython to greet a notebook.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TFDF_DISABLE_WELCOME_MESSAGE="1")
    keys = Path(out).with_name(Path(out).name + ".keys.json")
    cmd = [sys.executable, "-c", _CHILD, str(saved_model), str(out), signature, tags, str(keys)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not (Path(out) / "model.json").is_file() or not keys.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise ModelError(
            f"tensorflowjs_converter failed on {saved_model} (exit {proc.returncode}):\n{tail}"
        )


def _training_folder_hint(folder: Path) -> str:
    """What to do when `folder` is a ddsp training folder rather than its export."""
    try:
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    except OSError:
        return ""
    if any(n.startswith("operative_config") and n.endswith(".gin") for n in names) or any(
        n.startswith("ckpt-") and n.endswith(".index") for n in names
    ):
        return (
            "; it holds a ddsp training checkpoint: export it first (ddsp_export, or "
            "ddsp.training.inference.AutoencoderInference(ckpt).save_model(dir))"
        )
    return ""


def tfjs_fixes(model: Model) -> tuple[Model, list[str]]:
    """`model` with the ops TF.js 4.22 cannot run as converted rewritten into ops it runs
    (Roll, training-mode batch norm), and one line per rewrite; `model` if none."""
    changes = []
    for rewrite in (rewrite_roll.rewrite, rewrite_layernorm.rewrite):
        model, done = rewrite(model)
        changes += done
    return model, changes


def known_ops() -> set[str]:
    """Ops a `ddspgl convert` output may hold: TF.js 4.22's and the bundle's graph ops
    (every kernel's, registered by name with tf.registerOp)."""
    return op_check.tfjs_ops() | {k.tfjs_kernel for k in KERNELS}


@dataclass
class Result:
    """What a rewrite did: sizes of each stage's files and the rewrites' reports."""

    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    fixes: list[str] = field(default_factory=list)
    changes: list = field(default_factory=list)
    quantized: list[str] = field(default_factory=list)
    matches: list = field(default_factory=list)
    compacted: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def write(model: Model, original: Model, out) -> list[Path]:
    """`model` into `out`: a byte-for-byte copy when no rewrite changed it."""
    if model is original:
        return copy_files(original, out)
    return save(model, out)


def compress_folder(src, out, *, min_bytes: int = compress_mod.MIN_BYTES) -> Result:
    check_output(out)
    model = load(src)
    new, changes = compress_mod.compress(model, min_bytes=min_bytes)
    res = Result(changes=changes)
    res.written = write(new if changes else model, model, out)
    res.sizes = {"input": sizes(src), "compressed": sizes(out)}
    return res


def fuse_folder(src, out) -> Result:
    check_output(out)
    model = load(src)
    new, report = fuse_mod.fuse(model)
    res = Result(matches=report)
    res.written = write(new, model, out)
    res.sizes = {"input": sizes(src), "fused": sizes(out)}
    return res


def compact_folder(src, out) -> Result:
    check_output(out)
    model = load(src)
    new, report = compact_mod.compact(model)
    res = Result(compacted=report)
    res.written = write(new, model, out)
    res.sizes = {"input": sizes(src), "compacted": sizes(out)}
    return res


def convert(
    saved_model,
    out,
    *,
    signature: str = "serving_default",
    tags: str = "serve",
    min_bytes: int = compress_mod.MIN_BYTES,
    compress: bool = True,
    fuse: bool = True,
    compact: bool = True,
    float16: bool = False,
) -> Result:
    """SavedModel -> TF.js graph model -> TF.js fixes -> compressed -> fused -> compacted
    -> float16 weights (`float16`), checked against TF.js's ops, into `out`."""
    out = check_output(out)
    res = Result()
    with tempfile.TemporaryDirectory(prefix="ddspgl-convert-") as tmp:
        stage = Path(tmp) / "converted"
        run_converter(saved_model, stage, signature=signature, tags=tags)
        res.sizes["converted"] = sizes(stage)
        original = model = load(stage)
        names = json.loads((Path(tmp) / "converted.keys.json").read_text())
        if signature_mod.rename_outputs(model, names):
            step = Path(tmp) / "named"
            save(model, step)
            original = model = load(step)
        model, res.fixes = tfjs_fixes(model)
        if res.fixes:
            step = Path(tmp) / "fixed"
            save(model, step)
            res.sizes["fixed"] = sizes(step)
            original = model = load(step)
        if compress:
            model, res.changes = compress_mod.compress(model, min_bytes=min_bytes)
            if not res.changes:
                model = original
        if compress and model is not original:
            step = Path(tmp) / "compressed"
            save(model, step)
            res.sizes["compressed"] = sizes(step)
        if fuse:
            fused, res.matches = fuse_mod.fuse(model)
            if fused is not model:
                model = fused
                step = Path(tmp) / "fused"
                save(model, step)
                res.sizes["fused"] = sizes(step)
        if compact:
            model, res.compacted = compact_mod.compact(model)
            step = Path(tmp) / "compacted"
            save(model, step)
            res.sizes["compacted"] = sizes(step)
        if float16:
            model, res.quantized = quantize.quantize_float16(model)
            if res.quantized:
                step = Path(tmp) / "float16"
                save(model, step)
                res.sizes["float16"] = sizes(step)
        op_check.check(model, known_ops())
        res.written = write(model, original, out)
    return res


def size_table(stages: dict[str, dict[str, int]]) -> str:
    """A small text table: bytes of model.json, shards and total per stage, and ratios."""
    first = next(iter(stages.values()))["total"]
    lines = [f"{'stage':<11} {'model.json':>11} {'weights':>11} {'total':>11} {'ratio':>8}"]
    for stage, s in stages.items():
        ratio = first / s["total"] if s["total"] else float("inf")
        lines.append(
            f"{stage:<11} {s['json']:>11,} {s['weights']:>11,} {s['total']:>11,} {ratio:>7.1f}x"
        )
    return "\n".join(lines)
