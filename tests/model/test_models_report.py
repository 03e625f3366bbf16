"""`ddspgl models` on a real ddsp export (the 0.5 s convnet of ddsp_exports.py), one TF.js
mode and one timed call per variant (the committed report runs 4 s exports, both modes).

Checked: a row per variant with every field; the ddspgl conversions' harmonic and noise
audio inside the kernels' float32 budgets against float64 from the page's controls
(SNR >= 100 dB, kernels/harmonic.py SNR_BUDGET_DB; the noise within its derived bound
is test_model_ddsp.py's, here its SNR is only finite), the stock conversion's noise
(TF.js's FFT path, fed the same draw) finite; fewer file bytes after ddspgl's rewrites;
the report's three files written; bad input refused before any work. Times and memory are
recorded, not asserted (they are measurements, not properties).
"""

from __future__ import annotations

import json
import math

from ddspgl import cli
from ddspgl.tools import models_report


def test_models_report_on_a_real_export(ddsp_exports, tmp_path, capsys):
    saved = ddsp_exports / "conv" / "saved_model"
    report = models_report.run([saved], reps=1, storages=("float32",), log=lambda s: None)
    rows = {r["variant"]: r for r in report["rows"]}
    assert set(rows) == set(models_report.VARIANTS)
    for variant, r in rows.items():
        print(variant, {k: r[k] for k in ("call_ms", "decoder_ms", "synth_ms", "peak_bytes")})
        assert r["model"] == "conv" and r["storage"] == "float32"
        assert r["call_ms"] > 0 and r["decoder_ms"] > 0 and r["peak_bytes"] > 0
        assert math.isfinite(r["noise_snr_db"])
    for variant in ("ddspgl", "ddspgl-f16"):
        assert rows[variant]["harmonic_snr_db"] >= 100
        assert rows[variant]["files"]["total"] < rows["stock"]["files"]["total"]
    text = models_report.markdown(report)
    assert text.count("| conv (0.5 s) | float32 |") == 3
    paths = models_report.write(report, tmp_path / "reports")
    assert [p.suffix for p in paths] == [".json", ".md", ".png"]
    assert json.loads(paths[0].read_text())["rows"][0]["model"] == "conv"


def test_models_refuses_what_is_not_an_export(tmp_path, capsys):
    assert cli.main(["models", str(tmp_path), "--root", str(tmp_path / "r")]) == 2
    assert "no saved_model.pb" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
