"""Training: one epoch loop per model, and `fit`, which runs epochs with history, checkpoints and a NaN guard.

A checkpoint (model, optimizer, random state, history) is written atomically after every epoch, so a run
that crashes or is interrupted resumes from its last finished epoch, and a run asked for more epochs than
it has continues where it stopped. An epoch whose losses are not finite stops the run with
NonFiniteLossError and leaves the last good checkpoint in place.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm

from helpers.common.files import CHECKPOINT, PROGRESS, PROGRESS_ENV, write_json  # noqa: F401 (train.CHECKPOINT: notebooks)
from helpers.config import GANConfig, VAEConfig, seeds
from helpers.data import Splits, binarize
from helpers.models import gan
from helpers.models.precision import FP32, Numerics
from helpers.models.vae import VAE, evaluate, neg_elbo
from helpers.training import explicit
from helpers.training.checkpoints import Stateful, resume, save_checkpoint, training_fingerprint
from helpers.training.monitor import COLLAPSE_SPREAD, Monitor, Scorer, Snapshots

BATCHES_PER_DRAW = 10  # shuffled images are gathered (and binarized) for this many batches at once
FUSED_DEVICES = {torch.optim.Adagrad: ("cpu",), torch.optim.Adam: ("cpu", "cuda", "mps")}  # one-kernel steps
VAEStep = Callable[[torch.Tensor, torch.Generator], torch.Tensor]  # (binary batch, generator) -> (loss, rec, kl)
# The written-out step of each model class, or pair of classes trained together, by exact class: a subclass (a
# conditional VAE with the VAE's Sequentials, say) computes something else, so it trains by autograd until its own
# written-out step is registered here.
WRITTEN_OUT: dict[tuple[type[torch.nn.Module], ...], type] = {
    (VAE,): explicit.VAEStep,
    (gan.Generator, gan.Discriminator): explicit.GANSteps,
}


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the run stopped and its last good checkpoint was kept."""


