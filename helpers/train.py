"""Training: one epoch loop per model, and `fit`, which runs epochs with history, checkpoints and a NaN guard.

A checkpoint (model, optimizer, random state, history) is written atomically after every epoch, so a run
that crashes or is interrupted resumes from its last finished epoch, and a run asked for more epochs than
it has continues where it stopped. An epoch whose losses are not finite stops the run with
NonFiniteLossError and leaves the last good checkpoint in place.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Protocol

import torch
from tqdm.auto import tqdm

from .data import Splits, binarize
from .params import VAEConfig
from .vae import VAE, evaluate, neg_elbo

CHECKPOINT = "checkpoint.pt"
EVAL_SEED_OFFSET = 10_007  # the fixed validation binarization uses seed + this, apart from training draws


class Stateful(Protocol):
    """Anything with a state dict: modules and optimizers."""

    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the run stopped and its last good checkpoint was kept."""


def seed_everything(seed: int) -> None:
    """Seed torch's global generators (weight initialisation)."""
    torch.manual_seed(seed)


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on device for batch order, binarization and sampling."""
    return torch.Generator(device).manual_seed(seed)


def fit(run_epoch: Callable[[int], dict[str, float]], epochs: int, state: dict[str, Stateful],
        generator: torch.Generator, checkpoint: Path | None, fingerprint: dict[str, Any] | None = None,
        resume_from_checkpoint: bool = True, desc: str = "training") -> list[dict[str, float]]:
    """Run epochs, saving a checkpoint after each (and first resuming from it when it matches fingerprint).

    Returns one history row per epoch.
    """
    history = resume(checkpoint, state, generator, fingerprint) if checkpoint and resume_from_checkpoint else []
    if len(history) >= epochs:
        return history[:epochs]
    bar = tqdm(range(len(history), epochs), desc=desc, initial=len(history), total=epochs, unit="epoch",
               mininterval=2.0)
    for epoch in bar:
        start = time.perf_counter()
        row = {"epoch": epoch + 1, **run_epoch(epoch)}
        row["seconds"] = time.perf_counter() - start
        bad = [k for k, v in row.items() if not math.isfinite(v)]
        if bad:
            kept = f"; the checkpoint of epoch {len(history)} is kept" if history and checkpoint else ""
            raise NonFiniteLossError(f"epoch {epoch + 1}: {', '.join(bad)} became non-finite "
                                     f"({', '.join(f'{k}={row[k]}' for k in bad)}){kept}. "
                                     "Try a lower learning_rate or another seed.")
        history.append(row)
        bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k not in ("epoch", "seconds")}, refresh=False)
        if checkpoint:
            save_checkpoint(checkpoint, state, generator, history, fingerprint)
    bar.close()
    return history


def save_checkpoint(path: Path, state: dict[str, Stateful], generator: torch.Generator,
                    history: list[dict[str, float]], fingerprint: dict[str, Any] | None) -> None:
    """Write everything a run needs to resume, atomically (a crash mid-write keeps the old file)."""
    payload = {name: obj.state_dict() for name, obj in state.items()}
    payload.update(history=history, generator=generator.get_state(), fingerprint=fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def resume(path: Path, state: dict[str, Stateful], generator: torch.Generator,
           fingerprint: dict[str, Any] | None) -> list[dict[str, float]]:
    """Load a matching checkpoint into state and generator and return its history; [] when there is none."""
    if not path.exists():
        return []
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("fingerprint") != fingerprint:
        print(f"{path} was written with other parameters; starting from scratch")
        return []
    for name, obj in state.items():
        obj.load_state_dict(payload[name])
    generator.set_state(payload["generator"])
    print(f"resuming from {path} after epoch {len(payload['history'])}")
    return payload["history"]


def vae_epoch(model: VAE, optimizer: torch.optim.Optimizer, images: torch.Tensor, batch_size: int,
              generator: torch.Generator) -> dict[str, float]:
    """One pass over images in shuffled batches, each binarized afresh; mean loss and its parts."""
    order = torch.randperm(len(images), generator=generator, device=images.device)
    totals = torch.zeros(3, device=images.device)
    for start in range(0, len(images), batch_size):
        x = binarize(images[order[start:start + batch_size]], generator)
        logits, mean, log_var = model(x, generator)
        loss, reconstruction, kl = neg_elbo(logits, x, mean, log_var)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        totals += torch.stack([loss, reconstruction, kl]).detach() * len(x)
    loss, reconstruction, kl = (totals / len(images)).tolist()
    return {"train_loss": loss, "train_reconstruction": reconstruction, "train_kl": kl}


def fit_vae(model: VAE, splits: Splits, config: VAEConfig, checkpoint: Path | None = None
            ) -> list[dict[str, float]]:
    """Train the VAE with Adagrad as the writeup does; each epoch also scores the fixed-binarized validation set."""
    device = next(model.parameters()).device
    optimizer = torch.optim.Adagrad(model.parameters(), lr=config.learning_rate)
    generator = make_generator(config.seed, device)
    validation = splits.validation.binarized(config.seed + EVAL_SEED_OFFSET)
    eval_generator = torch.Generator(device)

    def run_epoch(epoch: int) -> dict[str, float]:
        row = vae_epoch(model, optimizer, splits.train.images, config.batch_size, generator)
        eval_generator.manual_seed(config.seed + epoch)
        scores = evaluate(model, validation, generator=eval_generator)
        return row | {f"validation_{k}": v for k, v in scores.items()}

    return fit(run_epoch, config.epochs, {"model": model, "optimizer": optimizer}, generator, checkpoint,
               fingerprint=training_fingerprint(config), resume_from_checkpoint=config.resume,
               desc=f"VAE z={config.latent_dim}")


def training_fingerprint(config: Any) -> dict[str, Any]:
    """The parameters that must match for a checkpoint to be resumed (not epochs or paths)."""
    ignored = {"epochs", "output_dir", "resume", "data_dir", "sample_every"}
    return {k: v for k, v in config.to_dict().items() if k not in ignored}

