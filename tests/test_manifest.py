"""The kernel manifest: every tool's list of kernels, and the recipe for adding one."""

from __future__ import annotations

import dataclasses
import re

import pytest

from ddspgl import cli
from ddspgl.kernels import manifest, memory_graphs
from ddspgl.kernels.suite import Result
from ddspgl.tools import browser, precision, reports
from paths import ROOT

BENCH = ROOT / "tests" / "bench"


def test_names_are_unique_and_are_the_spec_modules_names():
    names = [k.name for k in manifest.KERNELS]
    assert len(set(names)) == len(names)
    for k in manifest.KERNELS:
        assert k.spec.NAME == k.name
        assert k.plan.__module__ == k.reference.__module__ == k.spec.__name__
        assert k.budget.derivation and k.budget.bound.__module__ == k.spec.__name__
        assert {c.kernel for c in k.suite(True)} == {k.name}


def test_unknown_kernel_is_an_error_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown 'nope'; known: cumsum, harmonic"):
        manifest.get("nope")
    assert manifest.select(None) == list(manifest.KERNELS)
    assert [k.name for k in manifest.select(["harmonic"])] == ["harmonic"]


@pytest.mark.parametrize("command", ["precision", "bench", "memory"])
def test_cli_kernel_choices_are_the_manifest(command, capsys):
    try:
        status = cli.main([command, "--kernel", "nope"])
    except SystemExit as exc:  # argparse's own exit
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert "--kernel: invalid choice: 'nope'" in err
    assert all(k.name in err for k in manifest.KERNELS)


def test_browser_benchmark_takes_only_the_kernels_it_times(capsys):
    others = [k.name for k in manifest.KERNELS if k.name not in browser.BENCH_KERNELS]
    assert others and set(browser.BENCH_KERNELS) <= {k.name for k in manifest.KERNELS}
    for name in others:
        assert cli.main(["bench", "--backend", "browser", "--kernel", name]) == 2
        err = capsys.readouterr().err
        assert "the browser benchmark times cumsum and harmonic" in err


def test_every_benchmark_module_is_named_by_one_entry():
    """`ddspgl bench` runs the modules the entries name: none may be left out."""
    named = [k.bench.module for k in manifest.KERNELS if k.bench is not None]
    on_disk = sorted(p.name for p in BENCH.glob("test_*.py"))
    assert sorted(named) == on_disk


def test_browser_and_memory_selections_name_the_kernels_that_have_them():
    have = [k.name for k in manifest.KERNELS if k.browser_suite is not None]
    lacking = [k.name for k in manifest.KERNELS if k.browser_suite is None]
    assert {c.kernel for c in precision.browser_cases(quick=True)} == set(have)
    for name in lacking:
        with pytest.raises(ValueError, match=f"{name} has no browser suite; these do"):
            precision.browser_cases(quick=True, kernels=[name])


def test_a_failing_case_names_how_its_budget_is_derived():
    for k in manifest.KERNELS:
        case = k.suite(True)[0]
        result = Result(error=2.0, budget=1.0, unit="period", passes=1, seconds=0.0)
        why = precision.failure(case, result)
        assert why.startswith(f"{case.id}: error 2.000e+00 period exceeds the budget 1.000e+00")
        assert why.endswith(f"budget: {k.budget.derivation}")


def test_memory_controls_check_their_length():
    f0, amp, dist = memory_graphs.controls(128)
    assert f0.shape == amp.shape == (1, 2) and dist.shape == (1, 2, memory_graphs.HARMONICS)
    with pytest.raises(ValueError, match=r"n_samples must be a multiple of 64 >= 128, got 100"):
        memory_graphs.controls(100)


@pytest.mark.parametrize(
    "renderer, browser, slug",
    [
        ("llvmpipe (LLVM 15.0.6, 256 bits)", False, "llvmpipe"),
        ("softpipe", False, "softpipe"),
        ("NVIDIA H100 PCIe/PCIe/SSE2", False, "nvidia-h100-pcie"),
        ("zink (llvmpipe (LLVM 15.0.6, 256 bits))", False, "zink"),
        ("(?)", False, "unknown"),
        (
            "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), "
            "SwiftShader driver)",
            True,
            "chromium-swiftshader",
        ),
        (
            "ANGLE (Mesa/X.org, llvmpipe (LLVM 15.0.6 256 bits), OpenGL ES 3.2)",
            True,
            "chromium-llvmpipe",
        ),
        (
            "ANGLE (NVIDIA, NVIDIA H100 PCIe, OpenGL 4.5)",
            True,
            "chromium-angle-nvidia-nvidia-h100-pcie-opengl-4-5",
        ),
        ("chromium-swiftshader", False, "chromium-swiftshader"),  # a slug is its own slug
    ],
)
def test_report_names(renderer, browser, slug):
    assert reports.renderer_slug(renderer, browser=browser) == slug


def test_a_report_whose_figure_fails_writes_nothing(tmp_path):
    def draw(path):
        path.write_bytes(b"half a png")
        raise RuntimeError("matplotlib failed")

    with pytest.raises(RuntimeError, match="matplotlib failed"):
        reports.write(tmp_path / "out", "x", {"a": 1}, "# x\n", draw)
    assert not (tmp_path / "out").exists()


def test_readme_recipe_names_every_field_and_its_reader():
    """README "Adding a kernel" has a line per manifest field."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Adding a kernel", 1)[1].split("\n## ", 1)[0]
    for f in dataclasses.fields(manifest.Kernel):
        assert re.search(rf"^\| `{f.name}` \|", section, re.M), f.name
