"""`ddspgl page-speed` (tools/page_speed.py) on a short input: one instrument, one storage.

What the report holds is checked, not how fast it was (speed is reported, never asserted):
every transfer gave the input's length of finite audio (the tool refuses otherwise), the
page's stage timings fit inside its own total and that inside the time measured around
the call, the first transfer
allocated textures, and the report's three files are written with the row in its table.
"""

from __future__ import annotations

import json

import pytest

from ddspgl.tools import browser, serve
from paths import ROOT

pytest.importorskip("scipy")  # the sung phrase
if browser.missing():
    pytest.skip(browser.missing(), allow_module_level=True)

from ddspgl.tools import page_speed  # noqa: E402

MODELS = ROOT / "app" / "models"


def test_report_of_one_short_run(tmp_path):
    present = serve.instruments(MODELS)
    if not present:
        pytest.skip("app/models holds no instrument model")
    name = present[0]
    doc = page_speed.run(1.0, 1, [name], ("float32",), MODELS)
    (row,) = doc["rows"]
    assert (row["storage"], row["instrument"]) == ("float32", name)
    assert len(row["warm_s"]) == 1 and row["median_s"] == row["warm_s"][0]
    stages = dict(row["stages_ms"])
    total = stages.pop("total")  # the page's own, from the click (or call) to the result
    assert set(stages) == {"prepare", "pitch", "loudness", "model"}
    assert 0 < sum(stages.values()) <= total <= 1000 * row["median_s"]
    assert row["peak_allocated_mib"] > 0 and row["peak_in_use_mib"] > 0
    paths = page_speed.write(doc, tmp_path)
    assert [p.suffix for p in paths] == [".json", ".md", ".png"]
    assert json.loads(paths[0].read_text()) == doc
    assert f"| float32 | {name} |" in paths[1].read_text()
    assert paths[2].stat().st_size > 0
