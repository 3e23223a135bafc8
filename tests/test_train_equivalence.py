"""The optimized training loops compute what a plain loop computes: same seed, same float32 losses and weights.

The plain loops below take one batch at a time, call the networks once per batch of images (real and generated
apart), let gradients flow into every weight and read every loss at once; they draw their random numbers in
the same order as helpers/train.py (binarization for train.BATCHES_PER_DRAW batches at a time). Both loops
step with the same (fused) optimizers: over hundreds of steps, training amplifies the last-bit differences
between torch's fused and default optimizer kernels to ~1e-4, so those two are compared step by step apart.
"""

from __future__ import annotations

import pytest
import torch

from helpers import gan, train, vae
from helpers.data import binarize

STEPS_PER_EPOCH, EPOCHS, BATCH = 60, 5, 20  # 300 steps on a small subset


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the notebooks train (and fast on a busy machine); restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def images(n: int = STEPS_PER_EPOCH * BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0, 1] of ten random patterns (one per 'digit', so there is something to learn) and their labels."""
    generator = torch.Generator().manual_seed(3)
    patterns = (torch.rand(10, 784, generator=generator) > 0.5).float() * 0.9 + 0.05
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


def test_vae_loop_matches_a_plain_loop():
    x_all, _ = images()
    results = {}
    for name in ("optimized", "plain"):
        torch.manual_seed(0)
        model, generator = vae.VAE(latent_dim=2, hidden_dim=64), torch.Generator().manual_seed(0)
        optimizer = train.make_optimizer(torch.optim.Adagrad, model.parameters(), torch.device("cpu"), lr=0.01)
        if name == "optimized":
            losses = [list(train.vae_epoch(model, optimizer, x_all, BATCH, generator).values())
                      for _ in range(EPOCHS)]
        else:
            losses = [plain_vae_epoch(model, optimizer, x_all, generator) for _ in range(EPOCHS)]
        results[name] = (torch.tensor(losses), model.state_dict())
    (fast, fast_weights), (plain, plain_weights) = results["optimized"], results["plain"]
    assert fast[-1, 0] < 0.9 * fast[0, 0]  # it learned, so the comparison is not of two idle runs
    assert torch.allclose(fast, plain.float(), rtol=1e-5, atol=0)
    for key, weight in plain_weights.items():
        assert torch.allclose(fast_weights[key], weight, rtol=1e-4, atol=1e-6), key


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
    return dict(zip(["d_loss", "g_loss", "d_real", "d_fake", "class_loss"], means))


@pytest.mark.parametrize("aux", [False, True], ids=["gan", "aux_gan"])
def test_gan_loop_matches_a_plain_loop(aux):
    real_all, labels = images()
    real_all = gan.to_signed(real_all)
    results = {}
    for name in ("optimized", "plain"):
        torch.manual_seed(0)
        gen, disc = gan.models_from_parameters({"noise_dim": 8, "hidden_dim": 32, "auxiliary": aux,
                                                "conditional": aux})
        generator = torch.Generator().manual_seed(0)
        gen_opt, disc_opt = (train.make_optimizer(torch.optim.Adam, m.parameters(), torch.device("cpu"),
                                                  lr=5e-4, betas=(0.5, 0.999)) for m in (gen, disc))
        if name == "optimized":
            rows = [train.gan_epoch(gen, disc, gen_opt, disc_opt, real_all, labels, BATCH, 1, generator)
                    for _ in range(EPOCHS)]
        else:
            rows = [plain_gan_epoch(gen, disc, gen_opt, disc_opt, real_all, labels, generator)
                    for _ in range(EPOCHS)]
        results[name] = (rows, gen.state_dict() | {f"D.{k}": v for k, v in disc.state_dict().items()})
    (fast, fast_weights), (plain, plain_weights) = results["optimized"], results["plain"]
    keys = ["d_loss", "g_loss", "d_real", "d_fake"] + (["class_loss"] if aux else [])
    assert fast[-1]["d_loss"] != pytest.approx(fast[0]["d_loss"], rel=1e-3)  # the networks did change
    for fast_row, plain_row in zip(fast, plain, strict=True):
        assert [fast_row[k] for k in keys] == pytest.approx([plain_row[k] for k in keys], rel=1e-5)
    for key, weight in plain_weights.items():
        assert torch.allclose(fast_weights[key], weight, rtol=1e-4, atol=1e-6), key


@pytest.mark.parametrize("kind", [torch.optim.Adagrad, torch.optim.Adam])
def test_fused_optimizer_steps_match_the_default_steps(kind):
    generator = torch.Generator().manual_seed(5)
    start = torch.randn(1000, generator=generator)
    grads = torch.randn(50, 1000, generator=generator)
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
    assert torch.allclose(weights["fused"], weights["default"], rtol=1e-6, atol=1e-7)


def test_the_fused_choice_survives_a_checkpoint_written_without_it():
    weight = torch.nn.Parameter(torch.ones(3))
    saved = torch.optim.Adagrad([weight], lr=0.01, fused=False).state_dict()
    optimizer = train.make_optimizer(torch.optim.Adagrad, [weight], torch.device("cpu"), lr=0.01)
    optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["fused"] is True
