"""The VAE notebook runs headless through papermill and writes every promised file."""

from __future__ import annotations

import json
import subprocess
import sys

import papermill as pm
import pytest
import torch

from conftest import NOTEBOOKS, assert_run_wrote
from helpers.models.vae import VAE

VAE_FILES = {"metrics.json", "figures.json", "weights.pt", "checkpoint.pt", "loss_curves.png", "prior_samples.png",
             "real_digits.png", "interpolation.png", "kl_per_dimension.png", "reconstructions.png"}
SMALL_NLL = {"nll_samples": 20, "nll_images": 200}  # the IS-NLL on a few test images: seconds, not an hour
LATENT_2_FIGURES = {"latent_space.png", "latent_grid.png"}


@pytest.fixture(scope="module")
def latent_2_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae_z2")
    pm.execute_notebook(str(NOTEBOOKS / "vae.ipynb"), str(out / "vae.ipynb"), kernel_name="python3",
                        parameters={"latent_dim": 2, "epochs": 1, "train_size": 1000, "output_dir": str(out),
                                    **SMALL_NLL},
                        progress_bar=False, cwd=str(out))
    return out


@pytest.mark.slow
def test_latent_2_run_writes_every_promised_file(latent_2_run):
    assert_run_wrote(latent_2_run, VAE_FILES | LATENT_2_FIGURES)


@pytest.mark.slow
def test_metrics_hold_parameters_history_losses_and_versions(latent_2_run):
    metrics = json.loads((latent_2_run / "metrics.json").read_text())
    assert metrics["parameters"]["latent_dim"] == 2 and metrics["epochs_run"] == 1
    assert set(metrics["history"][0]) >= {"train_loss", "validation_loss", "train_kl", "train_reconstruction",
                                          "seconds"}
    assert metrics["final"]["validation_loss"] > 0 and metrics["environment"]["versions"]["torch"]
    assert metrics["writeup"] == {"train_loss": 157.226, "validation_loss": 157.1835}


@pytest.mark.slow
def test_metrics_hold_the_importance_sampled_nll_below_the_elbo_and_the_latent_usage(latent_2_run):
    test = json.loads((latent_2_run / "metrics.json").read_text())["test"]
    assert (test["nll_samples"], test["nll_images"]) == (20, 200) and test["nll_stderr"] > 0
    assert 0 < test["nll"] <= test["nll_elbo"] + 1.0  # the IS bound is tighter than the ELBO on the same images
    assert 0 <= test["active_units"] <= 2
    usage = json.loads((latent_2_run / "metrics.json").read_text())["latent_usage"]
    assert len(usage["kl_per_dimension"]) == 2 and len(usage["unit_activity"]) == 2


@pytest.mark.slow
def test_weights_load_safely_into_a_fresh_model(latent_2_run):
    state = torch.load(latent_2_run / "weights.pt", weights_only=True)
    VAE(latent_dim=2).load_state_dict(state["model"])


@pytest.mark.slow
def test_latent_20_from_another_folder_on_the_command_line(tmp_path):
    """`papermill notebooks/vae.ipynb out.ipynb -p latent_dim 20 -p epochs 1` from outside the repository."""
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS / "vae.ipynb"), "out.ipynb", "-k", "python3",
               "-p", "latent_dim", "20", "-p", "epochs", "1", "-p", "train_size", "500", "-p", "output_dir", "run",
               "-p", "nll_samples", "10", "-p", "nll_images", "100"]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert VAE_FILES | {"latent_traversal.png"} <= names and not names & LATENT_2_FIGURES


@pytest.mark.slow
@pytest.mark.parametrize(("option", "message"), [
    (["-p", "latent_dim", "0"], "ParameterError: latent_dim must be > 0, got 0"),
    (["-p", "latnet_dim", "5"], "unknown parameter 'latnet_dim' (did you mean 'latent_dim'?)"),
])
def test_a_bad_parameter_stops_the_notebook_with_its_message(tmp_path, option, message):
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS / "vae.ipynb"), "out.ipynb", "-k", "python3", *option]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0
    assert message in done.stderr
    assert not (tmp_path / "outputs").exists()  # stopped before any work
