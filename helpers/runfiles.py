"""The names of the files a run leaves in its folder, defined once (no torch: the run and report layer use them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FIGURES = "figures.json"  # each saved figure: name, PNG file, caption
METRICS = "metrics.json"  # parameters, per-epoch history, final numbers, environment
WEIGHTS = "weights.pt"  # trained state dicts (torch.load(..., weights_only=True))
CHECKPOINT = "checkpoint.pt"  # everything needed to resume training
RECORD = "run.json"  # written by the run layer: status, minutes, error, cache key
LOG = "log.txt"  # the notebook's printed output and epoch bars
PROGRESS_ENV = "HELPERS_PROGRESS"  # "text": epoch bars as text on stderr (headless runs log them), else widgets


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (readers never see half a file)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2, default=str))
    os.replace(partial, path)
