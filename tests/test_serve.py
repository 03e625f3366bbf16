"""`ddspgl serve` (tools/serve.py): what it serves, what it refuses, its errors."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from ddspgl import cli
from ddspgl.tools import browser, serve

if browser.node_modules() is None:
    pytest.skip("TF.js is not installed (npm ci): the server needs it", allow_module_level=True)


def _model(folder, *files):
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_text("{}")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    _model(root / "shehnai", "model.json", "stats.json")
    _model(root / "bansuri", "model.json", "stats.json")
    _model(root / "half", "model.json")  # no stats.json: not an instrument
    return root


@pytest.fixture(scope="module")
def server(models):
    with serve.AppServer(models=models) as s:
        yield s


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as res:
            return res.status, res.read(), res.headers.get("Cache-Control", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def test_serves_the_page_bundle_tfjs_and_models(server, models):
    assert server.url.startswith("http://127.0.0.1:")
    status, body, cache = _get(server.url)
    assert status == 200 and b'src="timbre.js"' in body and cache == "no-store"
    assert _get(server.url + "timbre.js")[0] == 200
    assert _get(server.url + "dist/ddspgl-tfjs.js")[0] == 200
    assert _get(server.url + "node_modules/@tensorflow/tfjs/dist/tf.min.js")[0] == 200
    assert _get(server.url + "models/shehnai/stats.json") == (200, b"{}", "no-store")


def test_index_lists_the_folders_with_model_and_stats(server, models):
    status, body, _ = _get(server.url + "models/index.json")
    assert status == 200 and json.loads(body) == {"instruments": ["bansuri", "shehnai"]}
    (models / "index.json").write_text('{"instruments": ["shehnai"]}')
    try:  # the folder's own index wins
        assert json.loads(_get(server.url + "models/index.json")[1]) == {"instruments": ["shehnai"]}
    finally:
        (models / "index.json").unlink()


@pytest.mark.parametrize(
    "path",
    [
        "models/../../pyproject.toml",
        "models/%2e%2e/%2e%2e/pyproject.toml",
        "node_modules/eslint/package.json",  # only TF.js of node_modules
        "models/",  # no folder listings
        "nothing.js",
    ],
)
def test_refuses_what_it_does_not_serve(server, path):
    assert _get(server.url + path)[0] == 404


def test_bad_models_folder(tmp_path, capsys):
    assert cli.main(["serve", "--models", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ddspgl: --models: ") and "is not a folder" in err


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_bad_port(port, capsys):
    assert cli.main(["serve", "--port", port]) == 2
    assert "--port" in capsys.readouterr().err


def test_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ddspgl: --port {port}: cannot listen on 127.0.0.1:{port}")
