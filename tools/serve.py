"""`ddspgl serve`: the timbre-transfer page (app/) on 127.0.0.1.

An :class:`AppServer` emits the TF.js bundle (:mod:`ddspgl.tools.emit`) into a temporary
folder and serves, on 127.0.0.1 only:

- ``/``: the page, ``app/`` of the checkout (``index.html``, its ES modules);
- ``/models/``: the instrument models, ``app/models/`` unless another folder is given:
  ``<name>/model.json`` (+ shards, from ``ddspgl convert``) and ``<name>/stats.json``;
  ``/models/index.json`` is the folder's own file when it has one, else made from the
  folders that hold both files: ``{"instruments": [names, sorted]}``;
- ``/dist/``: the emitted bundle; ``/node_modules/@tensorflow/``: the pinned TF.js
  (``npm ci`` in the checkout, :func:`ddspgl.tools.browser.node_modules`).

Nothing else is served, and nothing is fetched from anywhere: the page loads everything
from this server. Every response says ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
import mimetypes
import tempfile
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from . import browser, emit

HOST = "127.0.0.1"
INDEX = "index.json"
MODEL_FILES = ("model.json", "stats.json")


class ServeError(RuntimeError):
    """The page cannot be served as asked: one line saying why."""


def app_dir() -> Path | None:
    """The page's folder: app/ of the checkout this package runs from, else of the
    working folder or one above it."""
    here = Path(__file__).resolve().parents[1] / "app"
    candidates = [here] + [d / "app" for d in (Path.cwd(), *Path.cwd().parents)]
    for folder in candidates:
        if (folder / "index.html").is_file() and (folder / "timbre.js").is_file():
            return folder
    return None


def instruments(models: Path) -> list[str]:
    """The instruments in `models`: subfolders holding model.json and stats.json."""
    if not models.is_dir():
        return []
    return sorted(d.name for d in models.iterdir() if all((d / f).is_file() for f in MODEL_FILES))


def models_index(models: Path) -> bytes:
    """/models/index.json: the folder's own file, else made from the folders present."""
    own = models / INDEX
    if own.is_file():
        return own.read_bytes()
    return json.dumps({"instruments": instruments(models)}).encode()


class AppServer(ThreadingHTTPServer):
    """The page, its models, the bundle and TF.js on 127.0.0.1:`port` (0: the OS picks).

    Use as a context manager or call :meth:`start` and :meth:`close`; :attr:`url` is the
    page's address.
    """

    daemon_threads = True

    def __init__(self, port: int = 0, models: Path | None = None, app: Path | None = None):
        app = Path(app) if app is not None else app_dir()
        if app is None or not (app / "index.html").is_file():
            raise ServeError(
                "the page (app/index.html) is not here: run `ddspgl serve` from a ddspgl checkout"
            )
        modules = browser.node_modules()
        if modules is None:
            raise ServeError(
                "TF.js is not installed: run `npm ci` in the ddspgl checkout and run from there"
            )
        self.app = app
        self.models = Path(models) if models is not None else app / "models"
        if models is not None and not self.models.is_dir():
            raise ServeError(f"--models: {self.models} is not a folder")
        self._tmp = tempfile.TemporaryDirectory(prefix="ddspgl-serve-")
        self.dist = Path(self._tmp.name)
        try:
            emit.emit(self.dist)
            self.mounts = {
                "/dist/": self.dist,
                "/node_modules/@tensorflow/": modules / "@tensorflow",
                "/models/": self.models,
                "/": app,
            }
            try:
                super().__init__((HOST, port), _Handler)
            except OSError as exc:
                raise ServeError(
                    f"--port {port}: cannot listen on {HOST}:{port}: {exc.strerror} "
                    "(--port 0 takes any free port)"
                ) from None
        except BaseException:
            self._tmp.cleanup()
            raise
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def start(self) -> AppServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()
        self._tmp.cleanup()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class _Handler(SimpleHTTPRequestHandler):
    server: AppServer
    extensions_map = {
        **mimetypes.types_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".bin": "application/octet-stream",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):  # quiet: the command prints the URL only
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.split("?", 1)[0] == f"/models/{INDEX}":
            data = models_index(self.server.models)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()

    def translate_path(self, path):
        path = unquote(path.split("?", 1)[0].split("#", 1)[0])
        if path == "/":
            path = "/index.html"
        for prefix, folder in self.server.mounts.items():
            if path.startswith(prefix):
                rel = Path(path[len(prefix) :])
                if ".." in rel.parts or rel.is_absolute():
                    break
                return str(folder / rel)
        return str(self.server.app / "__missing__")

    def list_directory(self, path):  # no folder listings
        self.send_error(404)
        return None

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def _say(line: str) -> None:
    print(line, flush=True)


def serve(port: int = 0, models: Path | None = None, log: Callable[[str], None] = _say) -> None:
    """Serve until interrupted (Ctrl-C), after printing the page's URL with `log`."""
    with AppServer(port, models) as server:
        names = instruments(server.models)
        found = ", ".join(names) if names else f"none yet in {server.models}"
        log(f"ddspgl: the timbre-transfer page is at {server.url} (instruments: {found})")
        log("ddspgl: Ctrl-C stops it")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
