"""The VAE's loss, its parts, and training behaviour a user relies on (reproducible, resumable, NaN-guarded)."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.config import VAEConfig
from helpers.data import Split, Splits
from helpers.models import precision, vae
from helpers.models.latent import interpolate
from helpers.training import train


def test_kl_matches_monte_carlo_estimate():
    torch.manual_seed(0)
    mean, log_var = torch.randn(3, 4), torch.randn(3, 4) * 0.5
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    z = q.sample((200_000,))
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    # 200,000 draws: the estimate's standard error is at most 0.0051 nats here (measured), so 0.02 is 4 s.e.
    assert torch.allclose(vae.kl_to_standard_normal(mean, log_var), monte_carlo, atol=0.02)


def test_kl_is_zero_at_the_prior():
    assert vae.kl_to_standard_normal(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max() == 0


def test_neg_elbo_of_a_hand_computed_case():
    # Two pixels, logits 0 (p = 0.5) and log(3) (p = 0.75); x = (1, 0); q = N(1, e^0) in one dimension.
    logits = torch.tensor([[0.0, math.log(3.0)]])
    x = torch.tensor([[1.0, 0.0]])
    mean, log_var = torch.tensor([[1.0]]), torch.tensor([[0.0]])
    loss, reconstruction, kl = vae.neg_elbo(logits, x, mean, log_var)
    expected_reconstruction = -math.log(0.5) - math.log(0.25)
    # float32 closed forms of a few operations: a few units of float32's 1.2e-7 relative rounding, whatever the CPU
    assert reconstruction.item() == pytest.approx(expected_reconstruction, rel=1e-6)
    assert kl.item() == pytest.approx(0.5, rel=1e-6)  # 0.5 * (1 + 1 - 1 - 0)
    assert loss.item() == pytest.approx(expected_reconstruction + 0.5, rel=1e-6)


def test_shapes_of_encoder_decoder_and_samples():
    model = vae.VAE(latent_dim=3, hidden_dim=16)
    x = torch.rand(5, 784)
    logits, mean, log_var = model(x)
    assert logits.shape == (5, 784) and mean.shape == log_var.shape == (5, 3)
    samples = model.sample(7)
    assert samples.shape == (7, 784) and samples.min() >= 0 and samples.max() <= 1
    assert vae.prior_interpolations(model, 2, torch.linspace(0, 1, 6)).shape == (2, 6, 784)


def test_interpolation_endpoints_are_the_two_points():
    z1, z2 = torch.randn(1, 4), torch.randn(1, 4)
    path = interpolate(z1, z2, torch.tensor([0.0, 0.2, 1.0]))
    assert torch.allclose(path[0, 0], z2[0]) and torch.allclose(path[0, -1], z1[0])
    assert torch.allclose(path[0, 1], 0.2 * z1[0] + 0.8 * z2[0])


def test_decode_grid_is_laid_out_like_the_scatter_plot():
    model = vae.VAE(latent_dim=2, hidden_dim=8)
    grid = vae.decode_grid(model, limit=2.0, steps=3)
    corners = torch.sigmoid(model.decode(torch.tensor([[-2.0, 2.0], [2.0, -2.0]])))
    assert torch.allclose(grid[0], corners[0], atol=1e-6)  # top-left: z1 = -2, z2 = +2
    assert torch.allclose(grid[-1], corners[1], atol=1e-6)  # bottom-right: z1 = +2, z2 = -2


def tiny_splits(n: int = 300) -> Splits:
    """Random grey images standing in for MNIST (training code does not care what the pixels show)."""
    generator = torch.Generator().manual_seed(1)

    def split(size: int) -> Split:
        return Split(torch.rand(size, 784, generator=generator), torch.randint(0, 10, (size,), generator=generator))

    return Splits(split(n), split(100), split(100))


def tiny_config(tmp_path, **changes) -> VAEConfig:
    return VAEConfig(**{"epochs": 2, "hidden_dim": 32, "latent_dim": 2, "output_dir": str(tmp_path), **changes})


def train_tiny(config: VAEConfig, splits: Splits) -> tuple[vae.VAE, list[dict[str, float]]]:
    train.seed_everything(config.seed)
    model = vae.VAE(config.latent_dim, config.hidden_dim, config.activation)
    return model, train.fit_vae(model, splits, config, config.output_path / train.CHECKPOINT)


def test_same_seed_gives_the_same_run(tmp_path):
    splits = tiny_splits()
    _, first = train_tiny(tiny_config(tmp_path / "a"), splits)
    _, second = train_tiny(tiny_config(tmp_path / "b"), splits)
    _, other = train_tiny(tiny_config(tmp_path / "c", seed=1), splits)
    drop = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert drop(first) == drop(second)
    assert drop(first) != drop(other)


def test_history_records_losses_parts_and_seconds(tmp_path):
    _, history = train_tiny(tiny_config(tmp_path), tiny_splits())
    assert [row["epoch"] for row in history] == [1, 2]
    for row in history:
        assert row["train_loss"] == pytest.approx(row["train_reconstruction"] + row["train_kl"], rel=1e-5)
        assert row["validation_loss"] == pytest.approx(
            row["validation_reconstruction"] + row["validation_kl"], rel=1e-5)
        assert row["seconds"] > 0


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_run_resumes_where_it_stopped(tmp_path, precision):
    splits = tiny_splits()
    _, straight = train_tiny(tiny_config(tmp_path / "straight", epochs=3, precision=precision), splits)
    train_tiny(tiny_config(tmp_path / "resumed", epochs=1, precision=precision), splits)  # "interrupted" after one
    model, resumed = train_tiny(tiny_config(tmp_path / "resumed", epochs=3, precision=precision), splits)
    assert len(resumed) == 3
    for a, b in zip(straight, resumed):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["validation_loss"] == pytest.approx(b["validation_loss"], rel=1e-5)


def test_asking_for_fewer_epochs_than_the_checkpoint_retrains_and_keeps_the_longer_run(tmp_path):
    splits = tiny_splits()
    train_tiny(tiny_config(tmp_path, epochs=3), splits)
    model, history = train_tiny(tiny_config(tmp_path, epochs=1), splits)
    _, fresh = train_tiny(tiny_config(tmp_path / "fresh", epochs=1), splits)
    assert len(history) == 1 and history[0]["train_loss"] == pytest.approx(fresh[0]["train_loss"], rel=1e-6)
    assert len(torch.load(tmp_path / "checkpoint.3-epochs.pt", weights_only=True)["history"]) == 3


def test_a_checkpoint_of_other_parameters_is_not_resumed(tmp_path):
    splits = tiny_splits()
    train_tiny(tiny_config(tmp_path, epochs=1, learning_rate=0.05), splits)
    _, history = train_tiny(tiny_config(tmp_path, epochs=1), splits)
    _, fresh = train_tiny(tiny_config(tmp_path / "fresh", epochs=1), splits)
    assert history[0]["train_loss"] == pytest.approx(fresh[0]["train_loss"], rel=1e-6)


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint(tmp_path):
    checkpoint = tmp_path / train.CHECKPOINT
    model = torch.nn.Linear(1, 1)
    losses = iter([1.0, float("nan")])
    with pytest.raises(train.NonFiniteLossError, match="epoch 2: loss became non-finite"):
        train.fit(lambda epoch: {"loss": next(losses)}, 3, {"model": model}, torch.Generator(), checkpoint)
    kept = torch.load(checkpoint, weights_only=True)
    assert [row["loss"] for row in kept["history"]] == [1.0]


@pytest.mark.parametrize(("flags", "expected"), [({"avx512_bf16"}, "bf16"), ({"amx_bf16", "avx512f"}, "bf16"),
                                                 ({"avx512f", "avx2"}, "fp32")])
def test_auto_precision_is_bf16_only_where_the_cpu_has_native_bf16(monkeypatch, flags, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert precision.Numerics.of("auto", "cpu").name == expected
    assert precision.Numerics.of("fp32", "cpu").name == "fp32" and precision.Numerics.of("bf16", "cpu").name == "bf16"


def test_numerics_hold_the_compute_dtype_and_one_autocast_context_that_runs_again():
    fp32, bf16 = precision.Numerics.of("fp32", "cpu"), precision.Numerics.of("bf16", "cpu")
    assert fp32.dtype is None and bf16.dtype == torch.bfloat16
    layer, x = torch.nn.Linear(4, 3), torch.randn(2, 4)
    for _ in range(2):  # built once, entered once per step
        with bf16.autocast:
            assert layer(x).dtype == torch.bfloat16
        with fp32.autocast:
            assert layer(x).dtype == torch.float32
    assert not torch.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="precision must be 'fp32', 'bf16' or 'auto', got 'fp16'"):
        precision.Numerics.of("fp16", "cpu")


def test_bf16_training_keeps_losses_and_optimizer_state_in_float32_and_records_it(tmp_path):
    splits = tiny_splits()
    _, fp32 = train_tiny(tiny_config(tmp_path / "fp32", epochs=1, precision="fp32"), splits)
    model, bf16 = train_tiny(tiny_config(tmp_path / "bf16", epochs=1, precision="bf16"), splits)
    assert fp32[0]["precision"] == "fp32" and bf16[0]["precision"] == "bf16"
    assert bf16[0]["train_loss"] == pytest.approx(fp32[0]["train_loss"], rel=0.02)
    assert bf16[0]["train_loss"] != fp32[0]["train_loss"]  # the matrix products did run in bf16
    saved = torch.load(tmp_path / "bf16" / train.CHECKPOINT, weights_only=True)
    assert all(v.dtype == torch.float32 for v in saved["model"].values())
    assert all(s["sum"].dtype == torch.float32 for s in saved["optimizer"]["state"].values())
    logits, mean, log_var = model(torch.rand(3, 784))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs = model(torch.rand(3, 784))
    assert {t.dtype for t in (logits, mean, log_var, *outputs)} == {torch.float32}
