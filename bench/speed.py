"""Benchmark (issue 14): seconds per training epoch of our loops against an examples-style loop and the matmul
ceiling, for vae_z2, vae_z20, gan and aux_gan, at one thread and at the machine's thread count.

Prints a table and writes bench/results.json {"machine", "rows", "ceilings", "quality", "pipeline"}. Compare
only ratios measured in one run (the CPU, its flags and its load are printed with them). An epoch is timed on
its first --steps batches (best of --rounds, after a warm-up) and scaled to 50,000 images.
Usage: .venv/bin/python -m bench.speed [--steps 50] [--threads 1 2] [--quality-epochs 20] [--skip-pipeline]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

from bench import baseline, ceiling
from bench.pipeline import pipeline_cost
from helpers.common.files import write_json
from helpers.common.machine import cpu_flags, cpu_name
from helpers.config import seeds
from helpers.data import Splits, load_splits
from helpers.models import gan, vae
from helpers.models.precision import BF16_CPU_FLAGS, native_bf16
from helpers.training import train

MODELS = ("vae_z2", "vae_z20", "gan", "aux_gan")
EPOCH_IMAGES = 50_000
BATCH = 100
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
RESULTS = Path(__file__).with_name("results.json")


def best_seconds(run: Callable[[], object], rounds: int) -> float:
    """The shortest of rounds timed calls of run, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def our_loop(model: str, precision: str, splits: Splits, images: int) -> Callable[[], object]:
    """One partial epoch of helpers/train.py's loop for a benchmark model, ready to call repeatedly."""
    train.seed_everything(0)
    device, generator = torch.device("cpu"), torch.Generator().manual_seed(0)
    if model.startswith("vae"):
        net = vae.VAE(int(model.removeprefix("vae_z")))
        optimizer = train.make_optimizer(torch.optim.Adagrad, net.parameters(), device, lr=0.01)
        x = splits.train.images[:images]
        return lambda: train.vae_epoch(net, optimizer, x, BATCH, generator, precision)
    gen, disc = gan_models(model)
    gen_opt, disc_opt = (train.make_optimizer(torch.optim.Adam, m.parameters(), device, lr=5e-4, betas=(0.5, 0.999))
                         for m in (gen, disc))
    real, labels = gan.to_signed(splits.train.images[:images]), splits.train.labels[:images]
    return lambda: train.gan_epoch(gen, disc, gen_opt, disc_opt, real, labels, BATCH, 1, generator, precision)


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


def measure(threads: int, splits: Splits, steps: int, rounds: int, bf16: bool) -> tuple[list[dict], list[dict]]:
    """Rows (baseline, fp32, bf16) and ceilings of every model at one thread count."""
    torch.set_num_threads(threads)
    images, rows, ceilings = steps * BATCH, [], []
    scale = EPOCH_IMAGES / images
    precisions = ["fp32", "bf16"] if bf16 else ["fp32"]
    for model in MODELS:
        limits = {p: ceiling.ceiling(model, DTYPES[p], threads) for p in precisions}
        torch.set_num_threads(threads)
        ceilings += [{"model": model, "precision": p, "threads": threads, **limits[p]} for p in precisions]
        base = best_seconds(baseline_loop(model, images), rounds) * scale
        loops = [("baseline_" + ("vae" if model == "vae_z2" else model), "fp32", base)]
        loops += [(model, p, best_seconds(our_loop(model, p, splits, images), rounds) * scale) for p in precisions]
        for name, precision, seconds in loops:
            rows.append({"model": name, "precision": precision, "threads": threads, "seconds_per_epoch": seconds,
                         "images_per_second": EPOCH_IMAGES / seconds, "speedup_vs_baseline": base / seconds,
                         "fraction_of_ceiling": limits[precision]["seconds_per_epoch"] / seconds,
                         "fraction_of_fp32_ceiling": limits["fp32"]["seconds_per_epoch"] / seconds,
                         "load_average": os.getloadavg()[0]})
            print(row_line(rows[-1]), flush=True)
    return rows, ceilings


