"""The precision suite: running the cases, the reports, and the regression check.

Each kernel's manifest entry names its suite, ``cases(quick) -> list[Case]``
(:mod:`ddspgl.kernels.suite`). ``ddspgl precision`` and ``tests/precision`` run the same
cases; the CLI also writes ``reports/precision/<renderer>.{json,md,png}``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from ..harness.context import Context
from ..kernels import manifest
from ..kernels.suite import Case, Result
from . import figures, reports

REPORT_DIR = Path("reports") / "precision"
# Errors below one float32 rounding of the unit are not told apart by the regression
# check (a value stored in float32 cannot be more exact than that).
REGRESSION_FLOOR = 2.0**-24
REGRESSION_FACTOR = 2.0


def all_cases(quick: bool = False, kernels: Iterable[str] | None = None) -> list[Case]:
    """Every case of the named kernels' suites (every kernel in the manifest by default)."""
    return [case for entry in manifest.select(kernels) for case in entry.suite(quick)]


def browser_cases(quick: bool = False, kernels: Iterable[str] | None = None) -> list[Case]:
    """The browser suites of the named kernels (every kernel that has one by default)."""
    chosen = manifest.select(kernels, having="browser_suite")
    return [case for entry in chosen for case in entry.browser_suite(quick)]


def failure(case: Case, result: Result) -> str:
    """Why `case` left its budget, with how the budget is derived."""
    derivation = manifest.get(case.kernel).budget.derivation
    return (
        f"{case.id}: error {result.error:.3e} {result.unit} exceeds the budget "
        f"{result.budget:.3e} (TF.js algorithm: {result.baseline_error}); budget: {derivation}"
    )


# -- regression baseline ------------------------------------------------------------------------


def load_baseline(ctx: Context, root: Path = Path(".")) -> dict[str, dict]:
    """The committed results for this renderer, keyed by case id ({} if none)."""
    path = root / REPORT_DIR / f"{reports.renderer_slug(ctx.renderer)}.json"
    if not path.is_file():
        return {}
    return {row["id"]: row for row in json.loads(path.read_text())["cases"]}


def regression(result: Result, committed: dict | None) -> str | None:
    """Why `result` regressed against its committed row, or None."""
    if committed is None:
        return None
    floor = max(committed["error"], REGRESSION_FLOOR)
    if result.error > REGRESSION_FACTOR * floor:
        return (
            f"error {result.error:.3e} {result.unit} is more than {REGRESSION_FACTOR:g}x the "
            f"committed {committed['error']:.3e}"
        )
    return None


# -- running and reporting ----------------------------------------------------------------------


def run_cases(ctx: Context, cases: list[Case], progress=sys.stderr) -> list[tuple[Case, Result]]:
    """Run every case, showing progress (one updating line on a terminal)."""
    results = []
    width = len(str(len(cases)))
    tty = progress is not None and progress.isatty()
    start = time.perf_counter()
    for i, case in enumerate(cases, 1):
        if progress is not None:
            elapsed = time.perf_counter() - start
            line = f"[{i:>{width}}/{len(cases)}] {elapsed:6.1f}s  {case.id}"
            progress.write(f"\r{line:<100.100}" if tty else line + "\n")
            progress.flush()
        results.append((case, case.run(ctx)))
    if tty:
        progress.write("\r" + " " * 100 + "\r")
        progress.flush()
    return results


def _row(case: Case, result: Result, baseline: dict[str, dict]) -> dict:
    row = {
        "id": case.id,
        "kernel": case.kernel,
        "series": case.series,
        "storage": case.storage,
        "n": case.n,
        **asdict(result),
        "ok": result.ok,
    }
    reason = regression(result, baseline.get(case.id))
    row["regression"] = reason
    return row


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if math.isinf(value) or math.isnan(value):
            return str(value)
        return f"{value:.2e}"
    return str(value)


