"""The profile file's shape as pydantic models: unknown keys, a missing notebook or a file that is not a mapping
of runs are refused in one line naming the key (with a did-you-mean), before anything runs.

    name: quick                      # optional (default: the file's name)
    description: ...                 # optional
    runs:     {NAME: {notebook: notebooks/vae.ipynb, params: {...}, optional: false, after_training: [RUN]}}
              (after_training: needed runs it reads only after its training: it may start once they started;
               helpers.runs.profile checks that each is a run its params name)
    sweeps:   {NAME: {notebook: ..., params: {...}, grid: {PARAM: [values]}}}   (helpers.runs.sweeps)
              (or, instead of grid, points: [{PARAM: value, ...}, ...])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helpers.common.names import did_you_mean

WORDS = {"missing": "is missing", "dict_type": "must be a mapping (key: value lines)",
         "model_type": "must be a mapping (key: value lines)",
         "list_type": "must be a list of values", "string_type": "must be text", "bool_type": "must be true or false",
         "bool_parsing": "must be true or false"}


class Strict(BaseModel):
    """A part of the profile file: every key known."""

    model_config = ConfigDict(extra="forbid")


class RunEntry(Strict):
    """One run: its notebook, the parameters it changes, whether a missing notebook only skips it, and the
    needed runs it reads only after its training."""

    notebook: str
    params: dict[str, Any] | None = None
    optional: bool = False
    after_training: list[str] = []


class SweepEntry(Strict):
    """One sweep: a notebook, parameters shared by every point, and the grid of values or the listed points."""

    notebook: str
    params: dict[str, Any] | None = None
    grid: dict[str, Any] | None = None
    points: list[Any] | None = None

    @model_validator(mode="after")
    def _grid_or_points(self) -> SweepEntry:
        """Exactly one of a grid and listed points, each well formed (the problem worded after "sweep 'NAME'")."""
        if (self.grid is None) == (self.points is None):
            raise ValueError(" needs a notebook and either a grid of parameter: [values] or a list of points")
        problem = grid_problem(self.grid) if self.grid is not None else points_problem(self.points)
        if problem:
            raise ValueError(problem)
        return self


def grid_problem(grid: dict[str, Any]) -> str:
    """What is wrong with a grid, worded after "sweep 'NAME'" ('' when nothing is)."""
    if not grid:
        return ": the grid is empty"
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            return f": grid parameter {key!r} needs a non-empty list of values, got {values!r}"
        if len(set(map(repr, values))) < len(values):
            return f": grid parameter {key!r} repeats a value: {values!r}"
    return ""


def points_problem(points: list[Any]) -> str:
    """What is wrong with listed points, worded after "sweep 'NAME'" ('' when nothing is)."""
    if not points:
        return f": points needs a non-empty list of {{parameter: value}} mappings, got {points!r}"
    for point in points:
        if not isinstance(point, dict) or not point:
            return f": each point is a non-empty {{parameter: value}} mapping, got {point!r}"
    if len({repr(sorted(point.items())) for point in points}) < len(points):
        return f": two points are the same: {points!r}"
    return ""


class Comparison(Strict):
    """A question the profile's runs answer, declared before they run (helpers.report.stats): each group of runs
    in against (a sweep's name, or "param=value" over the sweeps' runs) set beside the reference group by one
    measure of the study's per-run rows."""

    measure: str
    reference: str
    against: list[str]


class ProfileFile(Strict):
    """The whole file."""

    name: str | None = None
    description: str = ""
    comparisons: dict[str, Comparison] = {}
    runs: dict[str, RunEntry] | None = Field(default=None)
    sweeps: dict[str, SweepEntry] | None = Field(default=None)


def read_profile_file(path: Path) -> ProfileFile:
    """The profile's content, checked; ValueError with one line naming the file and what is wrong."""
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValueError(f"profile {path.name} is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"profile {path.name} cannot be read: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"profile {path.name} must be a mapping with runs: (and name:, description:, sweeps:), "
                         f"got {type(spec).__name__ if spec is not None else 'an empty file'}")
    try:
        checked = ProfileFile.model_validate(spec)
    except ValidationError as exc:
        raise ValueError(f"profile {path.name}: {first_problem(exc)}") from None
    if not checked.runs and not checked.sweeps:
        raise ValueError(f"profile {path.name} has no runs: add runs: {{NAME: {{notebook: notebooks/vae.ipynb}}}}")
    return checked


def first_problem(error: ValidationError) -> str:
    """The first problem pydantic found, as 'runs.vae_z2: unknown key 'parmas' (did you mean 'params'?)'."""
    problem = sorted(error.errors(), key=lambda p: p["type"] != "extra_forbidden")[0]  # a typo explains the rest
    loc = [str(part) for part in problem["loc"]]
    if problem["type"] == "value_error" and loc[:1] == ["sweeps"]:  # a sweep's own check, worded after its name
        return f"sweep {loc[1]!r}{problem['ctx']['error']}"
    where, key = ".".join(loc[:-1]), loc[-1] if loc else ""
    model = model_at(loc[:-1])
    allowed = sorted(model.model_fields) if model else []
    if problem["type"] == "extra_forbidden":
        hint = did_you_mean(key, allowed, " (did you mean {!r}?)")
        return f"{where + ': ' if where else ''}unknown key {key!r}{hint}; allowed: {', '.join(allowed)}"
    words = WORDS.get(problem["type"], problem["msg"])
    if problem["type"] == "missing":
        return f"{'.'.join(loc)} {words}" + (" (e.g. notebook: notebooks/vae.ipynb)" if key == "notebook" else "")
    return f"{'.'.join(loc)} {words}, got {problem['input']!r}"


def model_at(loc: list[str]) -> type[Strict] | None:
    """The model that holds the key at loc ([] is the file, ['runs', NAME] a run, ['sweeps', NAME] a sweep)."""
    if not loc:
        return ProfileFile
    if len(loc) == 2 and loc[0] in ("runs", "sweeps"):
        return RunEntry if loc[0] == "runs" else SweepEntry
    return None
