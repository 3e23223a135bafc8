"""Run configurations as pydantic models: the one place each notebook's parameters, types and defaults live.

Each notebook declares its parameters in a cell tagged ``parameters`` (a test checks that the cell's names,
types and defaults equal its config's fields); papermill injects overrides after it. The next cell calls
``config = VAEConfig.from_namespace(globals())``, which refuses unknown names (papermill only warns about
them), accepts loosely typed ``-p``/``-r`` values ('5' for an int, 5 for a float, 'true' for a bool), and
checks every value, so a bad run stops at once with one line that names the parameter.
"""

from __future__ import annotations

import difflib
import re
import types
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .runfiles import METRICS, WEIGHTS

IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
Positive = Annotated[int, Field(gt=0)]
Count = Annotated[int, Field(ge=0)]  # 0 has a meaning: a seed, or "all images" for train_size
Rate = Annotated[float, Field(gt=0)]
BOUNDS = {"greater than": ">", "greater than or equal to": ">=", "less than": "<", "less than or equal to": "<="}


class ParameterError(ValueError):
    """A run parameter has a value the experiment cannot use."""


class Config(BaseModel):
    """What every notebook's parameters share: the checks, the data, the device and the output folder."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    epochs: Positive = 1
    train_size: Count = 0
    seed: Count = 0
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


class VAEConfig(RunConfig):
    """The VAE experiment (notebooks/vae.ipynb): the writeup's settings are the defaults."""

    epochs: Positive = 200
    latent_dim: Positive = 2
    activation: Literal["relu", "leaky_relu", "tanh", "elu", "softplus"] = "relu"
    grid_limit: Annotated[float, Field(gt=0)] = 2.0
    nll_samples: Positive = 5000  # K of the test-set IS-NLL (Burda et al.'s 5000)
    nll_images: Count = 0  # test images for the IS-NLL (0: all 10,000)
    classifier_dir: str = ""  # a finished classifier run: scores 10,000 prior samples (empty: no scores)
    output_dir: str = "outputs/vae"

    @field_validator("classifier_dir")
    @classmethod
    def _finished_classifier(cls, folder: str) -> str:
        """Refuse a classifier folder without its weights and metrics (empty means: no scores)."""
        return finished_run_folder(folder, "classifier_dir")


class GANConfig(RunConfig):
    """The GAN experiments (notebooks/gan.ipynb): plain by default, the writeup's settings otherwise."""

    epochs: Positive = 300
    hidden_dim: Positive = 256
    learning_rate: Rate = 5e-4
    adam_beta1: Annotated[float, Field(ge=0, lt=1)] = 0.5  # not in the writeup; PyTorch's 0.9 collapsed our runs
    noise_dim: Positive = 64
    d_steps: Positive = 1
    sample_every: Positive = 2
    classifier_dir: str = ""  # a finished classifier run: score samples during and after training (empty: none)
    score_every: Positive = 5  # with a classifier: score the fixed sample batch every this many epochs
    score_samples: Positive = 1000  # with a classifier: images in that fixed batch
    auxiliary: bool = False  # the discriminator also names the digit (a second, 10-way output)
    conditional: bool = False  # the generator is told which digit to draw (needs auxiliary)
    output_dir: str = "outputs/gan"

    @field_validator("classifier_dir")
    @classmethod
    def _finished_classifier(cls, folder: str) -> str:
        """Refuse a classifier folder without its weights and metrics (empty means: no scores)."""
        return finished_run_folder(folder, "classifier_dir")

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


class AuxGANConfig(GANConfig):
    """The aux_gan run's variant, the conditional AC-GAN, for Python callers (the notebook passes both flags)."""

    auxiliary: bool = True
    conditional: bool = True


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
        """Refuse a run folder without its weights and metrics (empty means: train a small model here)."""
        return finished_run_folder(folder, info.field_name)


def finished_run_folder(folder: str, name: str) -> str:
    """folder itself when empty or holding a finished run's weights and metrics; else ValueError naming it."""
    missing = [f for f in (WEIGHTS, METRICS) if folder and not (Path(folder) / f).exists()]
    if missing:
        raise ValueError(f"{name}={folder!r} is not a finished run folder: {', '.join(missing)} missing")
    return folder


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


def check_device(device: str) -> None:
    """Raise ParameterError unless device is 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."""
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


__all__ = ["ParameterError", "Config", "RunConfig", "VAEConfig", "GANConfig", "AuxGANConfig", "ExploreConfig",
           "ClassifierConfig", "check_device", "resolve_device"]
