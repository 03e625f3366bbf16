"""Every `ddspgl` subcommand's failures: one `ddspgl: ...` line on stderr, exit status 2.

Each case runs the command in this process (`cli.main`) and checks: status 2, exactly one
line on stderr naming what is wrong, nothing on stdout, and nothing written under the
test's folder. Where the work is expensive (a suite, a conversion, a benchmark run), the
work itself is replaced by a function that fails the test: an argument or output folder
that is wrong must be refused before it starts. A table test makes sure every subcommand
`ddspgl --help` lists has cases here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ddspgl import cli
from ddspgl.model import graph


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _must_not_run(*args, **kwargs):
    raise AssertionError("the work started before its arguments were checked")


def _models_stub(monkeypatch) -> None:
    from ddspgl.tools import models_report

    monkeypatch.setattr(models_report, "run", _must_not_run)


def _saved(root: Path) -> Path:
    """A folder that looks like a SavedModel (its run is stubbed out)."""
    folder = root / "saved_model"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"")
    return folder


def _unwritable(tmp_path: Path) -> Path:
    """A folder path that cannot be created: under a read-only folder, or (as root, whom
    permissions do not stop) under /proc, where nothing can be made."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        (locked / "probe").mkdir()
    except OSError:
        return locked / "out"
    (locked / "probe").rmdir()
    locked.chmod(0o700)
    return Path("/proc/ddspgl-no-such-folder/out")


def _model(folder: Path) -> Path:
    """A small valid graph model folder."""
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        graph.const_node("w", "float32", [2]),
        {"name": "y", "op": "Mul", "input": ["x", "w"], "attr": {"T": {"type": "DT_FLOAT"}}},
    ]
    doc = {"format": "graph-model", "modelTopology": {"node": nodes}}
    w = graph.Weight.from_array("w", np.ones(2, np.float32), "float32")
    graph.save(graph.Model(doc, {"w": w}), folder)
    return folder


# name -> (subcommand, setup(tmp_path, monkeypatch) -> argv, words the line must hold).
# `setup` builds what the case needs and stubs out the work the command must not reach.


def _info_env(tmp, mp):
    mp.setenv("DDSPGL_BACKEND", "bogus")
    return ["info"]


def _precision_stub(mp):
    from ddspgl.tools import precision

    mp.setattr(precision, "run_cases", _must_not_run)


def _memory_stub(mp):
    from ddspgl.tools import memory

    mp.setattr(memory, "run_all", _must_not_run)


def _bench_root(tmp: Path) -> Path:
    (tmp / "tests" / "bench").mkdir(parents=True)
    return tmp


def _bench_stub(mp):
    import pytest as pytest_module

    mp.setattr(pytest_module, "main", _must_not_run)


def _convert_stub(mp):
    from ddspgl.model import convert

    mp.setattr(convert, "run_converter", _must_not_run)


def _file(tmp: Path) -> Path:
    (tmp / "afile").write_text("not a folder")
    return tmp / "afile"


def _dangling(tmp: Path) -> Path:
    (tmp / "link").symlink_to(tmp / "nowhere")
    return tmp / "link"


def _bad_report(tmp: Path, text: str) -> Path:
    (tmp / "reports" / "bench").mkdir(parents=True)
    (tmp / "reports" / "bench" / "x.json").write_text(text)
    return tmp


