"""The matmul ceiling of an epoch: the matrix products one epoch of the plain algorithm needs, each timed alone
at its own shape (same process, same threads), summed over the epoch's steps.

Counted, as issue 14 defines it: the forward product and both backward products (input and weight
gradients) of every layer of every pass that is differentiated, and the forward product of a pass that is
not (the generator under no_grad in the discriminator step). Our loops skip a few of these (the input
gradient of a first layer fed data, the discriminator's weight gradients in the generator step), which
is part of their speed, so a fraction above 1 is possible in principle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

KINDS = ("forward", "input_grad", "weight_grad")


@dataclass(frozen=True)
class Pass:
    """One application of an MLP per step: its layer widths, rows (images) and the products it needs."""

    sizes: tuple[int, ...]
    rows: int
    kinds: tuple[str, ...] = KINDS


def model_passes(model: str, batch_size: int = 100) -> list[Pass]:
    """The MLP passes of one training step of a benchmark model (vae_z2, vae_z20, gan, aux_gan)."""
    if model.startswith("vae_z"):
        z = int(model.removeprefix("vae_z"))
        return [Pass((784, 500, 500, 2 * z), batch_size), Pass((z, 500, 500, 784), batch_size)]
    classes = 10 if model == "aux_gan" else 0  # the aux_gan run: conditional generator and a digit head
    generator = (64 + classes, 256, 256, 784)
    heads = [Pass((256, 1), 2 * batch_size), Pass((256, 1), batch_size)]
    heads += [Pass((256, classes), 2 * batch_size), Pass((256, classes), batch_size)] if classes else []
    return [Pass(generator, batch_size, ("forward",)),  # discriminator step: G under no_grad
            Pass((784, 256, 256), 2 * batch_size),  # D on real and generated images
            Pass(generator, batch_size), Pass((784, 256, 256), batch_size)] + heads  # generator step


def products(passes: list[Pass]) -> list[tuple[str, int, int, int]]:
    """Every matrix product of a step as (kind, rows, inputs, outputs) of its layer."""
    return [(kind, p.rows, n_in, n_out) for p in passes
            for n_in, n_out in zip(p.sizes[:-1], p.sizes[1:], strict=False) for kind in p.kinds]


def skipped_products(model: str, batch_size: int = 100) -> list[tuple[str, int, int, int]]:
    """The products of the ceiling that helpers/training/explicit.py does not run for a benchmark model.

    The input gradient of a first layer fed data (the VAE's encoder; D on real and generated images), D's weight
    gradients in the generator step, and the plain generator's input gradient (only the AC-GAN's embedding needs it).
    """
    if model.startswith("vae_z"):
        return [("input_grad", batch_size, 784, 500)]
    classes = 10 if model == "aux_gan" else 0
    skipped = [("input_grad", 2 * batch_size, 784, 256), ("weight_grad", batch_size, 784, 256),
               ("weight_grad", batch_size, 256, 256), ("weight_grad", batch_size, 256, 1)]
    return skipped + ([("weight_grad", batch_size, 256, classes)] if classes else [("input_grad", batch_size, 64, 256)])


def step_products(model: str, written_out: bool = False, batch_size: int = 100) -> list[tuple[str, int, int, int]]:
    """The products of one step of a benchmark model: issue 14's count, or those the written-out step runs."""
    every = products(model_passes(model, batch_size))
    for product in skipped_products(model, batch_size) if written_out else []:
        every.remove(product)
    return every


def step_flops(passes: list[Pass]) -> int:
    """Floating-point operations of the matrix products of one step (2 per multiply-add)."""
    return sum(2 * rows * n_in * n_out for _, rows, n_in, n_out in products(passes))


def operands(kind: str, rows: int, n_in: int, n_out: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Random left and right operands of one product of a layer (forward, input or weight gradient)."""
    x, weight, grad = (torch.randn(rows, n_in, dtype=dtype), torch.randn(n_out, n_in, dtype=dtype),
                       torch.randn(rows, n_out, dtype=dtype))
    return {"forward": (x, weight.t()), "input_grad": (grad, weight), "weight_grad": (grad.t(), x)}[kind]


def product_seconds(kind: str, rows: int, n_in: int, n_out: int, dtype: torch.dtype, threads: int,
                    repeats: int = 30, rounds: int = 3) -> float:
    """Seconds of one matrix product of a layer at this shape, dtype and thread count (best of rounds).

    Not cached across models: on a shared machine each model's ceiling is measured next to its own loops.
    """
    torch.set_num_threads(threads)
    left, right = operands(kind, rows, n_in, n_out, dtype)
    torch.mm(left, right)  # warm-up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            torch.mm(left, right)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def ceiling(model: str, dtype: torch.dtype, threads: int, images: int = 50_000, batch_size: int = 100
            ) -> dict[str, float]:
    """The ceiling of one epoch: seconds, GFLOP and the matmul rate (GFLOP/s) at the model's layer shapes; also the
    seconds of the products the written-out step runs (each timed alone, like the ceiling's)."""
    passes = model_passes(model, batch_size)
    steps = -(-images // batch_size)
    timed = {product: product_seconds(*product, dtype, threads) for product in set(products(passes))}
    seconds = steps * sum(timed[product] for product in products(passes))
    gflop = steps * step_flops(passes) / 1e9
    return {"seconds_per_epoch": seconds, "gflop_per_epoch": gflop, "gflop_per_second": gflop / seconds,
            "written_out_seconds_per_epoch": steps * sum(timed[p] for p in step_products(model, True, batch_size))}


def chained_ceiling(model: str, dtype: torch.dtype, threads: int, images: int = 50_000, batch_size: int = 100,
                    rounds: int = 5, written_out: bool = False) -> float:
    """Seconds per epoch of the step's products run one after another on distinct operands, as a step runs them.

    A second yardstick beside ceiling(): there each product is timed alone, its operands hot in the caches; in
    a step every product reads operands the previous ones pushed out, which on some CPUs costs 15-25%. With
    written_out, only the products the written-out step runs.
    """
    torch.set_num_threads(threads)
    pairs = [operands(*product, dtype) for product in step_products(model, written_out, batch_size)]
    best = float("inf")
    for _ in range(rounds + 1):  # the first round warms up
        start = time.perf_counter()
        for _ in range(10):
            for left, right in pairs:
                torch.mm(left, right)
        best = min(best, (time.perf_counter() - start) / 10)
    return best * -(-images // batch_size)
