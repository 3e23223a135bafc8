"""Run configurations as pydantic models: the one place each notebook's parameters, types and defaults live.

Each notebook declares its parameters in a cell tagged ``parameters`` (a test checks that the cell's names,
types and defaults equal its config's fields); papermill injects overrides after it. The next cell calls
``config = VAEConfig.from_namespace(globals())``, which refuses unknown names (papermill only warns about
them), accepts loosely typed ``-p``/``-r`` values ('5' for an int, 5 for a float, 'true' for a bool), and
checks every value, so a bad run stops at once with one line that names the parameter.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .runfolders import UPSTREAM, fewest_epochs, finished_runs, run_of_kind, scored_runs, writable_folder

IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
TRAIN_SIZE = 50_000  # MNIST's and Fashion-MNIST's training split (the other 10,000 are the validation split)
TEST_SIZE = 10_000  # MNIST's and Fashion-MNIST's test split
MAX_LEARNING_RATE = 10.0  # above this no optimizer here trains: a typo, not a setting
ACTIVE_UNIT_VARIANCE = 0.01  # a latent unit is active when its posterior mean varies more than this across images
Positive = Annotated[int, Field(gt=0)]
Count = Annotated[int, Field(ge=0)]  # 0 has a meaning: "all images" for train_size
Seed = Annotated[int, Field(ge=0, lt=2**64)]  # torch's generators take 64-bit seeds
Rate = Annotated[float, Field(gt=0, le=MAX_LEARNING_RATE, allow_inf_nan=False)]
Finite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
BOUNDS = {"greater than": ">", "greater than or equal to": ">=", "less than": "<", "less than or equal to": "<="}


class ParameterError(ValueError):
    """A run parameter has a value the experiment cannot use."""


class Config(BaseModel):
    """What every notebook's parameters share: the checks, the data, the device and the output folder."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    epochs: Positive = 1
    train_size: Count = 0
    seed: Seed = 0
    device: str = "auto"
    dataset: Literal["mnist", "fashion-mnist"] = "mnist"
    data_dir: str = ""
    output_dir: str = "outputs/run"

    def __init__(self, **values: Any) -> None:
        """Check values; any problem becomes one ParameterError line naming the parameter."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ParameterError(one_line(exc, sorted(type(self).model_fields))) from None

    @field_validator("train_size")
    @classmethod
    def _within_the_split(cls, train_size: int) -> int:
        """Refuse more training images than the split holds (0 means all of them)."""
        if train_size > TRAIN_SIZE:
            raise ValueError(f"train_size must be <= {TRAIN_SIZE} (the training split's images; 0 means all of "
                             f"them), got {train_size}")
        return train_size

    @field_validator("output_dir")
    @classmethod
    def _writable(cls, output_dir: str, info: ValidationInfo) -> str:
        """Refuse an output folder that cannot be made, or written in, by this process."""
        return writable_folder(output_dir, info)

    @field_validator("device")
    @classmethod
    def _known_device(cls, device: str) -> str:
        """Refuse a device torch cannot name or this machine does not have."""
        check_device(device)
        return device

    @classmethod
    def from_namespace(cls, namespace: dict[str, Any]) -> Config:
        """Build a config from a notebook's globals, refusing names that are not parameters."""
        return cls(**{k: v for k, v in namespace.items() if is_parameter_like(k, v)})

    @classmethod
    def check(cls, values: dict[str, Any], upstream: dict[str, dict[str, Any] | None] | None = None) -> Config:
        """Validate as the notebook will, before it runs: folders still to be made are judged by upstream.

        upstream maps a parameter whose value names a run-layer placeholder to that run's parameters (None
        when they are not known), so a run folder that does not exist yet is checked by what will be in it.
        """
        token = UPSTREAM.set(upstream or {})  # pydantic passes no validation context through a custom __init__
        try:
            return cls(**values)
        finally:
            UPSTREAM.reset(token)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON-ready values."""
        return self.model_dump()

    @property
    def torch_device(self) -> torch.device:  # noqa: F821
        """The device to train on ('auto' resolved)."""
        return resolve_device(self.device)

    @property
    def output_path(self) -> Path:
        """The output folder, created on first use."""
        path = Path(self.output_dir).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path


class RunConfig(Config):
    """Parameters shared by every training experiment."""

    batch_size: Positive = 100
    hidden_dim: Positive = 500
    learning_rate: Rate = 0.01
    resume: bool = True
    cpu_threads: Positive = 1  # torch CPU threads: these small MLPs run fastest on one (above all on a busy machine)
    precision: Literal["fp32", "bf16", "auto"] = "fp32"  # matrix products (auto: bf16 where the hardware has it)

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim")

    def weight_count(self) -> int:
        """How many numbers the models' weights hold (an estimate from the sizes)."""
        return 0

    def activation_count(self) -> int:
        """How many numbers one batch's forward pass keeps for the backward pass (an estimate)."""
        return 0

    @model_validator(mode="after")
    def _fits_in_memory(self) -> RunConfig:
        """Refuse sizes whose models cannot fit in this machine's memory, naming the parameter to lower."""
        # weights, gradients, two optimizer moments; activations kept and their gradients; 4 bytes each
        asked = 4 * (4 * self.weight_count() + 2 * self.activation_count())
        available = available_memory()
        if available and asked > available:
            defaults = type(self).model_fields
            biggest = max(self.size_fields, key=lambda name: getattr(self, name) / defaults[name].default)
            sizes = ", ".join(f"{name}={getattr(self, name)}" for name in self.size_fields)
            raise ValueError(f"{biggest}={getattr(self, biggest)} is too large: {sizes} ask for about "
                             f"{gib(asked)} of memory (weights, gradients, optimizer state, one batch), but "
                             f"{gib(available)} is available here; lower {biggest}")
        return self