CASES = {
    # info
    "info: bad $DDSPGL_BACKEND": ("info", _info_env, "got 'bogus'"),
    "info: --backend browser": ("info", lambda t, m: ["info", "--backend", "browser"], "browser"),
    "info: --angle without browser": (
        "info",
        lambda t, m: ["info", "--angle", "egl"],
        "--angle picks the browser's WebGL driver",
    ),
    "info: unknown --backend": (
        "info",
        lambda t, m: ["info", "--backend", "vulkan"],
        "invalid choice: 'vulkan'",
    ),
    # precision
    "precision: unknown kernel": (
        "precision",
        lambda t, m: (_precision_stub(m), ["precision", "--kernel", "nope", "--root", str(t)])[1],
        "invalid choice: 'nope'",
    ),
    "precision: --root a file": (
        "precision",
        lambda t, m: (_precision_stub(m), ["precision", "--root", str(_file(t))])[1],
        "is not a folder",
    ),
    "precision: --root under a file": (
        "precision",
        lambda t, m: (_precision_stub(m), ["precision", "--root", str(_file(t) / "r")])[1],
        "is not a folder",
    ),
    "precision: --angle without browser": (
        "precision",
        lambda t, m: (_precision_stub(m), ["precision", "--angle", "egl", "--root", str(t)])[1],
        "--angle picks",
    ),
    "precision: bad $DDSPGL_BACKEND": (
        "precision",
        lambda t, m: (_precision_stub(m), _info_env(t, m), ["precision", "--root", str(t)])[2],
        "got 'bogus'",
    ),
    # bundle
    "bundle: -o a file": ("bundle", lambda t, m: ["bundle", "-o", str(_file(t))], "a file"),
    "bundle: -o under a file": (
        "bundle",
        lambda t, m: ["bundle", "-o", str(_file(t) / "dist")],
        "is not a folder",
    ),
    "bundle: -o unwritable": (
        "bundle",
        lambda t, m: ["bundle", "-o", str(_unwritable(t))],
        "cannot write in",
    ),
    "bundle: -o a dangling link": (
        "bundle",
        lambda t, m: ["bundle", "-o", str(_dangling(t))],
        "dangling symbolic link",
    ),
    # bench
    "bench: --angle without browser": (
        "bench",
        lambda t, m: (_bench_stub(m), ["bench", "--angle", "egl", "--root", str(_bench_root(t))])[
            1
        ],
        "--angle picks",
    ),
    "bench: no suite": (
        "bench",
        lambda t, m: (_bench_stub(m), ["bench", "--root", str(t)])[1],
        "no benchmark suite",
    ),
    "bench: reports a file": (
        "bench",
        lambda t, m: (
            _bench_stub(m),
            (_bench_root(t) / "reports").write_text("x"),
            ["bench", "--root", str(t)],
        )[2],
        "is not a folder",
    ),
    "bench: bad $DDSPGL_BACKEND": (
        "bench",
        lambda t, m: (_bench_stub(m), _info_env(t, m), ["bench", "--root", str(_bench_root(t))])[2],
        "got 'bogus'",
    ),
    "bench: unknown kernel": (
        "bench",
        lambda t, m: (_bench_stub(m), ["bench", "--kernel", "nope", "--root", str(t)])[1],
        "invalid choice: 'nope'",
    ),
    # memory
    "memory: --root a file": (
        "memory",
        lambda t, m: (_memory_stub(m), ["memory", "--root", str(_file(t))])[1],
        "is not a folder",
    ),
    "memory: --root unwritable": (
        "memory",
        lambda t, m: (_memory_stub(m), ["memory", "--root", str(_unwritable(t))])[1],
        "cannot write in",
    ),
    "memory: --angle without browser": (
        "memory",
        lambda t, m: (_memory_stub(m), ["memory", "--angle", "egl", "--root", str(t)])[1],
        "--angle picks",
    ),
    "memory: bad $DDSPGL_BACKEND": (
        "memory",
        lambda t, m: (_memory_stub(m), _info_env(t, m), ["memory", "--root", str(t)])[2],
        "got 'bogus'",
    ),
    # report
    "report: no reports": ("report", lambda t, m: ["report", "--root", str(t)], "no benchmark"),
    "report: --root a file": (
        "report",
        lambda t, m: ["report", "--root", str(_file(t))],
        "no benchmark reports",
    ),
    "report: not JSON": (
        "report",
        lambda t, m: ["report", "--root", str(_bad_report(t, "{oops"))],
        "not a `ddspgl bench` report",
    ),
    "report: JSON of another kind": (
        "report",
        lambda t, m: ["report", "--root", str(_bad_report(t, "[1, 2]"))],
        "not a `ddspgl bench` report",
    ),
    # convert
    "convert: OUT under a file": (
        "convert",
        lambda t, m: (_convert_stub(m), ["convert", str(t), "-o", str(_file(t) / "out")])[1],
        "is not a folder",
    ),
    "convert: OUT a dangling link": (
        "convert",
        lambda t, m: (_convert_stub(m), ["convert", str(t), "-o", str(_dangling(t))])[1],
        "symbolic link",
    ),
    "convert: OUT unwritable": (
        "convert",
        lambda t, m: (_convert_stub(m), ["convert", str(t), "-o", str(_unwritable(t))])[1],
        "cannot write in",
    ),
    "convert: no SavedModel": (
        "convert",
        lambda t, m: ["convert", str(t / "nothing"), "-o", str(t / "out")],
        "no saved_model.pb",
    ),
    "convert: no -o": ("convert", lambda t, m: ["convert", str(t)], "required: -o/--output"),
    # serve
    "serve: no models folder": (
        "serve",
        lambda t, m: ["serve", "--models", str(t / "missing")],
        "is not a folder",
    ),
    "serve: port out of range": ("serve", lambda t, m: ["serve", "--port", "70000"], "--port"),
    # models
    "models: no SavedModel": (
        "models",
        lambda t, m: (_models_stub(m), ["models", str(t / "nothing")])[1],
        "no saved_model.pb",
    ),
    "models: --reps 0": (
        "models",
        lambda t, m: (_models_stub(m), ["models", str(_saved(t)), "--reps", "0"])[1],
        "must be 1 or more",
    ),
    "models: unknown storage": (
        "models",
        lambda t, m: (_models_stub(m), ["models", str(_saved(t)), "--storage", "int8"])[1],
        "invalid choice",
    ),
    "models: reports unwritable": (
        "models",
        lambda t, m: (
            _models_stub(m),
            ["models", str(_saved(t)), "--root", str(_unwritable(t))],
        )[1],
        "cannot write in",
    ),
}
for _tool in ("compress", "fuse", "compact"):
    CASES |= {
        f"{_tool}: OUT under a file": (
            _tool,
            lambda t, m, tool=_tool: [tool, str(_model(t / "m")), "-o", str(_file(t) / "o")],
            "is not a folder",
        ),
        f"{_tool}: OUT a file": (
            _tool,
            lambda t, m, tool=_tool: [tool, str(_model(t / "m")), "-o", str(_file(t))],
            "exists and is a file",
        ),
        f"{_tool}: OUT unwritable": (
            _tool,
            lambda t, m, tool=_tool: [tool, str(_model(t / "m")), "-o", str(_unwritable(t))],
            "cannot write in",
        ),
        f"{_tool}: OUT a dangling link": (
            _tool,
            lambda t, m, tool=_tool: [tool, str(_model(t / "m")), "-o", str(_dangling(t))],
            "symbolic link",
        ),
        f"{_tool}: OUT a link to an empty folder": (
            _tool,
            lambda t, m, tool=_tool: (
                (t / "empty").mkdir(),
                (t / "link").symlink_to(t / "empty"),
                [tool, str(_model(t / "m")), "-o", str(t / "link")],
            )[2],
            "symbolic link",
        ),
        f"{_tool}: no model folder": (
            _tool,
            lambda t, m, tool=_tool: [tool, str(t / "none"), "-o", str(t / "out")],
            "not a folder",
        ),
        f"{_tool}: --min-bytes negative": (
            _tool,
            lambda t, m, tool=_tool: (
                [tool, str(t), "-o", str(t / "o"), "--min-bytes", "-1"]
                if tool == "compress"
                else [tool, str(t), "-o", str(t / "o"), "--bogus"]
            ),
            "must be 0 or more" if _tool == "compress" else "unrecognized arguments: --bogus",
        ),
    }


