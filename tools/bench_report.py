"""reports/README.md from every reports/bench/*.json: one column per renderer.

Each JSON is pytest-benchmark's output from `ddspgl bench` on one machine; its
machine_info["ddspgl"] names the GL renderer. A benchmark's time is the median GL timer
query (device time) where the driver has one, else the median wall time of the round.
Ratios are taken between implementations of the same file (the same run, same machine).
"""

from __future__ import annotations

import datetime
import json
import platform
from collections import defaultdict
from pathlib import Path

from ..kernels import manifest
from . import figures

BENCH_DIR = Path("reports") / "bench"
README = Path("reports") / "README.md"


def browser_json(info: dict, slug: str, rows: list[dict]) -> dict:
    """pytest-benchmark's JSON layout for the browser benchmark (timed in the page).

    The page times each call with readback, so the stats are wall times; they are laid
    out as pytest-benchmark lays out its own, so `ddspgl report` and `pytest-benchmark
    compare` read them like any other renderer's. Each row names its kernel.
    """
    # pytest-benchmark is a dev dependency: `ddspgl report` reads reports without it.
    from pytest_benchmark import __version__ as pytest_benchmark_version
    from pytest_benchmark.stats import Stats

    benchmarks = []
    for r in rows:
        stats = Stats()
        for ms in r["times_ms"]:
            stats.update(ms / 1e3)
        name = f"test_{r['kernel']}[n{r['n']}-{r['impl']}-{r['storage']}]"
        # The row's own fields (a harmonic row's shape and seconds of audio, say) ride along.
        fields = {k: v for k, v in r.items() if k not in ("times_ms", "device_ms")}
        benchmarks.append(
            {
                "group": f"{r['kernel']} n={r['n']} {r['storage']}",
                "name": name,
                "fullname": f"browser::{name}",
                "params": {"n": r["n"], "impl": r["impl"], "storage": r["storage"]},
                "param": f"n{r['n']}-{r['impl']}-{r['storage']}",
                "extra_info": {**fields, "timing": "wall-readback"},
                "options": {
                    "disable_gc": False,
                    "timer": "performance.now",
                    "min_rounds": 1,
                    "max_time": 0,
                    "min_time": 0,
                    "warmup": True,
                },
                "stats": stats.as_dict(),
            }
        )
    return {
        "machine_info": {
            "node": platform.node(),
            "machine": platform.machine(),
            "python_version": platform.python_version(),
            "ddspgl": info | {"slug": slug},
        },
        "commit_info": {},
        "benchmarks": benchmarks,
        "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "version": pytest_benchmark_version,
    }


def load(folder: Path) -> dict[str, dict]:
    """{slug: {"info": ..., "rows": [...]}} for every bench JSON in `folder`."""
    runs = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        info = data.get("machine_info", {}).get("ddspgl")
        if info is None:
            raise ValueError(f"{path}: not written by `ddspgl bench` (no machine_info.ddspgl)")
        rows = []
        for b in data["benchmarks"]:
            extra = b.get("extra_info", {})
            if "kernel" not in extra:
                continue
            seconds = extra.get("device_median_s") or b["stats"]["median"]
            rows.append(extra | {"seconds": seconds, "name": b["name"]})
        runs[info["slug"]] = {"info": info, "rows": rows, "path": path}
    return runs


def _value(side: str, by_impl: dict[str, dict]) -> float | None:
    """A figure's side: "impl" is that implementation's seconds, "impl.field" a field of
    its row; None where the run lacks that implementation."""
    impl, _, key = side.partition(".")
    row = by_impl.get(impl)
    return None if row is None else row[key or "seconds"]


def _cell(bench: manifest.Bench, by_impl: dict[str, dict]) -> str:
    ours = by_impl.get(bench.impl)
    if ours is None:
        return "-"
    cell = f"{ours['seconds'] * 1e3:.3g}"
    for fig in bench.figures:
        num, den = _value(fig.numerator, by_impl), _value(fig.denominator, by_impl)
        cell += " · -" if num is None or den is None else " · " + fig.fmt.format(num / den)
    return cell


