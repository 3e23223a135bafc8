"""Measures of trained models: a VAE's likelihood by importance sampling, its latent usage, and sample scores.

Likelihood (Burda et al., 2015): log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K with
z_k ~ q(z|x), the encoder as proposal; batched over images and over the K samples to bound memory.

Sample scores use a trained MNIST classifier (helpers.models.classifier): its softmax gives the Inception Score and the
predicted-digit distribution, its penultimate layer the features of the Frechet distance. These numbers compare
models only under the same classifier.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm

from helpers.common.files import PROGRESS_ENV
from helpers.config import ACTIVE_UNIT_VARIANCE, SCORE_SAMPLES  # noqa: F401 (names metrics re-exports)
from helpers.models.precision import FP32, Numerics, widened

BURDA_SAMPLES = 5000  # K of Burda et al. (2015)
MAX_ROWS = 5_000  # decoder rows (images x samples) per pass: 16 MB per 784-wide float32 tensor (bench.likelihood:
# 1.5x faster on a CPU than 50,000 rows, whose tensors overflow the caches)
NEAREST = 5  # k of the density and coverage's nearest-neighbour balls (Naeem et al., 2020)
COVERED_FRACTION = 0.02  # a digit is covered when at least 2% of samples (a fifth of its uniform share) show it
LOG_2PI = math.log(2 * math.pi)


class LatentVariableModel(Protocol):
    """A VAE-like model: encode(x) -> (mean, log_var) of a diagonal Gaussian q(z|x); decode(z) -> p(x|z)'s logits."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...
    def decode(self, z: torch.Tensor) -> torch.Tensor: ...


LogLikelihood = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# --- likelihood by importance sampling ---------------------------------------------------------------------------

def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) summed over the last dimension for independent binary pixels x given their logits (broadcast).

    Computed as the log of sigmoid(+-logits), the probability given to each observed value: exact in float32 to
    5e-5 nats per image (a sigmoid that rounds to 1 above a logit of 16.6), four times faster on a CPU than
    softplus, and kept finite (above the smallest normal number) for a logit beyond -87 against the observation.
    One new tensor, worked on in place (the 5,000 x 784 draws of an image overflow the caches at every pass).
    """
    observed = (logits * (2.0 * x - 1.0)).sigmoid_()
    return observed.clamp_min_(torch.finfo(observed.dtype).tiny).log_().sum(-1)


def log_normal(z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag(exp(log_var))) summed over the last dimension."""
    return -0.5 * (LOG_2PI + log_var + (z - mean).pow(2) / log_var.exp()).sum(-1)