def _train_stub(mp, fail: bool = False):
    """`ddspgl train` with its child replaced: by one that must not run, or (`fail`) by
    one that writes into its folder and then fails, as a crashed training run would."""
    from ddspgl.instruments import train

    def crash(config, folder, log, resume=None):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "train.log").write_text("half a run")
        raise train.TrainError("training failed (exit 1): boom")

    mp.setattr(train, "missing", lambda: None)
    mp.setattr(train, "_run_child", crash if fail else _must_not_run)


def _train(t, m, *args, fail=False):
    _train_stub(m, fail)
    return ["train", *args]


CASES |= {
    "train: unknown instrument": (
        "train",
        lambda t, m: _train(t, m, "oboe", "-o", str(t / "o")),
        "argument instrument: invalid choice: 'oboe'",
    ),
    "train: no -o": ("train", lambda t, m: _train(t, m, "shehnai"), "required: -o/--output"),
    "train: --steps 0": (
        "train",
        lambda t, m: _train(t, m, "sarangi", "-o", str(t / "o"), "--steps", "0"),
        "--steps: must lie in [1, 10000000], got 0",
    ),
    "train: --batch more than the examples": (
        "train",
        lambda t, m: _train(t, m, "bansuri", "-o", str(t / "o"), "--phrases", "2", "--batch", "11"),
        "--batch: 11 is more than the 10 training examples of 2 phrases",
    ),
    "train: --example-seconds longer than a phrase": (
        "train",
        lambda t, m: _train(t, m, "bansuri", "-o", str(t / "o"), "--example-seconds", "9"),
        "--example-seconds: 9.0 is longer than --phrase-seconds 8.0",
    ),
    "train: --phrase-seconds NaN": (
        "train",
        lambda t, m: _train(t, m, "bansuri", "-o", str(t / "o"), "--phrase-seconds", "nan"),
        "--phrase-seconds: must lie in",
    ),
    "train: --sweep one size": (
        "train",
        lambda t, m: _train(t, m, "shehnai", "-o", str(t / "o"), "--sweep", "32"),
        "--sweep: two or more different sizes",
    ),
    "train: --sweep not sizes": (
        "train",
        lambda t, m: _train(t, m, "shehnai", "-o", str(t / "o"), "--sweep", "16,x"),
        "argument --sweep: not sizes separated by commas",
    ),
    "train: --sweep size past the limit": (
        "train",
        lambda t, m: _train(t, m, "shehnai", "-o", str(t / "o"), "--sweep", "16,2048"),
        "--sweep: sizes must lie in [4, 1024], got 2048",
    ),
    "train: --sweep without held-out phrases": (
        "train",
        lambda t, m: _train(
            t, m, "shehnai", "-o", str(t / "o"), "--sweep", "8,16", "--held-out", "0"
        ),
        "--held-out: the sweep compares held-out losses",
    ),
    "train: OUT a file": (
        "train",
        lambda t, m: _train(t, m, "shehnai", "-o", str(_file(t))),
        "exists and is a file",
    ),
    "train: OUT not empty": (
        "train",
        lambda t, m: (
            (t / "full").mkdir(),
            (t / "full" / "x").write_text("x"),
            _train(t, m, "shehnai", "-o", str(t / "full")),
        )[2],
        "not an empty folder",
    ),
    "train: OUT unwritable": (
        "train",
        lambda t, m: _train(t, m, "shehnai", "-o", str(_unwritable(t))),
        "cannot write in",
    ),
    "train: a failed run leaves nothing": (
        "train",
        lambda t, m: _train(t, m, "shehnai", "-o", str(t / "o"), "--steps", "3", fail=True),
        "training failed (exit 1): boom",
    ),
}


