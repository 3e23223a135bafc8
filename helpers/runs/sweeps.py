"""Sweeps: a grid of parameter values over one notebook, expanded into one run per point.

A profile may name several sweeps::

    sweeps:
      vae_latent:
        notebook: notebooks/vae.ipynb
        params: {epochs: 50}                                  # shared by every point
        grid: {latent_dim: [2, 5, 10, 20, 50], seed: [0, 1, 2]}

Instead of a grid, ``points:`` lists the points one by one, each a mapping of the parameters it changes
(one change at a time, say: ``points: [{learning_rate: 0.0002}, {d_steps: 2}]``).

Each point is an ordinary run named from its values (``vae_latent_latent_dim-5_seed-1``), so it has the
cache, resume and error handling of any run. Another run refers to all of a sweep's folders with
``"{sweep.vae_latent}"``: it becomes the comma-separated list of the points' ``{runs.NAME}`` placeholders, so
that run waits for every point. The grid is checked against the parameters the notebook declares (names and
types) before any run starts; a bad grid is one line of ProfileError.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from helpers.common.names import did_you_mean
from helpers.config.folders import SEPARATOR

SWEEP_PLACEHOLDER = re.compile(r"\{sweep\.([A-Za-z0-9_]+)\}")
TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


@dataclass
class Sweep:
    """One notebook, parameters shared by every point, and the points: a grid's combinations or listed ones."""

    name: str
    notebook: str
    params: dict[str, Any]
    points: list[dict[str, Any]]

    def run_name(self, point: dict[str, Any]) -> str:
        """A point's run name: the sweep's name, then name-value for each parameter the point sets."""
        parts = [f"{key}-{re.sub(r'[^A-Za-z0-9.-]+', '_', str(value))}" for key, value in point.items()]
        return "_".join([self.name, *parts])


def parse_sweep(name: str, entry: Any, declared: dict[str, dict[str, Any]] | None) -> Sweep:
    """A sweep from its profile entry, checked against the notebook's declared parameters (None: unchecked)."""
    if not isinstance(entry, dict) or "notebook" not in entry or ("grid" in entry) == ("points" in entry):
        raise ValueError(f"sweep {name!r} needs a notebook and either a grid of parameter: [values] "
                         "or a list of points")
    unknown_keys = sorted(set(entry) - {"notebook", "params", "grid", "points"})
    if unknown_keys:
        raise ValueError(f"sweep {name!r}: unknown key {unknown_keys[0]!r}; "
                         "a sweep has notebook, params, grid or points")
    if "grid" in entry:
        points = grid_points(checked_grid(name, entry["grid"]))
    else:
        points = checked_points(name, entry["points"])
    sweep = Sweep(name, str(entry["notebook"]), dict(entry.get("params") or {}), points)
    if declared is not None:
        check_against(sweep, declared)
    return sweep


def checked_grid(name: str, grid: Any) -> dict[str, list[Any]]:
    """A sweep's grid, or ValueError when it is empty, has an empty list or repeats a value."""
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"sweep {name!r}: the grid is empty" if isinstance(grid, dict)
                         else f"sweep {name!r} needs a grid of parameter: [values], got {grid!r}")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"sweep {name!r}: grid parameter {key!r} needs a non-empty list of values, got {values!r}")
        if len(set(map(repr, values))) < len(values):
            raise ValueError(f"sweep {name!r}: grid parameter {key!r} repeats a value: {values!r}")
    return dict(grid)


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first parameter varying slowest."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def checked_points(name: str, points: Any) -> list[dict[str, Any]]:
    """A sweep's listed points, or ValueError when the list is empty, a point is not a mapping, or one repeats."""
    if not isinstance(points, list) or not points:
        raise ValueError(f"sweep {name!r}: points needs a non-empty list of {{parameter: value}} mappings, "
                         f"got {points!r}")
    for point in points:
        if not isinstance(point, dict) or not point:
            raise ValueError(f"sweep {name!r}: each point is a non-empty {{parameter: value}} mapping, got {point!r}")
    if len({repr(sorted(point.items())) for point in points}) < len(points):
        raise ValueError(f"sweep {name!r}: two points are the same: {points!r}")
    return [dict(point) for point in points]


def check_against(sweep: Sweep, declared: dict[str, dict[str, Any]]) -> None:
    """Raise ValueError on a parameter the notebook does not declare or a value of the wrong type."""
    values = [(key, value) for key, value in sweep.params.items()]
    values += [(key, value) for point in sweep.points for key, value in point.items()]
    for key, value in values:
        if key not in declared:
            raise ValueError(f"sweep {sweep.name!r}: {sweep.notebook} has no parameter {key!r}"
                             f"{did_you_mean(key, declared)}")
        kind = declared[key].get("inferred_type_name", "")
        allowed = TYPES.get(kind)
        if allowed and not (isinstance(value, allowed) and (kind == "bool" or not isinstance(value, bool))):
            raise ValueError(f"sweep {sweep.name!r}: {key} must be {kind}, got {value!r}")


def placeholder(sweep: Sweep) -> str:
    """What '{sweep.NAME}' stands for: the points' run-folder placeholders, comma-separated."""
    return SEPARATOR.join(f"{{runs.{sweep.run_name(point)}}}" for point in sweep.points)


def fill_sweep_placeholders(value: Any, sweeps: dict[str, Sweep]) -> Any:
    """A parameter value with every '{sweep.NAME}' replaced (ValueError on an unknown sweep)."""
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in sweeps:
            known = ", ".join(sweeps) or "none"
            raise ValueError(f"{match.group(0)} names no sweep of this profile; its sweeps: {known}")
        return placeholder(sweeps[name])

    return SWEEP_PLACEHOLDER.sub(replace, value)

