"""Training the scoring classifier: Adam with a halving learning rate, each epoch scored on validation."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from helpers.config import ClassifierConfig, seeds
from helpers.data import Splits
from helpers.evaluation.scores import accuracy
from helpers.models.classifier import Classifier
from helpers.training.checkpoints import training_fingerprint
from helpers.training.train import fit, make_generator

LR_DECAY = 0.5  # the learning rate is multiplied by this after every epoch


def classifier_epoch(model: Classifier, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                     labels: torch.Tensor, batch_size: int, generator: torch.Generator) -> dict[str, float]:
    """One pass over the images in shuffled batches: mean cross-entropy and accuracy on the training batches."""
    model.train()
    order = torch.randperm(len(images), generator=generator, device=images.device)
    totals = torch.zeros(2, device=images.device)
    for start in range(0, len(images), batch_size):
        index = order[start:start + batch_size]
        logits = model(images[index])
        loss = F.cross_entropy(logits, labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        correct = (logits.argmax(-1) == labels[index]).sum()
        totals += torch.stack([loss.detach() * len(index), correct.float()])
    loss, correct = (totals / len(images)).tolist()
    return {"train_loss": loss, "train_accuracy": correct}


def fit_classifier(model: Classifier, splits: Splits, config: ClassifierConfig, checkpoint: Path | None = None
                   ) -> list[dict[str, float]]:
    """Train with Adam from config.learning_rate, halved after each epoch; each epoch also scores validation."""
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, LR_DECAY)
    generator = make_generator(config.seed, device)

    def run_epoch(epoch: int) -> dict[str, float]:
        torch.manual_seed(config.seed + seeds.DROPOUT_MASKS + epoch)  # dropout draws from torch's global generator
        row = {"learning_rate": schedule.get_last_lr()[0]}
        row |= classifier_epoch(model, optimizer, splits.train.images, splits.train.labels, config.batch_size,
                                generator)
        schedule.step()
        return row | {"validation_accuracy": accuracy(model, splits.validation.images, splits.validation.labels)}

    state = {"model": model, "optimizer": optimizer, "schedule": schedule}
    return fit(run_epoch, config.epochs, state, generator, checkpoint, fingerprint=training_fingerprint(config),
               resume_from_checkpoint=config.resume, desc="classifier")
