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
from typing import TYPE_CHECKING, Any

from helpers.common.names import did_you_mean
from helpers.config.folders import SEPARATOR

if TYPE_CHECKING:
    from helpers.runs.profilefile import SweepEntry

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


def parse_sweep(name: str, entry: SweepEntry, declared: dict[str, dict[str, Any]] | None) -> Sweep:
    """A sweep from its checked profile entry, checked against the notebook's declared parameters (None: unchecked)."""
    points = grid_points(entry.grid) if entry.grid is not None else [dict(point) for point in entry.points or []]
    sweep = Sweep(name, entry.notebook, dict(entry.params or {}), points)
    if declared is not None:
        check_against(sweep, declared)
    return sweep


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first parameter varying slowest."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


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

