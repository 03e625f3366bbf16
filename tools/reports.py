"""Report files: named after the renderer, each written whole or not at all."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

# Software renderers a browser's WebGL may run on, named in ANGLE's renderer string.
SOFTWARE = ("swiftshader", "llvmpipe", "lavapipe")


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def renderer_slug(renderer: str, *, browser: bool = False) -> str:
    """A report's file name for a renderer.

    GL: its name before any parenthesis or slash, 'llvmpipe (LLVM 15.0.6, 256 bits)' ->
    'llvmpipe', 'NVIDIA H100 PCIe/PCIe/SSE2' -> 'nvidia-h100-pcie'. Browser (WebGL through
    ANGLE, whose string names the driver inside parentheses): 'chromium-' and the software
    renderer it names, 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...' ->
    'chromium-swiftshader', else 'chromium-' and its first 60 characters of words.
    """
    if browser:
        text = renderer.lower()
        known = next((name for name in SOFTWARE if name in text), None)
        return f"chromium-{known or _words(text)[:60].strip('-')}"
    return _words(re.sub(r"\(.*?\)", "", renderer).split("/")[0]) or "unknown"


def write(
    folder: Path, slug: str, payload: dict, text: str, draw: Callable[[Path], None]
) -> list[Path]:
    """folder/<slug>.json (`payload`), .md (`text`) and .png (drawn by `draw(path)`).

    The figure is drawn first, in a temporary folder: where drawing fails nothing is
    written, not even `folder`.
    """
    stem = folder / slug
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".png")]
    with tempfile.TemporaryDirectory(prefix="ddspgl-report-") as tmp:
        png = Path(tmp) / paths[2].name
        draw(png)
        folder.mkdir(parents=True, exist_ok=True)
        paths[0].write_text(json.dumps(payload, indent=1) + "\n")
        paths[1].write_text(text)
        shutil.move(png, paths[2])
    return paths
