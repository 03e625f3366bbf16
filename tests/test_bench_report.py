"""`ddspgl report`: tables and plots from pytest-benchmark JSON, one column per renderer."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from ddspgl.kernels import manifest
from ddspgl.tools import bench_report
from paths import ROOT

COMMITTED = sorted((ROOT / bench_report.BENCH_DIR).glob("*.json"))


@pytest.fixture
def reports(tmp_path):
    if not COMMITTED:
        pytest.skip("no committed reports/bench/*.json")
    folder = tmp_path / bench_report.BENCH_DIR
    folder.mkdir(parents=True)
    for path in COMMITTED:
        shutil.copy(path, folder)
    return tmp_path


def _cumsum_rows(path):
    data = json.loads(path.read_text())
    return {
        (b["extra_info"]["n"], b["extra_info"]["storage"], b["extra_info"]["impl"]): b
        for b in data["benchmarks"]
        if b["extra_info"].get("kernel") == "cumsum"
    }


def test_report_has_a_column_per_renderer_and_the_measured_ratios(reports):
    out = bench_report.write(reports).read_text()
    runs = bench_report.load(reports / bench_report.BENCH_DIR)
    for slug, run in runs.items():
        assert f"{slug}: ms · ×TF.js · ×copy" in out
        assert run["info"]["renderer"] in out
    path = next(p for p in COMMITTED if p.stem in runs)
    rows = _cumsum_rows(path)
    n, storage = max(k[0] for k in rows), "float16"

    def t(impl):
        b = rows[(n, storage, impl)]
        return b["extra_info"].get("device_median_s") or b["stats"]["median"]

    cell = (
        f"{t('ddspgl') * 1e3:.3g} · {t('ddspgl') / t('tfjs'):.2f} · {t('ddspgl') / t('copy'):.1f}"
    )
    assert f"| {n} | {cell}" in out
    png = (reports / "reports" / "bench_cumsum.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_report_from_another_machine_joins_the_table(reports):
    folder = reports / bench_report.BENCH_DIR
    data = json.loads(COMMITTED[0].read_text())
    data["machine_info"]["ddspgl"] = data["machine_info"]["ddspgl"] | {
        "slug": "other-gpu",
        "renderer": "Other GPU",
    }
    (folder / "other-gpu.json").write_text(json.dumps(data))
    out = bench_report.write(reports).read_text()
    assert "other-gpu: ms · ×TF.js · ×copy" in out and "Other GPU" in out
    header = next(line for line in out.splitlines() if line.startswith("| n |"))
    assert header.count("×TF.js") == len(bench_report.load(folder))


def test_foreign_json_and_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `ddspgl bench`"):
        bench_report.write(tmp_path)
    folder = tmp_path / bench_report.BENCH_DIR
    folder.mkdir(parents=True)
    (folder / "x.json").write_text(json.dumps({"benchmarks": []}))
    with pytest.raises(ValueError, match="x.json: not written by `ddspgl bench`"):
        bench_report.write(tmp_path)


def test_a_kernel_added_to_the_manifest_gets_its_own_table(reports, monkeypatch):
    """The tables come from the manifest: an entry whose rows are in the JSON gets a
    section laid out as its `bench` says, and nothing else changes."""
    before = bench_report.write(reports).read_text()
    cumsum = manifest.get("cumsum")
    twin = dataclasses.replace(
        cumsum,
        name="twin",
        bench=dataclasses.replace(cumsum.bench, title="twin, {storage}", plot=None),
    )
    monkeypatch.setattr(manifest, "KERNELS", (*manifest.KERNELS, twin))
    folder = reports / bench_report.BENCH_DIR
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text())
        for b in list(data["benchmarks"]):
            if b["extra_info"].get("kernel") == "cumsum":
                data["benchmarks"].append(b | {"extra_info": b["extra_info"] | {"kernel": "twin"}})
        path.write_text(json.dumps(data))
    after = bench_report.write(reports).read_text()
    assert after.startswith(before.rstrip("\n").rsplit("\n\n![", 1)[0])
    for storage in ("float16", "float32"):
        ours = before.split(f"## cumsum, storage {storage}\n", 1)[1].split("\n## ", 1)[0]
        twin_table = after.split(f"## twin, {storage}\n", 1)[1].split("\n## ", 1)[0]
        assert twin_table.split("![")[0].strip() == ours.split("![")[0].strip()
    assert not (reports / "reports" / "bench_twin.png").exists()
