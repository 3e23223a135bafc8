"""One function per figure: each takes arrays (or a history) and returns a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

sns.set_theme(style="whitegrid", context="notebook")
DIGIT_COLORS = sns.color_palette("tab10", 10)
GUTTER = 0.12  # ink level of the gaps between tiled images: a light grey once inverted for display


def legend_below(fig: Figure, *axes: plt.Axes) -> None:
    """The axes' legend entries in one legend under the plot, off the data."""
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize="small", frameon=False)


def to_numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    """A CPU numpy copy of a tensor or array."""
    return array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)


def tile(images: torch.Tensor | np.ndarray, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    """Arrange rows * cols images of 784 pixels (values in [0, 1]) into one mosaic with light gutters."""
    images = to_numpy(images).reshape(rows, cols, 28, 28)
    size = 28 + pad
    mosaic = np.full((rows * size + pad, cols * size + pad), GUTTER, dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            mosaic[pad + r * size: pad + r * size + 28, pad + c * size: pad + c * size + 28] = images[r, c]
    return mosaic


def image_grid(images: torch.Tensor | np.ndarray, rows: int, cols: int, title: str,
               row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
               cell_inches: float = 0.55) -> Figure:
    """A grid of digit images (ink dark on white), optionally with row and column labels."""
    fig, ax = plt.subplots(figsize=(cols * cell_inches + 0.8, rows * cell_inches + 0.7), constrained_layout=True)
    ax.imshow(1.0 - tile(images, rows, cols), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.grid(False)
    step = 30
    centers = [2 + step * i + 14 for i in range(max(rows, cols))]
    ax.set_xticks(centers[:cols] if col_labels else [])
    ax.set_yticks(centers[:rows] if row_labels else [])
    if col_labels:
        ax.set_xticklabels(col_labels)
    if row_labels:
        ax.set_yticklabels(row_labels)
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def latent_grid(images: torch.Tensor | np.ndarray, steps: int, limit: float) -> Figure:
    """Images decoded over a grid of [-limit, limit]^2, with the latent coordinates on the axes."""
    fig, ax = plt.subplots(figsize=(7.5, 7.5), constrained_layout=True)
    mosaic = tile(images, steps, steps, pad=0)
    ax.imshow(1.0 - mosaic, cmap="gray", vmin=0, vmax=1, extent=(-limit, limit, -limit, limit))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(f"Decoder means over $[-{limit:g}, {limit:g}]^2$")
    ax.grid(False)
    return fig


def loss_curves(history: list[dict[str, float]], title: str = "Negative ELBO per epoch",
                writeup: tuple[float, float] | None = None) -> Figure:
    """Train and validation loss per epoch, the writeup's final values as dashed lines when given."""
    epochs = [row["epoch"] for row in history]
    fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    ax.plot(epochs, [row["train_loss"] for row in history], label="train (dynamic binarization)", marker="o",
            markersize=3)
    ax.plot(epochs, [row["validation_loss"] for row in history], label="validation (fixed binarization)",
            marker="s", markersize=3)
    if writeup:
        ax.axhline(writeup[1], color="gray", linestyle="--", linewidth=1, label=f"writeup, validation ({writeup[1]:g})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("negative ELBO (nats per image)")
    ax.set_title(title)
    legend_below(fig, ax)
    return fig


def latent_scatter(means: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray,
                   title: str = "Validation images in the latent space", limit: float | None = 2.0) -> Figure:
    """Posterior means of a 2-D latent space, one colour per digit, with the [-limit, limit]^2 square marked."""
    means, labels = to_numpy(means), to_numpy(labels)
    fig, ax = plt.subplots(figsize=(7.5, 6.5), constrained_layout=True)
    for digit in range(10):
        points = means[labels == digit]
        ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.6, color=DIGIT_COLORS[digit], label=str(digit),
                   rasterized=True)
    if limit:
        ax.add_patch(plt.Rectangle((-limit, -limit), 2 * limit, 2 * limit, fill=False, linestyle="--",
                                   edgecolor="black", linewidth=1))
    ax.set_xlabel("$z_1$ (posterior mean)")
    ax.set_ylabel("$z_2$ (posterior mean)")
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(title="digit", markerscale=4, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return fig


def interpolation_rows(images: torch.Tensor | np.ndarray, alphas: Sequence[float],
                       title: str = "Interpolation between two latent points") -> Figure:
    """One row per pair of endpoints, one column per alpha (images shaped (pairs, len(alphas), 784))."""
    images = to_numpy(images)
    pairs = images.shape[0]
    return image_grid(images.reshape(-1, 784), pairs, len(alphas), title,
                      col_labels=[f"α={a:.1f}" for a in alphas], row_labels=[f"pair {i + 1}" for i in range(pairs)],
                      cell_inches=0.8)


def traversal_rows(images: torch.Tensor | np.ndarray, offsets: Sequence[float],
                   title: str = "Walking the latent code along its principal axes") -> Figure:
    """One row per latent direction, one column per offset in standard deviations (images (axes, offsets, 784))."""
    images = to_numpy(images)
    return image_grid(images.reshape(-1, 784), images.shape[0], len(offsets), title,
                      col_labels=[f"{o:+g} sd" for o in offsets],
                      row_labels=[f"axis {i + 1}" for i in range(images.shape[0])], cell_inches=0.7)


def nearest_rows(samples: torch.Tensor | np.ndarray, neighbours: torch.Tensor | np.ndarray,
                 title: str = "Samples and their nearest training images") -> Figure:
    """One row per sample: the sample, then its nearest training images (samples (n, 784), neighbours (n, k, 784))."""
    samples, neighbours = to_numpy(samples), to_numpy(neighbours)
    rows = np.concatenate([samples[:, None, :], neighbours], axis=1)
    return image_grid(rows.reshape(-1, 784), rows.shape[0], rows.shape[1], title,
                      col_labels=["sample", *(f"{i + 1}" for i in range(neighbours.shape[1]))], cell_inches=0.7)


def close(fig: Figure) -> None:
    """Release a figure's memory once it is saved and shown."""
    plt.close(fig)


def gan_losses(history: list[dict[str, float]], title: str = "GAN losses per epoch") -> Figure:
    """Mean discriminator and generator losses per epoch, with their values at the game's equilibrium dashed."""
    epochs = [row["epoch"] for row in history]
    fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    ax.plot(epochs, [row["d_loss"] for row in history], label="discriminator, −log D(x) − log(1 − D(G(z)))",
            marker="o", markersize=3)
    ax.plot(epochs, [row["g_loss"] for row in history], label="generator, −log D(G(z))", marker="s", markersize=3)
    if "class_loss" in history[0]:
        ax.plot(epochs, [row["class_loss"] for row in history], label="digit head, cross-entropy on real images",
                marker="^", markersize=3)
    ax.axhline(2 * np.log(2), color="C0", linestyle="--", linewidth=1, label="D at equilibrium (2 log 2)")
    ax.axhline(np.log(2), color="C1", linestyle="--", linewidth=1, label="G at equilibrium (log 2)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss (nats)")
    ax.set_title(title)
    legend_below(fig, ax)
    return fig


def discriminator_outputs(history: list[dict[str, float]], title: str = "Discriminator outputs per epoch"
                          ) -> Figure:
    """Mean D(x) on real and D(G(z)) on generated images per epoch; the digit head's accuracy below when present."""
    epochs = [row["epoch"] for row in history]
    accuracy = "val_accuracy" in history[0]
    fig, axes = plt.subplots(2 if accuracy else 1, 1, figsize=(7, 7.4 if accuracy else 4.2), constrained_layout=True,
                             squeeze=False, sharex=True)
    ax = axes[0, 0]
    ax.plot(epochs, [row["d_real"] for row in history], label="D(x), real images", marker="o", markersize=3)
    ax.plot(epochs, [row["d_fake"] for row in history], label="D(G(z)), generated images", marker="s", markersize=3)
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=1, label="equilibrium (1/2)")
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean probability of 'real'")
    ax.set_title(title)
    if accuracy:
        ax = axes[1, 0]
        ax.plot(epochs, [row["train_accuracy"] for row in history], label="digit head, training batches",
                marker="^", markersize=3, color="C2")
        ax.plot(epochs, [row["val_accuracy"] for row in history], label="digit head, validation images",
                marker="v", markersize=3, color="C3")
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title("Digit head accuracy on real images")
    axes[-1, 0].set_xlabel("epoch")
    legend_below(fig, *axes[:, 0])
    return fig


def progress_grid(images: torch.Tensor | np.ndarray, epochs: Sequence[int], max_rows: int = 12,
                  title: str = "Fixed-noise samples during training") -> Figure:
    """One row per snapshot epoch (images shaped (snapshots, n, 784) in [0, 1]), at most max_rows, evenly picked."""
    images = to_numpy(images)
    keep = np.unique(np.linspace(0, len(epochs) - 1, min(max_rows, len(epochs))).round().astype(int))
    return image_grid(images[keep].reshape(-1, 784), len(keep), images.shape[1], title,
                      row_labels=[f"epoch {epochs[i]}" for i in keep], cell_inches=0.6)


def kl_per_dimension(kl: Sequence[float], activity: Sequence[float], threshold: float,
                     title: str = "KL per latent dimension") -> Figure:
    """Mean KL(q(z_d|x) || N(0, 1)) of each latent dimension as bars, active units (activity > threshold) dark."""
    dims = np.arange(1, len(kl) + 1)
    active = np.asarray(activity) > threshold
    fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)  # one width for every latent size: one text size
    ax.bar(dims[active], np.asarray(kl)[active], color="C0", label=f"active (variance of mean > {threshold:g})")
    ax.bar(dims[~active], np.asarray(kl)[~active], color="C7", label="inactive")
    ax.set_xticks(dims)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("mean KL (nats)")
    ax.set_title(title)
    legend_below(fig, ax)
    return fig


def reconstructions(originals: torch.Tensor | np.ndarray, decoded: torch.Tensor | np.ndarray, per_row: int = 10,
                    title: str = "Test digits and their reconstructions") -> Figure:
    """Rows of inputs, each followed by a row of their reconstructions (both (n, 784) in [0, 1])."""
    originals, decoded = to_numpy(originals), to_numpy(decoded)
    rows = len(originals) // per_row
    pairs = np.stack([originals[:rows * per_row].reshape(rows, per_row, 784),
                      decoded[:rows * per_row].reshape(rows, per_row, 784)], axis=1)
    return image_grid(pairs.reshape(-1, 784), 2 * rows, per_row, title,
                      row_labels=["input", "reconstruction"] * rows)


def digit_distribution(distribution: Sequence[float], title: str = "Predicted digits of the samples") -> Figure:
    """The fraction of samples the classifier calls each digit, with the uniform tenth dashed."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
    ax.bar(range(len(distribution)), distribution, color=DIGIT_COLORS[:len(distribution)])
    ax.axhline(1 / len(distribution), color="gray", linestyle="--", linewidth=1, label="uniform")
    ax.set_xticks(range(len(distribution)))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("fraction of samples")
    ax.set_title(title)
    legend_below(fig, ax)
    return fig


def monitor_curves(history: list[dict[str, float]], title: str = "Sample quality over training") -> Figure:
    """Digits covered and digit entropy (top) and the Frechet distance (bottom) of the monitored epochs."""
    rows = [row for row in history if "monitor_digits_covered" in row]
    epochs = [row["epoch"] for row in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.4), constrained_layout=True, sharex=True)
    top.plot(epochs, [row["monitor_digits_covered"] for row in rows], marker="o", markersize=3,
             label="digits covered")
    top.plot(epochs, [np.exp(row["monitor_digit_entropy"]) for row in rows], marker="s", markersize=3,
             label="exp(entropy): effective digits")
    top.set_ylim(0, 10.5)
    top.set_ylabel("digits")
    top.set_title(title)
    bottom.plot(epochs, [row["monitor_frechet_distance"] for row in rows], marker="o", markersize=3, color="C2",
                label="classifier Fréchet distance to validation (lower is better)")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_xlabel("epoch")
    bottom.set_ylabel("Fréchet distance")
    legend_below(fig, top, bottom)
    return fig


def best_and_final(best: torch.Tensor | np.ndarray, final: torch.Tensor | np.ndarray, best_epoch: int,
                   final_epoch: int, rows: int = 10, cols: int = 10, title: str = "") -> Figure:
    """Two grids of samples from the same noise, each labelled with its epoch (images (n, 784) in [0, 1])."""
    fig, axes = plt.subplots(1, 2, figsize=(2 * cols * 0.45 + 1, rows * 0.45 + 0.9), constrained_layout=True)
    for ax, images, label in ((axes[0], best, f"epoch {best_epoch} (lowest Fréchet distance)"),
                              (axes[1], final, f"epoch {final_epoch} (final)")):
        ax.imshow(1.0 - tile(images, rows, cols), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig
