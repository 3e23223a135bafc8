"""What every run configuration shares: the parameter roles, the one-line ParameterError, the base classes.

Each notebook declares its parameters in a cell tagged ``parameters`` (a test checks that the cell's names,
types and defaults equal its config's fields); papermill injects overrides after it. The next cell calls
``config = VAEConfig.from_namespace(globals())``, which refuses unknown names (papermill only warns about
them), accepts loosely typed ``-p``/``-r`` values ('5' for an int, 5 for a float, 'true' for a bool), and
checks every value, so a bad run stops at once with one line that names the parameter.
"""

from __future__ import annotations

import enum
import re
import types
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

from helpers.common.machine import available_memory
from helpers.common.names import did_you_mean
from helpers.config.folders import UPSTREAM, needs_of, run_of_kind, writable_folder

IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
TRAIN_SIZE = 50_000  # MNIST's and Fashion-MNIST's training split (the other 10,000 are the validation split)
TEST_SIZE = 10_000  # MNIST's and Fashion-MNIST's test split
SCORE_SAMPLES = 10_000  # samples per generator for IS and FD, as many as the real test set
MONITOR_SAMPLES = 1_000  # samples the GAN's monitor scores every few epochs (its FD is biased up by the smaller n)
MAX_LEARNING_RATE = 10.0  # above this no optimizer here trains: a typo, not a setting
ACTIVE_UNIT_VARIANCE = 0.01  # a latent unit is active when its posterior mean varies more than this across images
Positive = Annotated[int, Field(gt=0)]
Count = Annotated[int, Field(ge=0)]  # 0 has a meaning: "all images" for train_size
Seed = Annotated[int, Field(ge=0, lt=2**64)]  # torch's generators take 64-bit seeds
Rate = Annotated[float, Field(gt=0, le=MAX_LEARNING_RATE, allow_inf_nan=False)]
Finite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Precision = Literal["fp32", "bf16", "auto"]  # of the matrix products ('auto': bf16 where the hardware has it)
BOUNDS = {"greater than": ">", "greater than or equal to": ">=", "less than": "<", "less than or equal to": "<="}


class Role(enum.StrEnum):
    """What a parameter is to a run, declared once on its field (a field without one is a SETTING)."""

    SETTING = "setting"  # what is trained: in a checkpoint's fingerprint, and what the collapse study names
    SEED = "seed"  # which draw of it: in the fingerprint, shown apart from the settings
    NUMERICS = "numerics"  # where and how precisely the numbers are computed: in the fingerprint, not a setting
    LENGTH = "length"  # how long: a checkpoint of fewer epochs resumes
    EVALUATION = "evaluation"  # what is measured or drawn beside or after training
    PLUMBING = "plumbing"  # how a run is carried out: resume, threads
    PATH = "path"  # where it reads and writes: left out of the report's parameter tables


class ParameterError(ValueError):
    """A run parameter has a value the experiment cannot use."""


class Config(BaseModel):
    """What every notebook's parameters share: the checks, the data, the device and the output folder."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    epochs: Annotated[Positive, Role.LENGTH] = 1
    train_size: Count = 0
    seed: Annotated[Seed, Role.SEED] = 0
    device: Annotated[str, Role.NUMERICS] = "auto"
    dataset: Literal["mnist", "fashion-mnist"] = "mnist"
    data_dir: Annotated[str, Role.PATH] = ""
    output_dir: Annotated[str, Role.PATH] = "outputs/run"

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
    def with_role(cls, *roles: Role) -> set[str]:
        """The names of the parameters whose role is one of roles."""
        return {name for name, field in cls.model_fields.items() if role_of(field) in roles}

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
    resume: Annotated[bool, Role.PLUMBING] = True
    # torch CPU threads: these small MLPs run fastest on one (above all on a busy machine)
    cpu_threads: Annotated[Positive, Role.PLUMBING] = 1
    # matrix products (auto: bf16 where the hardware has it)
    precision: Annotated[Precision, Role.NUMERICS] = "fp32"

    size_fields: ClassVar[tuple[str, ...]] = ("batch_size", "hidden_dim")

    def weight_count(self) -> int:
        """How many numbers the models' weights hold (an estimate from the sizes)."""
        return 0

    def activation_count(self) -> int:
        """How many numbers one batch's forward pass keeps for the backward pass (an estimate)."""
        return 0

    @field_validator("classifier_dir", check_fields=False)
    @classmethod
    def _finished_classifier(cls, folder: str, info: ValidationInfo) -> str:
        """Refuse a folder that is not a finished classifier run (empty means: no scores); for the runs that have
        a classifier_dir (the VAE's and the GAN's)."""
        return run_of_kind(folder, info, needs_of(cls, info.field_name))

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


def role_of(field: FieldInfo) -> Role:
    """A field's declared role (SETTING when it declares none)."""
    return next((item for item in field.metadata if isinstance(item, Role)), Role.SETTING)


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
    hints = [f"{u!r}{did_you_mean(u, allowed, ' (did you mean {!r}?)')}" for u in unknown]
    return f"unknown parameter {', '.join(hints)}; allowed: {', '.join(allowed)}"


def is_parameter_like(name: str, value: Any) -> bool:
    """Whether a notebook global looks like a parameter (a plain value, not a module or IPython's own)."""
    if name.startswith("_") or name in IPYTHON_NAMES:
        return False
    return not isinstance(value, (types.ModuleType, types.FunctionType, type))


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
