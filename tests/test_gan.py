"""The GAN's networks and losses, the digit head, and training a user relies on (k steps, resume, NaN guard)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from helpers.config import GANConfig, ParameterError
from helpers.data import Split, Splits
from helpers.models import gan
from helpers.models.precision import FP32
from helpers.training import checkpoints, monitor, train


def test_pixel_ranges_round_trip():
    pixels = torch.tensor([0.0, 0.25, 1.0])
    assert torch.equal(gan.to_signed(pixels), torch.tensor([-1.0, -0.5, 1.0]))
    assert torch.equal(gan.to_unit(gan.to_signed(pixels)), pixels)
    assert gan.to_unit(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]


def test_generator_shapes_and_range():
    model = gan.Generator(noise_dim=8, hidden_dim=16)
    images = model(100 * torch.randn(5, 8))  # large inputs saturate the Tanh, never beyond it
    assert images.shape == (5, 784) and images.min() >= -1 and images.max() <= 1
    assert model.sample(3).shape == (3, 784)
    with pytest.raises(ValueError, match="unconditional"):
        model(torch.randn(2, 8), torch.tensor([1, 2]))


def test_conditional_generator_needs_labels_and_uses_them():
    model = gan.Generator(noise_dim=8, hidden_dim=16, num_classes=10)
    z = torch.randn(2, 8)
    with pytest.raises(ValueError, match="labels"):
        model(z)
    assert not torch.allclose(model(z, torch.tensor([0, 0])), model(z, torch.tensor([1, 1])))


def test_discriminator_outputs_with_and_without_digit_head():
    x = torch.rand(4, 784) * 2 - 1
    logits, digits = gan.Discriminator(hidden_dim=16)(x)
    assert logits.shape == (4,) and digits is None
    logits, digits = gan.Discriminator(hidden_dim=16, num_classes=10)(x)
    assert logits.shape == (4,) and digits.shape == (4, 10)


def test_losses_of_a_hand_made_case():
    # D(x) = 0.75 on the real image (logit log 3) and D(G(z)) = 0.25 on the generated one (logit -log 3).
    real, fake = torch.tensor([math.log(3.0)]), torch.tensor([-math.log(3.0)])
    # rel=1e-6: a log-sigmoid of float32 inputs is within a few units of float32's 1.2e-7 rounding on any CPU
    assert gan.discriminator_loss(real, fake).item() == pytest.approx(-2 * math.log(0.75), rel=1e-6)
    assert gan.generator_loss(fake).item() == pytest.approx(-math.log(0.25), rel=1e-6)
    # A discriminator that says 1/2 everywhere: the equilibrium values drawn in the loss figure.
    zero = torch.zeros(3)
    assert gan.discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2), rel=1e-6)
    assert gan.generator_loss(zero).item() == pytest.approx(math.log(2), rel=1e-6)


def test_losses_stay_finite_for_a_confident_discriminator():
    # sigmoid(60) rounds to 1 in float32, so log(1 - D(G(z))) would be -inf; the logit form is exact.
    assert gan.discriminator_loss(torch.tensor([60.0]), torch.tensor([60.0])).item() == pytest.approx(60.0)
    assert gan.generator_loss(torch.tensor([-60.0])).item() == pytest.approx(60.0)


def test_digit_head_loss_and_accuracy_on_a_tiny_case():
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0], [0.0, 5.0]])
    labels = torch.tensor([0, 1, 0])
    expected = (-math.log(0.75) - math.log(0.5) - math.log(1 / (1 + math.exp(5)))) / 3
    assert gan.class_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    assert gan.accuracy(logits, labels) == pytest.approx(1 / 3)  # row 2 is a tie, argmax picks digit 0


def test_digit_accuracy_counts_correct_heads():
    disc = gan.Discriminator(hidden_dim=8, num_classes=10)
    with torch.no_grad():
        disc.classify.weight.zero_()
        disc.classify.bias.zero_()
        disc.classify.bias[3] = 1.0  # always says 3
    labels = torch.tensor([3, 3, 1, 3, 0])
    assert gan.digit_accuracy(disc, torch.rand(5, 784), labels, batch_size=2) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="digit head"):
        gan.digit_accuracy(gan.Discriminator(hidden_dim=8), torch.rand(2, 784), labels[:2])


def test_interpolation_endpoints_and_class_grid_rows():
    model = gan.Generator(noise_dim=4, hidden_dim=8, num_classes=10)
    alphas = torch.tensor([0.0, 0.5, 1.0])
    paths = gan.noise_interpolations(model, 3, alphas, torch.Generator().manual_seed(0))
    z = torch.Generator().manual_seed(0)
    z1, z2 = model.noise(3, z), model.noise(3, z)
    digits = torch.tensor([0, 1, 2])
    assert paths.shape == (3, 3, 784)
    # atol=1e-6: the same images computed in batches of other sizes, so with other float32 sums (each ~1e-7 off)
    assert torch.allclose(paths[:, 0], model(z2, digits), atol=1e-6)
    assert torch.allclose(paths[:, -1], model(z1, digits), atol=1e-6)
    grid = gan.class_grid(model, per_class=2, generator=torch.Generator().manual_seed(1))
    noise = model.noise(20, torch.Generator().manual_seed(1))
    assert torch.allclose(grid, model(noise, torch.arange(10).repeat_interleave(2)), atol=1e-6)
    with pytest.raises(ValueError, match="conditional"):
        gan.class_grid(gan.Generator(noise_dim=4, hidden_dim=8))


def test_configs_keep_the_variants_apart():
    assert GANConfig().to_dict()["conditional"] is False and GANConfig().to_dict()["auxiliary"] is False
    assert GANConfig(auxiliary=True, conditional="false").to_dict() == GANConfig(auxiliary=True).to_dict()
    with pytest.raises(ParameterError, match="conditional=True needs auxiliary=True"):
        GANConfig.from_namespace({"conditional": True})
    with pytest.raises(ParameterError, match="d_steps"):
        GANConfig(d_steps=0)
    with pytest.raises(ParameterError, match="adam_beta1"):
        GANConfig(adam_beta1=1.0)


AC_GAN = GANConfig(auxiliary=True, conditional=True)


@pytest.mark.parametrize(("config", "generator_classes", "digit_head"), [
    (GANConfig(), 0, False), (GANConfig(auxiliary=True), 0, True), (AC_GAN, 10, True)])
def test_each_variant_builds_its_networks(config, generator_classes, digit_head):
    gen, disc = gan.models_from_parameters(config.to_dict())
    assert gen.num_classes == generator_classes and (disc.classify is not None) == digit_head


def tiny_splits(n: int = 200) -> Splits:
    """Random grey images standing in for MNIST."""
    generator = torch.Generator().manual_seed(1)

    def split(size: int) -> Split:
        return Split(torch.rand(size, 784, generator=generator), torch.randint(0, 10, (size,), generator=generator))

    return Splits(split(n), split(50), split(50))


def tiny_models(config: GANConfig) -> tuple[gan.Generator, gan.Discriminator]:
    train.seed_everything(config.seed)
    return gan.models_from_parameters(config.to_dict())


@pytest.mark.parametrize("conditional", [True, False])
def test_training_records_what_the_figures_need(tmp_path, conditional):
    config = GANConfig(auxiliary=True, conditional=conditional, epochs=2, hidden_dim=16, noise_dim=4, batch_size=50,
                       sample_every=5, output_dir=str(tmp_path))
    gen, disc = tiny_models(config)
    snapshots = monitor.Snapshots()
    history = train.fit_gan(gen, disc, tiny_splits(), config, snapshots=snapshots)
    assert [row["epoch"] for row in history] == [1, 2]
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "class_loss", "train_accuracy", "val_accuracy",
                "sample_spread", "seconds"):
        assert math.isfinite(history[-1][key]), key
    assert 0 < history[-1]["d_real"] < 1 and 0 <= history[-1]["val_accuracy"] <= 1
    assert snapshots.epochs == [1, 2]  # the first epoch, then every sample_every-th and the last
    assert snapshots.state_dict()["images"].shape == (2, 10, 784)


def test_d_steps_discriminator_updates_per_generator_update():
    gen, disc = gan.Generator(4, 8), gan.Discriminator(8)
    steps = train.gan_trainer(gen, disc, 1e-3, 1e-3, (0.9, 0.999), FP32)
    images, labels = torch.rand(100, 784) * 2 - 1, torch.zeros(100, dtype=torch.long)
    train.gan_epoch(steps, images, labels, 25, 3, torch.Generator().manual_seed(0))
    count = lambda opt: int(opt.state[opt.param_groups[0]["params"][0]]["step"])
    assert (count(steps.disc_optimizer), count(steps.gen_optimizer)) == (12, 4)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resumed_training_matches_uninterrupted_training(tmp_path, precision):
    splits = tiny_splits()
    changes = dict(hidden_dim=16, noise_dim=4, batch_size=50, sample_every=1, precision=precision)
    config = GANConfig(epochs=2, output_dir=str(tmp_path / "straight"), **changes)
    gen, disc = tiny_models(config)
    straight = train.fit_gan(gen, disc, splits, config, tmp_path / "straight.pt")

    checkpoint = tmp_path / "resumed.pt"
    first = GANConfig(epochs=1, output_dir=str(tmp_path / "resumed"), **changes)
    train.fit_gan(*tiny_models(first), splits, first, checkpoint)
    second = GANConfig(epochs=2, output_dir=str(tmp_path / "resumed"), **changes)
    gen2, disc2 = gan.Generator(4, 16), gan.Discriminator(16)  # fresh weights: the checkpoint must restore them
    snapshots = monitor.Snapshots()
    resumed = train.fit_gan(gen2, disc2, splits, second, checkpoint, snapshots=snapshots)
    strip = lambda rows: [{k: v for k, v in row.items() if k != "seconds"} for row in rows]
    assert strip(resumed) == strip(straight)
    assert snapshots.epochs == [1, 2]  # the first epoch's snapshot came back from the checkpoint


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    splits = tiny_splits()
    checkpoint = tmp_path / train.CHECKPOINT
    changes = dict(hidden_dim=16, noise_dim=4, batch_size=50, output_dir=str(tmp_path))
    config = GANConfig(epochs=1, **changes)
    train.fit_gan(*tiny_models(config), splits, config, checkpoint)
    splits.train.images[7] = float("nan")  # a corrupt image poisons the next epoch's losses
    longer = GANConfig(epochs=3, **changes)
    with pytest.raises(train.NonFiniteLossError, match="non-finite.*checkpoint of epoch 1 is kept"):
        train.fit_gan(*tiny_models(longer), splits, longer, checkpoint)
    kept = torch.load(checkpoint, weights_only=True)
    assert len(kept["history"]) == 1 and all(torch.isfinite(p).all() for p in kept["G"].values())


def test_load_generator_rebuilds_a_saved_run(tmp_path):
    config = GANConfig(auxiliary=True, conditional=True, hidden_dim=16, noise_dim=4, output_dir=str(tmp_path))
    gen, disc = tiny_models(config)
    torch.save({"generator": gen.state_dict(), "discriminator": disc.state_dict()}, tmp_path / "weights.pt")
    (tmp_path / "metrics.json").write_text(json.dumps({"parameters": config.to_dict()}))
    loaded = gan.load_generator(tmp_path)
    z, labels = torch.randn(3, 4), torch.tensor([1, 5, 9])
    assert loaded.num_classes == 10 and loaded.noise_dim == 4
    assert torch.equal(loaded(z, labels), gen.eval()(z, labels))


def test_a_collapsed_generator_is_reported(tmp_path, capsys):
    config = GANConfig(epochs=1, hidden_dim=16, noise_dim=4, batch_size=50, learning_rate=1e-12,
                       output_dir=str(tmp_path))
    gen, disc = tiny_models(config)
    with torch.no_grad():
        gen.out[0].weight.zero_()  # every noise vector gives the same image
    history = train.fit_gan(gen, disc, tiny_splits(), config)
    assert history[0]["sample_spread"] < monitor.COLLAPSE_SPREAD
    assert "may have collapsed" in capsys.readouterr().out


def test_bf16_training_runs_and_is_recorded(tmp_path):
    config = GANConfig(auxiliary=True, conditional=True, epochs=1, hidden_dim=16, noise_dim=4, batch_size=50,
                       precision="bf16", output_dir=str(tmp_path))
    gen, disc = tiny_models(config)
    history = train.fit_gan(gen, disc, tiny_splits(), config, tmp_path / train.CHECKPOINT)
    assert history[0]["precision"] == "bf16"
    assert all(math.isfinite(v) for k, v in history[0].items() if k != "precision")
    saved = torch.load(tmp_path / train.CHECKPOINT, weights_only=True)
    moments = [s["exp_avg"] for s in saved["disc_optimizer"]["state"].values()]
    assert moments and all(m.dtype == torch.float32 for m in moments)
    assert all(p.dtype == torch.float32 for p in (*gen.parameters(), *disc.parameters()))


class ScriptedScorer:
    """Stands in for the classifier: hands out a scripted Frechet distance and digit coverage per call."""

    def __init__(self, distances: list[float], covered: list[int]):
        self.distances, self.covered, self.calls = list(distances), list(covered), 0

    def __call__(self, images, asked):
        assert images.shape == (20, 784) and 0 <= images.min() and images.max() <= 1
        self.calls += 1
        return {"frechet_distance": self.distances.pop(0), "digits_covered": self.covered.pop(0),
                "digit_entropy": 1.0, "inception_score": 2.0, "digit_distribution": [0.1] * 10, "samples": 20,
                "conditional_accuracy": None}


def test_the_monitor_scores_on_schedule_keeps_the_best_epoch_and_warns_of_collapse(tmp_path, capsys):
    config = GANConfig(epochs=4, hidden_dim=16, noise_dim=4, batch_size=50, score_every=2, score_samples=20,
                       output_dir=str(tmp_path))
    scorer = ScriptedScorer(distances=[50.0, 20.0, 30.0], covered=[10, 9, 3])  # epochs 1, 2 and 4 are scored
    best = tmp_path / "best.pt"
    history = train.fit_gan(*tiny_models(config), tiny_splits(), config, scorer=scorer, best_path=best)
    assert [("monitor_frechet_distance" in row) for row in history] == [True, True, False, True]
    assert history[3]["monitor_digits_covered"] == 3 and "monitor_samples" not in history[3]
    saved = torch.load(best, weights_only=True)
    assert saved["epoch"] == 2 and saved["frechet_distance"] == 20.0 and "generator" in saved
    assert "cover only 3 digits" in capsys.readouterr().out


def test_a_resumed_run_remembers_its_best_epoch(tmp_path):
    changes = dict(hidden_dim=16, noise_dim=4, batch_size=50, score_every=1, score_samples=20,
                   output_dir=str(tmp_path))
    checkpoint, best = tmp_path / "checkpoint.pt", tmp_path / "best.pt"
    first = GANConfig(epochs=1, **changes)
    train.fit_gan(*tiny_models(first), tiny_splits(), first, checkpoint, scorer=ScriptedScorer([10.0], [10]),
                  best_path=best)
    second = GANConfig(epochs=2, **changes)
    train.fit_gan(*tiny_models(second), tiny_splits(), second, checkpoint, scorer=ScriptedScorer([15.0], [10]),
                  best_path=best)
    assert torch.load(best, weights_only=True)["epoch"] == 1  # epoch 2's 15 did not beat epoch 1's 10


def test_the_discriminator_can_learn_at_its_own_rate_and_older_checkpoints_still_resume(tmp_path):
    splits = tiny_splits()
    changes = dict(hidden_dim=16, noise_dim=4, batch_size=50, output_dir=str(tmp_path))
    own_rate = GANConfig(epochs=1, disc_learning_rate=1e-4, **changes)
    train.fit_gan(*tiny_models(own_rate), splits, own_rate, tmp_path / "own.pt")
    saved = torch.load(tmp_path / "own.pt", weights_only=True)
    rates = [saved[name]["param_groups"][0]["lr"] for name in ("gen_optimizer", "disc_optimizer")]
    assert rates == [own_rate.learning_rate, 1e-4]
    # a checkpoint written before disc_learning_rate existed has no such key: at its default it must still match
    assert "disc_learning_rate" not in checkpoints.training_fingerprint(GANConfig(**changes))
    assert checkpoints.training_fingerprint(own_rate)["disc_learning_rate"] == 1e-4
