"""The benchmark's models and the partial epochs timed on them: our training loop (helpers/training/train.py),
with autograd's or the written-out step, and the examples-style loop (bench/baseline.py); bench.speed times them,
bench.breakdown profiles them."""

from __future__ import annotations

from collections.abc import Callable

import torch

from bench import baseline
from helpers.data import Splits
from helpers.models import gan, vae
from helpers.models.precision import Numerics
from helpers.training import train

MODELS = ("vae_z2", "vae_z20", "gan", "aux_gan")
BATCH = 100


def our_loop(model: str, precision: str, splits: Splits, images: int, autograd: bool = False
             ) -> Callable[[], object]:
    """One partial epoch of helpers/training/train.py's loop for a benchmark model, ready to call repeatedly.

    With autograd, the steps are autograd's on the modules (train.vae_step and train.AutogradGANSteps) instead of
    the written-out ones the training uses (helpers/training/explicit.py).
    """
    train.seed_everything(0)
    device, generator = torch.device("cpu"), torch.Generator().manual_seed(0)
    numerics = Numerics.of(precision, device)
    if model.startswith("vae"):
        net = vae.VAE(int(model.removeprefix("vae_z")))
        x = splits.train.images[:images]
        if autograd:
            optimizer = train.make_optimizer(torch.optim.Adagrad, net.parameters(), device, lr=0.01)
            return lambda: train.vae_epoch(lambda b, g: train.vae_step(net, optimizer, b, g, numerics), x, BATCH,
                                           generator)
        step, _ = train.vae_trainer(net, 0.01, numerics)
        return lambda: train.vae_epoch(step, x, BATCH, generator)
    gen, disc = gan_models(model)
    if autograd:
        steps = train.AutogradGANSteps(gen, disc, *(train.make_optimizer(
            torch.optim.Adam, m.parameters(), device, lr=5e-4, betas=(0.5, 0.999)) for m in (gen, disc)), numerics)
    else:
        steps = train.gan_trainer(gen, disc, 5e-4, 5e-4, (0.5, 0.999), numerics)
    real, labels = gan.to_signed(splits.train.images[:images]), splits.train.labels[:images]
    return lambda: train.gan_epoch(steps, real, labels, BATCH, 1, generator)


def baseline_loop(model: str, images: int) -> Callable[[], object]:
    """One partial epoch of the examples-style loop (bench/baseline.py) for a benchmark model."""
    train.seed_everything(0)
    if model.startswith("vae"):
        net = vae.VAE(int(model.removeprefix("vae_z")))
        optimizer = torch.optim.Adagrad(net.parameters(), lr=0.01)
        loader = baseline.mnist_loader(images, BATCH, signed=False)
        return lambda: baseline.vae_epoch(net, optimizer, loader)
    gen, disc = gan_models(model)
    gen_opt, disc_opt = (torch.optim.Adam(m.parameters(), lr=5e-4, betas=(0.5, 0.999)) for m in (gen, disc))
    loader = baseline.mnist_loader(images, BATCH, signed=True)
    return lambda: baseline.gan_epoch(gen, disc, gen_opt, disc_opt, loader)


def gan_models(model: str) -> tuple[gan.Generator, gan.Discriminator]:
    """The networks of the gan run (plain) or the aux_gan run (conditional generator, digit head)."""
    aux = model == "aux_gan"
    return gan.models_from_parameters({"noise_dim": 64, "hidden_dim": 256, "auxiliary": aux, "conditional": aux})
