"""Scores under the package's MNIST classifier: its features and probabilities of images, the reference
statistics and neighbours of real digits, and the sample scores (IS, FD, digits covered, density and coverage)
of generated ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from helpers.evaluation.metrics import Neighbours, gaussian_statistics, real_neighbours, sample_scores
from helpers.models.classifier import NUM_CLASSES, Classifier


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


def real_reference(model: Classifier, images: torch.Tensor) -> tuple[tuple[torch.Tensor, torch.Tensor], Neighbours]:
    """Real images' feature statistics (for the FD) and nearest-neighbour balls (for density and coverage), from
    one pass of the classifier."""
    features = predict(model, images)[0]
    return gaussian_statistics(features), real_neighbours(features)


def score(model: Classifier, images: torch.Tensor, reference: tuple[torch.Tensor, torch.Tensor],
          asked: torch.Tensor | None = None, neighbours: Neighbours | None = None
          ) -> dict[str, float | int | list[float] | None]:
    """helpers.evaluation.metrics.sample_scores of images in [0, 1] (N, 784) under this classifier."""
    features, probabilities = predict(model, images)
    return sample_scores(probabilities, features, reference, asked, neighbours)


def make_scorer(model: Classifier, reference: tuple[torch.Tensor, torch.Tensor]
                ) -> Callable[[torch.Tensor, torch.Tensor | None], dict[str, Any]]:
    """score() bound to one classifier and reference statistics: what train.fit_gan's monitor calls."""
    return lambda images, asked=None: score(model, images, reference, asked)


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Counts (10, 10): row = true digit, column = predicted digit."""
    index = labels.to(predicted.device) * NUM_CLASSES + predicted
    return torch.bincount(index, minlength=NUM_CLASSES ** 2).reshape(NUM_CLASSES, NUM_CLASSES)
