"""The notebooks' configurations: one pydantic model per notebook, whose defaults are the writeup's settings
(helpers.config.registry names each notebook's)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from helpers.config.base import (
    ACTIVE_UNIT_VARIANCE,
    MAX_LEARNING_RATE,
    MONITOR_SAMPLES,
    TEST_SIZE,
    Config,
    Count,
    Finite,
    Positive,
    Precision,
    Rate,
    Role,
    RunConfig,
)
from helpers.config.folders import Kind, Needs, fewest_epochs, finished_runs, needs_of, run_of_kind, scored_runs

SCORING_CLASSIFIER = Needs(Kind.CLASSIFIER, "(notebooks/classifier.ipynb)")


class VAEConfig(RunConfig):
    """The VAE experiment (notebooks/vae.ipynb): the writeup's settings are the defaults."""

    epochs: Annotated[Positive, Role.LENGTH] = 200
    latent_dim: Positive = 2
    activation: Literal["relu", "leaky_relu", "tanh", "elu", "softplus"] = "relu"
    grid_limit: Annotated[Finite, Role.EVALUATION] = 2.0
    nll_samples: Annotated[Positive, Role.EVALUATION] = 5000  # K of the test-set IS-NLL (Burda et al.'s 5000)
    nll_images: Annotated[Count, Role.EVALUATION] = 0  # test images for the IS-NLL (0: all 10,000)
    # the IS-NLL decoder's matrix products ('auto': bf16 where native; it agrees with fp32 within 0.05 nats per
    # image on the same draws, bench/results.json "likelihood"); densities and sums stay float32
    nll_precision: Annotated[Precision, Role.EVALUATION] = "auto"
    # a finished classifier run: scores 10,000 prior samples (empty: no scores)
    classifier_dir: Annotated[str, Role.EVALUATION, SCORING_CLASSIFIER] = ""
    output_dir: Annotated[str, Role.PATH] = "outputs/vae"

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim", "latent_dim")
    # bf16 where native, for speed; bf16 against fp32 at the writeup's length (three seeds each, margins declared
    # after those runs: provisional) is in bench/results.json, "precision_comparison", and docs/speed.md
    precision: Annotated[Precision, Role.NUMERICS] = "auto"

    def weight_count(self) -> int:
        """Encoder 784-h-h-2z and decoder z-h-h-784."""
        h, z = self.hidden_dim, self.latent_dim
        return 2 * 784 * h + 2 * h * h + 3 * h * z

    def activation_count(self) -> int:
        """Per image: two hidden layers each way (and their activations), the code and the logits."""
        return self.batch_size * (8 * self.hidden_dim + 3 * self.latent_dim + 2 * 784)

    @field_validator("nll_images")
    @classmethod
    def _within_the_test_split(cls, nll_images: int) -> int:
        """Refuse more test images than the split holds (0 means all of them)."""
        if nll_images > TEST_SIZE:
            raise ValueError(f"nll_images must be <= {TEST_SIZE} (the test split's images; 0 means all of them), "
                             f"got {nll_images}")
        return nll_images


class GANConfig(RunConfig):
    """The GAN experiments (notebooks/gan.ipynb): plain by default, the writeup's settings otherwise."""

    epochs: Annotated[Positive, Role.LENGTH] = 300
    hidden_dim: Positive = 256
    learning_rate: Rate = 5e-4
    adam_beta1: Annotated[float, Field(ge=0, lt=1)] = 0.5  # not in the writeup; PyTorch's 0.9 collapsed our runs
    noise_dim: Positive = 64
    d_steps: Positive = 1
    disc_learning_rate: Annotated[float, Field(ge=0, le=MAX_LEARNING_RATE)] = 0.0  # D's own step (0: learning_rate)
    sample_every: Annotated[Positive, Role.EVALUATION] = 2
    # a finished classifier run: score samples during and after training (empty: none)
    classifier_dir: Annotated[str, Role.EVALUATION, SCORING_CLASSIFIER] = ""
    # with a classifier: score the fixed sample batch every this many epochs
    score_every: Annotated[Positive, Role.EVALUATION] = 5
    score_samples: Annotated[Positive, Role.EVALUATION] = MONITOR_SAMPLES  # with a classifier: images in that batch
    auxiliary: bool = False  # the discriminator also names the digit (a second, 10-way output)
    conditional: bool = False  # the generator is told which digit to draw (needs auxiliary)
    output_dir: Annotated[str, Role.PATH] = "outputs/gan"
    # bf16 where native, for speed; bf16 against fp32 at the writeup's length (three seeds each, margins declared
    # after those runs: provisional) is in bench/results.json, "precision_comparison", and docs/speed.md
    precision: Annotated[Precision, Role.NUMERICS] = "auto"

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim", "noise_dim")

    def weight_count(self) -> int:
        """Generator (z+10)-h-h-784 and discriminator 784-h-h-(1+10)."""
        h = self.hidden_dim
        return 2 * 784 * h + 2 * h * h + h * (self.noise_dim + 21)

    def activation_count(self) -> int:
        """Per step: a real and a generated batch through both networks."""
        return 2 * self.batch_size * (8 * self.hidden_dim + self.noise_dim + 2 * 784)

    @model_validator(mode="after")
    def _conditional_needs_auxiliary(self) -> GANConfig:
        """Refuse a generator told digits without the digit head that teaches it them."""
        if self.conditional and not self.auxiliary:
            raise ValueError("conditional=True needs auxiliary=True: the digit head is what teaches the generator "
                             "its labels (both True is the AC-GAN)")
        return self

    @property
    def variant(self) -> str:
        """The variant's name in titles: GAN, auxiliary GAN or AC-GAN."""
        return variant_name(self.to_dict())


