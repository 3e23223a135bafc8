"""The latent-size study: a sweep's VAE runs read back, summarised per latent size over seeds, and its figures.

Kingma and Welling (2013, Figure 2) compare latent sizes by the lower bound against training images seen;
here the validation negative ELBO per epoch of every run (metrics.json) is averaged over seeds per latent
size, and each run's posterior means on the validation images give its number of active latent units
(Burda et al. 2016: a unit is active when the variance of its posterior mean across images exceeds 0.01).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.common.folder import RunHistory
from helpers.config import (
    ACTIVE_UNIT_VARIANCE,
    TRAIN_SIZE,
    StudyConfig,  # noqa: F401 (the notebook imports it from here)
)
from helpers.config.folders import split_folders
from helpers.evaluation.metrics import active_units


class SweepRun(RunHistory):
    """One finished VAE run of the sweep: its folder, parameters and per-epoch history."""

    @property
    def latent_dim(self) -> int:
        """The size of the run's latent code."""
        return int(self.params["latent_dim"])

    @property
    def images_per_epoch(self) -> int:
        """Training images seen per epoch (train_size 0 means all of them)."""
        return int(self.params.get("train_size") or TRAIN_SIZE)


def read_sweep(sweep_dirs: str) -> list[SweepRun]:
    """The runs named by sweep_dirs (comma-separated folders or a glob), by latent size then seed."""
    runs = [SweepRun.read(folder) for folder in split_folders(sweep_dirs)]
    return sorted(runs, key=lambda run: (run.latent_dim, run.params.get("seed", 0)))


def by_latent_size(runs: list[SweepRun]) -> dict[int, list[SweepRun]]:
    """The runs grouped by latent size, smallest first."""
    groups: dict[int, list[SweepRun]] = defaultdict(list)
    for run in runs:
        groups[run.latent_dim].append(run)
    return dict(sorted(groups.items()))


def curve(runs: list[SweepRun], key: str = "validation_loss") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs 1..E (E: the shortest run), and the mean and the sample standard deviation (n - 1; 0 for one run)
    of key over the runs."""
    epochs = min(len(run.history) for run in runs)
    values = np.array([[row[key] for row in run.history[:epochs]] for run in runs])
    spread = values.std(axis=0, ddof=1) if len(runs) > 1 else np.zeros(epochs)
    return np.arange(1, epochs + 1), values.mean(axis=0), spread


def active_units_of(run: SweepRun, images: torch.Tensor, threshold: float = ACTIVE_UNIT_VARIANCE) -> int:
    """The active units of one run's trained VAE on images."""
    from helpers.models.vae import latent_means, load_vae

    model = load_vae(run.folder, images.device)
    return active_units(latent_means(model, images), threshold)


def summary(runs: list[SweepRun], active: dict[Path, int]) -> list[dict[str, Any]]:
    """Per latent size: seeds, epochs, final validation and training loss (mean, std), active units."""
    rows = []
    for latent_dim, group in by_latent_size(runs).items():
        epochs, validation, validation_std = curve(group)
        _, train, _ = curve(group, "train_loss")
        units = [active[run.folder] for run in group]
        rows.append({"latent_dim": latent_dim, "seeds": len(group), "epochs": int(epochs[-1]),
                     "validation_loss": float(validation[-1]), "validation_loss_std": float(validation_std[-1]),
                     "train_loss": float(train[-1]), "active_units": float(np.mean(units)),
                     "active_units_min": min(units), "active_units_max": max(units)})
    return rows


def run_rows(runs: list[SweepRun], active: dict[Path, int]) -> list[dict[str, Any]]:
    """Per run: folder, latent size, seed, the last epoch's validation and training loss, its active units on the
    validation images, and its test-set IS-NLL where it has one (what the report's tests compare, seed by seed)."""
    return [{"folder": str(run.folder), "latent_dim": run.latent_dim, "seed": run.params.get("seed"),
             "epochs": len(run.history), "validation_loss": run.history[-1]["validation_loss"],
             "train_loss": run.history[-1]["train_loss"], "active_units": active[run.folder],
             "nll": run.test.get("nll"), "nll_images": run.test.get("nll_images"),
             "nll_published_k": run.test.get("nll_published_k"), "test_active_units": run.test.get("active_units")}
            for run in runs]


def loss_figure(runs: list[SweepRun]) -> Figure:
    """Validation negative ELBO against epochs and against training images seen, per latent size (mean ± sd)."""
    groups = by_latent_size(runs)
    colors = sns.color_palette("viridis", len(groups))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True, constrained_layout=True)
    for color, (latent_dim, group) in zip(colors, groups.items()):
        epochs, mean, std = curve(group)
        images = epochs * group[0].images_per_epoch
        for ax, x in zip(axes, (epochs, images)):
            ax.plot(x, mean, color=color, marker="o" if len(x) < 12 else None, ms=3,
                    label=f"$N_z$ = {latent_dim} ({len(group)} seed{'s' if len(group) > 1 else ''})")
            ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    axes[0].set(xlabel="epoch", ylabel="validation negative ELBO (nats per image)")
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].set(xlabel="training images seen", xscale="log")
    axes[0].legend(title="latent size", fontsize="small")
    fig.suptitle("Validation loss by latent size (mean over seeds, band: ± one standard deviation)")
    return fig


def active_units_figure(rows: list[dict[str, Any]]) -> Figure:
    """Active latent units per latent size (mean over seeds, range as error bar), against the latent size."""
    fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
    sizes = [row["latent_dim"] for row in rows]
    positions = np.arange(len(rows))
    mean = np.array([row["active_units"] for row in rows])
    spread = np.array([[m - row["active_units_min"], row["active_units_max"] - m] for m, row in zip(mean, rows)]).T
    ax.bar(positions, sizes, color="0.88", label="latent size (all units)")
    ax.bar(positions, mean, yerr=spread, color=sns.color_palette("viridis", 1)[0], capsize=4, width=0.5,
           label="active units (mean; bar: range over seeds)")
    ax.set(xticks=positions, xticklabels=[str(s) for s in sizes], xlabel="latent size", ylabel="units")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    ax.set_title("Active latent units (posterior-mean variance > threshold)")
    return fig