def _run_dir(t: Path, *, ckpt: bool = True, report: str | None = None, step: int = 2) -> Path:
    """A folder as `ddspgl train` leaves it, as far as --resume reads it: train.json (a
    2-step shehnai run, decoder 32) and ckpt/checkpoint naming ckpt-`step`."""
    import json

    run = t / "run"
    run.mkdir()
    config = {"instrument": "shehnai", "steps": 2, "batch": 2, "decoder_channels": 32}
    doc = {"format": "ddspgl-train/1", "config": config, "steps": 2, "losses": [9.0, 8.0]}
    (run / "train.json").write_text(json.dumps(doc) if report is None else report)
    if ckpt:
        (run / "ckpt").mkdir()
        (run / "ckpt" / "checkpoint").write_text(f'model_checkpoint_path: "ckpt-{step}"\n')
    return run


def _resume(t, m, *args, fail=False, **run):
    return _train(t, m, *args, "-o", str(t / "o"), "--resume", str(_run_dir(t, **run)), fail=fail)


CASES |= {
    "train: no instrument and no --resume": (
        "train",
        lambda t, m: _train(t, m, "-o", str(t / "o")),
        "instrument: one of shehnai, bansuri, sarangi (or --resume RUN_DIR)",
    ),
    "train: --resume no such folder": (
        "train",
        lambda t, m: _train(t, m, "-o", str(t / "o"), "--resume", str(t / "none")),
        "/none is not a folder",
    ),
    "train: --resume a folder without ckpt": (
        "train",
        lambda t, m: _resume(t, m, ckpt=False),
        "holds no checkpoint",
    ),
    "train: --resume train.json unreadable": (
        "train",
        lambda t, m: _resume(t, m, report="{not json"),
        "train.json is not a readable train report",
    ),
    "train: --resume checkpoint of another step": (
        "train",
        lambda t, m: _resume(t, m, step=7),
        "does not name ckpt-2, the step",
    ),
    "train: --resume other decoder channels": (
        "train",
        lambda t, m: _resume(t, m, "--decoder-channels", "64"),
        "--decoder-channels: 64 contradicts the checkpoint's 32",
    ),
    "train: --resume other instrument": (
        "train",
        lambda t, m: _resume(t, m, "bansuri"),
        "instrument: 'bansuri' contradicts the checkpoint's 'shehnai'",
    ),
    "train: --resume --steps 0": (
        "train",
        lambda t, m: _resume(t, m, "--steps", "0"),
        "--steps: must lie in [1, 10000000], got 0",
    ),
    "train: --resume with --sweep": (
        "train",
        lambda t, m: _resume(t, m, "--sweep", "16,32"),
        "--sweep: trains new models; it cannot --resume a run",
    ),
    "train: a failed resumed run leaves nothing": (
        "train",
        lambda t, m: _resume(t, m, "--steps", "3", fail=True),
        "training failed (exit 1): boom",
    ),
}


