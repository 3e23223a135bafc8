"""Benchmark: the importance-sampled likelihood (K = 5000, Burda et al.) per test image, in fp32 and bf16.

A latent-20 VAE is trained for a few epochs (seed 0), then both precisions score the same test images with the
same draws. Reported per precision: seconds per image on one thread, the decoder's GFLOP/s, its fraction of the
fp32 matmul rate at the decoder's own shapes (measured in the same process), the minutes the 10,000-image test
set would take, and the bf16 estimate's difference from fp32 (mean and largest over images, in nats).
Usage: .venv/bin/python -m bench.likelihood [--images 200] [--epochs 5]
"""

from __future__ import annotations

import argparse
import time

import torch

from bench import ceiling
from helpers.config import TEST_SIZE, seeds
from helpers.data import Splits, load_splits
from helpers.evaluation import metrics
from helpers.models import vae
from helpers.models.precision import Numerics, native_bf16
from helpers.training import train

LATENT_DIM, HIDDEN = 20, 500


def trained_vae(splits: Splits, epochs: int) -> vae.VAE:
    """A latent-20 VAE after a few epochs of the training loop (bf16 where native: it is only the object scored)."""
    train.seed_everything(0)
    model = vae.VAE(LATENT_DIM, HIDDEN)
    step, _ = train.vae_trainer(model, 0.01, Numerics.of("auto", "cpu"))
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        train.vae_epoch(step, splits.train.images, 100, generator)
    return model.eval()


def decoder_gflop(samples: int) -> float:
    """GFLOP of the decoder's matrix products for one image's K samples."""
    sizes = (LATENT_DIM, HIDDEN, HIDDEN, 784)
    return samples * sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)) / 1e9


def matmul_rate(dtype: torch.dtype, rows: int) -> float:
    """GFLOP/s of the decoder's forward products at rows rows, each timed alone (the rate IS-NLL is held to)."""
    sizes = (LATENT_DIM, HIDDEN, HIDDEN, 784)
    shapes = list(zip(sizes[:-1], sizes[1:], strict=False))
    seconds = sum(ceiling.product_seconds("forward", rows, n_in, n_out, dtype, 1, repeats=3) for n_in, n_out in shapes)
    return sum(2 * rows * n_in * n_out for n_in, n_out in shapes) / seconds / 1e9


def score(model: vae.VAE, images: torch.Tensor, numerics: Numerics, samples: int) -> tuple[torch.Tensor, float]:
    """Each image's -log p(x) estimate and the seconds it took (same draws for every precision)."""
    generator = torch.Generator().manual_seed(seeds.NLL_PROPOSALS)
    start = time.perf_counter()
    with torch.no_grad():
        log_px = metrics.log_marginal_likelihood(model, images, samples, generator=generator, numerics=numerics)
    return -log_px, time.perf_counter() - start


def measure(images: int = 200, epochs: int = 5, samples: int = metrics.BURDA_SAMPLES) -> dict:
    """The likelihood rows: one per precision, and the bf16 estimate's agreement with fp32."""
    torch.set_num_threads(1)
    splits = load_splits()
    model = trained_vae(splits, epochs)
    test = splits.test.binarized(seeds.EVAL_BINARIZATION)[:images]
    rows_per_decode = min(samples, metrics.MAX_ROWS) * max(1, metrics.MAX_ROWS // samples)
    fp32_rate = matmul_rate(torch.float32, rows_per_decode)
    precisions = ["fp32", "bf16"] if native_bf16(torch.device("cpu")) else ["fp32"]
    estimates, rows = {}, []
    for precision in precisions:
        estimates[precision], seconds = score(model, test, Numerics.of(precision, "cpu"), samples)
        per_image = seconds / images
        rate = decoder_gflop(samples) / per_image
        rows.append({"precision": precision, "samples": samples, "images_timed": images, "train_epochs": epochs,
                     "seconds_per_image": per_image, "gflop_per_second": rate,
                     "fraction_of_fp32_matmul_rate": rate / fp32_rate, "fp32_matmul_gflop_per_second": fp32_rate,
                     "test_set_minutes": per_image * TEST_SIZE / 60, "nll": estimates[precision].mean().item()})
        print(likelihood_line(rows[-1]), flush=True)
    result: dict = {"rows": rows}
    if "bf16" in estimates:
        difference = (estimates["bf16"] - estimates["fp32"]).double()
        result |= {"bf16_minus_fp32_nats": difference.mean().item(),
                   "largest_image_difference_nats": difference.abs().max().item()}
        print(f"IS-NLL bf16 - fp32: {result['bf16_minus_fp32_nats']:+.4f} nats on average, at most "
              f"{result['largest_image_difference_nats']:.4f} on one image", flush=True)
    return result


def likelihood_line(row: dict) -> str:
    """One printed line of a likelihood row."""
    return (f"IS-NLL K={row['samples']} {row['precision']}: {row['seconds_per_image'] * 1e3:.1f} ms/image, "
            f"{row['gflop_per_second']:.0f} GFLOP/s = {row['fraction_of_fp32_matmul_rate']:.0%} of the fp32 matmul "
            f"rate ({row['fp32_matmul_gflop_per_second']:.0f}); 10,000 images in {row['test_set_minutes']:.1f} min "
            "on one thread")


def main() -> None:
    """Measure and print (bench.speed stores these rows in bench/results.json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    measure(args.images, args.epochs)


if __name__ == "__main__":
    main()