def log_importance_weights(model: LatentVariableModel, x: torch.Tensor, samples: int,
                           generator: torch.Generator | None = None,
                           log_likelihood: LogLikelihood = bernoulli_log_likelihood,
                           decode: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """log p(x|z) + log p(z) - log q(z|x) for `samples` draws z ~ q(z|x) per image: shape (samples, N).

    decode (model.decode unless given, see decoder_at) maps the draws to the likelihood's parameters; the encoder,
    the draws, the densities and the likelihood's sum over pixels are float32.
    """
    mean, log_var = model.encode(x)
    eps = torch.randn((samples, *mean.shape), generator=generator, device=mean.device, dtype=mean.dtype)
    z = mean + (0.5 * log_var).exp() * eps
    prior = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
    proposal = log_normal(z, mean, log_var)
    decoded = (decode or model.decode)(z.reshape(-1, z.shape[-1])).reshape(samples, len(x), -1)
    return log_likelihood(widened(decoded), x) + prior - proposal


def decoder_at(model: LatentVariableModel, numerics: Numerics) -> Callable[[torch.Tensor], torch.Tensor]:
    """model.decode with its matrix products at numerics (fp32: model.decode itself).

    In bf16 a module decodes through a bf16 copy of its weights, cast once: autocast would cast them again for
    every batch of draws. Other models decode under numerics' autocast.
    """
    if numerics.dtype is None:
        return model.decode
    if isinstance(model, torch.nn.Module):
        low = copy.deepcopy(model).to(numerics.dtype)
        return lambda z: low.decode(z.to(numerics.dtype))

    def decode(z: torch.Tensor) -> torch.Tensor:
        with numerics.autocast:
            return model.decode(z)
    return decode


@torch.no_grad()
def log_marginal_likelihoods(model: LatentVariableModel, x: torch.Tensor, samples: tuple[int, ...] = (BURDA_SAMPLES,),
                             max_rows: int = MAX_ROWS, generator: torch.Generator | None = None,
                             log_likelihood: LogLikelihood = bernoulli_log_likelihood,
                             progress: bool = False, numerics: Numerics = FP32) -> dict[int, torch.Tensor]:
    """The importance-sampled estimate of log p(x) for each image (N,) at each K of samples, every K from the first
    K of the same max(samples) draws (one pass), at most max_rows decoded rows at a time."""
    most = max(samples)
    chunk = min(most, max_rows)
    image_batch = max(1, max_rows // chunk)
    decode = decoder_at(model, numerics)
    # One result tensor per K filled in place: a small tensor kept per image would sit above each image's freed
    # decoder blocks in glibc's heap, which then grew to 5.9 GiB over 3,000 images (latent 20, K = 5000, one thread).
    estimates = {k: torch.full((len(x),), -math.inf, device=x.device, dtype=torch.float64) for k in samples}
    for start in progress_bar(range(0, len(x), image_batch), progress, "IS-NLL"):
        batch = x[start:start + image_batch]
        for done in range(0, most, chunk):
            weights = log_importance_weights(model, batch, min(chunk, most - done), generator, log_likelihood, decode)
            for k, estimate in estimates.items():
                if done < k:
                    total = estimate[start:start + image_batch]
                    torch.logaddexp(total, weights[:k - done].logsumexp(0), out=total)
    return {k: estimate - math.log(k) for k, estimate in estimates.items()}


def log_marginal_likelihood(model: LatentVariableModel, x: torch.Tensor, samples: int = BURDA_SAMPLES,
                            max_rows: int = MAX_ROWS, generator: torch.Generator | None = None,
                            log_likelihood: LogLikelihood = bernoulli_log_likelihood,
                            progress: bool = False, numerics: Numerics = FP32) -> torch.Tensor:
    """The importance-sampled estimate of log p(x) for each image (N,) with K = samples."""
    return log_marginal_likelihoods(model, x, (samples,), max_rows, generator, log_likelihood, progress,
                                    numerics)[samples]


def importance_sampled_nlls(model: LatentVariableModel, x: torch.Tensor, samples: tuple[int, ...] = (BURDA_SAMPLES,),
                            max_rows: int = MAX_ROWS, generator: torch.Generator | None = None,
                            progress: bool = False, numerics: Numerics = FP32) -> dict[int, dict[str, float]]:
    """Per K of samples (all from one pass, see log_marginal_likelihoods): the mean negative log-likelihood over
    images x (nats), its standard error over images, K, the image count and the decoder's precision."""
    is_module = isinstance(model, torch.nn.Module)
    was_training = is_module and model.training
    if is_module:
        model.eval()
        x = x.to(next(model.parameters(), x).device)
    log_px = log_marginal_likelihoods(model, x, samples, max_rows, generator, progress=progress, numerics=numerics)
    if was_training:
        model.train()
    return {k: mean_with_stderr(-estimate, "nll") | {"samples": k, "images": len(x), "precision": numerics.name}
            for k, estimate in log_px.items()}


def importance_sampled_nll(model: LatentVariableModel, x: torch.Tensor, samples: int = BURDA_SAMPLES,
                           max_rows: int = MAX_ROWS, generator: torch.Generator | None = None,
                           progress: bool = False, numerics: Numerics = FP32) -> dict[str, float]:
    """importance_sampled_nlls at one K: 'nll', 'nll_stderr', 'samples', 'images' and 'precision'."""
    return importance_sampled_nlls(model, x, (samples,), max_rows, generator, progress, numerics)[samples]


def mean_with_stderr(values: torch.Tensor, name: str) -> dict[str, float]:
    """{name: mean, name_stderr: standard error of the mean} of a 1-D tensor."""
    values = values.double()
    stderr = values.std().item() / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return {name: values.mean().item(), f"{name}_stderr": stderr}


def progress_bar(items: range, show: bool, desc: str) -> range | tqdm:
    """A progress bar over items when show is set: text on stderr in headless runs, else a widget."""
    if not show:
        return items
    if os.environ.get(PROGRESS_ENV) == "text":
        return text_tqdm(items, desc=desc, file=sys.stderr, mininterval=10.0)
    return tqdm(items, desc=desc, mininterval=2.0)


# --- latent usage --------------------------------------------------------------------------------------------------

@torch.no_grad()
def posterior_parameters(model: LatentVariableModel, x: torch.Tensor, batch_size: int = 1000
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """The posterior mean and log-variance of every image: two (N, latent_dim) tensors."""
    parts = [model.encode(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat([m for m, _ in parts]), torch.cat([v for _, v in parts])


def unit_activity(means: torch.Tensor) -> torch.Tensor:
    """The variance across images of each latent unit's posterior mean (Burda et al.'s activity): (latent_dim,)."""
    return means.double().var(dim=0)


def active_units(means: torch.Tensor, threshold: float = ACTIVE_UNIT_VARIANCE) -> int:
    """How many latent units have an activity (variance of the posterior mean across images) above threshold."""
    return int((unit_activity(means) > threshold).sum().item())


def kl_per_dimension(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(q(z_d|x) || N(0, 1)) of each latent dimension d, averaged over images (nats): (latent_dim,)."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).double().mean(dim=0)


def latent_usage(model: LatentVariableModel, x: torch.Tensor, threshold: float = ACTIVE_UNIT_VARIANCE
                 ) -> dict[str, int | float | list[float]]:
    """Active units (and the threshold), each unit's activity and each dimension's mean KL, for images x."""
    mean, log_var = posterior_parameters(model, x)
    return {"active_units": active_units(mean, threshold), "active_unit_threshold": threshold,
            "unit_activity": unit_activity(mean).tolist(), "kl_per_dimension": kl_per_dimension(mean, log_var).tolist()}


# --- classifier-based sample scores --------------------------------------------------------------------------------

def inception_score(probabilities: torch.Tensor) -> float:
    """exp(mean over images of KL(p(y|x) || p(y))), p(y) the mean prediction: 1 (one class) to the class count."""
    p = probabilities.double()
    marginal = p.mean(dim=0, keepdim=True)
    kl = (torch.xlogy(p, p) - torch.xlogy(p, marginal.expand_as(p))).sum(dim=1)
    return math.exp(kl.mean().item())


def gaussian_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and covariance (float64) of features (N, D), for the Frechet distance."""
    features = features.double()
    return features.mean(dim=0), torch.cov(features.T)


def psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a positive semi-definite matrix (eigenvalues clamped at 0)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor]) -> float:
    """|m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) between two Gaussians given as (mean, covariance)."""
    (mean_a, cov_a), (mean_b, cov_b) = a, b
    root_a = psd_sqrt(cov_a)
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return ((mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross).clamp(min=0).item()


def digit_distribution(probabilities: torch.Tensor) -> torch.Tensor:
    """The fraction of images whose most likely class is each class: (classes,), summing to 1."""
    predicted = probabilities.argmax(dim=1)
    return torch.bincount(predicted, minlength=probabilities.shape[1]).double() / len(predicted)


def entropy(distribution: torch.Tensor) -> float:
    """The entropy of a discrete distribution in nats (log 10 = 2.30 for ten equally frequent digits)."""
    d = distribution.double()
    return -torch.xlogy(d, d).sum().item()


@torch.no_grad()
def nearest_images(queries: torch.Tensor, images: torch.Tensor, k: int) -> torch.Tensor:
    """For each query image, the indices of the k nearest images by Euclidean distance over pixels: (queries, k)."""
    return torch.cdist(queries.float(), images.float()).topk(k, largest=False).indices


def digits_covered(distribution: torch.Tensor, min_fraction: float = COVERED_FRACTION) -> int:
    """How many classes hold at least min_fraction of the samples."""
    return int((distribution >= min_fraction).sum().item())


def conditional_accuracy(probabilities: torch.Tensor, asked: torch.Tensor) -> float:
    """The fraction of samples that the classifier calls the digit they were asked for."""
    return (probabilities.argmax(dim=1) == asked.to(probabilities.device)).double().mean().item()


@dataclass(frozen=True)
class Neighbours:
    """Real images' features and each one's distance to its k-th nearest other real image (Naeem et al., 2020)."""

    features: torch.Tensor
    radii: torch.Tensor
    k: int


def real_neighbours(features: torch.Tensor, k: int = NEAREST, chunk: int = 2000) -> Neighbours:
    """The k-nearest-neighbour balls of real features (N, D): each radius excludes the point itself."""
    features = features.float()
    radii = torch.cat([torch.cdist(features[i:i + chunk], features).topk(k + 1, largest=False).values[:, k]
                       for i in range(0, len(features), chunk)])
    return Neighbours(features, radii, k)


def density_coverage(real: Neighbours, fake: torch.Tensor, chunk: int = 2000) -> dict[str, float]:
    """Density and coverage of fake features (M, D) against real ones (Naeem et al., 2020).

    Density: the mean number of real balls a fake sample falls in, divided by k (about 1 for samples like the
    real ones, above 1 where they crowd the dense regions). Coverage: the fraction of real balls that hold at
    least one fake sample (at most 1; it falls when the samples miss parts of the real data, as a collapsed
    generator does).
    """
    inside_total, covered = 0.0, torch.zeros(len(real.features), dtype=torch.bool, device=real.features.device)
    for i in range(0, len(fake), chunk):
        inside = torch.cdist(fake[i:i + chunk].float(), real.features) <= real.radii
        inside_total += inside.sum().item()
        covered |= inside.any(dim=0)
    return {"density": inside_total / (real.k * len(fake)), "coverage": covered.double().mean().item()}


def sample_scores(probabilities: torch.Tensor, features: torch.Tensor,
                  reference: tuple[torch.Tensor, torch.Tensor], asked: torch.Tensor | None = None,
                  neighbours: Neighbours | None = None) -> dict[str, float | int | list[float] | None]:
    """IS, FD to reference, predicted-digit distribution, its entropy, digits covered, conditional accuracy; with
    the real images' neighbours, also density and coverage."""
    distribution = digit_distribution(probabilities)
    return (density_coverage(neighbours, features) if neighbours else {}) | {
        "inception_score": inception_score(probabilities),
        "frechet_distance": frechet_distance(gaussian_statistics(features), reference),
        "digit_distribution": distribution.tolist(),
        "digit_entropy": entropy(distribution),
        "digits_covered": digits_covered(distribution),
        "conditional_accuracy": conditional_accuracy(probabilities, asked) if asked is not None else None,
        "samples": len(probabilities),
    }


def independent_pixel_samples(images: torch.Tensor, n: int, generator: torch.Generator | None = None
                              ) -> torch.Tensor:
    """The floor: n images whose pixels are independent coin flips with the real images' mean intensity per pixel."""
    mean = images.mean(dim=0, keepdim=True).expand(n, -1)
    return torch.bernoulli(mean, generator=generator)


__all__ = [
    "BURDA_SAMPLES", "ACTIVE_UNIT_VARIANCE", "COVERED_FRACTION", "SCORE_SAMPLES", "LatentVariableModel",
    "bernoulli_log_likelihood", "log_marginal_likelihood", "log_marginal_likelihoods", "importance_sampled_nll",
    "importance_sampled_nlls", "posterior_parameters",
    "unit_activity", "active_units", "kl_per_dimension", "latent_usage", "inception_score", "gaussian_statistics",
    "frechet_distance", "digit_distribution", "entropy", "digits_covered", "conditional_accuracy", "sample_scores",
    "independent_pixel_samples", "nearest_images", "NEAREST", "Neighbours", "real_neighbours", "density_coverage",
]