def variant_name(params: dict[str, Any]) -> str:
    """A GAN run's name by what it is: AC-GAN (conditional), auxiliary GAN (a digit head only) or GAN."""
    return "AC-GAN" if params.get("conditional") else "auxiliary GAN" if params.get("auxiliary") else "GAN"


class ExploreConfig(Config):
    """The exploration notebook: trained run folders to load; an empty one means a small model trained here."""

    vae_z2_dir: Annotated[str, Role.EVALUATION, Needs(Kind.VAE, "with latent_dim 2", (("latent_dim", 2),))] = ""
    vae_z20_dir: Annotated[str, Role.EVALUATION, Needs(Kind.VAE)] = ""
    gan_dir: Annotated[str, Role.EVALUATION, Needs(Kind.GAN, "without the digit head (auxiliary=False)",
                                                   (("auxiliary", False),))] = ""
    aux_gan_dir: Annotated[str, Role.EVALUATION, Needs(Kind.GAN, "with the digit head (auxiliary=True)",
                                                       (("auxiliary", True),))] = ""
    epochs: Annotated[Positive, Role.LENGTH] = 1
    train_size: Count = 2000
    output_dir: Annotated[str, Role.PATH] = "outputs/explore"

    run_dirs: ClassVar[tuple[str, ...]] = ("vae_z2_dir", "vae_z20_dir", "gan_dir", "aux_gan_dir")

    @field_validator(*run_dirs)
    @classmethod
    def _finished_run(cls, folder: str, info: ValidationInfo) -> str:
        """Refuse a folder that is not a finished run of the kind the slot needs (empty: train one here)."""
        return run_of_kind(folder, info, needs_of(cls, info.field_name))


class ClassifierConfig(RunConfig):
    """The MNIST classifier that scores generated samples (helpers.models.classifier): a small CNN trained with Adam."""

    epochs: Annotated[Positive, Role.LENGTH] = 3
    batch_size: Positive = 64
    hidden_dim: Positive = 128  # units of the penultimate layer (the Frechet distance's features)
    learning_rate: Rate = 2e-3  # Adam's first step size, halved after every epoch
    channels: Positive = 32  # channels of the first convolution (the second has twice as many)
    output_dir: Annotated[str, Role.PATH] = "outputs/classifier"

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim", "channels")

    def weight_count(self) -> int:
        """Two 3x3 convolutions (c, 2c channels), the features layer and the 10-way output."""
        c, h = self.channels, self.hidden_dim
        return 9 * c + 18 * c * c + 98 * c * h + 10 * h

    def activation_count(self) -> int:
        """Per image: the two feature maps (before and after pooling), the features, the output."""
        return self.batch_size * (4 * 784 * self.channels + 2 * self.hidden_dim + 10)


class StudyConfig(Config):
    """The study notebook: the sweep's run folders and the active-unit threshold."""

    sweep_dirs: Annotated[str, Role.EVALUATION, Needs(Kind.VAE)] = ""
    active_threshold: Annotated[Finite, Role.EVALUATION] = ACTIVE_UNIT_VARIANCE
    device: Annotated[str, Role.NUMERICS] = "cpu"
    output_dir: Annotated[str, Role.PATH] = "outputs/study"

    @field_validator("sweep_dirs")
    @classmethod
    def _finished_runs(cls, sweep_dirs: str, info: ValidationInfo) -> str:
        """Refuse a value that names no folder, or a folder without a finished VAE run."""
        return finished_runs(sweep_dirs, info, needs_of(cls, info.field_name))


class CollapseConfig(Config):
    """The collapse notebook: finished GAN run folders to compare, and the epoch to compare them at."""

    run_dirs: Annotated[str, Role.EVALUATION, Needs(Kind.GAN)] = ""
    at_epoch: Annotated[Count, Role.EVALUATION] = 0  # 0: the last epoch every run reached
    output_dir: Annotated[str, Role.PATH] = "outputs/collapse"

    @field_validator("run_dirs")
    @classmethod
    def _finished_runs(cls, run_dirs: str, info: ValidationInfo) -> str:
        """Refuse a value that names no folder, or a folder without a finished GAN run scored while it trained."""
        return scored_runs(finished_runs(run_dirs, info, needs_of(cls, info.field_name)), info)

    @model_validator(mode="after")
    def _an_epoch_every_run_reached(self) -> CollapseConfig:
        """Refuse an at_epoch beyond the epochs of the shortest run (when the runs' epochs are known)."""
        reached = fewest_epochs(self.run_dirs)
        if self.at_epoch and reached is not None and self.at_epoch > reached:
            raise ValueError(f"at_epoch must be <= {reached} (the epochs of the shortest run in run_dirs; 0 means "
                             f"the last epoch every run reached), got {self.at_epoch}")
        return self
