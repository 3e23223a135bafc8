"""What the report's sentences need computed: comparisons with the writeup and the trends of the runs.

Each function returns numbers or names, never prose; the section templates (report/sections/) word them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..reference import WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from .runview import RunView

EQUILIBRIUM_MARGIN = 0.1  # D(real) and D(fake) within this of 1/2 count as "close to the equilibrium"


@dataclass
class VAEComparison:
    """One VAE run's final validation loss beside the writeup's."""

    latent: int
    run: RunView
    ours: float | None
    theirs: float

    @property
    def gap(self) -> float:
        """Ours minus the writeup's (positive: we are above)."""
        return (self.ours or 0.0) - self.theirs

    @property
    def above(self) -> bool:
        """Whether our loss ended above the writeup's."""
        return self.ours is not None and self.ours > self.theirs

    @property
    def below(self) -> bool:
        """Whether our loss ended below the writeup's."""
        return self.ours is not None and self.ours < self.theirs


def vae_comparisons(z2: RunView, z20: RunView) -> list[VAEComparison]:
    """Latent 2 and 20: our final validation loss and the writeup's."""
    return [VAEComparison(latent, run, run.final("validation_loss"), WRITEUP_VAE_LOSS[latent][1])
            for latent, run in ((2, z2), (20, z20))]


def vae_loss_rows(z2: RunView, z20: RunView) -> list[list]:
    """The rows of the VAE results table: ours and the writeup's, per latent size."""
    rows = []
    for latent, run in ((2, z2), (20, z20)):
        rows.append([f"VAE, latent {latent} (ours)", run.epochs_run, run.final("train_loss"),
                     run.final("validation_loss"), (run.metrics.get("test") or {}).get("loss")])
        rows.append([f"VAE, latent {latent} (writeup)", WRITEUP_VAE_EPOCHS, *WRITEUP_VAE_LOSS[latent], None])
    return rows


def is_falling(run: RunView, key: str = "validation_loss") -> bool:
    """Whether the last epoch lowered the loss."""
    values = run.history(key)
    return len(values) >= 2 and values[-1] < values[-2]


def trained_as_long(*runs: RunView) -> bool:
    """Whether every run trained at least the writeup's number of epochs."""
    return min((run.epochs_run or 0) for run in runs) >= WRITEUP_VAE_EPOCHS


def still_falling_behind(z2: RunView, z20: RunView) -> list[int]:
    """The latent sizes that ended above the writeup while still improving; [] unless all such runs are."""
    behind = [c for c in vae_comparisons(z2, z20) if c.above]
    return [c.latent for c in behind] if behind and all(is_falling(c.run) for c in behind) else []


def epochs_text(*runs: RunView) -> str:
    """'10 epochs' or '10 and 12 epochs' from the runs' parameters."""
    found = sorted({v.params.get("epochs") for v in runs if v.params.get("epochs")})
    if not found:
        return "an unknown number of epochs"
    return " and ".join(str(e) for e in found) + (" epoch" if found == [1] else " epochs")


def gan_rows(gan: RunView, aux: RunView) -> list[list]:
    """The rows of the GAN table: the last epoch's losses, D's outputs and the auxiliary accuracy."""
    return [[label, run.epochs_run, run.final("d_loss"), run.final("g_loss"), run.final("d_real"),
             run.final("d_fake"), run.final("val_accuracy")] for label, run in (("GAN", gan), ("auxiliary GAN", aux))]


def discriminator_ends(gan: RunView, aux: RunView) -> list[tuple[str, float, float]]:
    """(label, D(real), D(fake)) of each GAN that finished."""
    return [(label, run.final("d_real"), run.final("d_fake")) for label, run in
            (("plain GAN", gan), ("auxiliary GAN", aux)) if run.final("d_real") is not None
            and run.final("d_fake") is not None]


def near_equilibrium(ends: list[tuple[str, float, float]]) -> bool:
    """Whether every discriminator ended within the margin of 1/2 on real and generated images."""
    return bool(ends) and all(abs(real - 0.5) < EQUILIBRIUM_MARGIN and abs(fake - 0.5) < EQUILIBRIUM_MARGIN
                              for _, real, fake in ends)


def fmt(value: object, digits: int = 2) -> str:
    """A number for tables and prose; '–' when missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def study_rows(study: RunView) -> list[list]:
    """The latent-size study's table: latent size, seeds, epochs, validation ± sd, training, active units."""
    return [[row["latent_dim"], row["seeds"], row["epochs"],
             f"{row['validation_loss']:.2f} ± {row['validation_loss_std']:.2f}", row["train_loss"],
             f"{row['active_units']:g} of {row['latent_dim']} ({row['active_units_min']}–{row['active_units_max']})"]
            for row in study.metrics.get("study", [])]


def best_latent_size(study: RunView) -> dict | None:
    """The study's row with the lowest mean validation loss, or None without results."""
    rows = study.metrics.get("study", [])
    return min(rows, key=lambda row: row["validation_loss"]) if rows else None
