"""The reference loops of the benchmark, in the style of pytorch/examples: a DataLoader with ToTensor feeding
one batch at a time, the optimizers' default (unfused) steps, and `.item()` on the losses after every step.

Same networks, losses and optimizers as helpers/train.py; kept here only, as what our loops are measured against.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from helpers.data import data_dir
from helpers.models import gan
from helpers.models.vae import VAE, neg_elbo


def mnist_loader(images: int, batch_size: int, signed: bool, seed: int = 0) -> DataLoader:
    """The first `images` MNIST training images through ToTensor (and to [-1, 1] when signed), shuffled."""
    steps = [transforms.ToTensor()] + ([transforms.Normalize((0.5,), (0.5,))] if signed else [])
    dataset = datasets.MNIST(str(data_dir()), train=True, download=False, transform=transforms.Compose(steps))
    return DataLoader(Subset(dataset, range(images)), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def vae_epoch(model: VAE, optimizer: torch.optim.Optimizer, loader: DataLoader) -> float:
    """One examples-style VAE epoch (binarized batches, as ours); the mean loss."""
    total = 0.0
    for images, _ in loader:
        x = torch.bernoulli(images.view(-1, 784))
        optimizer.zero_grad()
        logits, mean, log_var = model(x)
        loss, _, _ = neg_elbo(logits, x, mean, log_var)
        loss.backward()
        total += loss.item() * len(x)
        optimizer.step()
    return total / len(loader.dataset)


def gan_epoch(gen: gan.Generator, disc: gan.Discriminator, gen_optimizer: torch.optim.Optimizer,
              disc_optimizer: torch.optim.Optimizer, loader: DataLoader) -> tuple[float, float]:
    """One examples-style (AC-)GAN epoch: D on real, then on detached fakes, then G; mean D and G losses."""
    d_total = g_total = 0.0
    for images, digits in loader:
        real, n = images.view(-1, 784), len(images)
        disc_optimizer.zero_grad()
        asked = gen.random_labels(n)
        fake = gen(gen.noise(n), asked)
        real_logits, real_digits = disc(real)
        fake_logits, fake_digits = disc(fake.detach())
        d_loss = gan.discriminator_loss(real_logits, fake_logits)
        if real_digits is not None:
            d_loss = d_loss + gan.class_loss(real_digits, digits)
            if asked is not None:
                d_loss = d_loss + gan.class_loss(fake_digits, asked)
        d_loss.backward()
        disc_optimizer.step()
        gen_optimizer.zero_grad()
        fake_logits, fake_digits = disc(fake)
        g_loss = gan.generator_loss(fake_logits)
        if asked is not None:
            g_loss = g_loss + gan.class_loss(fake_digits, asked)
        g_loss.backward()
        gen_optimizer.step()
        d_total += d_loss.item()
        g_total += g_loss.item()
    return d_total / len(loader), g_total / len(loader)
