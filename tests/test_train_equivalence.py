"""The optimized training loops compute what a plain loop computes: same seed, same losses and weights.

The optimized loops step with the backward written out over flat buffers (helpers/training/explicit.py); the
plain loops with autograd on the modules, so these tests also hold the written-out gradients to autograd's.

The plain loops below take one batch at a time, call the networks once per batch of images (real and generated
apart), let gradients flow into every weight and read every loss at once; they draw their random numbers in
the same order as helpers/train.py (binarization for train.BATCHES_PER_DRAW batches at a time). Both loops
step with the same (fused) optimizers; the fused and default optimizer kernels are compared apart, step by step.

Why float64: the two loops order their sums differently (one discriminator pass over real and generated images
against two, sums kept on the device against read per step), so in float32 they differ in the last bits from the
first step, and 300 steps of training amplify that by a factor that depends on the CPU's kernels: 1e-5 relative
on an Intel Xeon, 1.3e-4 on an AMD Zen 4. In float64 the same reorderings start at ~1e-16, and the amplification
(measured under every dispatch level and thread count, see EQUAL) leaves them below 1e-11, far below the
tolerance, while a changed step, draw or loss shows at its first step at a size float32 itself would see.
"""

from __future__ import annotations

import pytest
import torch

from helpers.data import binarize
from helpers.models import gan, vae
from helpers.models.precision import FP32
from helpers.training import explicit, train

STEPS_PER_EPOCH, EPOCHS, BATCH = 60, 5, 20  # 300 steps on a small subset
GAN_VALUES = ["d_loss", "g_loss", "d_real", "d_fake", "class_loss"]  # what a GAN epoch reports, in this order


# Tolerance of the 300-step comparisons in float64. Largest differences measured (python -m bench.portability, an
# AMD Zen 4, ATEN_CPU_CAPABILITY=default/avx2/avx512 with 1 and 2 threads): losses 3.3e-15 relative, weights
# 2.4e-12 relative (1e-4 and smaller weights: 2.4e-16 absolute). EQUAL stays over three orders of magnitude above.
EQUAL = {"rel": 1e-8, "abs": 1e-12}


@pytest.fixture(autouse=True)
def float64():
    """float64 tensors by default (the thread count is the environment's: OMP_NUM_THREADS); restored afterwards."""
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(dtype)


def images(n: int = STEPS_PER_EPOCH * BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0, 1] of ten random patterns (one per 'digit', so there is something to learn) and their labels."""
    generator = torch.Generator().manual_seed(3)
    patterns = (torch.rand(10, 784, generator=generator) > 0.5).double() * 0.9 + 0.05
    labels = torch.randint(0, 10, (n,), generator=generator)
    return patterns[labels], labels


def plain_vae_epoch(model: vae.VAE, optimizer: torch.optim.Optimizer, x_all: torch.Tensor,
                    generator: torch.Generator) -> list[float]:
    """The reference VAE epoch: per-step losses, averaged as vae_epoch reports them."""
    order = torch.randperm(len(x_all), generator=generator)
    draw, rows = BATCH * train.BATCHES_PER_DRAW, []
    for start in range(0, len(x_all), draw):
        binary = binarize(x_all[order[start:start + draw]], generator)
        for first in range(0, len(binary), BATCH):
            x = binary[first:first + BATCH]
            logits, mean, log_var = model(x, generator)
            loss, reconstruction, kl = vae.neg_elbo(logits, x, mean, log_var)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            rows.append([loss.item(), reconstruction.item(), kl.item()])
    return torch.tensor(rows, dtype=torch.float64).mean(0).tolist()


Trained = tuple[torch.Tensor, dict[str, torch.Tensor]]  # per-epoch losses (epochs x values), final weights


def train_vae_both_ways() -> dict[str, Trained]:
    """The VAE trained EPOCHS epochs by train.vae_epoch ('optimized') and by the plain loop, from one seed."""
    x_all, _ = images()
    results = {}
    for name in ("optimized", "plain"):
        torch.manual_seed(0)
        model, generator = vae.VAE(latent_dim=2, hidden_dim=64), torch.Generator().manual_seed(0)
        if name == "optimized":
            step, _ = train.vae_trainer(model, 0.01, FP32)
            assert isinstance(step, explicit.VAEStep)  # the written-out backward is what trains
            losses = [list(train.vae_epoch(step, x_all, BATCH, generator).values()) for _ in range(EPOCHS)]
        else:
            optimizer = train.make_optimizer(torch.optim.Adagrad, model.parameters(), torch.device("cpu"), lr=0.01)
            losses = [plain_vae_epoch(model, optimizer, x_all, generator) for _ in range(EPOCHS)]
        results[name] = (torch.tensor(losses), model.state_dict())
    return results


def largest_differences(results: dict[str, Trained]) -> dict[str, float]:
    """The largest relative difference between the two ways' losses, and between their weights."""
    (fast, fast_weights), (plain, plain_weights) = results["optimized"], results["plain"]
    weights = max(((fast_weights[k] - w).abs() / w.abs().clamp_min(EQUAL["abs"] / EQUAL["rel"])).max().item()
                  for k, w in plain_weights.items())
    return {"losses": ((fast - plain).abs() / plain.abs()).max().item(), "weights": weights}


