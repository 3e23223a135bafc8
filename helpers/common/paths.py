"""Where the checkout is: the repository root, and paths shown relative to it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # helpers/common/paths.py -> the repository root


def display_path(path: Path) -> str:
    """A path relative to the repository root when inside it (papermill runs there), else absolute."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
