"""The GAN notebook's captions and tables, by variant: the words the figures carry, kept out of the notebook."""

from __future__ import annotations

from typing import Any

from helpers.common import measures
from helpers.config import SCORE_SAMPLES, GANConfig

READINGS = {"GAN": "the **plain GAN**: no digit head, and the generator never sees a label",
            "auxiliary GAN": "the **auxiliary GAN** (the unconditional reading): the discriminator also names the "
                             "digit, but the generator never sees a label",
            "AC-GAN": "the **AC-GAN** (the conditional reading): the discriminator also names the digit, and the "
                      "generator is told which digit to draw"}


def when(flag: bool, text: str) -> str:
    """text where flag holds, else ''."""
    return text if flag else ""


def gan_captions(config: GANConfig, best_epoch: int | None = None, epochs: int = 0) -> dict[str, str]:
    """Each figure's caption for this variant of the GAN (best_and_final needs the best epoch and the epochs)."""
    head, told = config.auxiliary, config.conditional
    return {
        "reading": f"The figures below show {READINGS[config.variant]}.",
        "losses": "Mean losses over each epoch's steps: the discriminator's −log D(x) − log(1 − D(G(z))) and the "
                  "generator's −log D(G(z))" + when(head, "; for the digit head, its cross-entropy on the real images")
                  + ". Dashed: their values if D said 1/2 to every image.",
        "d_outputs": "Mean probability of 'real' that the discriminator gave to real images, D(x), and to generated "
                     "ones, D(G(z)), during each epoch's discriminator steps; 1/2 for both would mean it can no "
                     "longer tell them apart." + when(head, " Right: the digit head's accuracy on the real training "
                                                     "batches and on the 10,000 validation images, measured after "
                                                     "each epoch."),
        "progress": "Each row draws one fixed batch of ten noise vectors"
                    + when(told, ", asking the generator for the digits 0 to 9 in turn,") + " with the generator as it "
                    "was after the epoch named on the left (at most twelve rows, evenly spaced).",
        "samples": "One hundred images from noise vectors drawn from N(0, I)"
                   + when(told, " (the generator is also asked for digits drawn uniformly at random)")
                   + ", mapped from [-1, 1] back to grey levels.",
        "interpolation": "Each row draws G(α·z₁ + (1 − α)·z₂) for one pair of noise vectors z₁, z₂, with α from 0 "
                         "(left, z₂) to 1 (right, z₁)"
                         + when(told, "; the generator is asked for one digit per row (pair i for digit i − 1) while "
                                      "only the noise moves") + ".",
        "nearest_training": "Eight of the samples above (left), each followed by the five training images nearest "
                            "to it by Euclidean distance over pixels: a sample that copies a training digit would "
                            "match its first neighbour.",
        "class_grid": "Row d holds ten images for which the generator was asked for digit d, each from its own noise "
                      "vector; how well a row matches its digit shows how far the label steers the generator.",
        "digit_distribution": f"The fraction of {SCORE_SAMPLES:,} samples that the classifier calls each digit"
                              + when(told, " (the generator asked for digits drawn uniformly)")
                              + "; the dashed line is a tenth each.",
        "monitor": f"The classifier's view of one fixed batch of {config.score_samples:,} samples every "
                   f"{config.score_every} epochs: left, the digits covered (at least 2% of the samples each) and "
                   "exp(entropy) of the predicted digits (10 when evenly spread); right, the Fréchet distance of the "
                   "classifier features to the validation images' (the best epoch is chosen without the test set).",
        "best_and_final": "The same 100 noise vectors" + when(told, " (asking for the digits 0 to 9 along each row)")
                          + f" through the generator of epoch {best_epoch}, whose fixed batch had the lowest "
                          f"classifier Fréchet distance (left), and of the final epoch {epochs} (right).",
    }


def training_table(config: GANConfig, final: dict[str, Any], epochs: int) -> tuple[list[str], list[list[Any]]]:
    """The last epoch's losses and D's outputs (and the digit head's validation accuracy): headers and one row."""
    head = config.auxiliary
    columns = ["epochs", "D loss", "G loss", "D(x)", "D(G(z))"] + (["digit accuracy (validation)"] if head else [])
    row = [epochs, final["d_loss"], final["g_loss"], final["d_real"], final["d_fake"]]
    return columns, [row + ([final["val_accuracy"]] if head else [])]


def scores_table(config: GANConfig, scores: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The scored samples' measures (and, conditional, the asked digit drawn): headers, a row."""
    return measures.score_table(scores, "samples", measures.SAMPLE_SCORES + (
        ("conditional_accuracy",) if config.conditional else ()))


def gan_train_test_table(accuracies: dict[str, float]) -> tuple[list[str], list[list[Any]]]:
    """GAN-train, GAN-test and the real classifier's accuracy, each with what it trains and tests on: headers, rows."""
    rows = [["GAN-train", "generated digits", "real test images", accuracies["gan_train_accuracy"]],
            ["GAN-test", "real training images", "generated digits", accuracies["gan_test_accuracy"]],
            ["the real classifier", "real training images", "real test images", accuracies["real_classifier_accuracy"]]]
    return ["measure", "classifier trained on", "tested on", "accuracy"], [row[:3] + [f"{row[3]:.2%}"] for row in rows]