def tables(runs: dict, kernel: manifest.Kernel) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, body) of each table of `kernel`'s benchmark rows, as its manifest
    entry lays them out: a line per value of its keys, a table per value of its split
    fields, a column per renderer."""
    bench = kernel.bench
    fields = bench.split + bench.keys
    # {slug: {split + keys: {impl: row}}}
    grouped: dict[str, dict[tuple, dict[str, dict]]] = {}
    for slug, run in runs.items():
        into = grouped.setdefault(slug, defaultdict(dict))
        for r in run["rows"]:
            if r["kernel"] == kernel.name:
                into[tuple(r[f] for f in fields)][r["impl"]] = r
    labels = " · ".join(["ms"] + [fig.label for fig in bench.figures])
    header = list(bench.keys) + [f"{slug}: {labels}" for slug in runs]
    seen = sorted({key for by in grouped.values() for key in by})
    out = []
    for part in dict.fromkeys(key[: len(bench.split)] for key in seen):
        title = bench.title.format(**dict(zip(bench.split, part, strict=True)))
        body = [
            [str(v) for v in key[len(bench.split) :]]
            + [_cell(bench, grouped[slug].get(key, {})) for slug in runs]
            for key in seen
            if key[: len(bench.split)] == part
        ]
        out.append((title, header, body))
    return out


def _markdown_table(header, body) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def plot(runs: dict, kernel: manifest.Kernel, path: Path) -> None:
    """Time against n of each implementation the entry's plot names, and the ratios it
    names, one colour per renderer."""
    spec = kernel.bench.plot
    fig, (ax_t, ax_r) = figures.plt.subplots(1, 2, figsize=(13, 4.8))
    colors = figures.colors()
    for ci, (slug, run) in enumerate(runs.items()):
        color = colors[ci % len(colors)]
        by = defaultdict(dict)
        for r in run["rows"]:
            if r["kernel"] == kernel.name and r["storage"] == spec.storage:
                by[r["impl"]][r["n"]] = r["seconds"]
        for impl, style in spec.times.items():
            ns = sorted(by[impl])
            if ns:
                ax_t.loglog(
                    ns, [by[impl][n] * 1e3 for n in ns], style, color=color, label=f"{slug} {impl}"
                )
        ns = sorted(set.intersection(*(set(by[impl]) for impl in spec.times)))
        for legend, num, den, style in spec.ratios if ns else ():
            ax_r.semilogx(
                ns,
                [by[num][n] / by[den][n] for n in ns],
                style,
                color=color,
                label=f"{slug}: {legend}",
            )
    name = kernel.name
    ax_t.set(title=f"{name} time, {spec.storage} storage", xlabel="n", ylabel="ms (device time)")
    ax_r.set(title=f"{name} time ratios", xlabel="n", ylabel="ratio", yscale="log")
    for target, ls in zip(spec.targets, ("--", "-.", ":"), strict=False):
        ax_r.axhline(target, color="grey", lw=0.8, ls=ls)
    for ax in (ax_t, ax_r):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    figures.save(fig, path)


def write(root: Path = Path(".")) -> Path:
    """Write reports/README.md (and its plots) from reports/bench/*.json under `root`."""
    runs = load(root / BENCH_DIR)
    if not runs:
        raise FileNotFoundError(f"no benchmark reports in {root / BENCH_DIR}; run `ddspgl bench`")
    out = root / README
    lines = [
        "# ddspgl benchmarks",
        "",
        "Generated by `ddspgl report` from `reports/bench/*.json` (one file per renderer, "
        "written by `ddspgl bench`). Times are medians of GL timer queries (device time) "
        "where the driver has them, else of wall time around glFinish; ratios compare "
        "implementations measured in the same run.",
        "",
        "| renderer | file | backend | GL version | timing |",
        "|---|---|---|---|---|",
    ]
    for run in runs.values():
        info = run["info"]
        timing = {r.get("timing") for r in run["rows"]}
        lines.append(
            f"| {info['renderer']} | `{run['path'].name}` | {info['backend']} | "
            f"{info['version']} | {', '.join(sorted(t for t in timing if t))} |"
        )
    plots = []
    for kernel in manifest.KERNELS:
        if kernel.bench is None:
            continue
        for title, header, body in tables(runs, kernel):
            lines += ["", f"## {title}", "", kernel.bench.caption, ""]
            lines += _markdown_table(header, body)
        if kernel.bench.plot is not None:
            plots.append((kernel, out.parent / f"bench_{kernel.name}.png"))
    for kernel, path in plots:
        plot(runs, kernel, path)
        lines += ["", f"![{kernel.name} time and ratios]({path.name})"]
    out.write_text("\n".join(lines + [""]))
    return out
