"""Paths through a latent or noise space, shared by the VAE and the GAN."""

from __future__ import annotations

import torch


def interpolate(z1: torch.Tensor, z2: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """Latent points alpha * z1 + (1 - alpha) * z2 for each pair and alpha: (pairs, len(alphas), dim)."""
    alphas = alphas.to(z1.device).view(1, -1, 1)
    return alphas * z1.unsqueeze(1) + (1 - alphas) * z2.unsqueeze(1)
