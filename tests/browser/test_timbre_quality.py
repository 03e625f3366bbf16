"""The issue's timbre criterion on the committed instrument models (app/models), in the
page: on held-out phrases rendered by FluidSynth with all three programs, each model's
resynthesis from its own instrument's rendering's exact controls is nearer, by ddsp's
multi-scale spectral distance, to its own instrument's rendering than to the other two
instruments' (level-matched to it: instruments/quality.py says why). One page, three
short phrases; `ddspgl quality` makes the full report (reports/quality/timbre.md)."""

from __future__ import annotations

import numpy as np
import pytest

from ddspgl.tools import browser, serve
from paths import ROOT

pytest.importorskip("mido")
pytest.importorskip("scipy")
if browser.missing():
    pytest.skip(browser.missing(), allow_module_level=True)

from ddspgl.instruments import phrases, quality  # noqa: E402

PHRASES = 3
SECONDS = 6.0  # two calls of a 4 s model each: the chunks and their crossfade run too
MODELS = ROOT / "app" / "models"
PRESENT = [n for n in quality.INSTRUMENTS if n in serve.instruments(MODELS)]

# Committed models measured short of the criterion: strict, so a better model must drop
# its entry here. None at present (reports/quality/timbre.md).
SHORT_OF_TARGET: dict[str, str] = {}


@pytest.fixture(scope="module")
def doc():
    why = phrases.missing()
    if why:
        pytest.skip(f"soundfont phrases: {why}")
    if len(PRESENT) < len(quality.INSTRUMENTS):
        pytest.skip(f"app/models holds {PRESENT or 'none'} of {list(quality.INSTRUMENTS)}")
    return quality.run(PHRASES, SECONDS, MODELS)


def test_the_measurement_is_what_the_issue_asks(doc):
    """Held-out seeds, every cell a finite positive distance, the renderings' own diagonal 0
    (a rendering is its own level match), and the page on webgl."""
    assert doc["seeds"] == quality.held_out_seeds(MODELS, PHRASES)[0]
    assert doc["page"]["backend"] == "webgl"
    for name in quality.TABLES:
        per = np.array(doc["tables"][name]["per_phrase"])
        assert per.shape == (PHRASES, 3, 3) and np.isfinite(per).all()
    renderings = np.array(doc["tables"]["renderings"]["per_phrase"])
    assert (np.diagonal(renderings, axis1=1, axis2=2) == 0).all()
    assert (np.array(doc["tables"]["matched"]["per_phrase"]) > 0).all()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=SHORT_OF_TARGET[n]))
        if n in SHORT_OF_TARGET
        else n
        for n in quality.INSTRUMENTS
    ],
)
def test_each_model_is_nearest_its_own_instrument(doc, name):
    """The issue's criterion: the model's row of mean distances (level-matched) has its
    smallest value on the diagonal."""
    i = quality.INSTRUMENTS.index(name)
    row = doc["tables"]["matched"]["mean"][i]
    print(
        f"{name} model: "
        + ", ".join(f"{b} {v:.2f}" for b, v in zip(quality.INSTRUMENTS, row, strict=True))
    )
    others = [v for j, v in enumerate(row) if j != i]
    assert row[i] < min(others), (name, row)
