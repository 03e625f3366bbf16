"""The TF.js bundle: ddspgl's kernels as a patched WebGL backend, built from js/src and glsl/.

``ddspgl bundle -o dist/`` writes

- ``ddspgl-tfjs.js``: a script for a ``<script>`` tag after ``tf.min.js`` (global
  ``ddspgl``; the graph-model ops are registered when ``tf.registerOp`` exists);
- ``ddspgl-tfjs.mjs``: an ES module importing ``@tensorflow/tfjs-core`` and
  ``@tensorflow/tfjs-backend-webgl`` (peer dependencies, pinned to the TF.js the tests run;
  ``@tensorflow/tfjs-backend-webgpu`` is an optional peer: the WGSL kernels, registered
  for TF.js's webgpu backend, run where the page loads it);
- ``package.json`` for the ES module build.

The host code is the ES modules of ``js/src`` (package data ``ddspgl.js``). :func:`stage`
lays them out beside the modules generated from the kernel manifest
(:data:`ddspgl.kernels.manifest.KERNELS`): ``generated/glsl.js`` (each entry's GLSL
``programs``, expanded by :func:`ddspgl.harness.shader.resolve`, the same expansion the
moderngl harness compiles, so no shader text is ever copied by hand),
``generated/wgsl.js`` (each entry's WGSL ``wgsl`` programs for the webgpu backend, expanded
the same way), ``generated/constants.js`` (the entries' ``constants``, the TF.js kernel
names and the argument checks' :func:`limits`),
``generated/ops.js`` (each entry's ``js_exports`` from its ``js_module``: the export list
of both entry points) and ``generated/kernels.js`` (the kernel modules, whose kernels,
gradients and graph ops the bundle registers). esbuild, at the version pinned in
``js/package.json``, bundles ``script.js`` and ``esm.js`` (:func:`find_esbuild` says where
it comes from). Every file written says at its top that it is generated, and from which
sources, with their SHA-256. Nothing is written to OUT unless the whole build succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path, PurePosixPath
from types import ModuleType

from .. import __version__
from ..harness.shader import resolve
from ..kernels import _inputs, harmonic, manifest

SCRIPT = "ddspgl-tfjs.js"
MODULE = "ddspgl-tfjs.mjs"
ESBUILD_ENV = "DDSPGL_ESBUILD"  # an esbuild executable of the pinned version
CACHE_ENV = "XDG_CACHE_HOME"
JS_SUFFIXES = (".js", ".cjs")
_TIMEOUT_S = 120


class BundleError(OSError):
    """The bundle cannot be built here: no esbuild of the pinned version and no npm to
    install it, or esbuild failed. An OSError, like a missing executable: the CLI reports
    it as one line."""


def js_root() -> Path:
    """The folder holding ``package.json`` and ``src/`` of the bundle's JS (package data)."""
    return Path(str(resources.files("ddspgl.js")))


def _js_package() -> dict:
    return json.loads((js_root() / "package.json").read_text(encoding="utf-8"))


def tfjs_version() -> str:
    """The exact TF.js the bundle is built for: its peer dependencies (js/package.json)."""
    return _js_package()["peerDependencies"]["@tensorflow/tfjs-core"]


