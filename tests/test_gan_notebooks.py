"""One GAN notebook serves the plain GAN, the auxiliary GAN and the AC-GAN, headless through papermill."""

from __future__ import annotations

import json
import subprocess
import sys

import papermill as pm
import pytest
import torch

from conftest import NOTEBOOKS, assert_run_wrote
from helpers.common.files import METRICS, WEIGHTS
from helpers.models import gan

GAN_FILES = {METRICS, WEIGHTS, "figures.json", "checkpoint.pt", "losses.png", "d_outputs.png", "samples.png",
             "interpolation.png", "progress.png", "nearest_training.png"}
TINY = {"epochs": 2, "train_size": 500, "sample_every": 1}
SCORED_FILES = {"digit_distribution.png", "monitor.png", "best_and_final.png", "best.pt"}


def run_notebook(out, **variant: bool | int | str) -> None:
    """Execute notebooks/gan.ipynb into out with the tiny settings and the variant's flags."""
    pm.execute_notebook(str(NOTEBOOKS / "gan.ipynb"), str(out / "gan.ipynb"), kernel_name="python3",
                        parameters={**TINY, **variant, "output_dir": str(out)}, progress_bar=False, cwd=str(out))


def papermill_command(*options: str) -> list[str]:
    """The command line that runs the GAN notebook into out.ipynb with options."""
    return [sys.executable, "-m", "papermill", str(NOTEBOOKS / "gan.ipynb"), "out.ipynb", "-k", "python3", *options]


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan")
    run_notebook(out)
    return out


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    """A tiny classifier run folder, to score the GAN's samples."""
    out = tmp_path_factory.mktemp("classifier")
    pm.execute_notebook(str(NOTEBOOKS / "classifier.ipynb"), str(out / "classifier.ipynb"), kernel_name="python3",
                        parameters={"epochs": 1, "train_size": 500, "channels": 4, "output_dir": str(out)},
                        progress_bar=False, cwd=str(out))
    return out


@pytest.fixture(scope="module")
def ac_gan_run(tmp_path_factory, classifier_run):
    """The aux_gan run of the profiles: gan.ipynb with auxiliary and conditional, scored by a classifier."""
    out = tmp_path_factory.mktemp("aux_gan")
    run_notebook(out, auxiliary=True, conditional=True, classifier_dir=str(classifier_run), score_every=1,
                 score_samples=200)
    return out


@pytest.mark.slow
def test_gan_writes_every_promised_file(gan_run):
    assert_run_wrote(gan_run, GAN_FILES)
    assert not (gan_run / "class_grid.png").exists() and not SCORED_FILES & {p.name for p in gan_run.iterdir()}
    assert "the **plain GAN**" in (gan_run / "gan.ipynb").read_text()


@pytest.mark.slow
def test_ac_gan_writes_every_promised_file_and_the_class_grid(ac_gan_run):
    assert_run_wrote(ac_gan_run, GAN_FILES | {"class_grid.png"} | SCORED_FILES)
    assert "the **AC-GAN**" in (ac_gan_run / "gan.ipynb").read_text()


@pytest.mark.slow
def test_metrics_hold_the_variant_the_final_game_and_the_digit_accuracy(gan_run, ac_gan_run):
    plain = json.loads((gan_run / METRICS).read_text())
    aux = json.loads((ac_gan_run / METRICS).read_text())
    for metrics in (plain, aux):
        assert metrics["epochs_run"] == 2 and len(metrics["history"]) == 2
        assert 0 < metrics["final"]["d_real"] < 1 and 0 < metrics["final"]["d_fake"] < 1
        assert metrics["final"]["d_loss"] > 0 and metrics["final"]["g_loss"] > 0
        assert metrics["snapshot_epochs"] == [1, 2]
    assert "val_accuracy" not in plain["final"]
    assert (plain["parameters"]["auxiliary"], plain["parameters"]["conditional"]) == (False, False)
    assert 0 <= aux["final"]["val_accuracy"] <= 1
    assert (aux["parameters"]["auxiliary"], aux["parameters"]["conditional"]) == (True, True)


@pytest.mark.slow
def test_a_scored_run_keeps_the_monitor_the_sample_scores_and_the_best_epoch(gan_run, ac_gan_run):
    assert json.loads((gan_run / METRICS).read_text())["samples"] is None
    aux = json.loads((ac_gan_run / METRICS).read_text())
    assert all(0 <= row["monitor_digits_covered"] <= 10 and row["monitor_frechet_distance"] >= 0
               for row in aux["history"])
    scores = aux["samples"]
    assert scores["samples"] == 10_000 and 1 <= scores["inception_score"] <= 10
    assert 0 <= scores["conditional_accuracy"] <= 1 and abs(sum(scores["digit_distribution"]) - 1) < 1e-9
    assert scores["gan_test_accuracy"] == scores["conditional_accuracy"] and 0 <= scores["gan_train_accuracy"] <= 1
    assert "GAN-train" in (ac_gan_run / "gan.ipynb").read_text()
    best = min(aux["history"], key=lambda row: row["monitor_frechet_distance"])
    assert aux["best_epoch"] == best["epoch"] and aux["best_frechet_distance"] == best["monitor_frechet_distance"]
    assert torch.load(ac_gan_run / "best.pt", weights_only=True)["epoch"] == best["epoch"]


@pytest.mark.slow
def test_saved_generators_load_safely_and_draw_images(gan_run, ac_gan_run):
    for run_dir, classes in ((gan_run, 0), (ac_gan_run, 10)):
        weights = torch.load(run_dir / WEIGHTS, weights_only=True)
        assert set(weights) == {"generator", "discriminator"}
        generator_net = gan.load_generator(run_dir)
        assert generator_net.num_classes == classes
        images = generator_net.sample(4, torch.Generator().manual_seed(0))
        assert images.shape == (4, 784) and images.abs().max() <= 1


@pytest.mark.slow
def test_a_conditional_generator_without_the_digit_head_is_refused_in_one_line(tmp_path):
    done = subprocess.run(papermill_command("-p", "conditional", "True"), cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0
    assert "ParameterError: conditional=True needs auxiliary=True" in done.stderr
    assert not (tmp_path / "outputs").exists()  # stopped before any work


@pytest.mark.slow
def test_the_writeups_unconditional_auxiliary_gan_from_the_command_line(tmp_path):
    """`papermill notebooks/gan.ipynb out.ipynb -p auxiliary True`: a digit head, a generator without labels."""
    options = ["-p", "auxiliary", "True", "-p", "epochs", "1", "-p", "train_size", "300", "-p", "output_dir", "run"]
    subprocess.run(papermill_command(*options), cwd=tmp_path, check=True, capture_output=True)
    run_dir = tmp_path / "run"
    assert_run_wrote(run_dir, GAN_FILES)
    assert not (run_dir / "class_grid.png").exists()
    metrics = json.loads((run_dir / METRICS).read_text())
    assert (metrics["parameters"]["auxiliary"], metrics["parameters"]["conditional"]) == (True, False)
    assert "val_accuracy" in metrics["final"]
    assert gan.load_generator(run_dir).num_classes == 0
    assert "the **auxiliary GAN** (the unconditional reading)" in (tmp_path / "out.ipynb").read_text()