def assert_equal_ways(results: dict[str, Trained]) -> None:
    """Both ways trained in float64 and ended with the same losses and weights, within EQUAL."""
    (fast, fast_weights), (plain, plain_weights) = results["optimized"], results["plain"]
    assert fast.dtype == torch.float64 and fast.flatten().tolist() == pytest.approx(plain.flatten().tolist(), **EQUAL)
    for key, weight in plain_weights.items():
        assert weight.dtype == torch.float64
        assert torch.allclose(fast_weights[key], weight, rtol=EQUAL["rel"], atol=EQUAL["abs"]), key


def test_vae_loop_matches_a_plain_loop():
    results = train_vae_both_ways()
    losses = results["optimized"][0]
    assert losses[-1, 0] < 0.9 * losses[0, 0]  # it learned, so the comparison is not of two idle runs
    assert_equal_ways(results)


def plain_gan_epoch(gen: gan.Generator, disc: gan.Discriminator, gen_optimizer: torch.optim.Optimizer,
                    disc_optimizer: torch.optim.Optimizer, real_all: torch.Tensor, labels: torch.Tensor,
                    generator: torch.Generator) -> dict[str, float]:
    """The reference GAN epoch: real and generated images in separate passes, every loss read at once."""
    order, rows = torch.randperm(len(real_all), generator=generator), []
    for start in range(0, len(real_all), BATCH):
        index = order[start:start + BATCH]
        real, digits = real_all[index], labels[index]
        asked = gen.random_labels(len(real), generator)
        with torch.no_grad():
            fake = gen(gen.noise(len(real), generator), asked)
        (real_logits, real_digits), (fake_logits, fake_digits) = disc(real), disc(fake)
        d_loss = gan.discriminator_loss(real_logits, fake_logits)
        classes = gan.class_loss(real_digits, digits) if real_digits is not None else torch.zeros(())
        generated = gan.class_loss(fake_digits, asked) if asked is not None else torch.zeros(())
        disc_optimizer.zero_grad()
        (d_loss + classes + generated).backward()
        disc_optimizer.step()
        asked = gen.random_labels(len(real), generator)
        judged_logits, judged_digits = disc(gen(gen.noise(len(real), generator), asked))
        g_loss = gan.generator_loss(judged_logits)
        gen_optimizer.zero_grad()
        (g_loss + (gan.class_loss(judged_digits, asked) if asked is not None else 0.0)).backward()
        gen_optimizer.step()
        rows.append([d_loss.item(), g_loss.item(), torch.sigmoid(real_logits).mean().item(),
                     torch.sigmoid(fake_logits).mean().item(), classes.item()])
    means = torch.tensor(rows, dtype=torch.float64).mean(0).tolist()
    return dict(zip(GAN_VALUES, means))


