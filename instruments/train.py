"""`ddspgl train INSTRUMENT -o DIR`: an instrument model trained with magenta's ddsp.

The options are checked here, before any work (:func:`check`; each error names the
option and its limit); the work runs in a child Python process
(:mod:`.ddsp_train`, where TensorFlow and ddsp load: never in the caller's process),
writing into a temporary folder beside DIR that becomes DIR only when everything is
written, so a failed or interrupted run leaves nothing. The child's progress lines
(``step S/N  loss L  R steps/s``) are passed on to `log` as they come.

DIR holds ``ckpt/`` (checkpoint and ``operative_config-0.gin``), ``saved_model/`` (the
export ``ddspgl convert`` reads), ``stats.json`` (:mod:`.dataset`), ``train.json`` and
``train.log``. :func:`resume` continues a run from its folder's checkpoint (ddsp's
``Trainer.restore``: weights, optimizer state and step) into a new folder, whose
train.json holds the whole loss history and where it resumed from. :func:`sweep` trains
one model per decoder size into ``DIR/ch<C>/`` and
writes ``DIR/sweep.json`` and ``DIR/sweep.md``: the smallest decoder whose held-out loss
is within ``SWEEP_MARGIN`` of the largest size tried's.

Needs the ``ddsp`` extra (``pip install -e ".[convert,ddsp]"`` and
``bash model/install_ddsp.sh``), the ``instruments`` extra, FluidSynth and the FluidR3
soundfont.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import dataset, phrases

INSTRUMENTS = tuple(phrases.INSTRUMENTS)
SWEEP_MARGIN = 0.10  # the rule: within 10 % of the largest model's held-out loss
SWEEP_CHANNELS = (16, 32, 64, 128)
DDSP_INSTALL = 'pip install -e ".[convert,ddsp]" && bash model/install_ddsp.sh'
_CHILD = "ddspgl.instruments.ddsp_train"


class TrainError(Exception):
    """Training cannot run as asked, or failed: one line saying why."""


@dataclass(frozen=True)
class Config:
    """One training run. Defaults: ddsp's (4 s examples, learning rate 3e-4 with its
    decay, 100 harmonics, 65 noise bands) and a decoder of 2 stacks of 3 dilated
    convolutions with `decoder_channels` channels."""

    instrument: str
    steps: int = 2000
    batch: int = 8
    seed: int = 0
    decoder_channels: int = 64
    decoder_layers: int = 3  # dilated convolutions per stack (2 stacks)
    phrases: int = 48
    held_out: int = 8
    phrase_seconds: float = 8.0
    example_seconds: float = 4.0
    export_seconds: float = 4.0
    learning_rate: float = 3e-4
    log_seconds: float = 10.0  # a progress line at most this often (and at the first and last)


# option -> (lowest, highest): the limits :func:`check` enforces, named as on the command line
LIMITS = {
    "steps": (1, 10_000_000),
    "batch": (1, 1024),
    "seed": (0, 1_000_000),
    "decoder_channels": (4, 1024),
    "decoder_layers": (1, 10),
    "phrases": (1, dataset.MAX_PHRASES),
    "held_out": (0, dataset.MAX_PHRASES),
    "phrase_seconds": (1.0, 600.0),
    "example_seconds": (0.5, 60.0),  # ddsp's largest loss FFT is 2048 samples (0.128 s)
    "export_seconds": (0.5, 60.0),
    "learning_rate": (1e-7, 1.0),
    "log_seconds": (0.0, 3600.0),
}


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def examples_per_phrase(config: Config) -> int:
    """Training examples cut from one phrase (``dataset.cut``'s count)."""
    frames = int(round(config.phrase_seconds * dataset.FRAME_RATE))
    width = int(round(config.example_seconds * dataset.FRAME_RATE))
    hop = int(round(dataset.EXAMPLE_HOP_SECONDS * dataset.FRAME_RATE))
    return 0 if width > frames else (frames - width) // hop + 1


def check(config: Config) -> Config:
    """`config` if every field is in its limits, else a TrainError naming the option."""
    if config.instrument not in INSTRUMENTS:
        raise TrainError(f"instrument: one of {', '.join(INSTRUMENTS)}; got {config.instrument!r}")
    for name, (lo, hi) in LIMITS.items():
        value = getattr(config, name)
        kind = int if isinstance(lo, int) else float
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TrainError(f"{option(name)}: must be a number, got {value!r}")
        if kind is int and value != int(value):
            raise TrainError(f"{option(name)}: must be a whole number, got {value!r}")
        if not lo <= value <= hi:  # NaN fails too
            raise TrainError(f"{option(name)}: must lie in [{lo}, {hi}], got {value!r}")
    if config.example_seconds > config.phrase_seconds:
        raise TrainError(
            f"--example-seconds: {config.example_seconds} is longer than --phrase-seconds "
            f"{config.phrase_seconds}"
        )
    available = config.phrases * examples_per_phrase(config)
    if config.batch > available:
        raise TrainError(
            f"--batch: {config.batch} is more than the {available} training examples of "
            f"{config.phrases} phrases (use --batch {available} or fewer, or more --phrases)"
        )
    return config


def missing() -> str | None:
    """Why training cannot run here (a package, FluidSynth or the soundfont), or None."""
    for module in ("tensorflow", "tf_keras", "gin", "ddsp", "crepe"):
        if importlib.util.find_spec(module) is None:
            return f"the ddsp extra is not installed ({module} is missing): {DDSP_INSTALL}"
    if importlib.util.find_spec("scipy") is None:
        return 'scipy is not installed: pip install -e ".[instruments]"'
    return phrases.missing()


def _check_out(out) -> Path:
    """`out`: a new folder (absent or empty), writable; raises TrainError."""
    from ..model.graph import ModelError, check_output

    try:
        return check_output(out)
    except ModelError as exc:
        raise TrainError(str(exc)) from None


def _run_child(
    config: Config, folder: Path, log: Callable[[str], None], resume: dict | None = None
) -> dict:
    """ddsp_train in a child process into the new `folder` (continuing `resume`, see
    :func:`resume`); its train.json."""
    env = dict(
        os.environ,
        TF_USE_LEGACY_KERAS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        TFDF_DISABLE_WELCOME_MESSAGE="1",
        PYTHONWARNINGS="ignore",
    )
    cmd = [sys.executable, "-m", _CHILD, json.dumps(dataclasses.asdict(config)), str(folder)]
    if resume is not None:
        cmd.append(json.dumps(resume))
    with tempfile.TemporaryFile("w+") as err:
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env) as proc:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    log(line.rstrip("\n"))
            except BaseException:
                proc.kill()
                raise
        code = proc.returncode
        err.seek(0)
        lines = [line.rstrip() for line in err.read().splitlines() if line.strip()]
    report = folder / "train.json"
    if code != 0 or not report.is_file():
        if code == 2 and lines:  # the child's own one-line refusal
            raise TrainError(lines[-1])
        tail = "\n".join(lines[-12:])
        raise TrainError(f"training failed (exit {code}):\n{tail}")
    return json.loads(report.read_text())


