"""What a run leaves in its output folder: figures (PNG + caption), metrics.json, weights.

The report reads only these files, so each is written as soon as it exists (a crash keeps what came
before it): a figure's caption goes into figures.json the moment the PNG is saved.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from helpers.common.files import FIGURES, METRICS, WEIGHTS, atomic_path, write_json
from helpers.common.machine import cpu_name
from helpers.common.tables import markdown_table  # noqa: F401 (what the notebooks import)
from helpers.config import Config
from helpers.config.registry import described

PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "papermill", "nbconvert", "ipywidgets")


@dataclass
class RunOutputs:
    """The output folder of one run."""

    path: Path

    @classmethod
    def of(cls, config: Config) -> RunOutputs:
        """The output folder named by a run's config, created if missing."""
        return cls(config.output_path)

    def figure(self, fig: Figure, name: str, caption: str, display: bool = True) -> Path:
        """Save fig as <name>.png with its caption, and show both in the notebook."""
        file = self.path / f"{name}.png"
        with atomic_path(file) as partial:
            fig.savefig(partial, format="png", dpi=110, bbox_inches="tight", facecolor="white")
        entries = [e for e in self.figures() if e["name"] != name]
        entries.append({"name": name, "file": file.name, "caption": caption})
        write_json(self.path / FIGURES, entries)
        if display:
            from IPython.display import Markdown
            from IPython.display import display as show

            show(fig)
            show(Markdown(f"*Figure ({name}).* {caption}"))
        import matplotlib.pyplot as plt

        plt.close(fig)
        return file

    def figures(self) -> list[dict[str, str]]:
        """The figures saved so far, in order, each {name, file, caption}."""
        path = self.path / FIGURES
        return json.loads(path.read_text()) if path.exists() else []

    def save_weights(self, modules: dict[str, torch.nn.Module]) -> Path:
        """Save the trained state dicts (load with torch.load(path, weights_only=True))."""
        file = self.path / WEIGHTS
        with atomic_path(file) as partial:  # a unique name: a second writer or a full disk leaves nothing half
            torch.save({name: module.state_dict() for name, module in modules.items()}, partial)
        return file

    def write_metrics(self, config: Config, history: list[dict[str, float]], device: torch.device,
                      **results: Any) -> Path:
        """Write metrics.json: kind and parameters, per-epoch history, results, time, device, versions, figures."""
        metrics = {
            **described(config),  # kind and parameters
            "history": history,
            "epochs_run": len(history),
            "train_seconds": sum(row.get("seconds", 0.0) for row in history),
            **results,
            "environment": environment(device),
            "figures": self.figures(),
        }
        file = self.path / METRICS
        write_json(file, metrics)
        return file


def environment(device: torch.device) -> dict[str, Any]:
    """Where a run ran: device name, CPU, Python and package versions."""
    device = torch.device(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {
        "device": str(device),
        "device_name": name,
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {p: version(p) for p in PACKAGES},
    }


def version(package: str) -> str | None:
    """An installed package's version, or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
