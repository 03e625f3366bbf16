"""Timbre quality: does each instrument model sound like its instrument, not like the others?

The issue's measurement. For each held-out phrase (:func:`held_out_seeds`: seeds no
model's training used, the score planned over the notes all three instruments play and
rendered by FluidSynth with each instrument's program, :func:`.phrases.phrase_set`), each
instrument's rendering gives the controls its model was trained on (:func:`controls`: f0
exact from the MIDI at every frame, held through rests as in training; loudness by ddsp's
``compute_loudness`` semantics, :mod:`.loudness`, of that rendering). The model of
instrument A renders the phrase from the controls of A's rendering (in the page:
``synthesize`` is :meth:`ddspgl.tools.app_browser.AppBrowser.synthesize`), and its output is
compared with A's, B's and C's renderings of the same phrase by ddsp's multi-scale
spectral loss (:mod:`.spectral_distance`). The criterion: in each model's row, the
distance to its own instrument's rendering is the smallest.

What is compared, and why it is fair. B's rendering of the phrase has B's loudness contour
(the same score, but B's samples answer the velocities and the expression with their own
levels), while A's model follows A's contour, which it is given: compared as rendered, the
diagonal would win partly on loudness alone, which is in the controls and not the model's
doing. So the criterion's table compares each model's output with the other instruments'
renderings *level-matched* to A's rendering (:func:`level_matched`): one gain per run of
voiced frames (a note, or notes joined legato or by a glide) that gives B's rendering A's
mean A-weighted power over that run (ddsp's loudness, in power), the release after a run
scaled with it, the gains joined over one frame (4 ms). Within a note B keeps its own
envelope (its attack, its swell, its release) and its own spectrum: what is left to tell
the instruments apart is how they sound at the same level, which is what the model learnt.
A's own rendering is unchanged (its gain is 1). The tables also give the distances as
rendered, and those of the renderings themselves (A's rendering in place of A's model: the
row an ideal model would reach), for scale.

Cost: three FluidSynth renderings and three model calls per phrase (the model's calls in
the page), 18 FFT passes per distance.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import dataset, loudness, phrases, spectral_distance

FORMAT = "ddspgl-timbre-quality/1"
INSTRUMENTS = tuple(phrases.INSTRUMENTS)
TABLES = ("matched", "as_rendered", "renderings")
TABLE_TITLES = {
    "matched": "model against each rendering, level-matched to the model's instrument "
    "(the criterion)",
    "as_rendered": "model against each rendering as rendered",
    "renderings": "the model's instrument's own rendering in the model's place "
    "(an ideal model's row)",
}
WHY_MATCHED = (
    "Why level-matched: the same score rendered by another program has that instrument's "
    "loudness contour (its samples answer the velocities and the expression with their own "
    "levels), while a model follows the contour it is given, its own instrument's; compared "
    "as rendered, the diagonal would win partly on loudness, which is in the controls, not in "
    "the model. So each other rendering gets one gain per run of voiced frames (a note, or "
    "notes joined legato or by a glide) that gives it the model's instrument's mean "
    "A-weighted power over the run, its release scaled with it; within the run it keeps its "
    "own envelope and spectrum. The model's own instrument's rendering is unchanged."
)
PHRASES = (1, 1000)  # limits of --phrases
SECONDS = (2.0, 60.0)  # limits of --seconds (a phrase has one group at least)
JOIN_FRAMES = 1  # gains joined linearly over one frame (64 samples, 4 ms)


class QualityError(Exception):
    """The measurement cannot run as asked: one line saying why."""


@dataclass(frozen=True)
class Rendering:
    """One instrument's rendering of a phrase, and its controls at 250 frames/s."""

    audio: np.ndarray  # float64 [n]
    f0_hz: np.ndarray  # float64 [frames], held through rests
    loudness_db: np.ndarray  # float64 [frames], ddsp's compute_loudness
    power: np.ndarray  # float64 [frames], the A-weighted power the loudness is the dB of
    voiced: np.ndarray  # bool [frames], a note held


