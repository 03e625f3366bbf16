"""reports/README.md from every reports/bench/*.json: one column per renderer.

Each JSON is pytest-benchmark's output from `ddspgl bench` on one machine; its
machine_info["ddspgl"] names the GL renderer. A benchmark's time is the median GL timer
query (device time) where the driver has one, else the median wall time of the round.
Ratios are taken between implementations of the same file (the same run, same machine).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path("reports") / "bench"
README = Path("reports") / "README.md"


def browser_json(info: dict, slug: str, rows: list[dict]) -> dict:
    """pytest-benchmark's JSON layout for the browser benchmark (timed in the page).

    The page times each call with readback, so the stats are wall times; they are laid
    out as pytest-benchmark lays out its own, so `ddspgl report` and `pytest-benchmark
    compare` read them like any other renderer's.
    """
    import datetime
    import platform

    from pytest_benchmark import __version__
    from pytest_benchmark.stats import Stats

    benchmarks = []
    for r in rows:
        stats = Stats()
        for ms in r["times_ms"]:
            stats.update(ms / 1e3)
        name = f"test_cumsum[n{r['n']}-{r['impl']}-{r['storage']}]"
        benchmarks.append(
            {
                "group": f"cumsum n={r['n']} {r['storage']}",
                "name": name,
                "fullname": f"browser::{name}",
                "params": {"n": r["n"], "impl": r["impl"], "storage": r["storage"]},
                "param": f"n{r['n']}-{r['impl']}-{r['storage']}",
                "extra_info": {
                    "kernel": "cumsum",
                    "impl": r["impl"],
                    "n": r["n"],
                    "storage": r["storage"],
                    "timing": "wall-readback",
                },
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
        "version": __version__,
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


def _index(rows):
    return {(r["kernel"], r.get("storage"), r.get("n"), r.get("shape"), r["impl"]): r for r in rows}


def cumsum_table(runs: dict, storage: str) -> tuple[list[str], list[list[str]]]:
    slugs = list(runs)
    sizes = sorted(
        {
            r["n"]
            for run in runs.values()
            for r in run["rows"]
            if r["kernel"] == "cumsum" and r["storage"] == storage
        }
    )
    header = ["n"] + [f"{s}: ms · ×TF.js · ×copy" for s in slugs]
    body = []
    for n in sizes:
        line = [str(n)]
        for slug in slugs:
            idx = _index(runs[slug]["rows"])
            ours = idx.get(("cumsum", storage, n, None, "ddspgl"))
            tfjs = idx.get(("cumsum", storage, n, None, "tfjs"))
            copy = idx.get(("cumsum", storage, n, None, "copy"))
            if ours is None:
                line.append("-")
                continue
            cell = f"{ours['seconds'] * 1e3:.3g}"
            cell += f" · {ours['seconds'] / tfjs['seconds']:.2f}" if tfjs else " · -"
            cell += f" · {ours['seconds'] / copy['seconds']:.1f}" if copy else " · -"
            line.append(cell)
        body.append(line)
    return header, body


def synth_table(runs: dict) -> tuple[list[str], list[list[str]]]:
    slugs = list(runs)
    cases = sorted(
        {
            (r["shape"], r["storage"])
            for run in runs.values()
            for r in run["rows"]
            if r["kernel"] == "harmonic"
        }
    )
    header = ["shape", "storage"] + [f"{s}: ms · ×op chain · real-time factor" for s in slugs]
    body = []
    for shape, storage in cases:
        line = [shape, storage]
        for slug in slugs:
            idx = _index(runs[slug]["rows"])
            fused = idx.get(("harmonic", storage, None, shape, "ddspgl"))
            chain = idx.get(("harmonic", storage, None, shape, "opchain"))
            if fused is None:
                line.append("-")
                continue
            cell = f"{fused['seconds'] * 1e3:.3g}"
            cell += f" · {chain['seconds'] / fused['seconds']:.1f}× faster" if chain else " · -"
            cell += f" · {fused['audio_seconds'] / fused['seconds']:.0f}"
            line.append(cell)
        body.append(line)
    return header, body


def _markdown_table(header, body) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def plot_cumsum(runs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(13, 4.8))
    styles = {"ddspgl": "o-", "tfjs": "s--", "copy": ":"}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ci, (slug, run) in enumerate(runs.items()):
        color = colors[ci % len(colors)]
        rows = [r for r in run["rows"] if r["kernel"] == "cumsum" and r["storage"] == "float16"]
        by = defaultdict(dict)
        for r in rows:
            by[r["impl"]][r["n"]] = r["seconds"]
        for impl, style in styles.items():
            ns = sorted(by[impl])
            if ns:
                ax_t.loglog(
                    ns, [by[impl][n] * 1e3 for n in ns], style, color=color, label=f"{slug} {impl}"
                )
        ns = sorted(set(by["ddspgl"]) & set(by["tfjs"]) & set(by["copy"]))
        if ns:
            ax_r.semilogx(
                ns,
                [by["ddspgl"][n] / by["tfjs"][n] for n in ns],
                "o-",
                color=color,
                label=f"{slug}: ddspgl / TF.js",
            )
            ax_r.semilogx(
                ns,
                [by["ddspgl"][n] / by["copy"][n] for n in ns],
                "^:",
                color=color,
                label=f"{slug}: ddspgl / copy",
            )
    ax_t.set(title="cumsum time, float16 storage", xlabel="n", ylabel="ms (device time)")
    ax_r.set(title="cumsum time ratios", xlabel="n", ylabel="ratio", yscale="log")
    ax_r.axhline(0.25, color="grey", lw=0.8, ls="--")
    ax_r.axhline(3.0, color="grey", lw=0.8, ls="-.")
    for ax in (ax_t, ax_r):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    for storage in ("float16", "float32"):
        header, body = cumsum_table(runs, storage)
        if body:
            lines += [
                "",
                f"## cumsum, storage {storage}",
                "",
                "ddspgl's time, its ratio to the TF.js algorithm (lower is faster) and to "
                "a copy pass (the memory-traffic floor).",
                "",
            ]
            lines += _markdown_table(header, body)
    header, body = synth_table(runs)
    if body:
        lines += [
            "",
            "## harmonic synthesis",
            "",
            "The fused kernel's time, its speed-up over the TF.js op chain, and the "
            "real-time factor (seconds of audio per second of compute).",
            "",
        ]
        lines += _markdown_table(header, body)
    plot = out.parent / "bench_cumsum.png"
    plot_cumsum(runs, plot)
    lines += ["", f"![cumsum time and ratios]({plot.name})", ""]
    out.write_text("\n".join(lines))
    return out
