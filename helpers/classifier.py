"""A small convolutional MNIST classifier: the judge of generated samples (helpers.metrics), trained by the package.

Images come in as the package holds them, (N, 784) pixels in [0, 1]. The penultimate layer (``features``) feeds
the Frechet distance, the softmax of the logits the Inception Score and the predicted digits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoints import training_fingerprint
from .data import Splits
from .metrics import gaussian_statistics, sample_scores
from .params import ClassifierConfig
from .runfiles import finished_run
from .train import fit, make_generator

NUM_CLASSES = 10
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # MNIST's training-set pixel statistics, to centre the input
LR_DECAY = 0.5  # the learning rate is multiplied by this after every epoch
DROPOUT_SEED_OFFSET = 30_013  # each epoch's dropout masks come from seed + this + epoch (so a resumed run matches)


class Classifier(nn.Module):
    """Two 3x3 conv + max-pool blocks (channels, 2 * channels), a hidden layer of feature_dim units, 10 logits."""

    def __init__(self, feature_dim: int = 128, channels: int = 32):
        super().__init__()
        self.feature_dim = feature_dim
        self.channels = channels
        self.convolutions = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(2 * channels * 7 * 7, feature_dim), nn.ReLU())
        self.dropout = nn.Dropout(0.25)
        self.out = nn.Linear(feature_dim, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's activations (N, feature_dim) for images (N, 784) in [0, 1]."""
        pixels = (x.reshape(-1, 1, 28, 28) - PIXEL_MEAN) / PIXEL_STD
        return self.hidden(self.convolutions(pixels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The digit logits (N, 10) for images (N, 784) in [0, 1]."""
        return self.out(self.dropout(self.features(x)))


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


@torch.no_grad()
def predict(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """The features (N, feature_dim) and softmax probabilities (N, 10) of images in [0, 1], in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    features = torch.cat([model.features(images[i:i + batch_size].to(device))
                          for i in range(0, len(images), batch_size)])
    model.train(was_training)
    return features, model.out(features).softmax(dim=1)


def accuracy(model: Classifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """The fraction of images whose most likely digit is the label."""
    _, probabilities = predict(model, images, batch_size)
    return (probabilities.argmax(1) == labels.to(probabilities.device)).double().mean().item()


def reference_statistics(model: Classifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and covariance of the classifier features of real images (what samples are compared with)."""
    return gaussian_statistics(predict(model, images)[0])


def score(model: Classifier, images: torch.Tensor, reference: tuple[torch.Tensor, torch.Tensor],
          asked: torch.Tensor | None = None) -> dict[str, float | int | list[float] | None]:
    """helpers.metrics.sample_scores of images in [0, 1] (N, 784) under this classifier."""
    features, probabilities = predict(model, images)
    return sample_scores(probabilities, features, reference, asked)


def make_scorer(model: Classifier, reference: tuple[torch.Tensor, torch.Tensor]
                ) -> Callable[[torch.Tensor, torch.Tensor | None], dict[str, Any]]:
    """score() bound to one classifier and reference statistics: what train.fit_gan's monitor calls."""
    return lambda images, asked=None: score(model, images, reference, asked)


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Counts (10, 10): row = true digit, column = predicted digit."""
    index = labels.to(predicted.device) * NUM_CLASSES + predicted
    return torch.bincount(index, minlength=NUM_CLASSES ** 2).reshape(NUM_CLASSES, NUM_CLASSES)


def fit_classifier(model: Classifier, splits: Splits, config: ClassifierConfig, checkpoint: Path | None = None
                   ) -> list[dict[str, float]]:
    """Train with Adam from config.learning_rate, halved after each epoch; each epoch also scores validation."""
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, LR_DECAY)
    generator = make_generator(config.seed, device)

    def run_epoch(epoch: int) -> dict[str, float]:
        torch.manual_seed(config.seed + DROPOUT_SEED_OFFSET + epoch)  # dropout draws from torch's global generator
        row = {"learning_rate": schedule.get_last_lr()[0]}
        row |= classifier_epoch(model, optimizer, splits.train.images, splits.train.labels, config.batch_size,
                                generator)
        schedule.step()
        return row | {"validation_accuracy": accuracy(model, splits.validation.images, splits.validation.labels)}

    state = {"model": model, "optimizer": optimizer, "schedule": schedule}
    return fit(run_epoch, config.epochs, state, generator, checkpoint, fingerprint=training_fingerprint(config),
               resume_from_checkpoint=config.resume, desc="classifier")


def load_classifier(run_dir: str | os.PathLike, device: torch.device | str = "cpu") -> Classifier:
    """The trained classifier of a run folder (metrics.json parameters + weights.pt), in eval mode on device."""
    parameters, weights = finished_run(run_dir, "classifier")
    model = Classifier(parameters["hidden_dim"], parameters["channels"])
    state = torch.load(weights, map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state)
    return model.to(device).eval()