def _quality(t, m, *args):
    """`ddspgl quality` with the page replaced by one that must not open."""
    from ddspgl.tools import app_browser

    m.setattr(app_browser, "AppBrowser", _must_not_run)
    return ["quality", *args]


def _some_models(t: Path) -> Path:
    """A models folder holding the shehnai alone (model.json and stats.json)."""
    folder = t / "models" / "shehnai"
    folder.mkdir(parents=True)
    for name in ("model.json", "stats.json"):
        (folder / name).write_text("{}")
    return t / "models"


CASES |= {
    "quality: no -o": ("quality", lambda t, m: _quality(t, m), "required: -o/--output"),
    "quality: --phrases 0": (
        "quality",
        lambda t, m: _quality(t, m, "-o", str(t / "o"), "--phrases", "0"),
        "--phrases: must be a whole number in [1, 1000], got 0",
    ),
    "quality: --seconds too short": (
        "quality",
        lambda t, m: _quality(t, m, "-o", str(t / "o"), "--seconds", "1"),
        "--seconds: must lie in [2.0, 60.0], got 1.0",
    ),
    "quality: --seconds NaN": (
        "quality",
        lambda t, m: _quality(t, m, "-o", str(t / "o"), "--seconds", "nan"),
        "--seconds: must lie in",
    ),
    "quality: a model missing": (
        "quality",
        lambda t, m: _quality(t, m, "-o", str(t / "o"), "--models", str(_some_models(t))),
        "lacks bansuri, sarangi",
    ),
    "quality: OUT a file": (
        "quality",
        lambda t, m: _quality(t, m, "-o", str(_file(t))),
        "exists and is a file, not a folder",
    ),
    "quality: OUT unwritable": (
        "quality",
        lambda t, m: _quality(t, m, "-o", str(_unwritable(t))),
        "cannot write in",
    ),
}


