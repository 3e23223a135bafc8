"""What a GAN run keeps an eye on while it trains: classifier scores of a fixed batch of samples (the Monitor, which
also keeps the best epoch's models and warns of collapse) and the fixed-noise snapshots behind the progress grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from helpers.config import GANConfig, seeds
from helpers.models import gan
from helpers.training.checkpoints import save_state

COLLAPSE_SPREAD = 0.05  # without a classifier: warn below this mean per-pixel spread of the fixed samples (real: ~0.16)
COLLAPSE_DIGITS = 6  # with a classifier: warn when the scored samples cover fewer digits than this
Scorer = Callable[[torch.Tensor, "torch.Tensor | None"], dict[str, Any]]  # (images in [0, 1], asked digits) -> scores


class Monitor:
    """Scores a fixed batch of generated images every few epochs and keeps the generator of the best FD epoch.

    The scores (digit coverage, entropy, Frechet distance, conditional accuracy) go into the epoch's history
    row as monitor_*; the epoch with the lowest Frechet distance is saved to best_path, so the best of a run
    that later collapses is never lost. Its state (best distance, epoch, warning given) rides in the checkpoint.
    """

    def __init__(self, gen: gan.Generator, scorer: Scorer, config: GANConfig, best_path: Path | None):
        fixed = torch.Generator(next(gen.parameters()).device).manual_seed(config.seed + seeds.MONITORED_SAMPLES)
        self.noise = gen.noise(config.score_samples, fixed)
        self.asked = gen.random_labels(config.score_samples, fixed)
        self.scorer, self.every, self.last, self.best_path = scorer, config.score_every, config.epochs, best_path
        self.best = {"frechet_distance": math.inf, "epoch": 0, "warned": 0}

    def due(self, epoch: int) -> bool:
        """Whether the epoch (counted from 1) is scored: every score_every epochs, the first and the last."""
        return epoch == 1 or epoch % self.every == 0 or epoch == self.last

    @torch.no_grad()
    def score(self, epoch: int, gen: gan.Generator, disc: gan.Discriminator) -> dict[str, float]:
        """The monitor_* numbers of this epoch; saves the models when their distance is the best so far."""
        scores = self.scorer(gan.to_unit(gen(self.noise, self.asked)), self.asked)
        row = {f"monitor_{k}": float(v) for k, v in scores.items() if isinstance(v, (int, float))
               and k != "samples"}
        if row["monitor_frechet_distance"] < self.best["frechet_distance"]:
            self.best.update(frechet_distance=row["monitor_frechet_distance"], epoch=epoch)
            if self.best_path:
                save_state(self.best_path, {"generator": gen.state_dict(), "discriminator": disc.state_dict(),
                                            "epoch": epoch, "frechet_distance": self.best["frechet_distance"]})
        if row["monitor_digits_covered"] < COLLAPSE_DIGITS and not self.best["warned"]:
            self.best["warned"] = 1
            print(f"warning: epoch {epoch}: the generator's samples cover only {row['monitor_digits_covered']:.0f} "
                  "digits: it may be collapsing onto a few modes")
        return row

    def state_dict(self) -> dict[str, Any]:
        """The best distance, its epoch and whether the warning was given."""
        return dict(self.best)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what state_dict returned."""
        self.best.update(state)


class Snapshots:
    """Generator samples from one fixed noise batch, kept per epoch (stored in the checkpoint)."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.images: list[torch.Tensor] = []

    def add(self, epoch: int, images: torch.Tensor) -> None:
        """Keep images (in [-1, 1]) drawn after epoch."""
        self.epochs.append(epoch)
        self.images.append(images.detach().cpu())

    def state_dict(self) -> dict[str, Any]:
        """Epochs and images as tensors (loadable with weights_only=True)."""
        images = torch.stack(self.images) if self.images else torch.empty(0)
        return {"epochs": torch.tensor(self.epochs, dtype=torch.long), "images": images}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what state_dict returned."""
        self.epochs = state["epochs"].tolist()
        self.images = list(state["images"])
