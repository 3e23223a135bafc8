"""The GAN and AC-GAN notebooks run headless through papermill and write every promised file."""

from __future__ import annotations

import json
import subprocess
import sys

import papermill as pm
import pytest
import torch

from conftest import NOTEBOOKS, assert_run_wrote
from helpers import gan

GAN_FILES = {"metrics.json", "figures.json", "weights.pt", "checkpoint.pt", "losses.png", "d_outputs.png",
             "samples.png", "interpolation.png", "progress.png"}
TINY = {"epochs": 2, "train_size": 500, "sample_every": 1}


def run_notebook(name: str, out) -> None:
    """Execute notebooks/<name>.ipynb into out with the tiny settings."""
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out / f"{name}.ipynb"), kernel_name="python3",
                        parameters={**TINY, "output_dir": str(out)}, progress_bar=False, cwd=str(out))


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan")
    run_notebook("gan", out)
    return out


@pytest.fixture(scope="module")
def aux_gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("aux_gan")
    run_notebook("aux_gan", out)
    return out


@pytest.mark.slow
def test_gan_writes_every_promised_file(gan_run):
    assert_run_wrote(gan_run, GAN_FILES)
    assert not (gan_run / "class_grid.png").exists()


@pytest.mark.slow
def test_aux_gan_writes_every_promised_file_and_the_class_grid(aux_gan_run):
    assert_run_wrote(aux_gan_run, GAN_FILES | {"class_grid.png"})


@pytest.mark.slow
def test_metrics_hold_the_final_game_and_the_digit_accuracy(gan_run, aux_gan_run):
    plain = json.loads((gan_run / "metrics.json").read_text())
    aux = json.loads((aux_gan_run / "metrics.json").read_text())
    for metrics in (plain, aux):
        assert metrics["epochs_run"] == 2 and len(metrics["history"]) == 2
        assert 0 < metrics["final"]["d_real"] < 1 and 0 < metrics["final"]["d_fake"] < 1
        assert metrics["final"]["d_loss"] > 0 and metrics["final"]["g_loss"] > 0
        assert metrics["snapshot_epochs"] == [1, 2]
    assert "val_accuracy" not in plain["final"] and plain["parameters"]["conditional"] is False
    assert 0 <= aux["final"]["val_accuracy"] <= 1 and aux["parameters"]["conditional"] is True


@pytest.mark.slow
def test_saved_generators_load_safely_and_draw_images(gan_run, aux_gan_run):
    for run_dir, classes in ((gan_run, 0), (aux_gan_run, 10)):
        weights = torch.load(run_dir / "weights.pt", weights_only=True)
        assert set(weights) == {"generator", "discriminator"}
        generator_net = gan.load_generator(run_dir)
        assert generator_net.num_classes == classes
        images = generator_net.sample(4, torch.Generator().manual_seed(0))
        assert images.shape == (4, 784) and images.abs().max() <= 1


@pytest.mark.slow
def test_the_plain_gan_refuses_the_conditional_parameter(tmp_path):
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS / "gan.ipynb"), "out.ipynb", "-k", "python3",
               "-p", "conditional", "True"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0
    assert "unknown parameter 'conditional'" in done.stderr
    assert not (tmp_path / "outputs").exists()


@pytest.mark.slow
def test_aux_gan_unconditional_reading_from_the_command_line(tmp_path):
    """`papermill notebooks/aux_gan.ipynb out.ipynb -p conditional False` gives the writeup's plainest reading."""
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS / "aux_gan.ipynb"), "out.ipynb", "-k", "python3",
               "-p", "conditional", "False", "-p", "epochs", "1", "-p", "train_size", "300", "-p", "output_dir", "run"]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    run_dir = tmp_path / "run"
    assert_run_wrote(run_dir, GAN_FILES)
    assert not (run_dir / "class_grid.png").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["parameters"]["conditional"] is False and "val_accuracy" in metrics["final"]
    assert gan.load_generator(run_dir).num_classes == 0
    assert "unconditional" in (tmp_path / "out.ipynb").read_text()