def quality(epochs: int, splits: Splits, bf16: bool) -> dict:
    """Validation loss of a latent-2 VAE after epochs in fp32 and in bf16, same seed (one thread)."""
    torch.set_num_threads(1)
    validation = splits.validation.binarized(seeds.EVAL_BINARIZATION)
    result: dict = {"epochs": epochs, "train_images": len(splits.train), "model": "vae_z2"}
    for precision in ["fp32", "bf16"] if bf16 else ["fp32"]:
        train.seed_everything(0)
        net, generator = vae.VAE(2), torch.Generator().manual_seed(0)
        optimizer = train.make_optimizer(torch.optim.Adagrad, net.parameters(), torch.device("cpu"), lr=0.01)
        start = time.perf_counter()
        for _ in range(epochs):
            train.vae_epoch(net, optimizer, splits.train.images, BATCH, generator, precision)
        result[f"{precision}_train_seconds"] = time.perf_counter() - start
        score = vae.evaluate(net, validation, generator=torch.Generator().manual_seed(0))["loss"]
        result[f"{precision}_validation_loss"] = score
        print(f"quality: {precision} validation loss after {epochs} epochs {score:.3f} nats", flush=True)
    if bf16:
        result["difference_nats"] = result["bf16_validation_loss"] - result["fp32_validation_loss"]
    return result


def machine() -> dict:
    """What the numbers were measured on."""
    flags = cpu_flags()
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "flags": {f: f in flags for f in (*BF16_CPU_FLAGS, "amx_tile", "avx512f")},
            "native_bf16": native_bf16(torch.device("cpu")), "load_average_start": os.getloadavg()[0]}


HEADER = (f"{'model':<18}{'prec':<6}{'thr':>4}{'s/epoch':>9}{'images/s':>10}{'vs base':>9}"
          f"{'of ceil':>9}{'of fp32 ceil':>13}{'load':>6}")


def row_line(row: dict) -> str:
    """One table line of a measured row."""
    return (f"{row['model']:<18}{row['precision']:<6}{row['threads']:>4}{row['seconds_per_epoch']:>9.2f}"
            f"{row['images_per_second']:>10,.0f}{row['speedup_vs_baseline']:>8.2f}x{row['fraction_of_ceiling']:>9.0%}"
            f"{row['fraction_of_fp32_ceiling']:>13.0%}{row['load_average']:>6.1f}")


def ceiling_line(c: dict) -> str:
    """One table line of a ceiling."""
    return (f"ceiling {c['model']:<10}{c['precision']:<6}{c['threads']:>4}{c['seconds_per_epoch']:>9.2f} s/epoch"
            f"{c['gflop_per_second']:>8.0f} GFLOP/s ({c['gflop_per_epoch']:.0f} GFLOP per epoch)")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="batches timed per epoch measurement")
    parser.add_argument("--rounds", type=int, default=3, help="timed repetitions (the best counts)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--quality-epochs", type=int, default=20, help="fp32 vs bf16 VAE epochs (0: skip)")
    parser.add_argument("--quality-images", type=int, default=0, help="training images for it (0: all 50,000)")
    parser.add_argument("--skip-pipeline", action="store_true", help="skip the papermill/nbconvert/PDF timing")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


def main() -> None:
    """Measure everything, print the table, write the results."""
    args = parse_args()
    info = machine()
    bf16 = info["native_bf16"]
    print(f"CPU {info['cpu']} ({info['cores']} cores), flags {info['flags']}, torch {info['torch']}, "
          f"load average {info['load_average_start']:.1f}", flush=True)
    splits = load_splits()
    print(HEADER, flush=True)
    rows, ceilings = [], []
    for threads in dict.fromkeys(args.threads):
        measured, limits = measure(threads, splits, args.steps, args.rounds, bf16)
        rows, ceilings = rows + measured, ceilings + limits
    for limit in ceilings:
        print(ceiling_line(limit))
    results = {"machine": info, "rows": rows, "ceilings": ceilings,
               "settings": {"steps": args.steps, "rounds": args.rounds, "batch_size": BATCH}}
    if args.quality_epochs:
        results["quality"] = quality(args.quality_epochs, load_splits(train_size=args.quality_images), bf16)
    if not args.skip_pipeline:
        results["pipeline"] = pipeline_cost()
        print("pipeline: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                        for k, v in results["pipeline"].items()), flush=True)
    results["machine"]["load_average_end"] = os.getloadavg()[0]
    write_json(args.output, results)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
