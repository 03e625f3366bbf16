"""One cumsum plan: the bundle's JS plan builder and moduli (js/src/kernels/cumsum_plan.js,
run by node from the tree `ddspgl bundle` stages) against kernels/cumsum.py's, for every
length the suites, the browser suite, the benchmarks and the harmonic synthesizer's frame
scans use, so the plan the float64 GL suite checks is the plan the bundle ships."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pytest

from ddspgl.kernels import cumsum, cumsum_browser, cumsum_suite, harmonic_suite
from ddspgl.tools import browser, emit

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the bundle's JS plan builder cannot run here"
)


def _frame_counts() -> set[int]:
    """Frames per harmonic_synth call in the harmonic suite, whole and in blocks."""
    counts = set()
    for spec in harmonic_suite.SPECS.values():
        counts.add(spec.frames)
        edges = [round(j * spec.frames / harmonic_suite.BLOCKS) for j in range(17)]
        for j in range(harmonic_suite.BLOCKS):
            last = j == harmonic_suite.BLOCKS - 1
            counts.add(edges[j + 1] - edges[j] + (0 if last else 1))
    return counts


def _scan_lengths() -> list[int]:
    ns = set(cumsum_suite.LENGTHS) | set(cumsum_browser.LENGTHS) | set(browser.BENCH_LENGTHS)
    ns |= {1000, 4000, 16000, 64000, 256000, 2**20, 2**22}  # tests/bench
    ns |= set(range(1, 300))  # every short plan shape, tops of 1 ... 64 block sums
    scans = ns | {cumsum.scan_length(n, reverse=True) for n in ns}
    return sorted(scans | _frame_counts())


def _node(tmp_path, script: str, data) -> object:
    tree = emit.stage(tmp_path / "js")
    plan_module = (tree / "kernels" / "cumsum_plan.js").as_uri()
    code = (
        f"import * as P from {json.dumps(plan_module)};\n"
        "const data = JSON.parse(process.argv[1]);\n"
        f"{script}\n"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", code, json.dumps(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plans_are_equal_for_every_length(tmp_path):
    lengths = _scan_lengths()
    got = _node(
        tmp_path,
        "console.log(JSON.stringify(data.map(n => P.bundlePlan(n))));",
        lengths,
    )
    assert len(got) == len(lengths)
    for n, js in zip(lengths, got, strict=True):
        py = cumsum.plan(n)
        assert (tuple(js["blocks"]), tuple(js["lengths"])) == (py.blocks, py.lengths), n


def test_moduli_are_equal(tmp_path):
    periods = [1.0, 2 * math.pi, 1e-3, 3.0, 440.0 / 16000, 2.0**-100, 2.0**100, 1e5]
    plain = [
        (t, n)
        for t in (1e-30, 0.5, 1.0, 3.0, 1000.5, 64000.0, 2.0**40, 1e30)
        for n in (1, 1000, 64000, 2**22)
    ]
    # The bounds the suites' plain cumsums pass (what abs_sum reads back, times its margin).
    for n in (1, 2, 1000, 64000):
        x = np.abs(cumsum_suite._input("plain", n, 1.0)).astype(np.float32)
        plain.append((float(x.sum(axis=-1, dtype=np.float32).max()) * (1 + 2**-16), n))
    p32 = [float(np.float32(p)) for p in periods]
    got = _node(
        tmp_path,
        "console.log(JSON.stringify({periodic: data.p.map(p => P.periodicModulus(p)), "
        "plain: data.plain.map(([t, n]) => P.plainModulus(t, n))}));",
        {"p": p32, "plain": plain},
    )

    def as_int(m) -> int:
        return (m["hi"] << 32) + (m["lo"] & 0xFFFFFFFF)

    for p, js in zip(p32, got["periodic"], strict=True):
        py = cumsum.Modulus.periodic(np.float32(p))
        assert (as_int(js), js["shift"], js["signed"]) == (py.p, py.shift, py.signed), p
    for (total, n), js in zip(plain, got["plain"], strict=True):
        py = cumsum.Modulus.plain(total, n)
        assert (as_int(js), js["shift"], js["signed"]) == (py.p, py.shift, py.signed), (total, n)
