"""The plain GAN's collapse: GAN runs read back, each named by what it changes, compared and plotted.

Every run is a GAN run (notebooks/gan.ipynb) watched by the classifier while it trained: every score_every
epochs its history holds the digits a fixed batch of samples covers and their Frechet distance to the validation
images (monitor_*), and every epoch the discriminator's mean outputs D(x) and D(G(z)). A run is named by the
settings it changes from the writeup's (the notebook's defaults); several seeds of each setting tell what the
setting does from one run's luck. Runs are compared at one epoch that all of them reached.
"""

from __future__ import annotations

import functools
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib import ticker
from matplotlib.figure import Figure

from helpers.common.folder import RunHistory
from helpers.config import CollapseConfig, GANConfig, Role  # noqa: F401 (the notebook imports CollapseConfig from here)
from helpers.config.folders import split_folders

SETTINGS = GANConfig.with_role(Role.SETTING)  # what a run changes, as the study names it (not seeds or numerics)
LABELS = {"learning_rate": "learning rate {:g}", "disc_learning_rate": "D learning rate {:g}",
          "d_steps": "{} D steps per G step", "adam_beta1": "Adam β₁ {:g}", "noise_dim": "noise size {}",
          "hidden_dim": "hidden units {}", "batch_size": "batch size {}"}
WRITEUP = "the writeup's settings"
ALL_DIGITS = 10
END_SCORES = ("inception_score", "frechet_distance", "density", "coverage")  # 10,000 samples at the run's end


class GANRun(RunHistory):
    """One finished GAN run: its folder, parameters and per-epoch history."""

    @property
    def changes(self) -> dict[str, Any]:
        """The settings this run trains with that differ from the writeup's (the notebook's defaults)."""
        defaults = gan_defaults()
        return {k: v for k, v in self.params.items() if k in SETTINGS and k in defaults and v != defaults[k]}

    @property
    def seed(self) -> int:
        """The run's seed."""
        return int(self.params.get("seed", 0))

    @property
    def label(self) -> str:
        """What the run changes, in words ('the writeup's settings' when nothing)."""
        changes = dict(self.changes)
        words = ["AC-GAN"] if changes.pop("conditional", False) and changes.pop("auxiliary", False) else []
        words += [change_label(key, value) for key, value in changes.items()]
        return ", ".join(words) or WRITEUP

    def monitored(self, until: int | None = None) -> list[dict[str, Any]]:
        """The history rows with classifier scores, up to epoch until (None: all)."""
        return [row for row in self.history
                if "monitor_frechet_distance" in row and (until is None or row["epoch"] <= until)]


@functools.cache
def gan_defaults() -> dict[str, Any]:
    """The gan notebook's defaults, the writeup's settings (validated once)."""
    return GANConfig().to_dict()


def change_label(key: str, value: Any) -> str:
    """One changed setting in words: 'learning rate 0.0002', '2 D steps per G step', 'D also names the digit'."""
    if key == "auxiliary":
        return "D also names the digit" if value else "no digit head"
    return LABELS[key].format(value) if key in LABELS else f"{key} {value}"


def read_runs(run_dirs: str) -> list[GANRun]:
    """The runs named by run_dirs (comma-separated folders or a glob): the writeup's settings first, by seed."""
    runs = [GANRun.read(folder) for folder in split_folders(run_dirs)]
    return sorted(runs, key=lambda run: (bool(run.changes), run.label, run.seed))


def common_epoch(runs: list[GANRun], at_epoch: int = 0) -> int:
    """The epoch to compare runs at: at_epoch, or (0) the last monitored epoch that every run reached."""
    if at_epoch:
        return at_epoch
    return min(max(row["epoch"] for row in run.monitored()) for run in runs)


def summary(runs: list[GANRun], at_epoch: int) -> list[dict[str, Any]]:
    """Per run, at epoch at_epoch: digits covered, FD and its rise over the best so far, D(x), D(G(z)); the end."""
    return [run_summary(run, at_epoch) for run in runs]


def run_summary(run: GANRun, at_epoch: int) -> dict[str, Any]:
    """One run's row of the summary (at_epoch must be a monitored epoch of the run)."""
    scored = run.monitored(at_epoch)
    at = scored[-1]
    best = min(scored, key=lambda row: row["monitor_frechet_distance"])
    end = run.monitored()[-1]
    return {"label": run.label, "seed": run.seed, "changes": run.changes, "folder": str(run.folder),
            "epochs": len(run.history), "at_epoch": at["epoch"],
            "digits": int(at["monitor_digits_covered"]), "frechet_distance": at["monitor_frechet_distance"],
            "best_frechet_distance": best["monitor_frechet_distance"], "best_epoch": best["epoch"],
            "frechet_rise": at["monitor_frechet_distance"] / best["monitor_frechet_distance"],
            "d_real": run.history[at["epoch"] - 1]["d_real"], "d_fake": run.history[at["epoch"] - 1]["d_fake"],
            "most_digits": int(max(row["monitor_digits_covered"] for row in run.monitored())),
            "final_epoch": end["epoch"], "final_digits": int(end["monitor_digits_covered"]),
            "final_frechet_distance": end["monitor_frechet_distance"], **the_end(run),
            **collapse_time(run, at_epoch), **{f"end_{key}": run.samples.get(key) for key in END_SCORES}}