def seed_everything(seed: int) -> None:
    """Seed torch's global generators (weight initialisation)."""
    torch.manual_seed(seed)


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on device for batch order, binarization and sampling."""
    return torch.Generator(device).manual_seed(seed)


def fit(run_epoch: Callable[[int], dict[str, Any]], epochs: int, state: dict[str, Stateful],
        generator: torch.Generator, checkpoint: Path | None, fingerprint: dict[str, Any] | None = None,
        resume_from_checkpoint: bool = True, desc: str = "training") -> list[dict[str, Any]]:
    """Run epochs, saving a checkpoint after each (and first resuming from it when it matches fingerprint).

    Returns one history row per epoch.
    """
    history = (resume(checkpoint, state, generator, fingerprint, epochs)
               if checkpoint and resume_from_checkpoint else [])
    if len(history) == epochs:
        return history
    bar = epoch_bar(range(len(history), epochs), desc=desc, initial=len(history), total=epochs)
    for epoch in bar:
        start = time.perf_counter()
        row = {"epoch": epoch + 1, **run_epoch(epoch)}
        row["seconds"] = time.perf_counter() - start
        bad = [k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            kept = f"; the checkpoint of epoch {len(history)} is kept" if history and checkpoint else ""
            raise NonFiniteLossError(f"epoch {epoch + 1}: {', '.join(bad)} became non-finite "
                                     f"({', '.join(f'{k}={row[k]}' for k in bad)}){kept}. "
                                     "Try a lower learning_rate or another seed.")
        history.append(row)
        bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if isinstance(v, float) and k != "seconds"},
                        refresh=False)
        if checkpoint:
            save_checkpoint(checkpoint, state, generator, history, fingerprint)
            report_progress(checkpoint.parent, row, epochs)
    bar.close()
    return history


def report_progress(folder: Path, row: dict[str, Any], epochs: int) -> None:
    """Write the epoch reached and its losses into the run folder, where the build reads them (no bar scraping)."""
    losses = {k: v for k, v in row.items() if isinstance(v, float) and k != "seconds"}
    write_json(folder / PROGRESS, {"epoch": row["epoch"], "epochs": epochs, "losses": losses})


def epoch_bar(epochs: range, **options: Any) -> tqdm:
    """A progress bar over epochs: a widget in a notebook, coarse text lines on stderr in headless runs."""
    if os.environ.get(PROGRESS_ENV) == "text":
        return text_tqdm(epochs, unit="epoch", file=sys.stderr, mininterval=10.0, **options)
    return tqdm(epochs, unit="epoch", mininterval=2.0, **options)


def vae_epoch(step: VAEStep, images: torch.Tensor, batch_size: int, generator: torch.Generator
              ) -> dict[str, float]:
    """One pass over images in shuffled batches, each binarized afresh and handed to step; mean loss and its parts.

    The shuffled images are gathered and binarized BATCHES_PER_DRAW batches at a time; the losses are summed
    on the device and read once, at the end (no host synchronisation per step).
    """
    order = torch.randperm(len(images), generator=generator, device=images.device)
    totals = torch.zeros(3, device=images.device)
    draw = batch_size * BATCHES_PER_DRAW
    for start in range(0, len(images), draw):
        for x in binarize(images.index_select(0, order[start:start + draw]), generator).split(batch_size):
            totals.add_(step(x, generator), alpha=len(x))
    loss, reconstruction, kl = (totals / len(images)).tolist()
    return {"train_loss": loss, "train_reconstruction": reconstruction, "train_kl": kl}


def vae_step(model: VAE, optimizer: torch.optim.Optimizer, x: torch.Tensor, generator: torch.Generator,
             numerics: Numerics) -> torch.Tensor:
    """One optimizer step on the binary batch x by autograd (the reference of explicit.VAEStep); its (loss,
    reconstruction, kl), detached, on the device."""
    with numerics.autocast:
        logits, mean, log_var = model(x, generator)
    loss, reconstruction, kl = neg_elbo(logits, x, mean, log_var)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return torch.stack([loss, reconstruction, kl]).detach()


def vae_trainer(model: VAE, learning_rate: float, numerics: Numerics) -> tuple[VAEStep, torch.optim.Optimizer]:
    """The VAE's training step and its Adagrad: the written-out one registered for the model's class where it runs
    (written_out_step), else autograd's."""
    device = next(model.parameters()).device

    def adagrad(parameters: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        return make_optimizer(torch.optim.Adagrad, parameters, device, lr=learning_rate)

    written_out = written_out_step(model)
    if written_out:
        step = written_out(model, adagrad, numerics)
        return step, step.optimizer
    optimizer = adagrad(model.parameters())
    return (lambda x, generator: vae_step(model, optimizer, x, generator, numerics)), optimizer


def written_out_step(*models: torch.nn.Module) -> type | None:
    """The written-out step that WRITTEN_OUT registers for exactly these models' classes, where such steps run
    (explicit.DEVICES); None: autograd's step."""
    if next(models[0].parameters()).device.type not in explicit.DEVICES:
        return None
    return WRITTEN_OUT.get(tuple(type(model) for model in models))


def make_optimizer(kind: type[torch.optim.Optimizer], params: Iterable[torch.nn.Parameter], device: torch.device,
                   **options: Any) -> torch.optim.Optimizer:
    """An optimizer whose step is one fused kernel where torch has one for kind on device (else its default).

    The choice survives loading a checkpoint written on another device (the saved flags are not taken over).
    """
    fused = device.type in FUSED_DEVICES.get(kind, ()) or None
    optimizer = kind(params, fused=fused, **options)
    chosen = [(group["fused"], group["foreach"]) for group in optimizer.param_groups]

    def keep_choice(loaded: torch.optim.Optimizer) -> None:
        for group, (fused_flag, foreach_flag) in zip(loaded.param_groups, chosen, strict=True):
            group["fused"], group["foreach"] = fused_flag, foreach_flag

    optimizer.register_load_state_dict_post_hook(keep_choice)
    return optimizer


def fit_vae(model: VAE, splits: Splits, config: VAEConfig, checkpoint: Path | None = None
            ) -> list[dict[str, Any]]:
    """Train the VAE with Adagrad as the writeup does; each epoch also scores the fixed-binarized validation set.

    Matrix products run at config.precision, resolved once here (Numerics.of: 'auto' -> bf16 or fp32) and recorded
    in every history row; the validation loss is always computed in float32.
    """
    device = next(model.parameters()).device
    numerics = Numerics.of(config.precision, device)
    step, optimizer = vae_trainer(model, config.learning_rate, numerics)
    generator = make_generator(config.seed, device)
    validation = splits.validation.binarized(config.seed + seeds.EVAL_BINARIZATION)
    eval_generator = torch.Generator(device)

    def run_epoch(epoch: int) -> dict[str, Any]:
        row = vae_epoch(step, splits.train.images, config.batch_size, generator)
        eval_generator.manual_seed(config.seed + epoch)
        scores = evaluate(model, validation, generator=eval_generator)
        return row | {f"validation_{k}": v for k, v in scores.items()} | {"precision": numerics.name}

    return fit(run_epoch, config.epochs, {"model": model, "optimizer": optimizer}, generator, checkpoint,
               fingerprint=training_fingerprint(config), resume_from_checkpoint=config.resume,
               desc=f"VAE z={config.latent_dim}")




def gan_epoch(steps: GANSteps, images: torch.Tensor, labels: torch.Tensor, batch_size: int, d_steps: int,
              generator: torch.Generator) -> dict[str, float]:
    """One pass over images in [-1, 1]: per batch, d_steps discriminator steps, then one generator step.

    Returns means over steps of the adversarial losses and of D(x) and D(G(z)) as each discriminator step
    saw them; with a digit head, also its cross-entropy and accuracy on the real batches. A conditional
    generator is asked for uniformly drawn digits, and both networks add the digit head's cross-entropy on
    the generated images with those digits to their losses (as in AC-GAN).
    """
    order = torch.randperm(len(images), generator=generator, device=images.device)
    disc_totals = torch.zeros(5, device=images.device)  # d_loss, d_real, d_fake, class_loss, train_accuracy
    gen_total = torch.zeros((), device=images.device)
    draw = batch_size * BATCHES_PER_DRAW
    for start in range(0, len(images), draw):
        index = order[start:start + draw]
        real_batches = images.index_select(0, index).split(batch_size)
        for real, digits in zip(real_batches, labels.index_select(0, index).split(batch_size), strict=True):
            for _ in range(d_steps):
                disc_totals += steps.discriminator(real, digits, generator)
            gen_total += steps.generator(len(real), generator)
    batches = -(-len(images) // batch_size)
    d_loss, d_real, d_fake, classes, correct = (disc_totals / (batches * d_steps)).tolist()
    row = {"d_loss": d_loss, "g_loss": gen_total.item() / batches, "d_real": d_real, "d_fake": d_fake}
    if steps.disc.classify is not None:
        row |= {"class_loss": classes, "train_accuracy": correct}
    return row


class GANSteps(Protocol):
    """The two steps of a GAN epoch, and the networks and optimizers they step."""

    gen: gan.Generator
    disc: gan.Discriminator
    gen_optimizer: torch.optim.Optimizer
    disc_optimizer: torch.optim.Optimizer

    def discriminator(self, real: torch.Tensor, digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One D step; (loss, D(x), D(G(z)), class loss, accuracy), detached."""

    def generator(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """One G step on n generated images; G's loss, detached."""


@dataclass
class AutogradGANSteps:
    """The GAN's steps by autograd on the modules: the reference of explicit.GANSteps."""

    gen: gan.Generator
    disc: gan.Discriminator
    gen_optimizer: torch.optim.Optimizer
    disc_optimizer: torch.optim.Optimizer
    numerics: Numerics = FP32

    def discriminator(self, real: torch.Tensor, digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """discriminator_step on these networks."""
        return discriminator_step(self.gen, self.disc, self.disc_optimizer, real, digits, generator, self.numerics)

    def generator(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """generator_step on these networks."""
        return generator_step(self.gen, self.disc, self.gen_optimizer, n, generator, self.numerics)


def gan_trainer(gen: gan.Generator, disc: gan.Discriminator, learning_rate: float, disc_learning_rate: float,
                betas: tuple[float, float], numerics: Numerics) -> GANSteps:
    """The GAN's steps with their Adam optimizers: the written-out ones registered for the networks' classes where
    they run (written_out_step), else autograd's."""
    device = next(gen.parameters()).device
    rates = {"G": learning_rate, "D": disc_learning_rate}

    def adam(parameters: Iterable[torch.nn.Parameter], network: str) -> torch.optim.Optimizer:
        return make_optimizer(torch.optim.Adam, parameters, device, lr=rates[network], betas=betas)

    written_out = written_out_step(gen, disc)
    if written_out:
        return written_out(gen, disc, adam, numerics)
    return AutogradGANSteps(gen, disc, adam(gen.parameters(), "G"), adam(disc.parameters(), "D"), numerics)


def discriminator_step(gen: gan.Generator, disc: gan.Discriminator, optimizer: torch.optim.Optimizer,
                       real: torch.Tensor, digits: torch.Tensor, generator: torch.Generator, numerics: Numerics
                       ) -> torch.Tensor:
    """One step of D on a real batch and as many generated images, both scored in one forward pass.

    Returns (loss, D(x), D(G(z)), digit-head cross-entropy and accuracy on the real batch), detached.
    """
    n = len(real)
    asked = gen.random_labels(n, generator)
    with torch.no_grad(), numerics.autocast:
        fake = gen(gen.noise(n, generator), asked)
    with numerics.autocast:
        logits, digit_logits = disc(torch.cat([real, fake.to(real.dtype)]))
    real_logits, fake_logits = logits.split(n)
    loss = gan.discriminator_loss(real_logits, fake_logits)
    classes = correct = generated_classes = torch.zeros_like(loss)
    if digit_logits is not None:
        real_digits, fake_digits = digit_logits.split(n)
        classes = gan.class_loss(real_digits, digits)
        correct = (real_digits.argmax(-1) == digits).float().mean()
        if asked is not None:
            generated_classes = gan.class_loss(fake_digits, asked)
    optimizer.zero_grad(set_to_none=True)
    (loss + classes + generated_classes).backward()
    optimizer.step()
    scores = [loss, torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean(), classes, correct]
    return torch.stack(scores).detach()


def generator_step(gen: gan.Generator, disc: gan.Discriminator, optimizer: torch.optim.Optimizer, n: int,
                   generator: torch.Generator, numerics: Numerics) -> torch.Tensor:
    """One step of G on n generated images (D passes gradients through, its weights get none); G's loss, detached."""
    asked = gen.random_labels(n, generator)
    with frozen(disc), numerics.autocast:
        fake_logits, fake_digits = disc(gen(gen.noise(n, generator), asked))
    loss = gan.generator_loss(fake_logits)
    generated_classes = gan.class_loss(fake_digits, asked) if asked is not None else 0.0
    optimizer.zero_grad(set_to_none=True)
    (loss + generated_classes).backward()
    optimizer.step()
    return loss.detach()


@contextlib.contextmanager
def frozen(module: torch.nn.Module) -> Iterator[None]:
    """Within: what runs through module records no gradient for its weights (gradients still reach its inputs)."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in zip(module.parameters(), flags, strict=True):
            parameter.requires_grad_(flag)


def fit_gan(gen: gan.Generator, disc: gan.Discriminator, splits: Splits, config: GANConfig,
            checkpoint: Path | None = None, snapshots: Snapshots | None = None, progress_size: int = 10,
            scorer: Scorer | None = None, best_path: Path | None = None) -> list[dict[str, float]]:
    """Train the GAN with Adam (betas adam_beta1, 0.999; D at disc_learning_rate when set), keeping samples.

    Each epoch also records the spread of the fixed-noise samples and, with a digit head, its accuracy on
    the validation images. With a scorer (a classifier's), every score_every epochs a Monitor scores a fixed
    batch of samples, warns when they cover few digits, and keeps the lowest-FD epoch's models in best_path;
    without one, the warning watches the pixel spread instead.
    """
    device = next(gen.parameters()).device
    betas = (config.adam_beta1, 0.999)
    numerics = Numerics.of(config.precision, device)  # resolved once, recorded in every history row
    steps = gan_trainer(gen, disc, config.learning_rate, config.disc_learning_rate or config.learning_rate, betas,
                        numerics)
    generator = make_generator(config.seed, device)
    train_images, validation_images = gan.to_signed(splits.train.images), gan.to_signed(splits.validation.images)
    fixed = make_generator(config.seed + seeds.PROGRESS_SAMPLES, device)
    fixed_noise = gen.noise(progress_size, fixed)
    fixed_labels = (torch.arange(progress_size, device=device) % gen.num_classes) if gen.num_classes else None
    snapshots = snapshots if snapshots is not None else Snapshots()
    monitor = Monitor(gen, scorer, config, best_path) if scorer else None
    warned = False

    def run_epoch(epoch: int) -> dict[str, Any]:
        nonlocal warned
        row = gan_epoch(steps, train_images, splits.train.labels, config.batch_size, config.d_steps, generator)
        with torch.no_grad():
            samples = gen(fixed_noise, fixed_labels)
        row["sample_spread"] = gan.to_unit(samples).std(dim=0).mean().item()
        if monitor and monitor.due(epoch + 1):
            row |= monitor.score(epoch + 1, gen, disc)
        if not monitor and row["sample_spread"] < COLLAPSE_SPREAD and not warned:
            warned = True
            print(f"warning: epoch {epoch + 1}: the fixed-noise samples are nearly identical "
                  f"(spread {row['sample_spread']:.4f}): the generator may have collapsed")
        if disc.classify is not None:
            row["val_accuracy"] = gan.digit_accuracy(disc, validation_images, splits.validation.labels)
        if epoch == 0 or (epoch + 1) % config.sample_every == 0 or epoch + 1 == config.epochs:
            snapshots.add(epoch + 1, samples)
        return row | {"precision": numerics.name}

    state = {"G": gen, "D": disc, "gen_optimizer": steps.gen_optimizer, "disc_optimizer": steps.disc_optimizer,
             "snapshots": snapshots} | ({"monitor": monitor} if monitor else {})
    return fit(run_epoch, config.epochs, state, generator, checkpoint, fingerprint=training_fingerprint(config),
               resume_from_checkpoint=config.resume, desc=config.variant)
