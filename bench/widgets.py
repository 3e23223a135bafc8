"""Benchmark: how long one slider move of the notebook explorers takes to redraw (the target: under 50 ms, so that
a drag feels live), on the writeup's VAE sizes (784-500-500, latent 2 and 20).

Prints the median and 95th percentile per explorer, with the CPU, its flags and the load. Compare only numbers
measured in one run. Usage: .venv/bin/python -m bench.widgets [--steps 50]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from bench.speed import machine
from helpers.data import Split
from helpers.explorers import widgets
from helpers.models.vae import VAE

TARGET_MS = 50.0


def explorer_latency(latent_dim: int, steps: int) -> float:
    """Median milliseconds per slider move of the VAE explorer of an untrained writeup-sized VAE."""
    torch.manual_seed(latent_dim)
    images = Split(torch.rand(200, 784, generator=torch.Generator().manual_seed(1)), torch.arange(200) % 10)
    explorer = widgets.VAEExplorer(VAE(latent_dim, 500).eval(), images)
    return widgets.update_latency_ms(explorer.sliders, steps)


def main(argv: list[str] | None = None) -> int:
    """Measure each explorer a few times and print median and 95th percentile of the per-sweep medians."""
    parser = argparse.ArgumentParser(prog="python -m bench.widgets", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="slider positions per sweep")
    parser.add_argument("--rounds", type=int, default=10, help="sweeps per explorer")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    for latent_dim in (2, 20):
        medians = [explorer_latency(latent_dim, args.steps) for _ in range(args.rounds)]
        median, p95 = np.median(medians), np.percentile(medians, 95)
        verdict = "within" if p95 < TARGET_MS else "ABOVE"
        print(f"VAE explorer, latent {latent_dim}: {median:.1f} ms median, {p95:.1f} ms 95th percentile per move "
              f"({verdict} the {TARGET_MS:.0f} ms target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