class VAEConfig(RunConfig):
    """The VAE experiment (notebooks/vae.ipynb): the writeup's settings are the defaults."""

    epochs: Positive = 200
    latent_dim: Positive = 2
    activation: Literal["relu", "leaky_relu", "tanh", "elu", "softplus"] = "relu"
    grid_limit: Finite = 2.0
    nll_samples: Positive = 5000  # K of the test-set IS-NLL (Burda et al.'s 5000)
    nll_images: Count = 0  # test images for the IS-NLL (0: all 10,000)
    classifier_dir: str = ""  # a finished classifier run: scores 10,000 prior samples (empty: no scores)
    output_dir: str = "outputs/vae"

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim", "latent_dim")

    def weight_count(self) -> int:
        """Encoder 784-h-h-2z and decoder z-h-h-784."""
        h, z = self.hidden_dim, self.latent_dim
        return 2 * 784 * h + 2 * h * h + 3 * h * z

    def activation_count(self) -> int:
        """Per image: two hidden layers each way (and their activations), the code and the logits."""
        return self.batch_size * (8 * self.hidden_dim + 3 * self.latent_dim + 2 * 784)

    @field_validator("classifier_dir")
    @classmethod
    def _finished_classifier(cls, folder: str, info: ValidationInfo) -> str:
        """Refuse a folder that is not a finished classifier run (empty means: no scores)."""
        return run_of_kind(folder, info)

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

    epochs: Positive = 300
    hidden_dim: Positive = 256
    learning_rate: Rate = 5e-4
    adam_beta1: Annotated[float, Field(ge=0, lt=1)] = 0.5  # not in the writeup; PyTorch's 0.9 collapsed our runs
    noise_dim: Positive = 64
    d_steps: Positive = 1
    disc_learning_rate: Annotated[float, Field(ge=0, le=MAX_LEARNING_RATE)] = 0.0  # D's own step (0: learning_rate)
    sample_every: Positive = 2
    classifier_dir: str = ""  # a finished classifier run: score samples during and after training (empty: none)
    score_every: Positive = 5  # with a classifier: score the fixed sample batch every this many epochs
    score_samples: Positive = 1000  # with a classifier: images in that fixed batch
    auxiliary: bool = False  # the discriminator also names the digit (a second, 10-way output)
    conditional: bool = False  # the generator is told which digit to draw (needs auxiliary)
    output_dir: str = "outputs/gan"

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim", "noise_dim")

    def weight_count(self) -> int:
        """Generator (z+10)-h-h-784 and discriminator 784-h-h-(1+10)."""
        h = self.hidden_dim
        return 2 * 784 * h + 2 * h * h + h * (self.noise_dim + 21)

    def activation_count(self) -> int:
        """Per step: a real and a generated batch through both networks."""
        return 2 * self.batch_size * (8 * self.hidden_dim + self.noise_dim + 2 * 784)

    @field_validator("classifier_dir")
    @classmethod
    def _finished_classifier(cls, folder: str, info: ValidationInfo) -> str:
        """Refuse a folder that is not a finished classifier run (empty means: no scores)."""
        return run_of_kind(folder, info)

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
        return "AC-GAN" if self.conditional else "auxiliary GAN" if self.auxiliary else "GAN"


class ExploreConfig(Config):
    """The exploration notebook: trained run folders to load; an empty one means a small model trained here."""

    vae_z2_dir: str = ""
    vae_z20_dir: str = ""
    gan_dir: str = ""
    aux_gan_dir: str = ""
    epochs: Positive = 1
    train_size: Count = 2000
    output_dir: str = "outputs/explore"

    run_dirs: ClassVar[tuple[str, ...]] = ("vae_z2_dir", "vae_z20_dir", "gan_dir", "aux_gan_dir")

    @field_validator(*run_dirs)
    @classmethod
    def _finished_run(cls, folder: str, info: ValidationInfo) -> str:
        """Refuse a folder that is not a finished run of the kind the slot needs (empty: train one here)."""
        return run_of_kind(folder, info)