def markdown(info: dict, rows: list[dict]) -> str:
    lines = [
        f"# Precision: {info['renderer']}",
        "",
        f"{info['vendor']} · {info['version']} · backend `{info['backend']}`",
        "",
        "Error against a float64 reference of the same float32 inputs; the budget is the",
        "derived bound (see each kernel's spec). The TF.js algorithm's error is recorded,",
        "not held to a budget.",
        "",
        f"{sum(r['ok'] for r in rows)}/{len(rows)} cases inside their budgets.",
        "",
        "| case | unit | ddspgl error | budget | error/budget | TF.js error | passes"
        " (ddspgl / TF.js) | ms (ddspgl / TF.js) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["error"] / r["budget"] if r["budget"] else math.inf
        mark = "" if r["ok"] and not r["regression"] else " **FAIL**"
        ms = f"{r['seconds'] * 1e3:.1f} / " + (
            f"{r['baseline_seconds'] * 1e3:.1f}" if r["baseline_seconds"] is not None else "-"
        )
        lines.append(
            f"| {r['id']}{mark} | {r['unit']} | {_fmt(r['error'])} | {_fmt(r['budget'])} | "
            f"{ratio:.3f} | {_fmt(r['baseline_error'])} | {r['passes']} / "
            f"{_fmt(r['baseline_passes'])} | {ms} |"
        )
    return "\n".join(lines) + "\n"


def plot(info: dict, rows: list[dict], path: Path) -> None:
    """Error against length, log-log: ddspgl solid, TF.js dashed, budgets dotted."""
    plt = figures.plt
    # One panel per kernel, error unit and storage that the rows hold, two to a line.
    panels = sorted({(r["kernel"], r["unit"], r["storage"]) for r in rows})
    n_lines = -(-len(panels) // 2)
    fig, axes = plt.subplots(n_lines, 2, figsize=(13, 4.5 * n_lines), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.remove()
    for ax, (kernel, unit, storage) in zip(axes.flat, panels, strict=False):
        subset = [
            r
            for r in rows
            if r["kernel"] == kernel and r["unit"] == unit and r["storage"] == storage
        ]
        # Exact results (error 0) are drawn a decade below the panel's smallest value.
        values = [r[k] for r in subset for k in ("error", "budget", "baseline_error")]
        positive = [v for v in values if v is not None and 0 < v < math.inf]
        tiny = min(positive, default=1.0) / 10
        series = sorted({r["series"] for r in subset})
        colors = figures.colors()
        for ci, name in enumerate(series):
            pts = sorted(((r["n"], r) for r in subset if r["series"] == name), key=lambda t: t[0])
            ns = sorted({n for n, _ in pts})
            worst = {n: max(r["error"] for m, r in pts if m == n) for n in ns}
            base = {
                n: max(
                    (
                        r["baseline_error"]
                        for m, r in pts
                        if m == n and r["baseline_error"] is not None
                    ),
                    default=None,
                )
                for n in ns
            }
            budget = {n: min(r["budget"] for m, r in pts if m == n) for n in ns}
            color = colors[ci % len(colors)]
            ax.loglog(
                ns, [max(worst[n], tiny) for n in ns], "o-", color=color, label=f"ddspgl {name}"
            )
            bn = [n for n in ns if base[n] is not None]
            if bn:
                ax.loglog(
                    bn,
                    [max(base[n], tiny) for n in bn],
                    "s--",
                    color=color,
                    alpha=0.6,
                    label=f"TF.js {name}",
                )
            ax.loglog(ns, [budget[n] for n in ns], ":", color=color, alpha=0.8)
        ax.set_title(f"{kernel}, storage {storage}")
        ax.set_xlabel("length n")
        ax.set_ylabel(f"max error ({unit}; dotted: budget)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"ddspgl precision on {info['renderer']}")
    figures.save(fig, path)


def write_report(ctx: Context, results: list[tuple[Case, Result]], root: Path = Path(".")):
    """Write reports/precision/<renderer>.{json,md,png}; returns (paths, rows).

    `ctx` is a GL context or a browser host, whose renderer is already its report name
    (a name is its own slug)."""
    baseline = load_baseline(ctx, root)
    info = ctx.info()
    rows = [_row(c, r, baseline) for c, r in results]
    paths = reports.write(
        root / REPORT_DIR,
        reports.renderer_slug(ctx.renderer),
        {"info": info, "cases": rows},
        markdown(info, rows),
        lambda path: plot(info, rows, path),
    )
    return paths, rows