def esbuild_version() -> str:
    """The exact esbuild version that builds the bundle (js/package.json)."""
    return _js_package()["devDependencies"]["esbuild"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- generated modules -----------------------------------------------------------------------


def programs() -> dict[str, str]:
    """Bundle program name -> GLSL body under glsl/, over every manifest entry."""
    out: dict[str, str] = {}
    for kernel in manifest.KERNELS:
        for name, body in kernel.programs.items():
            if name in out:
                raise BundleError(f"manifest: program {name!r} is defined twice")
            out[name] = str(body)
    return out


def wgsl_programs() -> dict[str, str]:
    """Bundle program name -> WGSL body under glsl/ (webgpu), over every manifest entry."""
    out: dict[str, str] = {}
    for kernel in manifest.KERNELS:
        for name, body in kernel.wgsl.items():
            if name in out:
                raise BundleError(f"manifest: WGSL program {name!r} is defined twice")
            out[name] = str(body)
    return out


def constants() -> dict[str, int | float | tuple[int | float, ...]]:
    """JS name -> value of every manifest entry's constants."""
    out: dict[str, int | float | tuple[int | float, ...]] = {}
    for kernel in manifest.KERNELS:
        for name, value in kernel.constants.items():
            if name in out and out[name] != value:
                raise BundleError(f"manifest: constant {name} has two values")
            out[name] = value
    return out


def limits() -> dict[str, object]:
    """JS name -> value of the argument checks' limits (kernels/_inputs.py, the storage
    formats'; kernels/harmonic.py, the amplitudes'), where their derivations are: the
    bundle's checks read these, so that the bundle and the Python API refuse alike."""
    return {
        "STORAGE_MAX": _inputs.STORAGE_MAX,
        "FLOAT32_TINY": _inputs.FLOAT32_TINY,
        "PERIOD_LIMITS": {k: list(v) for k, v in _inputs.PERIOD_LIMITS.items()},
        "PLAIN_SUM_MIN": _inputs.PLAIN_SUM_MIN,
        "PLAIN_PEAK_MAX": _inputs.PLAIN_PEAK_MAX,
        "HARMONIC_SMALLEST_SUM": harmonic.SMALLEST_SUM,
        "HARMONIC_SUM_ROUNDING": harmonic._SUM_ROUNDING,
        "HARMONIC_EPS_SAMPLE": harmonic.EPS_SAMPLE,
    }


def _js(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def js_literal(text: str) -> str:
    """`text` as a JS template literal (the form esbuild prints a multi-line string in):
    verbatim, but for the three characters that would end or interpolate it."""
    return "`" + text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${") + "`"


def _constants_module() -> str:
    lines = [
        "// GENERATED by `ddspgl bundle` from ddspgl.kernels.manifest: do not edit.",
        f"export const VERSION = {_js(__version__)};",
        f"export const KERNELS = {_js([k.tfjs_kernel for k in manifest.KERNELS])};",
        "// Manifest name -> the kernel name registered with TF.js.",
        "export const KERNEL_NAMES = {",
        *(f"  {k.name}: {_js(k.tfjs_kernel)}," for k in manifest.KERNELS),
        "};",
    ]
    lines += [f"export const {name} = {_js(value)};" for name, value in constants().items()]
    lines.append("// The argument checks' limits (kernels/_inputs.py, kernels/harmonic.py).")
    lines += [f"export const {name} = {_js(value)};" for name, value in limits().items()]
    return "\n".join(lines) + "\n"


def _shader_module(const: str, programs: dict[str, str], what: str, folder: str) -> str:
    """A generated module exporting `const`: each program's expanded text, with its hash."""
    lines = [
        f"// GENERATED by `ddspgl bundle`: the manifest's {what}, expanded by",
        f"// ddspgl.harness.shader.resolve. Do not edit: change {folder} and bundle again.",
        f"export const {const} = {{",
    ]
    for name, body in programs.items():
        text = resolve(body)
        lines.append(f"  // glsl/{body}, sha256 of the expanded text {sha256(text)}")
        lines.append(f"  {name}: {js_literal(text)},")
    lines.append("};")
    return "\n".join(lines) + "\n"


def _module_id(kernel: manifest.Kernel) -> str:
    return f"kernel_{kernel.name}"


def _js_module_path(kernel: manifest.Kernel) -> str:
    path = PurePosixPath(kernel.js_module)
    if path.is_absolute() or ".." in path.parts or path.suffix != ".js":
        raise BundleError(
            f"manifest: {kernel.name}'s js_module {kernel.js_module!r} is not a "
            "module path under js/src"
        )
    if not (js_root() / "src" / path).is_file():
        raise BundleError(f"manifest: {kernel.name}'s js_module js/src/{path} does not exist")
    return f"../{path}"


def _ops_module() -> str:
    lines = [
        "// GENERATED by `ddspgl bundle` from ddspgl.kernels.manifest: every kernel's",
        "// js_exports from its js_module. Do not edit.",
    ]
    seen: set[str] = set()
    for kernel in manifest.KERNELS:
        twice = seen.intersection(kernel.js_exports)
        if twice:
            raise BundleError(f"manifest: {sorted(twice)} exported by two kernels")
        seen.update(kernel.js_exports)
        names = ", ".join(kernel.js_exports)
        lines.append(f"export {{{names}}} from {_js(_js_module_path(kernel))};")
    return "\n".join(lines) + "\n"


def _kernels_module() -> str:
    lines = [
        "// GENERATED by `ddspgl bundle` from ddspgl.kernels.manifest: the kernel modules",
        "// (kernelConfigs, gradientConfigs, graphOps). Do not edit.",
    ]
    for kernel in manifest.KERNELS:
        lines.append(f"import * as {_module_id(kernel)} from {_js(_js_module_path(kernel))};")
    ids = ", ".join(_module_id(k) for k in manifest.KERNELS)
    lines.append(f"export const KERNEL_MODULES = [{ids}];")
    return "\n".join(lines) + "\n"


def generated_modules() -> dict[str, str]:
    """Path under the staged tree -> text of every generated module."""
    return {
        "generated/constants.js": _constants_module(),
        "generated/glsl.js": _shader_module("GLSL", programs(), "GLSL programs", "glsl/"),
        "generated/wgsl.js": _shader_module(
            "WGSL", wgsl_programs(), "WGSL programs (webgpu)", "glsl/wgsl/"
        ),
        "generated/ops.js": _ops_module(),
        "generated/kernels.js": _kernels_module(),
    }


def _sources() -> Iterator[tuple[str, Path]]:
    src = js_root() / "src"
    for path in sorted(src.rglob("*")):
        if path.suffix in JS_SUFFIXES and path.is_file():
            yield path.relative_to(src).as_posix(), path


def stage(folder: str | Path) -> Path:
    """Lay out the modules esbuild bundles in `folder`: js/src's and the generated ones.

    The tree is plain ES modules (its package.json says ``"type": "module"``): node can
    import a pure module of it, e.g. ``kernels/cumsum_plan.js``, with no TF.js installed.
    Returns `folder`.
    """
    root = Path(folder)
    for rel, path in _sources():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, root / rel)
    for rel, text in generated_modules().items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    return root


# -- esbuild ---------------------------------------------------------------------------------


def _version_of(exe: Path | str) -> str | None:
    try:
        res = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def _node_modules_esbuild(start: Path) -> Iterator[Path]:
    """node_modules/.bin/esbuild in `start` and each folder above it, as node looks."""
    for folder in (start, *start.parents):
        yield folder / "node_modules" / ".bin" / "esbuild"


def cache_dir() -> Path:
    """Where ``ddspgl bundle`` installs the pinned esbuild when none is found."""
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache")
    return Path(base) / "ddspgl" / f"esbuild-{esbuild_version()}"


def _cached_esbuild() -> Path:
    return cache_dir() / "node_modules" / ".bin" / "esbuild"


def _install(progress: Callable[[str], None]) -> Path:
    """npm install of the pinned esbuild into cache_dir(), shown as it goes."""
    want = esbuild_version()
    npm = shutil.which("npm")
    if npm is None:
        raise BundleError(
            f"ddspgl bundle needs esbuild {want} and found none: install Node.js with npm "
            f"(Debian: apt-get install nodejs npm) to let it install esbuild {want} into "
            f"{cache_dir()}, or set {ESBUILD_ENV} to an esbuild {want} executable"
        )
    final = cache_dir()
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        package = {
            "private": True,
            "description": "esbuild for `ddspgl bundle`",
            "dependencies": {"esbuild": want},
        }
        (tmp / "package.json").write_text(json.dumps(package, indent=2) + "\n")
        progress(f"installing esbuild {want} into {final} (npm install, once)")
        res = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact"],
            cwd=tmp,
            stdout=sys.stderr,
            timeout=600,
        )
        if res.returncode != 0:
            raise BundleError(
                f"npm install esbuild@{want} failed (exit status {res.returncode}); see "
                f"npm's messages above, or set {ESBUILD_ENV} to an esbuild {want} executable"
            )
        got = _version_of(tmp / "node_modules" / ".bin" / "esbuild")
        if got != want:
            raise BundleError(f"npm installed esbuild {got!r}, expected {want}")
        if final.exists():  # installed meanwhile by another process
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return _cached_esbuild()


def find_esbuild(progress: Callable[[str], None] | None = None, install: bool = True) -> Path:
    """An esbuild executable of the pinned version (js/package.json), looked for in turn:

    1. ``$DDSPGL_ESBUILD`` (an error if it is not that version);
    2. ``node_modules/.bin/esbuild`` beside the JS sources or in a folder above them (a
       checkout after ``npm ci``), then in the working folder or one above it;
    3. the user cache, ``$XDG_CACHE_HOME/ddspgl/esbuild-<version>`` (``~/.cache`` by
       default), where it is installed with ``npm install`` the first time (`install`).
    Candidates of another version are passed over.
    """
    want = esbuild_version()
    env = os.environ.get(ESBUILD_ENV)
    if env:
        got = _version_of(env)
        if got != want:
            what = "does not run" if got is None else f"is esbuild {got}"
            raise BundleError(f"{ESBUILD_ENV}={env} {what}; ddspgl bundle needs esbuild {want}")
        return Path(env)
    for start in (js_root(), Path.cwd()):
        for exe in _node_modules_esbuild(start.resolve()):
            if exe.exists() and _version_of(exe) == want:
                return exe
    if _version_of(_cached_esbuild()) == want:
        return _cached_esbuild()
    if not install:
        raise BundleError(f"no esbuild {want} found (set {ESBUILD_ENV}, or run npm ci)")
    return _install(progress or (lambda what: print(f"ddspgl bundle: {what}", file=sys.stderr)))


def _esbuild(exe: Path, cwd: Path, entry: str, outfile: Path, args: list[str]) -> dict:
    """Runs esbuild on `entry` of the staged tree `cwd`; returns its metafile."""
    meta = outfile.with_suffix(".meta.json")
    cmd = [str(exe), entry, "--bundle", "--platform=browser", "--target=es2020",
           "--charset=utf8", "--log-level=warning", f"--outfile={outfile}",
           f"--metafile={meta}", *args]  # fmt: skip
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S)
    if res.returncode != 0:
        raise BundleError(f"esbuild failed on {entry}:\n{res.stderr.strip()}")
    data = json.loads(meta.read_text())
    meta.unlink()
    return data


# -- the bundle ------------------------------------------------------------------------------


def _kernel_sources() -> list[tuple[str, ModuleType]]:
    """The manifest and the ddspgl.kernels modules it imports: the constants' sources."""
    mods = [("kernels/manifest.py", manifest)]
    for value in vars(manifest).values():
        if isinstance(value, ModuleType) and value.__name__.startswith("ddspgl.kernels."):
            mods.append((f"kernels/{Path(value.__file__).name}", value))
    return sorted(set(mods), key=lambda m: m[0])


def _header(tfjs: str, inputs: list[str], staged: Path) -> str:
    generated = generated_modules()
    lines = [
        "/*",
        f" * ddspgl {__version__} for TensorFlow.js {tfjs}: GENERATED by `ddspgl bundle` "
        f"(esbuild {esbuild_version()}).",
        " * Do not edit: change the sources below and run `ddspgl bundle -o dist/` again.",
        " * GLSL (expanded by ddspgl.harness.shader.resolve; sha256 of the expanded text):",
    ]
    for body in programs().values():
        lines.append(f" *   glsl/{body} {sha256(resolve(body))}")
    lines.append(" * WGSL (expanded the same way; sha256 of the expanded text):")
    for body in wgsl_programs().values():
        lines.append(f" *   glsl/{body} {sha256(resolve(body))}")
    lines.append(" * Constants and kernel list: ddspgl.kernels.manifest (sha256 of the file):")
    for name, mod in _kernel_sources():
        lines.append(f" *   {name} {hashlib.sha256(Path(mod.__file__).read_bytes()).hexdigest()}")
    lines.append(" * JS modules (js/src/, and generated/ from the manifest):")
    for rel in inputs:
        text = generated.get(rel) or (staged / rel).read_text(encoding="utf-8")
        where = rel if rel in generated else f"js/src/{rel}"
        lines.append(f" *   {where} {sha256(text)}")
    lines += [" * License: Apache-2.0.", " */"]
    return "\n".join(lines) + "\n"


def bundle_sources(progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """File name -> text of every file the bundle consists of, built with esbuild."""
    exe = find_esbuild(progress)
    tfjs = tfjs_version()
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ddspgl-bundle-") as tmp:
        staged = stage(Path(tmp) / "src")
        built = Path(tmp) / "out"
        builds = {
            SCRIPT: ("script.js", ["--format=iife",
                                   "--alias:@tensorflow/tfjs-core=./tf_global.cjs"]),
            MODULE: ("esm.js", ["--format=esm", "--external:@tensorflow/tfjs-core",
                                "--external:@tensorflow/tfjs-backend-webgl"]),
        }  # fmt: skip
        for name, (entry, args) in builds.items():
            meta = _esbuild(exe, staged, entry, built / name, args)
            inputs = sorted(meta["inputs"])
            text = (built / name).read_text(encoding="utf-8")
            out[name] = _header(tfjs, inputs, staged) + text
    package = {
        "name": "ddspgl-tfjs",
        "version": __version__,
        "description": (
            f"ddspgl's WebGL kernels ({', '.join(k.tfjs_kernel for k in manifest.KERNELS)}) "
            "for TensorFlow.js, generated"
        ),
        "license": "Apache-2.0",
        "main": SCRIPT,
        "module": MODULE,
        "exports": {".": {"import": f"./{MODULE}", "default": f"./{SCRIPT}"}},
        "files": [SCRIPT, MODULE],
        "peerDependencies": {
            "@tensorflow/tfjs-core": tfjs,
            "@tensorflow/tfjs-backend-webgl": tfjs,
            "@tensorflow/tfjs-backend-webgpu": tfjs,
        },
        # The webgpu kernels need no import: they run where the page loads the backend.
        "peerDependenciesMeta": {"@tensorflow/tfjs-backend-webgpu": {"optional": True}},
    }
    out["package.json"] = json.dumps(package, indent=2) + "\n"
    return out


def emit(out_dir: str | Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Build the bundle and write it into `out_dir` (created if needed); returns the paths
    written. Nothing is written unless the build succeeded."""
    files = bundle_sources(progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