def train_gan_both_ways(aux: bool) -> dict[str, Trained]:
    """The GAN (AC-GAN when aux) trained EPOCHS epochs by train.gan_epoch and by the plain loop, from one seed."""
    real_all, labels = images()
    real_all = gan.to_signed(real_all)
    keys = GAN_VALUES if aux else GAN_VALUES[:-1]
    results = {}
    for name in ("optimized", "plain"):
        torch.manual_seed(0)
        gen, disc = gan.models_from_parameters({"noise_dim": 8, "hidden_dim": 32, "auxiliary": aux,
                                                "conditional": aux})
        generator = torch.Generator().manual_seed(0)
        if name == "optimized":
            steps = train.gan_trainer(gen, disc, 5e-4, 5e-4, (0.5, 0.999), FP32)
            assert isinstance(steps, explicit.GANSteps)  # the written-out backward is what trains
            rows = [train.gan_epoch(steps, real_all, labels, BATCH, 1, generator) for _ in range(EPOCHS)]
        else:
            gen_opt, disc_opt = (train.make_optimizer(torch.optim.Adam, m.parameters(), torch.device("cpu"),
                                                      lr=5e-4, betas=(0.5, 0.999)) for m in (gen, disc))
            rows = [plain_gan_epoch(gen, disc, gen_opt, disc_opt, real_all, labels, generator)
                    for _ in range(EPOCHS)]
        losses = torch.tensor([[row[k] for k in keys] for row in rows])
        results[name] = (losses, gen.state_dict() | {f"D.{k}": v for k, v in disc.state_dict().items()})
    return results


@pytest.mark.parametrize("aux", [False, True], ids=["gan", "aux_gan"])
def test_gan_loop_matches_a_plain_loop(aux):
    results = train_gan_both_ways(aux)
    d_loss = results["optimized"][0][:, 0]
    assert d_loss[-1].item() != pytest.approx(d_loss[0].item(), rel=1e-3)  # the networks did change
    assert_equal_ways(results)


@pytest.mark.parametrize("kind", [torch.optim.Adagrad, torch.optim.Adam])
def test_fused_optimizer_steps_match_the_default_steps(kind):
    generator = torch.Generator().manual_seed(5)
    start = torch.randn(1000, generator=generator, dtype=torch.float32)
    grads = torch.randn(50, 1000, generator=generator, dtype=torch.float32)
    weights = {}
    for name in ("fused", "default"):
        weight = torch.nn.Parameter(start.clone())
        optimizer = (train.make_optimizer(kind, [weight], torch.device("cpu"), lr=0.01) if name == "fused"
                     else kind([weight], lr=0.01, foreach=False))
        assert optimizer.param_groups[0]["fused"] is (True if name == "fused" else None)
        for grad in grads:
            weight.grad = grad.clone()
            optimizer.step()
        weights[name] = weight.detach()
    assert not torch.equal(weights["fused"], start)
    # The updates do not depend on the weights (the gradients are given), so the two kernels' rounding does not
    # grow: each step may round the new weight to a neighbouring float32. Measured under every dispatch level: at
    # most one unit in the last place of weights in [1, 2), 1.2e-7. Bound: two units of the largest weight's.
    ulp = torch.finfo(torch.float32).eps * 2.0 ** torch.floor(torch.log2(weights["default"].abs().max()))
    assert (weights["fused"] - weights["default"]).abs().max() <= 2 * ulp


def test_the_fused_choice_survives_a_checkpoint_written_without_it():
    weight = torch.nn.Parameter(torch.ones(3))
    saved = torch.optim.Adagrad([weight], lr=0.01, fused=False).state_dict()
    optimizer = train.make_optimizer(torch.optim.Adagrad, [weight], torch.device("cpu"), lr=0.01)
    optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["fused"] is True