def _atomic(out: Path, work: Callable[[Path], object]):
    """Run `work(tmp)` in a new folder beside `out`, then make it `out`; on any failure
    (an interrupt too) remove it, so that nothing is left."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # A new name beside `out`, made with the umask's mode (mkdtemp's would be 0700).
        tmp = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.mkdir()
    except OSError as exc:
        raise TrainError(f"{out}: cannot write: {exc.strerror or exc}") from None
    try:
        result = work(tmp)
        if out.exists():
            out.rmdir()  # empty: checked before the work
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


def _ready(config: Config, out) -> Path:
    check(config)
    out = _check_out(out)
    why = missing()
    if why:
        raise TrainError(why)
    return out


def train(config: Config, out, *, log: Callable[[str], None] = print) -> dict:
    """Train `config` into the new folder `out`; returns its train.json."""
    out = _ready(config, out)
    return _atomic(out, lambda tmp: _run_child(config, tmp, log))


# What a checkpoint fixes: its instrument and its weights' shapes. A resumed run that
# names another value for one of these is refused; every other option may change.
FIXED_BY_CHECKPOINT = ("instrument", "decoder_channels", "decoder_layers")


def resume_from(run_dir, given: dict) -> tuple[Config, dict]:
    """The config of a run continuing `run_dir` (a folder `ddspgl train` wrote):
    `run_dir`/train.json's, with the options in `given` (name -> value) instead; and what
    the child needs to continue (the checkpoint folder, the steps and losses before).
    Raises TrainError, naming --resume or the option, before any work."""
    run = Path(run_dir)
    if not run.is_dir():
        raise TrainError(f"--resume: {run} is not a folder")
    ckpt = run / "ckpt"
    marker = ckpt / "checkpoint"
    if not marker.is_file():
        raise TrainError(
            f"--resume: {run} holds no checkpoint ({marker} is missing); give a folder "
            "`ddspgl train` wrote"
        )
    try:
        report = json.loads((run / "train.json").read_text())
        previous = Config(**report["config"])
        steps, losses = int(report["steps"]), [float(v) for v in report["losses"]]
        if report.get("format") != "ddspgl-train/1" or len(losses) != steps:
            raise ValueError("not a ddspgl-train/1 report")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise TrainError(
            f"--resume: {run / 'train.json'} is not a readable train report: {exc}"
        ) from None
    saved = f'"ckpt-{steps}"'
    if saved not in marker.read_text():
        raise TrainError(
            f"--resume: {marker} does not name ckpt-{steps}, the step {run / 'train.json'} reports"
        )
    for name in FIXED_BY_CHECKPOINT:
        if name in given and given[name] != getattr(previous, name):
            what = "instrument" if name == "instrument" else option(name)
            raise TrainError(
                f"{what}: {given[name]!r} contradicts the checkpoint's {getattr(previous, name)!r}"
                f" ({run / 'train.json'}); leave it out to resume"
            )
    config = check(dataclasses.replace(previous, **given))
    state = {"from": str(run.resolve()), "ckpt": str(ckpt.resolve()), "losses": losses}
    return config, state


def resume(run_dir, out, given: dict, *, log: Callable[[str], None] = print) -> dict:
    """Continue the run in `run_dir` for `given["steps"]` more steps (its own count
    unless given) into the new folder `out`; the options in `given` replace the run's
    (:func:`resume_from`). Returns the new train.json."""
    config, state = resume_from(run_dir, given)
    out = _ready(config, out)
    return _atomic(out, lambda tmp: _run_child(config, tmp, log, state))


def _within(losses: dict[int, float], margin: float) -> int:
    """The smallest size whose loss is at most (1 + margin) times the largest size's."""
    largest = losses[max(losses)]
    return min(c for c, v in losses.items() if v <= (1.0 + margin) * largest)