def controls(phrase: phrases.Phrase) -> Rendering:
    """The phrase's audio and the controls its model was trained on (dataset.render's):
    f0 exact from the MIDI at frame i's sample 64 i, held through rests; loudness of the
    rendering by ddsp's compute_loudness (n_fft 512, centre padding), n // 64 frames."""
    f0, voiced = phrase.frames(dataset.HOP)
    frames = f0.size
    audio = np.asarray(phrase.audio[: frames * dataset.HOP], np.float64)
    power = loudness.weighted_power(audio, phrases.SAMPLE_RATE, dataset.FRAME_RATE)[:frames]
    return Rendering(
        audio=audio,
        f0_hz=dataset.held_f0(f0),
        loudness_db=loudness.power_to_db(power),
        power=power,
        voiced=voiced,
    )


def voiced_runs(voiced: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of voiced frames: [(start, stop)], stop exclusive, in order."""
    v = np.concatenate([[False], np.asarray(voiced, bool), [False]])
    edges = np.flatnonzero(v[1:] != v[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def frame_gains_db(x: Rendering, ref: Rendering) -> np.ndarray:
    """Per frame, the gain (dB) that gives x the mean A-weighted power of `ref` over each
    voiced run; frames after a run (its release, the rest) keep that run's gain, frames
    before the first run take the first run's. 0 dB everywhere without a voiced frame; a
    run where x is silent keeps the gain before it."""
    if not np.array_equal(x.voiced, ref.voiced):
        raise ValueError(
            "x, ref: must be renderings of the same score (their voiced frames differ)"
        )
    gains = np.zeros(x.voiced.size)
    runs = voiced_runs(ref.voiced)
    current = None
    for k, (start, stop) in enumerate(runs):
        px, pr = float(np.mean(x.power[start:stop])), float(np.mean(ref.power[start:stop]))
        if px > 0 and pr > 0:
            current = 10.0 * math.log10(pr / px)
        elif current is None:
            current = 0.0
        end = runs[k + 1][0] if k + 1 < len(runs) else gains.size
        gains[start:end] = current
        if k == 0:
            gains[:start] = current
    return gains


def level_matched(x: Rendering, ref: Rendering) -> np.ndarray:
    """x's audio with :func:`frame_gains_db`'s gains, frame i's at sample 64 i, joined
    linearly (in dB) over JOIN_FRAMES frame where the gain changes."""
    g = frame_gains_db(x, ref)
    hop = dataset.HOP
    at = np.arange(g.size) * hop
    # A step between frames i - 1 and i becomes a ramp over the JOIN_FRAMES frames before i.
    centres = np.repeat(at, 2).astype(np.float64)
    centres[0::2] -= JOIN_FRAMES * hop - 1
    values = np.repeat(g, 2)
    values[0::2] = np.concatenate([[g[0]], g[:-1]])
    db = np.interp(np.arange(x.audio.size), centres, values)
    return x.audio * 10.0 ** (db / 20.0)


def _train_seeds(models: Path, name: str) -> tuple[int, int] | None:
    """[first, last) of the training phrases' seeds from models/<name>/train.json, or None."""
    path = models / name / "train.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text())["config"]
    seeds = dataset.phrase_seeds(int(config["seed"]), int(config["phrases"]))
    return (seeds[0], seeds[-1] + 1) if seeds else None


def held_out_seeds(models: Path, count: int) -> tuple[list[int], dict]:
    """`count` phrase seeds that no model in `models` trained on: the held-out block of
    seed 0 (dataset.phrase_seeds(0, count, held_out=True)), checked against each model's
    train.json; (seeds, {name: [first, last) of its training seeds, or None if unknown})."""
    seeds = dataset.phrase_seeds(0, count, held_out=True)
    trained = {name: _train_seeds(models, name) for name in INSTRUMENTS}
    for name, span in trained.items():
        if span and any(span[0] <= s < span[1] for s in seeds):
            raise QualityError(
                f"{name}: trained on phrase seeds {span[0]} to {span[1] - 1}, which meet the "
                f"held-out seeds {seeds[0]} to {seeds[-1]}"
            )
    return seeds, trained


def check(count, seconds) -> None:
    """--phrases and --seconds in their limits, else a QualityError naming the option."""
    lo, hi = PHRASES
    if isinstance(count, bool) or not isinstance(count, int) or not lo <= count <= hi:
        raise QualityError(f"--phrases: must be a whole number in [{lo}, {hi}], got {count!r}")
    lo_s, hi_s = SECONDS
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise QualityError(f"--seconds: must be a number in [{lo_s}, {hi_s}], got {seconds!r}")
    if not lo_s <= seconds <= hi_s:  # NaN fails too
        raise QualityError(f"--seconds: must lie in [{lo_s}, {hi_s}], got {seconds!r}")


def _summary(values: np.ndarray) -> dict:
    """values [phrases, rows, columns] -> mean, std (population), min, max: [rows][columns]."""
    return {
        "mean": values.mean(0).tolist(),
        "std": values.std(0).tolist(),
        "min": values.min(0).tolist(),
        "max": values.max(0).tolist(),
        "per_phrase": values.tolist(),
    }


def measure(
    synthesize: Callable[[str, np.ndarray, np.ndarray, int], np.ndarray],
    seeds: list[int],
    seconds: float,
    *,
    log: Callable[[str], None] = lambda s: None,
) -> dict:
    """The three tables (TABLES) over the phrases of `seeds`: rows the models, columns the
    renderings, in INSTRUMENTS order; ``synthesize(instrument, f0_hz, loudness_db,
    samples)`` renders a model. The criterion in ``doc["criterion"]``."""
    n = len(INSTRUMENTS)
    values = {t: np.zeros((len(seeds), n, n)) for t in TABLES}
    started = time.perf_counter()
    for p, seed in enumerate(seeds):
        rendered = {k: controls(v) for k, v in phrases.phrase_set(seed, seconds).items()}
        spec = {b: spectral_distance.spectra(r.audio) for b, r in rendered.items()}
        for i, a in enumerate(INSTRUMENTS):
            ra = rendered[a]
            out = synthesize(a, ra.f0_hz, ra.loudness_db, ra.audio.size).astype(np.float64)
            if out.shape != ra.audio.shape:
                raise QualityError(f"{a}: the model gave {out.size} samples for {ra.audio.size}")
            model = spectral_distance.spectra(out, f"{a}'s model output")
            for j, b in enumerate(INSTRUMENTS):
                # A's own rendering is its own level match (gain 1): not recomputed.
                matched = (
                    spec[a] if b == a else spectral_distance.spectra(level_matched(rendered[b], ra))
                )
                values["matched"][p, i, j] = spectral_distance.distance_between(matched, model)
                values["as_rendered"][p, i, j] = spectral_distance.distance_between(spec[b], model)
                values["renderings"][p, i, j] = spectral_distance.distance_between(matched, spec[a])
        row = ", ".join(f"{values['matched'][p, i, i]:.2f}" for i in range(n))
        log(f"phrase {p + 1}/{len(seeds)} (seed {seed}): diagonal {row}")
    mean = values["matched"].mean(0)
    rows = {a: bool(np.argmin(mean[i]) == i) for i, a in enumerate(INSTRUMENTS)}
    wins = {
        a: int(np.sum(np.argmin(values["matched"][:, i, :], axis=1) == i))
        for i, a in enumerate(INSTRUMENTS)
    }
    return {
        "format": FORMAT,
        "instruments": list(INSTRUMENTS),
        "rows": "models (each rendering from its own instrument's controls)",
        "columns": "FluidSynth renderings of the same phrase",
        "seeds": list(seeds),
        "seconds": seconds,
        "range_midi": list(phrases.common_range()),
        "distance": "ddsp.losses.SpectralLoss as ae.gin binds it (FFT sizes 2048..64, L1 of "
        "magnitudes + L1 of natural-log magnitudes), float64 (instruments/spectral_distance.py); "
        "target the rendering, value the model's output",
        "compared": "matched: each rendering level-matched to the model's instrument's rendering "
        "(one gain per run of voiced frames: the same mean A-weighted power over the run; "
        "instruments/quality.py); as_rendered: unchanged; renderings: the model's instrument's "
        "rendering in place of the model's output",
        "tables": {t: _summary(values[t]) for t in TABLES},
        "criterion": {
            "rule": "each row's diagonal (the model against its own instrument's rendering) is "
            "the smallest of its row's mean distances, level-matched",
            "rows": rows,
            "diagonal_wins_per_phrase": wins,
            "holds": all(rows.values()),
        },
        "measure_s": time.perf_counter() - started,
    }


# -- the report ---------------------------------------------------------------------------------


def _cell(table: dict, i: int, j: int, bold: bool) -> str:
    mean = f"{table['mean'][i][j]:.2f}"
    mean = f"**{mean}**" if bold else mean
    return f"{mean} ± {table['std'][i][j]:.2f} ({table['min'][i][j]:.2f}–{table['max'][i][j]:.2f})"


def table_markdown(doc: dict, name: str) -> list[str]:
    """The 3x3 table `name` as markdown lines: mean ± std (min–max) over the phrases, each
    row's smallest mean in bold."""
    t, names = doc["tables"][name], doc["instruments"]
    lines = [
        "| model \\ rendering | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for i, a in enumerate(names):
        best = int(np.argmin(t["mean"][i]))
        cells = [_cell(t, i, j, j == best) for j in range(len(names))]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    return lines


def markdown(doc: dict) -> str:
    c = doc["criterion"]
    count = len(doc["seeds"])
    lines = [
        "# Timbre quality: each model against the three instruments' renderings",
        "",
        f"{count} held-out phrases (seeds {doc['seeds'][0]} to {doc['seeds'][-1]}, never in "
        f"training) of {doc['seconds']:g} s, MIDI {doc['range_midi'][0]}-{doc['range_midi'][1]} "
        "(the notes all three play), each rendered by FluidSynth with the three programs. Each "
        "model renders the phrase in the page (headless Chromium, TF.js webgl, "
        f"{doc.get('page', {}).get('storage', '?')} textures, "
        f"{doc.get('page', {}).get('renderer', '?')}) from its own instrument's rendering's "
        "controls: f0 exact from the MIDI, loudness by ddsp's compute_loudness of that "
        "rendering. Distance: " + doc["distance"] + ". Compared: " + doc["compared"] + ".",
        "",
        f"Criterion ({c['rule']}): " + ("**holds**" if c["holds"] else "**does not hold**") + "; ",
    ]
    lines[-1] += "; ".join(
        f"{a}: {'yes' if ok else 'no'}, diagonal smallest on "
        f"{c['diagonal_wins_per_phrase'][a]}/{count} phrases"
        for a, ok in c["rows"].items()
    )
    lines += ["", WHY_MATCHED]
    for name in TABLES:
        lines += ["", f"## {TABLE_TITLES[name]}", "", *table_markdown(doc, name)]
    lines += [
        "",
        "Cells: mean ± standard deviation (min–max) over the phrases; bold: the row's smallest.",
    ]
    if doc.get("models"):
        lines += ["", "Models: " + "; ".join(f"{k}: {v}" for k, v in doc["models"].items()) + "."]
    return "\n".join(lines) + "\n"


def figure(doc: dict, path: Path) -> None:
    """The criterion's table as a heat map (mean, ± std) beside every phrase's distances."""
    from ..tools import figures

    plt = figures.plt
    names = doc["instruments"]
    t = doc["tables"]["matched"]
    mean = np.array(t["mean"])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    im = ax.imshow(mean, cmap="viridis_r")
    for i in range(len(names)):
        for j in range(len(names)):
            weight = "bold" if j == int(np.argmin(mean[i])) else "normal"
            ax.text(
                j,
                i,
                f"{mean[i, j]:.2f}\n± {t['std'][i][j]:.2f}",
                ha="center",
                va="center",
                color="w" if mean[i, j] > mean.mean() else "k",  # dark cells: white text
                fontweight=weight,
            )
    ax.set_xticks(range(len(names)), [f"{n}\nrendering" for n in names])
    ax.set_yticks(range(len(names)), [f"{n} model" for n in names])
    ax.set_title("spectral distance, level-matched (mean over phrases)")
    fig.colorbar(im, ax=ax, shrink=0.8)
    per = np.array(t["per_phrase"])  # [phrases, rows, columns]
    ideal = np.array(doc["tables"]["renderings"]["mean"])
    colors = figures.colors()
    width = 0.25
    for j, b in enumerate(names):
        for i in range(len(names)):
            x = i + (j - 1) * width + np.linspace(-0.06, 0.06, per.shape[0])
            bx.scatter(
                x, per[:, i, j], s=14, color=colors[j], label=f"{b} rendering" if i == 0 else None
            )
            if j != i:  # the row's own rendering in the model's place: an ideal model
                c = i + (j - 1) * width
                bx.hlines(ideal[i, j], c - 0.1, c + 0.1, color=colors[j], linestyle=":")
    bx.set_xticks(range(len(names)), [f"{n} model" for n in names])
    bx.set_ylabel("spectral distance")
    bx.set_title("every phrase, level-matched; dotted: an ideal model")
    bx.legend(fontsize=8)
    bx.grid(alpha=0.3)
    figures.save(fig, path)


def write(doc: dict, out: Path) -> list[Path]:
    """timbre.json, timbre.md and timbre.png in `out`; the figure drawn first, so that a
    failure leaves none of them new (:func:`ddspgl.tools.reports.write`)."""
    from ..tools import reports

    return reports.write(out, "timbre", doc, markdown(doc), lambda path: figure(doc, path))


def _model_summary(models: Path, name: str) -> str:
    path = models / name / "train.json"
    if not path.is_file():
        return "no train.json"
    r = json.loads(path.read_text())
    held = r.get("held_out_loss", {}).get("after")
    held_text = f", held-out loss {held:.2f}" if held is not None else ""
    return f"{r['steps']} steps, decoder {r['config']['decoder_channels']} channels{held_text}"


def run(
    count: int,
    seconds: float,
    models: Path | None = None,
    *,
    angle: str = "swiftshader",
    log: Callable[[str], None] = lambda s: None,
) -> dict:
    """:func:`measure` with the models of `models` (default: app/models) in the page
    (:class:`ddspgl.tools.app_browser.AppBrowser`), on `count` held-out phrases of
    `seconds`; the page's description and the models' training in the result."""
    from ..tools import serve
    from ..tools.app_browser import AppBrowser

    check(count, seconds)
    if models is None:
        app = serve.app_dir()
        if app is None:
            raise QualityError("the page (app/) is not here: run from a ddspgl checkout")
        models = app / "models"
    models = Path(models)
    present = serve.instruments(models)
    missing = [n for n in INSTRUMENTS if n not in present]
    if missing:
        raise QualityError(
            f"--models: {models} lacks {', '.join(missing)} (each a folder with model.json "
            f"and stats.json; the table needs all of {', '.join(INSTRUMENTS)})"
        )
    why = phrases.missing()
    if why:
        raise QualityError(why)
    seeds, _ = held_out_seeds(models, count)
    with AppBrowser(models, angle=angle) as page:
        info = page.info
        log(
            f"page: TF.js {info['tfjs']} {info['backend']}, {info['storage']} textures, "
            f"{info['renderer']}"
        )
        doc = measure(page.synthesize, seeds, seconds, log=log)
        problems = page.problems()
    if problems:
        raise QualityError(f"the page: {problems[0]}")
    doc["page"] = {k: info[k] for k in ("tfjs", "backend", "storage", "renderer")}
    doc["models"] = {name: _model_summary(models, name) for name in INSTRUMENTS}
    return doc
