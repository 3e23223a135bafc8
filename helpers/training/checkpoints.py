"""Checkpoints: everything a run needs to resume, written atomically after every epoch, and when one may resume.

A checkpoint holds the state dicts of the run's models and optimizers (and its monitor and snapshots), the
random generator's state, the history so far and the fingerprint of the parameters that shaped the training.
It resumes only a run with the same fingerprint; one that cannot be read is moved aside, never deleted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Protocol

import torch

from helpers.common.files import atomic_path
from helpers.config import Config, Role


class Stateful(Protocol):
    """Anything with a state dict: modules and optimizers."""

    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


# Parameters added after checkpoints were written: at these values (the behaviour from before they existed) they
# are left out of the fingerprint, so that those checkpoints still resume.
LATER_DEFAULTS: dict[str, Any] = {"disc_learning_rate": 0.0}
FINGERPRINTED = (Role.SETTING, Role.SEED, Role.NUMERICS)  # what must match for a checkpoint to resume


def training_fingerprint(config: Config) -> dict[str, Any]:
    """The parameters that must match for a checkpoint to be resumed: what is trained, its seed and numerics."""
    kept = type(config).with_role(*FINGERPRINTED)
    unset = {k for k, v in LATER_DEFAULTS.items() if getattr(config, k, v) == v}
    return {k: v for k, v in config.to_dict().items() if k in kept - unset}


def save_checkpoint(path: Path, state: dict[str, Stateful], generator: torch.Generator,
                    history: list[dict[str, float]], fingerprint: dict[str, Any] | None) -> None:
    """Write everything a run needs to resume, atomically (a crash mid-write keeps the old file)."""
    payload = {name: obj.state_dict() for name, obj in state.items()}
    payload.update(history=history, generator=generator.get_state(), fingerprint=fingerprint)
    save_state(path, payload)


def save_state(path: Path, payload: dict[str, Any]) -> None:
    """torch.save to a unique temporary name, then rename: readers and crashes never see half a file."""
    with atomic_path(path) as partial:
        torch.save(payload, partial)


def resume(path: Path, state: dict[str, Stateful], generator: torch.Generator,
           fingerprint: dict[str, Any] | None, epochs: int) -> list[dict[str, float]]:
    """Load a matching checkpoint of at most epochs into state and generator and return its history.

    Returns [] when there is none. A checkpoint of more epochs than asked for cannot give the model of
    fewer: it is moved aside (checkpoint.<N>-epochs.pt), never overwritten, and training starts afresh.
    """
    if not path.exists():
        return []
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, empty or not a checkpoint: never block the run, never delete it
        set_aside_unreadable(path, exc)
        return []
    if payload.get("fingerprint") != fingerprint:
        print(f"{path} was written with other parameters; starting from scratch")
        return []
    done = len(payload["history"])
    if done > epochs:
        kept = path.with_name(f"{path.stem}.{done}-epochs{path.suffix}")
        os.replace(path, kept)
        print(f"{path} holds {done} epochs, more than the {epochs} asked for: moved to {kept.name}; "
              "starting from scratch")
        return []
    for name, obj in state.items():
        if name in payload:  # a checkpoint from before an optional part (the monitor) existed lacks it
            obj.load_state_dict(payload[name])
    generator.set_state(payload["generator"])
    print(f"resuming from {path} after epoch {len(payload['history'])}")
    return payload["history"]


def set_aside_unreadable(path: Path, error: Exception) -> Path:
    """Move a checkpoint torch cannot read to checkpoint.unreadable-<time>.pt and say so in one line."""
    aside = path.with_name(f"{path.stem}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
    os.replace(path, aside)
    why = (str(error).strip().splitlines() or [type(error).__name__])[0].split(". ")[0][:160]  # its first sentence
    print(f"{path} cannot be read ({why}): moved to {aside.name}; starting from scratch "
          "(delete that file once you no longer need it)", flush=True)
    return aside
