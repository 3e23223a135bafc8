"""Run configurations as dataclasses, and the checks every notebook applies to its parameters.

Each notebook declares its parameters in a cell tagged ``parameters``; papermill injects overrides
after it. The next cell calls ``config = VAEConfig.from_namespace(globals())``, which refuses unknown
names (papermill only warns about them), coerces loosely typed ``-p``/``-r`` values to the declared
types, and checks every value, so a bad run stops at once with one line that names the parameter.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

DATASETS = ("mnist", "fashion-mnist")
PRECISIONS = ("fp32", "bf16", "auto")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu", "softplus")
IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


class ParameterError(ValueError):
    """A run parameter has a value the experiment cannot use."""


@dataclass
class RunConfig:
    """Parameters shared by every experiment."""

    epochs: int = 10
    batch_size: int = 100
    hidden_dim: int = 500
    learning_rate: float = 0.01
    seed: int = 0
    device: str = "auto"
    dataset: str = "mnist"
    data_dir: str = ""
    train_size: int = 0
    output_dir: str = "outputs/run"
    resume: bool = True
    cpu_threads: int = 1  # torch CPU threads: these small MLPs run fastest on one (many times so on a busy machine)
    precision: str = "fp32"  # matrix products in fp32, bf16, or auto (bf16 where the hardware has native bf16)

    positive: ClassVar[tuple[str, ...]] = ("epochs", "batch_size", "hidden_dim", "learning_rate", "cpu_threads")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, coerce(f.name, getattr(self, f.name), self.field_type(f.name)))
        self.check()

    @classmethod
    def field_type(cls, name: str) -> type:
        """The declared type of one field, resolved from its annotation."""
        return typing.get_type_hints(cls)[name]

    def check(self) -> None:
        """Raise ParameterError on the first value that is out of range."""
        for name in self.positive:
            if getattr(self, name) <= 0:
                raise ParameterError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.seed < 0:
            raise ParameterError(f"seed must be >= 0, got {self.seed!r}")
        if self.train_size < 0:
            raise ParameterError(f"train_size must be >= 0 (0 = all 50,000 images), got {self.train_size!r}")
        choose("dataset", self.dataset, DATASETS)
        choose("precision", self.precision, PRECISIONS)
        check_device(self.device)

    @classmethod
    def from_namespace(cls, namespace: dict[str, Any]) -> RunConfig:
        """Build a config from a notebook's globals, refusing names that are not parameters."""
        names = {f.name for f in dataclasses.fields(cls)}
        given = {k: v for k, v in namespace.items() if is_parameter_like(k, v)}
        unknown = sorted(set(given) - names)
        if unknown:
            hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, names, 1)) else repr(u)
                     for u in unknown]
            raise ParameterError(f"unknown parameter {', '.join(hints)}; allowed: {', '.join(sorted(names))}")
        return cls(**{k: v for k, v in given.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON-ready values."""
        return dataclasses.asdict(self)

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


@dataclass
class VAEConfig(RunConfig):
    """The VAE experiment: the writeup's settings are the defaults."""

    epochs: int = 200
    latent_dim: int = 2
    activation: str = "relu"
    grid_limit: float = 2.0

    positive: ClassVar[tuple[str, ...]] = RunConfig.positive + ("latent_dim", "grid_limit")

    def check(self) -> None:
        """Raise ParameterError on the first value that is out of range."""
        super().check()
        choose("activation", self.activation, ACTIVATIONS)


@dataclass
class GANConfig(RunConfig):
    """The plain GAN: the writeup's settings are the defaults (quick runs pass fewer epochs)."""

    epochs: int = 300
    hidden_dim: int = 256
    learning_rate: float = 5e-4
    adam_beta1: float = 0.5  # the writeup does not say; with PyTorch's 0.9 our quick runs collapsed to one blob
    noise_dim: int = 64
    d_steps: int = 1
    sample_every: int = 10

    auxiliary: ClassVar[bool] = False  # the discriminator has no digit head
    conditional: ClassVar[bool] = False  # the generator takes no digit label
    positive: ClassVar[tuple[str, ...]] = RunConfig.positive + ("noise_dim", "d_steps", "sample_every")

    def check(self) -> None:
        """Raise ParameterError on the first value that is out of range."""
        super().check()
        if not 0 <= self.adam_beta1 < 1:
            raise ParameterError(f"adam_beta1 must be in [0, 1), got {self.adam_beta1!r}")

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON-ready values, with the variant (auxiliary, conditional) spelled out."""
        return super().to_dict() | {"auxiliary": self.auxiliary, "conditional": self.conditional}


@dataclass
class AuxGANConfig(GANConfig):
    """The auxiliary-classifier GAN: a digit head on the discriminator; conditional=False is the writeup's reading."""

    auxiliary: ClassVar[bool] = True
    conditional: bool = True


@dataclass
class ExploreConfig(RunConfig):
    """The exploration notebook: trained run folders to load; an empty one means a small model trained here."""

    vae_z2_dir: str = ""
    vae_z20_dir: str = ""
    gan_dir: str = ""
    aux_gan_dir: str = ""
    epochs: int = 1
    train_size: int = 2000
    output_dir: str = "outputs/explore"

    run_dirs: ClassVar[tuple[str, ...]] = ("vae_z2_dir", "vae_z20_dir", "gan_dir", "aux_gan_dir")

    def check(self) -> None:
        """Raise ParameterError on a bad value or a run folder without weights.pt and metrics.json."""
        super().check()
        for name in self.run_dirs:
            folder = getattr(self, name)
            missing = [f for f in ("weights.pt", "metrics.json") if folder and not (Path(folder) / f).exists()]
            if missing:
                raise ParameterError(f"{name}={folder!r} is not a finished run folder: {', '.join(missing)} missing")


def is_parameter_like(name: str, value: Any) -> bool:
    """Whether a notebook global looks like a parameter (a plain value, not a module or IPython's own)."""
    if name.startswith("_") or name in IPYTHON_NAMES:
        return False
    return not isinstance(value, (types.ModuleType, types.FunctionType, type))


def coerce(name: str, value: Any, kind: type) -> Any:
    """Convert a loosely typed parameter value (papermill's -p/-r give strings and ints) to its type."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is str:
        if isinstance(value, (str, Path)):
            return str(value)
        if value is None:
            return ""
    raise ParameterError(f"{name} must be {kind.__name__}, got {value!r}")


def choose(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise ParameterError unless value is one of allowed."""
    if value not in allowed:
        raise ParameterError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


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


__all__ = ["ParameterError", "RunConfig", "VAEConfig", "GANConfig", "ExploreConfig", "AuxGANConfig", "resolve_device"]


@dataclass
class ClassifierConfig(RunConfig):
    """The MNIST classifier that scores generated samples (helpers.classifier): a small CNN trained with Adam."""

    epochs: int = 3
    batch_size: int = 64
    hidden_dim: int = 128  # units of the penultimate layer (the Frechet distance's features)
    learning_rate: float = 2e-3  # Adam's first step size, halved after every epoch
    channels: int = 32  # channels of the first convolution (the second has twice as many)
    output_dir: str = "outputs/classifier"

    positive: ClassVar[tuple[str, ...]] = RunConfig.positive + ("channels",)


__all__ += ["ClassifierConfig"]
