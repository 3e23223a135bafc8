"""The cache key: whether a finished run can be reused, from its notebook, parameters, the helpers' source, the
data and the keys of the runs it needs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from helpers import NOT_HASHED
from helpers.common.paths import ROOT


def source_digest() -> str:
    """A hash of the helpers' source files that notebooks import: every wing but the run and report layers."""
    digest = hashlib.sha256()
    helpers = ROOT / "helpers"
    for file in sorted(helpers.rglob("*.py")):
        relative = file.relative_to(helpers)
        if relative.parts[0] not in NOT_HASHED:
            digest.update(str(relative).encode() + file.read_bytes())
    return digest.hexdigest()


def data_digest(dataset: str = "mnist", data_dir: str = "") -> str:
    """A hash of the dataset's files (names, sizes and contents); 'absent' before they are prepared."""
    root = Path(data_dir or os.environ.get("VAE_GAN_DATA") or ROOT / "data").expanduser().resolve()
    folder = root / ("FashionMNIST" if dataset == "fashion-mnist" else "MNIST") / "raw"  # as helpers.data (torch)
    if not folder.exists():
        return "absent"
    digest = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()


def cache_key(notebook: Path, params: dict[str, Any], upstream: list[str], sources: str, data: str) -> str:
    """The hash that says whether a finished run can be reused: the notebook file's bytes, the resolved
    parameters, source_digest, data_digest and the needed runs' keys."""
    digest = hashlib.sha256()
    digest.update(notebook.read_bytes())
    for part in (json.dumps(params, sort_keys=True, default=str), sources, data, *upstream):
        digest.update(part.encode())
    return digest.hexdigest()[:16]
