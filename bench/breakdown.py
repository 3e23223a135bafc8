"""Where a training step's time goes: the torch profiler's self CPU time of one partial epoch, by part.

Parts: the matrix products; the optimizer's fused update; the copies between float32 and bf16 (weights, gradients,
activations); the data (shuffling, gathering, binarizing); random draws (reparameterization, noise); everything
else (losses, activations and their backward, bookkeeping). Shares are of the profiled operators' time.
Usage: .venv/bin/python -m bench.breakdown
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from bench.loops import MODELS, our_loop
from helpers.data import load_splits

PARTS = {
    "matrix products": ("aten::mm", "aten::addmm", "aten::bmm"),
    "optimizer": ("aten::_fused_adagrad_", "aten::_fused_adam_"),
    "precision copies": ("aten::copy_", "aten::_to_copy"),
    "data": ("aten::bernoulli_", "aten::uniform_", "aten::lt", "aten::index", "aten::index_select", "aten::randperm",
             "aten::gather"),
    "random draws": ("aten::normal_", "aten::random_"),
}


def part_of(name: str) -> str:
    """The part an operator belongs to."""
    return next((part for part, names in PARTS.items() if name in names), "losses, activations, rest")


def breakdown(run_epoch: object) -> dict[str, float]:
    """Shares of each part in one profiled call of run_epoch (after a warm-up call)."""
    run_epoch()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        run_epoch()
    seconds: dict[str, float] = defaultdict(float)
    for event in profiler.key_averages():
        if event.key.startswith("aten::"):
            seconds[part_of(event.key)] += event.self_cpu_time_total
    total = sum(seconds.values())
    return {part: seconds[part] / total for part in [*PARTS, "losses, activations, rest"]}


def breakdown_line(model: str, path: str, precision: str, shares: dict[str, float]) -> str:
    """One printed line: the shares of a model's step."""
    return f"step of {model:<8} {path:<9}{precision:<5}" + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())


def main() -> None:
    """Print the breakdown of every benchmark model's step, autograd's and the written-out one, fp32 and bf16."""
    torch.set_num_threads(1)
    splits = load_splits()
    for model in MODELS:
        for precision in ("fp32", "bf16"):
            for autograd in (True, False):
                shares = breakdown(our_loop(model, precision, splits, 2000, autograd=autograd))
                print(breakdown_line(model, "autograd" if autograd else "explicit", precision, shares), flush=True)


if __name__ == "__main__":
    main()