def one_line(error: ValidationError, allowed: list[str]) -> str:
    """Pydantic's errors as one line: unknown names with a did-you-mean hint, then each bad value and its input."""
    problems = error.errors()
    unknown = [str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden"]
    parts = [unknown_names(unknown, allowed)] if unknown else []
    for p in problems:
        if p["type"] == "value_error":  # our own validators word their message in full
            parts.append(str(p["ctx"]["error"]))
        elif p["type"] != "extra_forbidden":
            should = re.split(r", (?:got|unable)", p["msg"].removeprefix("Input should be "))[0]
            should = re.sub(r"(greater|less) than( or equal to)?", lambda m: BOUNDS[m.group(0)], should)
            parts.append(f"{'.'.join(map(str, p['loc']))} must be {should}, got {p['input']!r}")
    return "; ".join(parts)


def unknown_names(unknown: list[str], allowed: list[str]) -> str:
    """'unknown parameter 'x' (did you mean 'y'?); allowed: ...' for names that are not parameters."""
    hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, allowed, 1)) else repr(u)
             for u in unknown]
    return f"unknown parameter {', '.join(hints)}; allowed: {', '.join(allowed)}"


def is_parameter_like(name: str, value: Any) -> bool:
    """Whether a notebook global looks like a parameter (a plain value, not a module or IPython's own)."""
    if name.startswith("_") or name in IPYTHON_NAMES:
        return False
    return not isinstance(value, (types.ModuleType, types.FunctionType, type))


def available_memory() -> int:
    """Bytes of memory this machine can still give a process (MemAvailable), or 0 when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def gib(count: int) -> str:
    """Bytes in GiB, or TiB when over 10,000 GiB, for a message."""
    size = count / 2**30
    return f"{size / 1024:,.0f} TiB" if size > 10_000 else f"{size:,.1f} GiB"


def check_device(device: str) -> None:
    """Raise ParameterError unless device is 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."""
    if device in ("auto", "cpu"):  # always there; the run layer checks these without loading torch
        return
    import torch

    try:
        parsed = torch.device("cuda" if device == "auto" else device)
    except RuntimeError:
        raise ParameterError(f"device must be auto, cpu, cuda, cuda:N or mps; got {device!r}") from None
    if parsed.type not in ("cpu", "cuda", "mps"):
        raise ParameterError(f"device must be auto, cpu, cuda, cuda:N or mps; got {device!r}")
    if parsed.type == "cuda" and device != "auto" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} asked for, but CUDA is not available here; use cpu or auto")
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ParameterError(f"device {device!r} asked for, but Apple's MPS is not available here; use cpu or auto")


def resolve_device(device: str) -> torch.device:  # noqa: F821
    """The torch device a run trains on: 'auto' is CUDA when present, else the CPU."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class ClassifierConfig(RunConfig):
    """The MNIST classifier that scores generated samples (helpers.classifier): a small CNN trained with Adam."""

    epochs: Positive = 3
    batch_size: Positive = 64
    hidden_dim: Positive = 128  # units of the penultimate layer (the Frechet distance's features)
    learning_rate: Rate = 2e-3  # Adam's first step size, halved after every epoch
    channels: Positive = 32  # channels of the first convolution (the second has twice as many)
    output_dir: str = "outputs/classifier"

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

    sweep_dirs: str = ""
    active_threshold: Finite = ACTIVE_UNIT_VARIANCE
    device: str = "cpu"
    output_dir: str = "outputs/study"

    @field_validator("sweep_dirs")
    @classmethod
    def _finished_runs(cls, sweep_dirs: str, info: ValidationInfo) -> str:
        """Refuse a value that names no folder, or a folder without a finished VAE run."""
        return finished_runs(sweep_dirs, info)


class CollapseConfig(Config):
    """The collapse notebook: finished GAN run folders to compare, and the epoch to compare them at."""

    run_dirs: str = ""
    at_epoch: Count = 0  # 0: the last epoch every run reached
    output_dir: str = "outputs/collapse"

    @field_validator("run_dirs")
    @classmethod
    def _finished_runs(cls, run_dirs: str, info: ValidationInfo) -> str:
        """Refuse a value that names no folder, or a folder without a finished GAN run scored while it trained."""
        return scored_runs(finished_runs(run_dirs, info), info)

    @model_validator(mode="after")
    def _an_epoch_every_run_reached(self) -> CollapseConfig:
        """Refuse an at_epoch beyond the epochs of the shortest run (when the runs' epochs are known)."""
        reached = fewest_epochs(self.run_dirs)
        if self.at_epoch and reached is not None and self.at_epoch > reached:
            raise ValueError(f"at_epoch must be <= {reached} (the epochs of the shortest run in run_dirs; 0 means "
                             f"the last epoch every run reached), got {self.at_epoch}")
        return self


CONFIGS: dict[str, type[Config]] = {"vae": VAEConfig, "gan": GANConfig, "explore": ExploreConfig,
                                    "classifier": ClassifierConfig, "study": StudyConfig,
                                    "collapse": CollapseConfig}  # by notebook stem


__all__ = ["ParameterError", "Config", "RunConfig", "VAEConfig", "GANConfig", "ExploreConfig",
           "ClassifierConfig", "StudyConfig", "CollapseConfig", "CONFIGS", "check_device", "resolve_device"]
