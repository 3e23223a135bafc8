"""GAN-train (Shmelkov et al., 2018): the classifier's recipe trained on a conditional generator's digits instead
of the real training images, then tested on the real test images.

Its partner, GAN-test (the real classifier's accuracy on the generated digits, each scored against the digit it was
asked for), is ``conditional_accuracy`` in the sample scores. GAN-test high with GAN-train low means the samples
are recognisable but miss part of the data (too little variety); both near the real classifier's accuracy means
they are recognisable and varied enough to teach the digits. Only a conditional generator has the labels both need.
"""

from __future__ import annotations

from pathlib import Path

import torch

from helpers.common.folder import RunFolder
from helpers.config import ClassifierConfig, seeds
from helpers.data import Split, Splits
from helpers.evaluation.scores import accuracy
from helpers.models.classifier import Classifier
from helpers.models.gan import Generator, to_unit
from helpers.training.classifier import fit_classifier
from helpers.training.train import make_generator, seed_everything


def generated_split(generator_net: Generator, n: int, seed: int, batch_size: int = 10_000) -> Split:
    """n digits asked uniformly of the conditional generator, with the digit asked as each image's label."""
    draws = make_generator(seed + seeds.GAN_TRAIN_SAMPLES, next(generator_net.parameters()).device)
    labels = generator_net.random_labels(n, draws)
    if labels is None:
        raise ValueError("GAN-train needs a conditional generator (conditional = True): it labels its samples")
    images = torch.cat([to_unit(generator_net.sample(len(part), draws, part)) for part in labels.split(batch_size)])
    return Split(images, labels)


def gan_train_accuracy(generator_net: Generator, classifier_dir: str, real: Splits, seed: int) -> float:
    """The real test images' accuracy of a classifier trained, with the classifier run's recipe, on as many
    generated digits as it had real training images."""
    parameters, _ = RunFolder(Path(classifier_dir)).trained("classifier")
    config = ClassifierConfig.model_validate(parameters | {"seed": seed, "resume": False})
    generated = Splits(generated_split(generator_net, len(real.train), seed), real.validation, real.test)
    seed_everything(seed)
    model = Classifier(config.hidden_dim, config.channels).to(real.test.images.device)
    fit_classifier(model, generated, config)
    return accuracy(model.eval(), real.test.images, real.test.labels)


def gan_train_and_test(generator_net: Generator, classifier_dir: str, real: Splits, seed: int,
                       sample_scores: dict) -> dict[str, float]:
    """GAN-train, GAN-test (the scored samples' asked digit drawn) and the real classifier's test accuracy."""
    real_accuracy = RunFolder(Path(classifier_dir)).metrics()["test_accuracy"]
    return {"gan_train_accuracy": gan_train_accuracy(generator_net, classifier_dir, real, seed),
            "gan_test_accuracy": sample_scores["conditional_accuracy"], "real_classifier_accuracy": real_accuracy}
