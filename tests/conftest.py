"""Shared fixtures (the real MNIST splits, untrained run folders), paths, and checks of a run's files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; `make setup` installs it when it can
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def canvas_pixels(page, uid: str, name: str) -> np.ndarray:
    """The grey levels of one 28 x 28 canvas of the kernel-free explorer whose id prefix is uid."""
    data = page.evaluate("([id]) => Array.from(document.getElementById(id).getContext('2d')"
                         ".getImageData(0, 0, 28, 28).data)", [f"{uid}-{name}"])
    return np.asarray(data, dtype=float).reshape(28, 28, 4)[..., 0]


def press(page, selector: str, key: str, times: int) -> None:
    """Focus a control and press a key on it, as a person moving a slider with the keyboard."""
    page.focus(selector)
    for _ in range(times):
        page.keyboard.press(key)


def assert_non_blank(png: Path) -> None:
    """A figure has real content: several distinct grey levels, not one flat colour."""
    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
    assert pixels.std() > 5 and len(np.unique(pixels)) > 10, f"{png} looks blank"


def assert_run_wrote(run_dir: Path, expected: set[str]) -> None:
    """Every expected file exists, every PNG has content and a caption in figures.json."""
    names = {p.name for p in run_dir.iterdir()}
    assert expected <= names, expected - names
    for png in run_dir.glob("*.png"):
        assert_non_blank(png)
    figures = json.loads((run_dir / "figures.json").read_text())
    assert {f["file"] for f in figures} == {p.name for p in run_dir.glob("*.png")}
    assert all(f["caption"] for f in figures)


@pytest.fixture(scope="session")
def splits():
    """The MNIST splits on the CPU (read once per test session)."""
    from helpers.data import load_splits

    return load_splits("mnist", device="cpu")


@pytest.fixture(scope="session")
def untrained_runs(tmp_path_factory) -> dict[str, Path]:
    """Run folders laid out as the notebooks write them (weights.pt, metrics.json), with untrained models."""
    import torch

    from helpers.config import GANConfig, VAEConfig
    from helpers.models import gan
    from helpers.models.vae import VAE
    from helpers.outputs import RunOutputs

    root = tmp_path_factory.mktemp("runs")
    configs = {"vae_z2": VAEConfig(latent_dim=2), "vae_z20": VAEConfig(latent_dim=20), "gan": GANConfig(),
               "aux_gan": GANConfig(auxiliary=True, conditional=True)}
    torch.manual_seed(0)
    for name, config in configs.items():
        config.output_dir = str(root / name)
        if isinstance(config, VAEConfig):
            modules = {"model": VAE(config.latent_dim, config.hidden_dim, config.activation)}
        else:
            generator, discriminator = gan.models_from_parameters(config.to_dict())
            modules = {"generator": generator, "discriminator": discriminator}
        out = RunOutputs.of(config)
        out.save_weights(modules)
        out.write_metrics(config, [], torch.device("cpu"))
    return {name: root / name for name in configs}


def run_models(run_dirs: dict[str, Path]) -> dict:
    """The models of the four run folders (vae_z2, vae_z20, gan, aux_gan), loaded as the exploration notebook does."""
    from helpers.config.registry import EXPERIMENT_OF_MODEL

    return {name: EXPERIMENT_OF_MODEL[name].load(path) for name, path in run_dirs.items()
            if name in ("vae_z2", "vae_z20", "gan", "aux_gan")}


def execute_runs(selected: list, build: Path, timeout: float | None = None, force: bool = False,
                 workers: int | None = None, scheduler: str | None = None) -> list:
    """Execute runs as a build does (one thread per run): on a local Dask cluster of `workers`, or `scheduler`'s."""
    from helpers.runs.executor import Executor

    with Executor(workers=workers, scheduler=scheduler, threads=1) as executor:
        return executor.execute(selected, build, timeout, force)