def _page_speed(t, m, *args):
    """`ddspgl page-speed` with the page replaced by one that must not open."""
    from ddspgl.tools import app_browser

    m.setattr(app_browser, "AppBrowser", _must_not_run)
    return ["page-speed", *args]


CASES |= {
    "page-speed: no -o": ("page-speed", lambda t, m: _page_speed(t, m), "required: -o/--output"),
    "page-speed: --seconds too short": (
        "page-speed",
        lambda t, m: _page_speed(t, m, "-o", str(t / "o"), "--seconds", "0.5"),
        "--seconds: must lie in [1, 300], got 0.5",
    ),
    "page-speed: --seconds NaN": (
        "page-speed",
        lambda t, m: _page_speed(t, m, "-o", str(t / "o"), "--seconds", "nan"),
        "--seconds: must lie in",
    ),
    "page-speed: --reps 0": (
        "page-speed",
        lambda t, m: _page_speed(t, m, "-o", str(t / "o"), "--reps", "0"),
        "--reps: must be a whole number in [1, 20], got 0",
    ),
    "page-speed: --storage float64": (
        "page-speed",
        lambda t, m: _page_speed(t, m, "-o", str(t / "o"), "--storage", "float64"),
        "--storage: one or more of float32, float16, got ['float64']",
    ),
    "page-speed: an instrument missing": (
        "page-speed",
        lambda t, m: _page_speed(
            t, m, "-o", str(t / "o"), "--models", str(_some_models(t)), "--instruments", "veena"
        ),
        "--instruments: ['veena'] not among the models",
    ),
    "page-speed: OUT a file": (
        "page-speed",
        lambda t, m: _page_speed(t, m, "-o", str(_file(t))),
        "exists and is a file, not a folder",
    ),
    "page-speed: OUT unwritable": (
        "page-speed",
        lambda t, m: _page_speed(t, m, "-o", str(_unwritable(t))),
        "cannot write in",
    ),
}


CASES |= {
    "no subcommand": (None, lambda t, m: [], "required: command"),
    "unknown subcommand": (None, lambda t, m: ["nope"], "invalid choice: 'nope'"),
}


@pytest.mark.parametrize("case", CASES)
def test_failure_is_one_line(case, tmp_path, monkeypatch, capsys):
    _, setup, says = CASES[case]
    monkeypatch.delenv("DDSPGL_BACKEND", raising=False)
    monkeypatch.chdir(tmp_path)  # a default --root or -o lands here, never in the checkout
    argv = setup(tmp_path, monkeypatch)
    before = _files(tmp_path)
    environ = dict(os.environ)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("ddspgl: "), err
    assert says in err, err
    assert _files(tmp_path) == before, "a failed command wrote something"
    assert dict(os.environ) == environ, "a failed command changed the environment"


def test_every_subcommand_has_failure_cases():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {cmd for cmd, _, _ in CASES.values() if cmd}


@pytest.mark.parametrize(
    "argv,env,says",
    [
        (["info"], {"DDSPGL_BACKEND": "bogus"}, "got 'bogus'"),
        (["bench", "--angle", "egl"], {}, "--angle picks"),
        (["precision", "--kernel", "nope"], {}, "invalid choice: 'nope'"),
    ],
    ids=["bad-backend", "bench-angle", "precision-kernel"],
)
def test_command_line_exit_status(tmp_path, argv, env, says):
    """The same path from a real command line: the process's status and stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "ddspgl.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []


def test_help_is_not_a_failure(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    assert "compress" in capsys.readouterr().out
