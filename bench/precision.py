"""Benchmark (issue 23): do VAEs trained in bf16 end where fp32 ones do, at the writeup's length, over seeds?

Trains the VAE (one latent size) with each precision and each seed through fit_vae, with checkpoints under
bench/runs/ (ignored; an interrupted comparison resumes), then scores every model the same way in float32: the
fixed-binarized validation loss and the IS-NLL (K = 5000) of the first --nll-images test images, same draws.
The rule: the precisions agree when the difference of their seed means is within the larger of their seed
ranges (max - min). Writes bench/results.json["precision_comparison"] (other keys kept).
Usage: .venv/bin/python -m bench.precision [--latent-dim 20] [--epochs 200] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from bench.speed import RESULTS, machine
from helpers.common.files import PROGRESS_ENV, read_json, write_json
from helpers.config import VAEConfig, seeds
from helpers.data import Splits, load_splits
from helpers.evaluation import metrics
from helpers.models import vae
from helpers.training import train

RUNS = Path(__file__).with_name("runs") / "precision"
MEASURES = ("validation_loss", "nll")


def train_one(splits: Splits, latent_dim: int, precision: str, seed: int, epochs: int
              ) -> tuple[vae.VAE, list[dict]]:
    """A VAE trained by fit_vae (resuming its checkpoint) and its history."""
    config = VAEConfig(latent_dim=latent_dim, precision=precision, seed=seed, epochs=epochs, cpu_threads=1)
    folder = RUNS / f"vae_z{latent_dim}_{precision}_seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    train.seed_everything(seed)
    model = vae.VAE(latent_dim)
    return model, train.fit_vae(model, splits, config, folder / "checkpoint.pt")


def score(model: vae.VAE, splits: Splits, nll_images: int) -> dict[str, float]:
    """The float32 IS-NLL (K = 5000) of the first nll_images fixed-binarized test images, same draws for all."""
    test = splits.test.binarized(seeds.EVAL_BINARIZATION)[:nll_images]
    generator = torch.Generator().manual_seed(seeds.NLL_PROPOSALS)
    return metrics.importance_sampled_nll(model, test, generator=generator, precision="fp32")


def summary(rows: list[dict]) -> dict:
    """Per precision: mean and range of each measure over seeds; the difference of means and the verdict."""
    result: dict = {}
    for measure in MEASURES:
        values = {p: [r[measure] for r in rows if r["precision"] == p] for p in ("fp32", "bf16")}
        if not all(len(v) >= 2 for v in values.values()):
            continue
        ranges = {p: max(v) - min(v) for p, v in values.items()}
        difference = statistics.mean(values["bf16"]) - statistics.mean(values["fp32"])
        result[measure] = {"fp32_mean": statistics.mean(values["fp32"]), "bf16_mean": statistics.mean(values["bf16"]),
                           "fp32_range": ranges["fp32"], "bf16_range": ranges["bf16"], "seeds": len(values["fp32"]),
                           "bf16_minus_fp32": difference, "agree": abs(difference) <= max(ranges.values())}
    return result


def run_row(splits: Splits, latent_dim: int, precision: str, seed: int, epochs: int, nll_images: int) -> dict:
    """Train (or resume) one run and score it; the row is also kept in its folder, for comparisons split over
    processes."""
    start = time.perf_counter()
    model, history = train_one(splits, latent_dim, precision, seed, epochs)
    nll, last = score(model, splits, nll_images), history[-1]
    row = {"precision": precision, "seed": seed, "epochs": len(history), "validation_loss": last["validation_loss"],
           "nll": nll["nll"], "nll_stderr": nll["nll_stderr"], "train_loss": last["train_loss"],
           "seconds_per_epoch": statistics.median(r["seconds"] for r in history),
           "wall_seconds": time.perf_counter() - start}
    write_json(run_folder(latent_dim, precision, seed) / "score.json", row)
    print(f"{precision} seed {seed}: validation {row['validation_loss']:.3f}, IS-NLL {row['nll']:.3f}", flush=True)
    return row


def run_folder(latent_dim: int, precision: str, seed: int) -> Path:
    """Where one run of the comparison keeps its checkpoint and its scores."""
    return RUNS / f"vae_z{latent_dim}_{precision}_seed{seed}"


def finished_rows(latent_dim: int, epochs: int) -> list[dict]:
    """The scored runs of this latent size and length, from every process that took part."""
    rows = [read_json(path) for path in sorted(RUNS.glob(f"vae_z{latent_dim}_*_seed*/score.json"))]
    return [row for row in rows if row["epochs"] == epochs]


def main() -> None:
    """Train and score the runs asked for, then summarise every finished run of this setting."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--nll-images", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault(PROGRESS_ENV, "text")
    torch.set_num_threads(1)
    splits = load_splits()
    for seed in args.seeds:
        for precision in args.precisions:
            run_row(splits, args.latent_dim, precision, seed, args.epochs, args.nll_images)
    rows = finished_rows(args.latent_dim, args.epochs)
    results = read_json(RESULTS) if RESULTS.exists() else {}
    results["precision_comparison"] = {
        "model": f"vae_z{args.latent_dim}", "epochs": args.epochs, "nll_images": args.nll_images,
        "nll_samples": metrics.BURDA_SAMPLES, "rule": "agree when |mean(bf16) - mean(fp32)| <= the larger seed range",
        "machine": machine(), "runs": rows, "summary": summary(rows)}
    write_json(RESULTS, results)
    print(f"wrote {RESULTS}: {results['precision_comparison']['summary']}")


if __name__ == "__main__":
    main()
