"""Benchmark (issue 23): do models trained in bf16 end where fp32 ones do, at the writeup's length, over seeds?

VAE (one latent size): trains with each precision and each seed through fit_vae, with checkpoints under
bench/runs/ (ignored; an interrupted comparison resumes), then scores every model the same way in float32: the
fixed-binarized validation loss and the IS-NLL (K = 5000) of the first --nll-images test images, same draws.
GAN (--model gan): trains a scoring classifier once, then the plain GAN with each precision and seed through
fit_gan, whose monitor scores 1,000 samples every few epochs: compared are the digits covered and the FD at
the end, the lowest FD and the mean FD over training.
The rule: the precisions agree on a measure when the difference of their seed means is within the larger of
their seed ranges (max - min). Writes bench/results.json["precision_comparison"][model] (other keys kept).
Usage: .venv/bin/python -m bench.precision [--model vae_z20|gan] [--epochs 200] [--seeds 0 1 2]
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
from helpers.config import ClassifierConfig, GANConfig, VAEConfig, seeds
from helpers.data import Splits, load_splits
from helpers.evaluation import metrics, scores
from helpers.models import classifier, gan, vae
from helpers.models.precision import FP32
from helpers.training import train
from helpers.training.classifier import fit_classifier
from helpers.training.monitor import Scorer

RUNS = Path(__file__).with_name("runs") / "precision"
MEASURES = {"vae": ("validation_loss", "nll"),
            "gan": ("digits_covered", "frechet_distance", "lowest_frechet_distance", "mean_frechet_distance")}


def train_one(splits: Splits, latent_dim: int, precision: str, seed: int, epochs: int
              ) -> tuple[vae.VAE, list[dict]]:
    """A VAE trained by fit_vae (resuming its checkpoint) and its history."""
    config = VAEConfig(latent_dim=latent_dim, precision=precision, seed=seed, epochs=epochs, cpu_threads=1)
    folder = run_folder(f"vae_z{latent_dim}", precision, seed)
    folder.mkdir(parents=True, exist_ok=True)
    train.seed_everything(seed)
    model = vae.VAE(latent_dim)
    return model, train.fit_vae(model, splits, config, folder / "checkpoint.pt")


def score(model: vae.VAE, splits: Splits, nll_images: int) -> dict[str, float]:
    """The float32 IS-NLL (K = 5000) of the first nll_images fixed-binarized test images, same draws for all."""
    test = splits.test.binarized(seeds.EVAL_BINARIZATION)[:nll_images]
    generator = torch.Generator().manual_seed(seeds.NLL_PROPOSALS)
    return metrics.importance_sampled_nll(model, test, generator=generator, numerics=FP32)


def summary(rows: list[dict], measures: tuple[str, ...]) -> dict:
    """Per precision: mean and range of each measure over seeds; the difference of means and the verdict."""
    result: dict = {}
    for measure in measures:
        values = {p: [r[measure] for r in rows if r["precision"] == p] for p in ("fp32", "bf16")}
        if not all(len(v) >= 2 for v in values.values()):
            continue
        ranges = {p: max(v) - min(v) for p, v in values.items()}
        difference = statistics.mean(values["bf16"]) - statistics.mean(values["fp32"])
        result[measure] = {"fp32_mean": statistics.mean(values["fp32"]), "bf16_mean": statistics.mean(values["bf16"]),
                           "fp32_range": ranges["fp32"], "bf16_range": ranges["bf16"], "seeds": len(values["fp32"]),
                           "bf16_minus_fp32": difference, "agree": abs(difference) <= max(ranges.values())}
    return result


def vae_row(splits: Splits, model_name: str, precision: str, seed: int, epochs: int, nll_images: int) -> dict:
    """Train (or resume) one VAE and score it."""
    model, history = train_one(splits, int(model_name.removeprefix("vae_z")), precision, seed, epochs)
    nll, last = score(model, splits, nll_images), history[-1]
    return {"validation_loss": last["validation_loss"], "nll": nll["nll"], "nll_stderr": nll["nll_stderr"],
            "train_loss": last["train_loss"], "epochs": len(history),
            "seconds_per_epoch": statistics.median(r["seconds"] for r in history)}


def gan_row(splits: Splits, precision: str, seed: int, epochs: int, scorer: Scorer) -> dict:
    """Train (or resume) one plain GAN, its monitor scoring samples as it trains; what its history shows."""
    config = GANConfig(precision=precision, seed=seed, epochs=epochs, cpu_threads=1)
    folder = run_folder("gan", precision, seed)
    folder.mkdir(parents=True, exist_ok=True)
    train.seed_everything(seed)
    gen, disc = gan.models_from_parameters(config.to_dict())
    history = train.fit_gan(gen, disc, splits, config, folder / "checkpoint.pt", scorer=scorer)
    distances = [row["monitor_frechet_distance"] for row in history if "monitor_frechet_distance" in row]
    scored = [row for row in history if "monitor_digits_covered" in row]
    return {"digits_covered": scored[-1]["monitor_digits_covered"], "frechet_distance": distances[-1],
            "lowest_frechet_distance": min(distances), "mean_frechet_distance": statistics.mean(distances),
            "epochs": len(history), "seconds_per_epoch": statistics.median(r["seconds"] for r in history)}


def classifier_scorer(splits: Splits) -> Scorer:
    """A classifier trained once with its defaults (kept under bench/runs/), as the GANs' monitor."""
    config = ClassifierConfig(cpu_threads=1)
    folder = RUNS / "classifier"
    folder.mkdir(parents=True, exist_ok=True)
    train.seed_everything(config.seed)
    judge = classifier.Classifier(config.hidden_dim, config.channels)
    fit_classifier(judge, splits, config, folder / "checkpoint.pt")
    judge.eval()
    return scores.make_scorer(judge, scores.reference_statistics(judge, splits.test.images))