def sweep(
    config: Config,
    channels: tuple[int, ...],
    out,
    *,
    log: Callable[[str], None] = print,
) -> dict:
    """One model per decoder size (`channels`, each in LIMITS) into ``out/ch<C>``; the
    pick and the table in ``out/sweep.json`` and ``out/sweep.md``."""
    if len(channels) < 2 or len(set(channels)) != len(channels):
        raise TrainError(f"--sweep: two or more different sizes, got {list(channels)}")
    lo, hi = LIMITS["decoder_channels"]
    for c in channels:
        if not lo <= c <= hi:
            raise TrainError(f"--sweep: sizes must lie in [{lo}, {hi}], got {c}")
    if config.held_out < 1:
        raise TrainError("--held-out: the sweep compares held-out losses; give 1 or more")
    out = _ready(config, out)

    def work(tmp: Path) -> dict:
        rows = []
        for c in sorted(channels):
            run = dataclasses.replace(config, decoder_channels=c)
            report = _run_child(run, tmp / f"ch{c}", lambda s, c=c: log(f"[ch {c}] {s}"))
            rows.append(
                {
                    "decoder_channels": c,
                    "parameters": report["parameters"],
                    "held_out_loss": report["held_out_loss"]["after"],
                    "final_loss": report["losses"][-1],
                    "steps": report["steps"],
                    "steps_per_s": report["steps_per_s"],
                    "train_s": report["seconds"]["train_s"],
                }
            )
        losses = {r["decoder_channels"]: r["held_out_loss"] for r in rows}
        chosen = _within(losses, SWEEP_MARGIN)
        largest = losses[max(losses)]
        for r in rows:
            r["ratio_to_largest"] = r["held_out_loss"] / largest
        doc = {
            "format": "ddspgl-sweep/1",
            "instrument": config.instrument,
            "rule": f"smallest decoder with held-out loss <= {1 + SWEEP_MARGIN:g} x the "
            "largest size's",
            "chosen": chosen,
            "config": dataclasses.asdict(config),
            "rows": rows,
        }
        (tmp / "sweep.json").write_text(json.dumps(doc, indent=1) + "\n")
        (tmp / "sweep.md").write_text(sweep_markdown(doc))
        return doc

    return _atomic(out, work)


def sweep_markdown(doc: dict) -> str:
    lines = [
        f"# Decoder size sweep: {doc['instrument']}",
        "",
        f"{doc['config']['steps']} steps, batch {doc['config']['batch']}, "
        f"{doc['config']['phrases']} training phrases, {doc['config']['held_out']} held out, "
        f"seed {doc['config']['seed']}. Rule: {doc['rule']}.",
        "",
        "| channels | parameters | held-out loss | / largest | final train loss | steps/s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        mark = " **chosen**" if r["decoder_channels"] == doc["chosen"] else ""
        lines.append(
            f"| {r['decoder_channels']}{mark} | {r['parameters']:,} | {r['held_out_loss']:.4f} "
            f"| {r['ratio_to_largest']:.3f} | {r['final_loss']:.4f} | {r['steps_per_s']:.3f} |"
        )
    return "\n".join(lines) + "\n"
