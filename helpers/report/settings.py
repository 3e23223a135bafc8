"""The settings tables: each model's settings as the writeup states them beside ours, resolved from the runs (what
0 or 'auto' stood for), and marked: as the writeup's, changed, left open by the writeup, our reading of an
ambiguous passage, or a slip of the writeup's that we corrected.

Each setting is declared once here: what the writeup says (None where it says nothing) and how to read ours from
the runs; the mark follows from the two unless the setting names one (a slip, a reading).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers.common.measures import MISSING
from helpers.common.reference import WRITEUP_GAN_EPOCHS, WRITEUP_VAE_EPOCHS
from helpers.config import TRAIN_SIZE
from helpers.config.experiments import variant_name
from helpers.report.runview import RunView

NOT_STATED = "not stated"
HEADERS = ["setting", "writeup", "ours", ""]


class Mark(enum.StrEnum):
    """How our setting stands to the writeup's."""

    SAME = "same"
    CHANGED = "changed"  # the writeup states another value
    OPEN = "left open"  # the writeup does not say: ours is our choice
    READING = "our reading"  # the writeup can be read more than one way: ours is one of them
    SLIP = "slip corrected"  # the writeup's text is wrong here: ours is what it must mean


@dataclass(frozen=True)
class Setting:
    """One setting: the writeup's value (None: not stated), ours from the runs, and a mark where it is not computed."""

    name: str
    writeup: Any
    ours: Callable[[list[RunView]], Any]
    mark: Mark | None = None

    def row(self, runs: list[RunView]) -> list[str]:
        """The table row: the setting, the writeup's value, ours, and the mark."""
        ours = self.ours(runs)
        mark = self.mark or (Mark.OPEN if self.writeup is None else Mark.SAME if words(ours) == words(self.writeup)
                             else Mark.CHANGED)
        return [self.name, NOT_STATED if self.writeup is None else words(self.writeup), words(ours),
                "" if mark is Mark.SAME else str(mark)]


def words(value: Any) -> str:
    """A setting's value as the table shows it: numbers with thousands separators, lists joined with 'and'."""
    if isinstance(value, (list, tuple)):
        return " and ".join(words(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return MISSING if value is None else str(value)


def values(name: str) -> Callable[[list[RunView]], Any]:
    """A parameter of the runs: its one value, or the distinct values in order where they differ."""
    def read(runs: list[RunView]) -> Any:
        found = list(dict.fromkeys(run.params.get(name) for run in runs if run.params))
        return found[0] if len(found) == 1 else found or None
    return read


def training_images(runs: list[RunView]) -> str:
    """The training images: 'all 50,000' where train_size is 0 (the whole split), else how many; 'the 50,000' of
    the split where no run says."""
    sizes = {run.train_images for run in runs if run.params}
    return (" and ".join(f"all {s:,}" if s == TRAIN_SIZE else f"the first {s:,}" for s in sorted(sizes))
            or f"the {TRAIN_SIZE:,}")


def precision(runs: list[RunView]) -> str:
    """The precision the runs trained in, as their history records it ('bf16', 'fp32'), else their setting."""
    found = list(dict.fromkeys(run.precision or run.params.get("precision") for run in runs if run.params))
    return words(found[0] if len(found) == 1 else found or None)


def seeds(runs: list[RunView]) -> str:
    """How many runs each and their seeds."""
    found = sorted({run.params.get("seed", 0) for run in runs if run.params})
    return f"one run each, seed {words(found)}" if found else MISSING


def gan_rates(runs: list[RunView]) -> str:
    """Adam's learning rates: one for both networks, or the discriminator's own (0 means the generator's)."""
    rates = list(dict.fromkeys((run.params.get("learning_rate"), run.params.get("disc_learning_rate") or
                                run.params.get("learning_rate")) for run in runs if run.params))
    return " and ".join(f"{g:g} for both" if g == d else f"G {g:g}, D {d:g}" for g, d in rates) or MISSING


def real_batches(runs: list[RunView]) -> str:
    """What the discriminator's extra steps see: one real batch reused (Goodfellow et al. draw a fresh one per step)."""
    if all(run.params.get("d_steps", 1) == 1 for run in runs):
        return "– (k = 1 in these runs)"
    return "one batch, reused by every D step (Goodfellow et al., 2014, draw a fresh one per step)"


AUXILIARY = {"AC-GAN": "a digit head on D's layers; G told the digit (AC-GAN)",
             "auxiliary GAN": "a digit head on D's layers; G not told the digit"}  # our readings, by variant


def auxiliary(runs: list[RunView]) -> str:
    """What our auxiliary GAN is: a digit head on the discriminator, the generator told the digit or not."""
    variants = sorted({variant_name(run.params) for run in runs if run.params.get("auxiliary")})
    return " and ".join(AUXILIARY[v] for v in variants) or MISSING


VAE = (
    Setting("training images", None, training_images),
    Setting("binarization", "coin flips", lambda runs: "coin flips, afresh per batch; validation and test once",
            Mark.OPEN),
    Setting("hidden layers", "2 × 500", lambda runs: f"2 × {words(values('hidden_dim')(runs))}"),
    Setting("activation", None, values("activation")),
    Setting("latent size", [2, 20], values("latent_dim")),
    Setting("optimizer", "Adagrad, 0.01", lambda runs: f"Adagrad, {words(values('learning_rate')(runs))}"),
    Setting("batch size", 100, values("batch_size")),
    Setting("epochs", WRITEUP_VAE_EPOCHS, values("epochs")),
    Setting("loss minimized", "E[−log p(x|z)] − KL", lambda runs: "E[−log p(x|z)] + KL", Mark.SLIP),
    Setting("precision", None, precision),
    Setting("seeds", None, seeds),
)

GAN = (
    Setting("training images", None, training_images),
    Setting("hidden layers", "2 × 256, LeakyReLU 0.2",
            lambda runs: f"2 × {words(values('hidden_dim')(runs))}, LeakyReLU 0.2"),
    Setting("noise", "64, N(0, I)", lambda runs: f"{words(values('noise_dim')(runs))}, N(0, I)"),
    Setting("optimizer", "Adam", lambda runs: "Adam"),
    Setting("learning rate", "0.0005 for both", gan_rates),
    Setting("Adam β₁", None, values("adam_beta1")),
    Setting("D steps per G step (k)", 1, values("d_steps")),
    Setting("real images for k > 1 D steps", None, real_batches),
    Setting("batch size", None, values("batch_size")),
    Setting("epochs", WRITEUP_GAN_EPOCHS, values("epochs")),
    Setting("auxiliary GAN", "a digit head on “the generator's” layers", auxiliary, Mark.READING),
    Setting("precision", None, precision),
    Setting("seeds", None, seeds),
)


def rows(table: tuple[Setting, ...], runs: list[RunView]) -> list[list[str]]:
    """A settings table's rows for these runs."""
    return [setting.row(runs) for setting in table]
