"""The VAE of the writeup: MLP encoder and decoder, Bernoulli likelihood, N(0, I) prior, and its loss."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from helpers.common.folder import RunFolder
from helpers.models.latent import interpolate
from helpers.models.precision import widened

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "elu": nn.ELU, "softplus": nn.Softplus}


def mlp(sizes: list[int], activation: str = "relu") -> nn.Sequential:
    """Linear layers of the given sizes with an activation between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Encoder q(z|x) = N(mean, diag(exp(log_var))) and decoder p(x|z) = Bernoulli(sigmoid(logits))."""

    def __init__(self, latent_dim: int = 2, hidden_dim: int = 500, activation: str = "relu", input_dim: int = 784):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = mlp([input_dim, hidden_dim, hidden_dim, 2 * latent_dim], activation)
        self.decoder = mlp([latent_dim, hidden_dim, hidden_dim, input_dim], activation)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior's mean and log-variance for each image (float32, also under bf16 autocast)."""
        mean, log_var = widened(self.encoder(x)).chunk(2, dim=-1)
        return mean, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The Bernoulli logits of every pixel for each latent point (float32, also under bf16 autocast)."""
        return widened(self.decoder(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, draw one z by reparameterization, decode: (logits, mean, log_var)."""
        mean, log_var = self.encode(x)
        z = reparameterize(mean, log_var, generator)
        return self.decode(z), mean, log_var

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel probabilities of n images decoded from z ~ N(0, I)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return torch.sigmoid(self.decode(z))


def reparameterize(mean: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
    """z = mean + sigma * eps with eps ~ N(0, I), differentiable in mean and log_var."""
    eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * log_var) * eps


def kl_to_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, in nats (closed form)."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=-1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per example for independent Bernoulli pixels, in nats."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def neg_elbo(logits: torch.Tensor, x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean negative ELBO over the batch and its two parts: (loss, reconstruction, kl), in nats."""
    reconstruction = reconstruction_nll(logits, x).mean()
    kl = kl_to_standard_normal(mean, log_var).mean()
    return reconstruction + kl, reconstruction, kl


@torch.no_grad()
def evaluate(model: VAE, x: torch.Tensor, batch_size: int = 1000, generator: torch.Generator | None = None
             ) -> dict[str, float]:
    """Mean negative ELBO, reconstruction and KL over binarized images x (one z sample each)."""
    model.eval()
    totals = torch.zeros(3, device=x.device)
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size]
        logits, mean, log_var = model(batch, generator)
        loss, reconstruction, kl = neg_elbo(logits, batch, mean, log_var)
        totals += torch.stack([loss, reconstruction, kl]) * len(batch)
    model.train()
    loss, reconstruction, kl = (totals / len(x)).tolist()
    return {"loss": loss, "reconstruction": reconstruction, "kl": kl}


@torch.no_grad()
def latent_means(model: VAE, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The posterior mean of every image (used for the latent-space scatter)."""
    return torch.cat([model.encode(images[i:i + batch_size])[0] for i in range(0, len(images), batch_size)])


@torch.no_grad()
def decode_grid(model: VAE, limit: float = 2.0, steps: int = 20) -> torch.Tensor:
    """Pixel probabilities decoded over a steps x steps grid of [-limit, limit]^2 (latent_dim 2), row-major.

    Rows run from z2 = +limit at the top to -limit at the bottom, columns from z1 = -limit to +limit,
    so the grid reads like the latent scatter plot.
    """
    if model.latent_dim != 2:
        raise ValueError(f"decode_grid needs latent_dim 2, got {model.latent_dim}")
    device = next(model.parameters()).device
    axis = torch.linspace(-limit, limit, steps, device=device)
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1)
    return torch.sigmoid(model.decode(z))


@torch.no_grad()
def reconstruct(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """Pixel probabilities decoded from the posterior mean of each image x."""
    return torch.sigmoid(model.decode(model.encode(x)[0]))


@torch.no_grad()
def prior_interpolations(model: VAE, pairs: int, alphas: torch.Tensor, generator: torch.Generator | None = None
                         ) -> torch.Tensor:
    """Pixel probabilities along lines between pairs of prior draws: (pairs, len(alphas), 784)."""
    device = next(model.parameters()).device
    z1, z2 = torch.randn(2, pairs, model.latent_dim, generator=generator, device=device)
    path = interpolate(z1, z2, alphas)
    return torch.sigmoid(model.decode(path))


@torch.no_grad()
def principal_traversal(model: VAE, means: torch.Tensor, axes: int, offsets: torch.Tensor) -> torch.Tensor:
    """Pixel probabilities decoded from the centre of the posterior means moved along their leading principal axes,
    each axis scaled to one standard deviation of the means: (axes, len(offsets), 784)."""
    centre = means.mean(dim=0)
    _, singular, directions = torch.linalg.svd(means - centre, full_matrices=False)
    scaled = directions[:axes] * (singular[:axes] / (len(means) - 1) ** 0.5).unsqueeze(1)
    z = centre + offsets.to(centre)[None, :, None] * scaled[:, None, :]
    return torch.sigmoid(model.decode(z.reshape(-1, model.latent_dim))).reshape(len(scaled), len(offsets), -1)


def load_vae(run_dir: str | os.PathLike, device: torch.device | str = "cpu") -> VAE:
    """Rebuild a trained VAE from a run folder: its metrics.json parameters and weights.pt, in eval mode."""
    parameters, weights = RunFolder(Path(run_dir)).trained("VAE")
    model = VAE(parameters["latent_dim"], parameters["hidden_dim"], parameters.get("activation", "relu"))
    state = torch.load(weights, map_location=device, weights_only=True)["model"]
    model.load_state_dict(state)
    return model.to(device).eval()