def the_end(run: GANRun) -> dict[str, Any]:
    """How a run ended, whatever epoch it was compared at: its collapse epoch over its whole length, its lowest FD
    over it (and when), and D(x) in its last epoch (a longer run's fate)."""
    end = collapse_time(run, len(run.history))
    best = min(run.monitored(), key=lambda row: row["monitor_frechet_distance"])
    return {"final_collapse_epoch": end["collapse_epoch"], "final_collapsed": end["collapsed"],
            "final_best_frechet_distance": best["monitor_frechet_distance"], "final_best_epoch": best["epoch"],
            "final_d_real": run.history[-1]["d_real"]}


def collapse_time(run: GANRun, until: int) -> dict[str, Any]:
    """When the monitored samples stopped covering all ten digits for good, up to epoch until.

    'collapse_epoch' is the first monitored epoch from which they never again cover all ten (the first monitored
    epoch when they never did); a run still covering all ten at until has not collapsed: its collapse_epoch is
    until, a lower bound ('collapsed' False).
    """
    scored = run.monitored(until)
    full = [i for i, row in enumerate(scored) if row["monitor_digits_covered"] >= ALL_DIGITS]
    if full and full[-1] == len(scored) - 1:
        return {"collapse_epoch": scored[-1]["epoch"], "collapsed": False}
    first_short = full[-1] + 1 if full else 0
    return {"collapse_epoch": scored[first_short]["epoch"], "collapsed": True}


def by_setting(runs: list[GANRun]) -> dict[str, list[GANRun]]:
    """The runs grouped by what they change, in read_runs' order (the writeup's settings first)."""
    groups: dict[str, list[GANRun]] = {}
    for run in runs:
        groups.setdefault(run.label, []).append(run)
    return groups


def setting_colors(labels: list[str]) -> dict[str, Any]:
    """Near-black for the writeup's settings, a distinct colour for each change (no grey: grey is the reference)."""
    palette = iter(color for i, color in enumerate(sns.color_palette("tab10", 10) * 2) if i % 10 != 7)
    return {label: "0.15" if label == WRITEUP else next(palette) for label in labels}


def line_style(run: GANRun) -> str:
    """Dash-dot for the AC-GAN (a reference: two changes), solid otherwise."""
    return "-." if run.changes.get("conditional") else "-"


def draw_runs(axes: np.ndarray, runs: list[GANRun], until: int | None = None, **style: Any) -> None:
    """Digits covered, Frechet distance and the smoothed D(x) of each run against epochs up to until (None: its
    end), on three axes."""
    for run in runs:
        scored = run.monitored(until)
        history = run.history[:until]
        epochs = [row["epoch"] for row in scored]
        axes[0].plot(epochs, [row["monitor_digits_covered"] for row in scored], **style)
        axes[1].plot(epochs, [row["monitor_frechet_distance"] for row in scored], **style)
        axes[2].plot([row["epoch"] for row in history], smooth([row["d_real"] for row in history]), **style)


def figure(runs: list[GANRun], at_epoch: int, until: int | None = None,
           reference: list[GANRun] | None = None) -> Figure:
    """One row per setting, its seeds in colour over the reference runs in grey (the writeup's seeds among runs,
    unless given): digits covered, Frechet distance and D(x) against epochs up to until (None: each run's end),
    the axes shared down each column, the common epoch dotted."""
    settings = by_setting(runs)
    behind = settings.get(WRITEUP, []) if reference is None else reference
    colors = setting_colors(list(settings))
    fig = plt.figure(figsize=(13, 0.6 + 2.2 * len(settings)), layout="constrained")
    grid = fig.subplots(len(settings), 3, sharex=True, sharey="col", squeeze=False)
    for axes, (label, members) in zip(grid, settings.items()):
        if label != WRITEUP:
            draw_runs(axes, behind, until, color="0.72", lw=1.0)
        draw_runs(axes, members, until, color=colors[label], lw=1.5, ls=line_style(members[0]))
        seeds = ", ".join(str(run.seed) for run in members)
        axes[0].set_title(f"{label} (seed{'s' * (len(members) > 1)} {seeds})", loc="left", fontsize="medium",
                          fontweight="bold")
    label_grid(grid, at_epoch)
    return fig


def long_figure(runs: list[GANRun], at_epoch: int) -> Figure | None:
    """The runs that went on past at_epoch, to their end, over the writeup's seeds in grey; None when none did."""
    longer = [run for run in runs if len(run.history) > at_epoch]
    return figure(longer, at_epoch, reference=by_setting(runs).get(WRITEUP, [])) if longer else None


def label_grid(grid: np.ndarray, at_epoch: int) -> None:
    """What each column measures on its y axis, epochs below, the compared epoch dotted, FD on a log scale."""
    for row in grid:
        for ax, ylabel in zip(row, ("digits covered", "Fréchet distance (log)", "D(x), 5-epoch mean")):
            ax.set_ylabel(ylabel)
            ax.axvline(at_epoch, color="0.6", ls=":", lw=1)
        row[2].axhline(0.5, color="0.6", lw=0.8)
    for ax in grid[-1]:
        ax.set_xlabel("epoch")
    grid[0, 0].set_ylim(0, 10.5)
    grid[0, 1].set_yscale("log")
    grid[0, 1].yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
    grid[0, 1].yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    grid[0, 1].yaxis.set_minor_formatter(ticker.NullFormatter())


def smooth(values: list[float], width: int = 5) -> np.ndarray:
    """A running mean over width epochs (shorter at the start), so that the trend shows through the noise."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - width)
    return (sums[ends] - sums[starts]) / (ends - starts)