def run_folder(model_name: str, precision: str, seed: int) -> Path:
    """Where one run of the comparison keeps its checkpoint and its scores."""
    return RUNS / f"{model_name}_{precision}_seed{seed}"


def finished_rows(model_name: str, epochs: int) -> list[dict]:
    """The scored runs of this model and length, from every process that took part."""
    rows = [read_json(path) for path in sorted(RUNS.glob(f"{model_name}_*_seed*/score.json"))]
    return [row for row in rows if row["epochs"] == epochs]


def main() -> None:
    """Train and score the runs asked for, then summarise every finished run of this model and length."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vae_z20", help="vae_zN (a VAE of latent size N) or gan")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--nll-images", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault(PROGRESS_ENV, "text")
    torch.set_num_threads(1)
    splits = load_splits()
    scorer = classifier_scorer(splits) if args.model == "gan" else None
    for seed in args.seeds:
        for precision in args.precisions:
            scored = run_folder(args.model, precision, seed) / "score.json"
            if scored.exists() and read_json(scored)["epochs"] == args.epochs:
                continue  # trained and scored by an earlier call
            start = time.perf_counter()
            row = (gan_row(splits, precision, seed, args.epochs, scorer) if scorer else
                   vae_row(splits, args.model, precision, seed, args.epochs, args.nll_images))
            row |= {"precision": precision, "seed": seed, "wall_seconds": time.perf_counter() - start}
            write_json(scored, row)
            print(f"{args.model} {precision} seed {seed}: {row}", flush=True)
    rows = finished_rows(args.model, args.epochs)
    results = read_json(RESULTS) if RESULTS.exists() else {}
    comparison = {model: entry for model, entry in results.get("precision_comparison", {}).items()
                  if isinstance(entry, dict) and "summary" in entry}  # one entry per model (older records dropped)
    results["precision_comparison"] = comparison
    comparison[args.model] = {
        "epochs": args.epochs, "nll_images": args.nll_images if scorer is None else None,
        "rule": "agree when |mean(bf16) - mean(fp32)| <= the larger seed range (max - min)",
        "machine": machine(), "runs": rows, "summary": summary(rows, MEASURES["gan" if scorer else "vae"])}
    write_json(RESULTS, results)
    print(f"wrote {RESULTS}: {comparison[args.model]['summary']}")


if __name__ == "__main__":
    main()
