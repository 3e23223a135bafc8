"""helpers.evaluation.metrics: likelihood by importance sampling, latent usage, classifier-based scores."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.evaluation import metrics
from helpers.models import vae
from helpers.models.precision import FP32, Numerics
from helpers.training import train

# --- likelihood by importance sampling ---------------------------------------------------------------------------


class LinearGaussian(torch.nn.Module):
    """p(z) = N(0, I), p(x|z) = N(Wz + b, s^2 I) with orthogonal columns of W, so its posterior is diagonal.

    encode gives the exact posterior, its variance multiplied by `inflate` (1: a perfect proposal).
    """

    def __init__(self, latent: int = 3, data: int = 6, noise: float = 0.5, inflate: float = 1.0):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        q, _ = torch.linalg.qr(torch.randn(data, latent, generator=generator, dtype=torch.float64))
        self.w = q * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)[:latent]
        self.b = torch.randn(data, generator=generator, dtype=torch.float64)
        self.noise, self.inflate = noise, inflate

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        precision = 1.0 + (self.w ** 2).sum(0) / self.noise ** 2  # diagonal, since W's columns are orthogonal
        mean = (x - self.b) @ self.w / self.noise ** 2 / precision
        return mean, (self.inflate / precision).log().expand_as(mean)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.w.T + self.b

    def gaussian_log_likelihood(self, decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return metrics.log_normal(x, decoded, torch.full_like(decoded, 2 * math.log(self.noise)))

    def exact_log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        covariance = self.w @ self.w.T + self.noise ** 2 * torch.eye(len(self.b), dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, covariance).log_prob(x)


def test_a_perfect_proposal_gives_the_exact_likelihood_with_any_k():
    model = LinearGaussian()
    x = model.decode(torch.randn(5, 3, dtype=torch.float64)) + 0.5 * torch.randn(5, 6, dtype=torch.float64)
    estimate = metrics.log_marginal_likelihood(model, x, samples=3, log_likelihood=model.gaussian_log_likelihood)
    # float64 throughout: a perfect proposal makes every weight equal, so only float64 rounding (~1e-14) remains
    assert torch.allclose(estimate, model.exact_log_likelihood(x), atol=1e-9)


def test_a_broad_proposal_converges_to_the_exact_likelihood_in_chunks():
    model = LinearGaussian(inflate=2.0)
    x = model.decode(torch.randn(5, 3, dtype=torch.float64)) + 0.5 * torch.randn(5, 6, dtype=torch.float64)
    generator = torch.Generator().manual_seed(1)
    estimate = metrics.log_marginal_likelihood(model, x, samples=20_000, max_rows=7_000, generator=generator,
                                               log_likelihood=model.gaussian_log_likelihood)
    exact = model.exact_log_likelihood(x)
    assert torch.allclose(estimate, exact, atol=0.03), (estimate, exact)  # ~6 standard errors of the estimate
    elbo = metrics.log_importance_weights(model, x, 5_000, generator, model.gaussian_log_likelihood).mean(0)
    assert (elbo < exact - 0.1).all()  # the broad proposal's ELBO is well below: the estimate above did the work


def test_bernoulli_vae_with_a_one_dimensional_latent_matches_quadrature():
    torch.manual_seed(0)
    model = vae.VAE(latent_dim=1, hidden_dim=16).double()
    x = torch.bernoulli(torch.full((4, 784), 0.3, dtype=torch.float64))
    z = torch.linspace(-8, 8, 4_001, dtype=torch.float64).unsqueeze(1)
    with torch.no_grad():
        integrand = (metrics.bernoulli_log_likelihood(model.decode(z).unsqueeze(1), x)
                     + metrics.log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).unsqueeze(1))
    exact = integrand.logsumexp(0) + math.log(z[1, 0] - z[0, 0])
    estimate = metrics.log_marginal_likelihood(model, x, samples=5_000, max_rows=3_000,
                                               generator=torch.Generator().manual_seed(1))
    # float64 throughout (no CPU dependence); the K = 5,000 estimate is 0.014 nats off the quadrature at these seeds
    # (measured), and 0.05 leaves 3.5 times that
    assert torch.allclose(estimate, exact, atol=0.05), (estimate, exact)


@pytest.fixture(scope="module")
def tiny_vae(splits):
    """A VAE (latent 2) after one epoch on 2,000 training images, and 300 fixed-binarized test images."""
    torch.manual_seed(0)
    model = vae.VAE(latent_dim=2, hidden_dim=100)
    step, _ = train.vae_trainer(model, 0.01, FP32)
    train.vae_epoch(step, splits.train.images[:2000], 100, torch.Generator().manual_seed(0))
    return model.eval(), splits.test.binarized(1)[:300]


def test_is_nll_of_a_trained_vae_is_below_its_negative_elbo(tiny_vae):
    model, x = tiny_vae
    elbo = vae.evaluate(model, x, generator=torch.Generator().manual_seed(2))["loss"]
    result = metrics.importance_sampled_nll(model, x, samples=100, generator=torch.Generator().manual_seed(3))
    assert result["samples"] == 100 and result["images"] == 300
    assert 0 < result["nll"] < elbo, (result, elbo)  # the gap here is ~7 nats, the ELBO's sampling noise ~0.3


def test_is_nll_with_one_sample_estimates_the_negative_elbo(tiny_vae):
    model, x = tiny_vae
    elbo = vae.evaluate(model, x, generator=torch.Generator().manual_seed(2))["loss"]
    one = metrics.importance_sampled_nll(model, x, samples=1, generator=torch.Generator().manual_seed(3))
    # two one-sample estimates of the same 300 images' mean differ by the latent draws only: 0.48 nats at these seeds
    # (measured; the estimate's own standard error is 2.6 nats, mostly from the images, which both share)
    assert one["nll"] == pytest.approx(elbo, abs=2.0)


def test_a_smaller_k_is_estimated_from_the_first_of_the_same_draws_in_one_pass():
    model = LinearGaussian(inflate=2.0)
    x = model.decode(torch.randn(4, 3, dtype=torch.float64)) + 0.5 * torch.randn(4, 6, dtype=torch.float64)
    both = metrics.log_marginal_likelihoods(model, x, (50, 7), max_rows=40, generator=torch.Generator().manual_seed(5),
                                            log_likelihood=model.gaussian_log_likelihood)
    alone = metrics.log_marginal_likelihood(model, x, 50, max_rows=40, generator=torch.Generator().manual_seed(5),
                                            log_likelihood=model.gaussian_log_likelihood)
    assert torch.equal(both[50], alone)  # the large K is untouched by the small one riding along
    weights = metrics.log_importance_weights(model, x[:1], 40, torch.Generator().manual_seed(5),
                                             model.gaussian_log_likelihood)  # max_rows 40: the first image's pass
    assert torch.allclose(both[7][0], weights[:7, 0].logsumexp(0) - math.log(7), atol=1e-12)


def test_is_nll_is_reproducible_from_a_seed_and_leaves_the_mode_alone(tiny_vae):
    model, x = tiny_vae
    model.train()
    runs = [metrics.importance_sampled_nll(model, x[:20], samples=10, generator=torch.Generator().manual_seed(4))
            for _ in range(2)]
    assert runs[0] == runs[1] and model.training
    model.eval()


def test_bf16_decoding_through_a_copy_of_the_weights_equals_autocast_and_spares_the_model(tiny_vae):
    # The IS-NLL decodes through a bf16 copy cast once; autocast, which casts the weights at every call, is the
    # reference: the same bf16 products, so the same logits, while the model itself stays float32.
    model, _ = tiny_vae
    z = torch.randn(64, model.latent_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = model.decode(z)
    with torch.no_grad():
        logits = metrics.decoder_at(model, Numerics.of("bf16", "cpu"))(z)
    assert logits.dtype == torch.float32 and torch.equal(logits, expected)
    assert all(p.dtype == torch.float32 for p in model.parameters())


# --- latent usage --------------------------------------------------------------------------------------------------

def test_active_units_count_only_the_dimensions_that_vary_across_images():
    generator = torch.Generator().manual_seed(0)
    means = torch.randn(1000, 4, generator=generator) * torch.tensor([1.0, 0.5, 0.05, 0.0])
    assert metrics.active_units(means) == 2  # variances 1, 0.25, 0.0025, 0 against the threshold 0.01
    assert metrics.unit_activity(means).shape == (4,)


def test_kl_per_dimension_sums_to_the_mean_kl(tiny_vae):
    model, x = tiny_vae
    mean, log_var = metrics.posterior_parameters(model, x, batch_size=128)
    per_dimension = metrics.kl_per_dimension(mean, log_var)
    assert per_dimension.shape == (2,) and (per_dimension >= 0).all()
    assert per_dimension.sum().item() == pytest.approx(vae.kl_to_standard_normal(mean, log_var).mean().item(),
                                                       rel=1e-5)
    assert metrics.kl_per_dimension(torch.zeros(3, 2), torch.zeros(3, 2)).abs().max() == 0
    usage = metrics.latent_usage(model, x)
    assert usage["kl_per_dimension"] == pytest.approx(per_dimension.tolist())
    assert usage["active_units"] == metrics.active_units(mean) and len(usage["unit_activity"]) == 2


# --- classifier-based scores ---------------------------------------------------------------------------------------

def one_hot(classes: torch.Tensor) -> torch.Tensor:
    """Confident predictions: probability 1 on the given classes."""
    return torch.nn.functional.one_hot(classes, 10).double()


def test_inception_score_is_ten_for_confident_uniform_predictions_and_one_for_a_single_class():
    assert metrics.inception_score(one_hot(torch.arange(1000) % 10)) == pytest.approx(10.0, rel=1e-9)
    assert metrics.inception_score(one_hot(torch.full((1000,), 3))) == pytest.approx(1.0, rel=1e-9)
    assert metrics.inception_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0, rel=1e-9)  # unsure: no score


def test_frechet_distance_is_zero_to_itself_and_grows_with_a_shift():
    features = torch.randn(2000, 8, generator=torch.Generator().manual_seed(0))
    stats = metrics.gaussian_statistics(features)
    assert metrics.frechet_distance(stats, stats) == pytest.approx(0.0, abs=1e-8)
    distances = [metrics.frechet_distance(stats, metrics.gaussian_statistics(features + shift))
                 for shift in (0.5, 1.0, 2.0)]
    assert distances == pytest.approx([8 * 0.25, 8 * 1.0, 8 * 4.0], rel=1e-6)  # |shift|^2 summed over 8 dimensions


def test_frechet_distance_sees_a_change_of_spread():
    features = torch.randn(5000, 4, generator=torch.Generator().manual_seed(0))
    mean, covariance = stats = metrics.gaussian_statistics(features)
    # Doubling the features: means m and 2m, covariances C and 4C, so FD = |m|^2 + tr(C + 4C - 2 * 2C) = |m|^2 + tr(C).
    expected = (mean.pow(2).sum() + covariance.trace()).item()
    assert expected == pytest.approx(4.0, rel=0.05)  # tr(C) of 5,000 standard normal draws in 4 dimensions: 4 +- 0.04
    doubled = metrics.gaussian_statistics(2 * features)
    assert metrics.frechet_distance(stats, doubled) == pytest.approx(expected, rel=1e-9)  # float64 statistics


def test_digit_distribution_entropy_and_coverage_of_a_collapsed_generator():
    classes = torch.cat([torch.full((90,), 7), torch.full((9,), 1), torch.full((1,), 4)])
    distribution = metrics.digit_distribution(one_hot(classes))
    assert distribution.tolist() == pytest.approx([0, 0.09, 0, 0, 0.01, 0, 0, 0.9, 0, 0])
    assert metrics.digits_covered(distribution) == 2  # 4 holds 1%, under the 2% threshold
    assert metrics.entropy(distribution) == pytest.approx(-(0.9 * math.log(0.9) + 0.09 * math.log(0.09)
                                                            + 0.01 * math.log(0.01)))
    assert metrics.entropy(torch.full((10,), 0.1)) == pytest.approx(math.log(10))


def test_conditional_accuracy_counts_samples_called_the_asked_digit():
    asked = torch.arange(100) % 10
    called = asked.clone()
    called[:25] = (called[:25] + 1) % 10
    assert metrics.conditional_accuracy(one_hot(called), asked) == pytest.approx(0.75)


def test_sample_scores_gather_every_number():
    probabilities = one_hot(torch.arange(100) % 10)
    features = torch.randn(100, 5, generator=torch.Generator().manual_seed(0))
    scores = metrics.sample_scores(probabilities, features, metrics.gaussian_statistics(features),
                                   asked=torch.arange(100) % 10)
    assert scores["inception_score"] == pytest.approx(10) and scores["frechet_distance"] == pytest.approx(0, abs=1e-8)
    assert scores["digits_covered"] == 10 and scores["conditional_accuracy"] == 1.0 and scores["samples"] == 100
    assert metrics.sample_scores(probabilities, features, metrics.gaussian_statistics(features))[
        "conditional_accuracy"] is None


def test_independent_pixel_floor_keeps_the_mean_image():
    images = torch.rand(200, 784, generator=torch.Generator().manual_seed(0))
    samples = metrics.independent_pixel_samples(images, 4000, torch.Generator().manual_seed(1))
    assert samples.shape == (4000, 784) and set(samples.unique().tolist()) <= {0.0, 1.0}
    # 4,000 draws per pixel: standard error <= 0.008, and 0.04 is 5 s.e. over the 784 pixels (exact 0/1 arithmetic)
    assert (samples.mean(0) - images.mean(0)).abs().max() < 0.04


def test_density_and_coverage_count_the_real_neighbourhoods_a_sample_falls_in():
    real = metrics.real_neighbours(torch.arange(10.0).unsqueeze(1), k=1)  # points 0..9: every ball has radius 1
    assert real.radii.tolist() == [1.0] * 10
    assert metrics.density_coverage(real, torch.tensor([[0.5]])) == {"density": 2.0, "coverage": 0.2}


def test_a_sample_of_the_real_distribution_scores_density_one_and_a_collapsed_one_low_coverage():
    generator = torch.Generator().manual_seed(0)
    real = metrics.real_neighbours(torch.randn(2000, 4, generator=generator))
    like = metrics.density_coverage(real, torch.randn(2000, 4, generator=generator))
    # Naeem et al. (2020): E[density] = 1 and E[coverage] = 1 - 1/2^k = 0.969 for as many samples as real points;
    # over seeds 0-4 these measured 0.985-1.000 and 0.962-0.975 (sd about 0.005).
    assert like["density"] == pytest.approx(1.0, abs=0.05) and like["coverage"] == pytest.approx(0.969, abs=0.025)
    collapsed = metrics.density_coverage(real, 0.05 * torch.randn(2000, 4, generator=generator))
    assert collapsed["coverage"] < 0.1
