"""Shared fixtures: the real MNIST splits (prepared by `make data`) and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="session")
def splits():
    """The MNIST splits on the CPU (read once per test session)."""
    from helpers.data import load_splits

    return load_splits("mnist", device="cpu")
