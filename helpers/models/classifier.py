"""A small convolutional MNIST classifier: the judge of generated samples (helpers.evaluation.scores).

Images come in as the package holds them, (N, 784) pixels in [0, 1]. The penultimate layer (``features``) feeds
the Frechet distance, the softmax of the logits the Inception Score and the predicted digits.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from helpers.common.folder import RunFolder

NUM_CLASSES = 10
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # MNIST's training-set pixel statistics, to centre the input


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


def load_classifier(run_dir: str | os.PathLike, device: torch.device | str = "cpu") -> Classifier:
    """The trained classifier of a run folder (metrics.json parameters + weights.pt), in eval mode on device."""
    parameters, weights = RunFolder(Path(run_dir)).trained("classifier")
    model = Classifier(parameters["hidden_dim"], parameters["channels"])
    state = torch.load(weights, map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state)
    return model.to(device).eval()
