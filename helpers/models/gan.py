"""The writeup's GAN: MLP generator and discriminator, an optional digit head (auxiliary classifier), losses.

Images live in [-1, 1] here (``to_signed``) and go back to [0, 1] for display (``to_unit``). The
discriminator returns logits; its losses use BCE-with-logits, the numerically safe form of a sigmoid
output followed by the log-likelihood. With ``num_classes`` set, the discriminator also has a digit head
on its shared hidden layers, and the generator (when built with ``num_classes`` too) is conditioned on a
digit label through an embedding joined to the noise, as in AC-GAN.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from helpers.common.folder import RunFolder
from helpers.models.latent import interpolate
from helpers.models.precision import widened

IMAGE_DIM = 784
NUM_DIGITS = 10
LEAKY_SLOPE = 0.2


def to_signed(images: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] mapped to [-1, 1] (the range of the generator's Tanh)."""
    return images * 2.0 - 1.0


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Pixels in [-1, 1] mapped back to [0, 1] for display."""
    return ((images + 1.0) / 2.0).clamp(0.0, 1.0)


def leaky_mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given sizes with LeakyReLU(0.2) after each one."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False):
        layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(LEAKY_SLOPE)]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """G(z) or G(z, label): noise (and a label embedding) -> 256 -> 256 -> 784 pixels in [-1, 1]."""

    def __init__(self, noise_dim: int = 64, hidden_dim: int = 256, num_classes: int = 0):
        super().__init__()
        self.noise_dim = noise_dim
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, num_classes) if num_classes else None
        self.hidden = leaky_mlp([noise_dim + num_classes, hidden_dim, hidden_dim])
        self.out = nn.Sequential(nn.Linear(hidden_dim, IMAGE_DIM), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Flattened images (N, 784) in [-1, 1]; labels (N,) are required exactly when the generator is conditional."""
        if self.embed is not None:
            if labels is None:
                raise ValueError("this generator is conditional: pass labels (one digit per noise vector)")
            z = torch.cat([z, self.embed(labels)], dim=-1)
        elif labels is not None:
            raise ValueError("this generator is unconditional: it takes no labels")
        return self.out(self.hidden(z))

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n noise vectors from the prior N(0, I), on the model's device."""
        device = next(self.parameters()).device
        return torch.randn(n, self.noise_dim, generator=generator, device=device)

    def random_labels(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """n digits drawn uniformly for a conditional generator; None for an unconditional one."""
        if not self.num_classes:
            return None
        device = next(self.parameters()).device
        return torch.randint(0, self.num_classes, (n,), generator=generator, device=device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
               ) -> torch.Tensor:
        """n images in [-1, 1] from fresh noise (labels drawn uniformly when conditional and not given)."""
        if labels is None:
            labels = self.random_labels(n, generator)
        return self(self.noise(n, generator), labels)


class Discriminator(nn.Module):
    """D(x): 784 -> 256 -> 256 -> a real/fake logit, and (num_classes > 0) digit logits from the same layers."""

    def __init__(self, hidden_dim: int = 256, num_classes: int = 0):
        super().__init__()
        self.num_classes = num_classes
        self.hidden = leaky_mlp([IMAGE_DIM, hidden_dim, hidden_dim])
        self.real_fake = nn.Linear(hidden_dim, 1)
        self.classify = nn.Linear(hidden_dim, num_classes) if num_classes else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The real/fake logit (N,) and the digit logits (N, num_classes), or None without a digit head (float32)."""
        features = self.hidden(x)
        digits = widened(self.classify(features)) if self.classify is not None else None
        return widened(self.real_fake(features)).squeeze(-1), digits


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-[log D(x) + log(1 - D(G(z)))], batch means, from logits (2 log 2 when D outputs 1/2 everywhere)."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss -log D(G(z)), batch mean, from logits."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def class_loss(digit_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the digit head (logits in, no softmax before), batch mean."""
    return F.cross_entropy(digit_logits, labels)


def accuracy(digit_logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of images whose most likely digit is the label."""
    return (digit_logits.argmax(dim=-1) == labels).float().mean().item()


@torch.no_grad()
def digit_accuracy(discriminator: Discriminator, images: torch.Tensor, labels: torch.Tensor,
                   batch_size: int = 1000) -> float:
    """The digit head's accuracy on images in [-1, 1] (e.g. the validation set)."""
    if discriminator.classify is None:
        raise ValueError("this discriminator has no digit head")
    was_training = discriminator.training
    discriminator.eval()
    correct = sum((discriminator(images[i:i + batch_size])[1].argmax(-1) == labels[i:i + batch_size]).sum().item()
                  for i in range(0, len(images), batch_size))
    discriminator.train(was_training)
    return correct / len(images)


@torch.no_grad()
def noise_interpolations(model: Generator, pairs: int, alphas: torch.Tensor,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """Images in [-1, 1] along alpha * z1 + (1 - alpha) * z2 for pairs of prior draws: (pairs, len(alphas), 784).

    A conditional generator keeps one digit per row (row i asks for digit i mod 10) while the noise moves.
    """
    z1, z2 = model.noise(pairs, generator), model.noise(pairs, generator)
    path = interpolate(z1, z2, alphas).reshape(pairs * len(alphas), model.noise_dim)
    labels = None
    if model.num_classes:
        digits = torch.arange(pairs, device=path.device) % model.num_classes
        labels = digits.repeat_interleave(len(alphas))
    return model(path, labels).reshape(pairs, len(alphas), IMAGE_DIM)


@torch.no_grad()
def class_grid(model: Generator, per_class: int = 10, generator: torch.Generator | None = None) -> torch.Tensor:
    """For a conditional generator: row d holds per_class images asked to be digit d, (classes * per_class, 784)."""
    if not model.num_classes:
        raise ValueError("class_grid needs a conditional generator (num_classes > 0)")
    device = next(model.parameters()).device
    labels = torch.arange(model.num_classes, device=device).repeat_interleave(per_class)
    return model(model.noise(len(labels), generator), labels)


def models_from_parameters(parameters: dict) -> tuple[Generator, Discriminator]:
    """Fresh generator and discriminator shaped as a run's parameters (GANConfig.to_dict()) describe."""
    classes = NUM_DIGITS if parameters.get("auxiliary") or parameters.get("conditional") else 0
    generator_classes = NUM_DIGITS if parameters.get("conditional") else 0
    return (Generator(parameters["noise_dim"], parameters["hidden_dim"], generator_classes),
            Discriminator(parameters["hidden_dim"], classes))


def load_generator(run_dir: str | os.PathLike, device: torch.device | str = "cpu") -> Generator:
    """The trained generator of a GAN run folder (metrics.json + weights.pt), in eval mode on device."""
    parameters, weights = RunFolder(Path(run_dir)).trained("GAN")
    model, _ = models_from_parameters(parameters)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True)["generator"])
    return model.to(device).eval()


def load_best_generator(path: str | os.PathLike, parameters: dict, device: torch.device | str = "cpu"
                        ) -> tuple[Generator, int] | None:
    """The generator a run kept at its best epoch (best.pt) and that epoch, in eval mode; None without the file."""
    if not os.path.exists(path):
        return None
    best = torch.load(path, map_location=device, weights_only=True)
    generator, _ = models_from_parameters(parameters)
    generator.load_state_dict(best["generator"])
    return generator.to(device).eval(), best["epoch"]
