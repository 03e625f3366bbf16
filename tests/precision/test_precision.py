"""The precision suite: every case inside its derived budget, none regressed.

The cases are those `ddspgl precision` runs (each manifest entry's suite). The regression check
compares each error with the committed report for this renderer
(reports/precision/<renderer>.json) and fails past twice its committed value.
"""

from __future__ import annotations

import pytest

from ddspgl.tools import precision
from paths import ROOT

CASES = precision.all_cases()


@pytest.fixture(scope="module")
def committed(session_ctx):
    return precision.load_baseline(session_ctx, ROOT)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES],
)
def test_case(ctx, committed, case):
    result = case.run(ctx)
    assert result.ok, precision.failure(case, result)
    reason = precision.regression(result, committed.get(case.id))
    assert reason is None, f"{case.id}: {reason}"


def test_committed_report_covers_every_case(session_ctx, committed):
    if not committed:
        pytest.skip(f"no committed precision report for {session_ctx.renderer}")
    missing = [c.id for c in CASES if c.id not in committed]
    assert not missing, f"cases missing from the committed report: {missing[:5]}"
