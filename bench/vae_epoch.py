"""Benchmark: seconds per VAE training epoch (50,000 images, batch 100) for latent sizes 2 and 20.

Prints the CPU and thread count with every figure: compare speeds only as ratios within one run.
Usage: .venv/bin/python bench/vae_epoch.py [--epochs 2] [--device auto] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from helpers import train, vae
from helpers.data import load_splits
from helpers.outputs import cpu_name
from helpers.params import VAEConfig


def seconds_per_epoch(latent_dim: int, epochs: int, device: torch.device, splits) -> float:
    """Median wall-clock seconds of a VAE epoch (after one warm-up epoch)."""
    train.seed_everything(0)
    model = vae.VAE(latent_dim).to(device)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.01)
    generator = train.make_generator(0, device)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        train.vae_epoch(model, optimizer, splits.train.images, 100, generator)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]


def main() -> None:
    """Time both latent sizes and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, torch.get_num_threads()],
                        help="torch thread counts to compare (default: 1, what the notebooks use, and torch's default)")
    args = parser.parse_args()
    device = VAEConfig(device=args.device).torch_device
    splits = load_splits(device=device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(f"device: {device} ({name}); torch {torch.__version__}")
    for threads in dict.fromkeys(args.threads):
        torch.set_num_threads(threads)
        for latent_dim in (2, 20):
            seconds = seconds_per_epoch(latent_dim, args.epochs, device, splits)
            print(f"threads {threads}, VAE latent {latent_dim:>2}: {seconds:.2f} s/epoch")


if __name__ == "__main__":
    main()
