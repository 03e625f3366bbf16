"""The reports' figures: matplotlib without a display, saved alike."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: figures are only ever written to files

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)

DPI = 110


def colors() -> list[str]:
    """The colour cycle: one colour per series, renderer or policy."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def save(fig, path: Path) -> None:
    """Lay `fig` out, write it to `path` (PNG) and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
