"""Runs: one notebook executed by papermill with one set of parameters into one folder.

A profile (``helpers/runs/profiles/<name>.yaml``) lists runs by name, each with its notebook and parameters.
A parameter may name another run's folder as ``"{runs.<name>}"``; that run then goes first, and has ended before
this one starts unless this one declares ``after_training: [<name>]``: it reads that folder only after its own
training (a VAE's classifier, which scores its samples at the end), so it may start once that run started and the
notebook waits where it reads the folder. Every run writes ``run.json`` (status, minutes, error, cache key) and
``log.txt`` (the notebook's printed output) beside its executed notebook; a run whose key (helpers.runs.cachekey)
matches a finished run is skipped.
A failing run never stops the others: its error is recorded and the next run starts.
A profile may also declare sweeps (helpers.runs.sweeps): grids of runs over one notebook. Runs execute on Dask
(helpers.runs.executor), each in its own process (helpers.runs.runner).
"""

from __future__ import annotations

import dataclasses
import functools
import graphlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.common.folder import Result
from helpers.common.names import did_you_mean
from helpers.common.paths import ROOT, display_path
from helpers.runs import sweeps as sweeping
from helpers.runs.profilefile import Comparison, read_profile_file

PROFILES = Path(__file__).resolve().parent / "profiles"  # the run layer's own: what each profile runs
PLACEHOLDER = re.compile(r"\{runs\.([A-Za-z0-9_.-]+)\}")


class ProfileError(ValueError):
    """A profile or a --set/--only option names something that does not exist."""


def notebook_file(notebook: str) -> Path:
    """A profile's notebook as a file: a relative path is taken from the repository root."""
    path = Path(notebook)
    return path if path.is_absolute() else ROOT / path


@dataclass
class Run:
    """One notebook with one set of parameters; `optional` runs are skipped when their notebook is missing;
    `after_training` names the needed runs it reads only after its training (it may start once they started)."""

    name: str
    notebook: str
    params: dict[str, Any] = field(default_factory=dict)
    optional: bool = False
    after_training: list[str] = field(default_factory=list)

    @property
    def notebook_path(self) -> Path:
        """The notebook file."""
        return notebook_file(self.notebook)

    def needs(self) -> list[str]:
        """The runs whose folders this run's parameters refer to, in the order they appear."""
        found = [m for v in self.params.values() if isinstance(v, str) for m in PLACEHOLDER.findall(v)]
        return list(dict.fromkeys(found))


@dataclass
class Profile:
    """A named list of runs, in the order a report presents them."""

    name: str
    description: str
    runs: list[Run]
    sweeps: dict[str, list[str]] = field(default_factory=dict)  # sweep name -> its points' run names
    comparisons: dict[str, Comparison] = field(default_factory=dict)  # declared before the runs (report.stats)

    def run(self, name: str) -> Run:
        """The run called name."""
        for run in self.runs:
            if run.name == name:
                return run
        raise ProfileError(f"no run {name!r} in profile {self.name!r}{did_you_mean(name, self.names())}; "
                           f"its runs: {', '.join(self.names())}")

    def names(self) -> list[str]:
        """The run names, in profile order."""
        return [run.name for run in self.runs]


def load_profile(name_or_path: str | Path) -> Profile:
    """Read a profile by name (helpers/runs/profiles/<name>.yaml) or by path; sweeps checked, expanded into runs."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILES / f"{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PROFILES.glob("*.yaml"))
        raise ProfileError(f"no profile {str(name_or_path)!r}; known profiles: {', '.join(known)}")
    try:
        spec = read_profile_file(path)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    try:
        grids = {name: sweeping.parse_sweep(name, entry, declared_parameters(entry.notebook))
                 for name, entry in (spec.sweeps or {}).items()}
        runs = [Run(name, entry.notebook,
                    {k: sweeping.fill_sweep_placeholders(v, grids) for k, v in (entry.params or {}).items()},
                    entry.optional, list(entry.after_training))
                for name, entry in (spec.runs or {}).items()]
    except ValueError as exc:
        raise ProfileError(f"profile {path.name}: {exc}") from None
    points = {name: [Run(sweep.run_name(p), sweep.notebook, {**sweep.params, **p}) for p in sweep.points]
              for name, sweep in grids.items()}
    profile = Profile(spec.name or path.stem, spec.description,
                      runs + [run for group in points.values() for run in group],
                      {name: [run.name for run in group] for name, group in points.items()}, spec.comparisons)
    for name, comparison in spec.comparisons.items():
        check_comparison(name, comparison, points, path.name)
    if len(set(profile.names())) < len(profile.runs):
        raise ProfileError(f"profile {path.name}: two runs share a name; rename a run or a sweep")
    for run in profile.runs:
        for needed in run.needs():
            profile.run(needed)  # raises on an unknown name
        check_after_training(run, profile, path.name)
    return profile


def check_comparison(name: str, comparison: Comparison, points: dict[str, list[Run]], file: str) -> None:
    """Refuse, in one line, a comparison group that is neither a sweep nor a "param=value" some sweep point has."""
    values = {f"{k}={v}" for group in points.values() for run in group for k, v in run.params.items()}
    for group in (comparison.reference, *comparison.against):
        if group not in points and group not in values:
            raise ProfileError(f"profile {file}: comparison {name}: {group!r} is neither a sweep nor a "
                               f"parameter=value of a sweep's runs{did_you_mean(group, [*points, *values])}")


def check_after_training(run: Run, profile: Profile, file: str) -> None:
    """Refuse, in one line, an after_training entry that is not a run whose folder the run's parameters name."""
    for name in run.after_training:
        if name in run.needs():
            continue
        if name not in profile.names():
            raise ProfileError(f"profile {file}: run {run.name}: after_training names {name!r}, no run of the "
                               f"profile{did_you_mean(name, run.needs())}")
        raise ProfileError(f"profile {file}: run {run.name}: after_training names {name!r}, but none of its "
                           f"parameters reads that run's folder (\"{{runs.{name}}}\")")


def declared_parameters(notebook_name: str) -> dict[str, dict[str, Any]]:
    """The parameters a sweep's notebook declares (papermill's inspection); ValueError when it does not exist."""
    notebook = notebook_file(notebook_name)
    if not notebook.exists():
        raise ValueError(f"sweep notebook {display_path(notebook)} does not exist")
    return notebook_parameters(notebook)


def select(profile: Profile, only: list[str] | None) -> list[Run]:
    """The runs named in only (all when empty) plus the runs they need, in dependency order."""
    wanted = {point for name in only or profile.names() for point in profile.sweeps.get(name, [name])}
    for name in list(wanted):
        profile.run(name)
    pending = list(wanted)
    while pending:  # add what the selected runs need
        for needed in profile.run(pending.pop()).needs():
            if needed not in wanted:
                wanted.add(needed)
                pending.append(needed)
    return in_order(profile, wanted)


def in_order(profile: Profile, wanted: set[str]) -> list[Run]:
    """The wanted runs in profile order, each after the runs it needs (graphlib); ProfileError on a cycle."""
    sorter = graphlib.TopologicalSorter({name: profile.run(name).needs() for name in wanted})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise ProfileError(f"runs refer to each other in a cycle through {exc.args[1][0]!r}") from None
    position = {name: i for i, name in enumerate(profile.names())}
    ordered: list[Run] = []
    ready: set[str] = set()
    while sorter.is_active():
        ready |= set(sorter.get_ready())
        first = min(ready, key=position.__getitem__)
        ready.discard(first)
        ordered.append(profile.run(first))
        sorter.done(first)
    return ordered


REPLICA = ".seed"  # a replica's name: its run's, then this, then the seed offset ('vae_z2.seed1')


def seed_replicas(runs: list[Run], names: set[str], count: int) -> list[Run]:
    """Copies of the named runs at the next count - 1 seeds ('vae_z2.seed1', ...), and of the runs they read
    (the scoring classifier: 'classifier.seed1'), replica k reading replica k: the spread over seeds, training and
    scoring alike, that a record keeps as evidence for make verify's allowances."""
    chosen = [run for run in runs if run.name in names]
    read = {needed for run in chosen for needed in run.needs()}
    return [replica(run, k, read) for run in runs if run.name in names | read for k in range(1, count)]


def replica(run: Run, k: int, read: set[str]) -> Run:
    """The run at seed offset k, its folder parameters naming replica k of the runs in read."""
    def renamed(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return PLACEHOLDER.sub(lambda m: f"{{runs.{m[1]}{REPLICA}{k}}}" if m[1] in read else m[0], value)

    params = {key: renamed(value) for key, value in run.params.items()}
    return dataclasses.replace(run, name=f"{run.name}{REPLICA}{k}",
                               params={**params, "seed": int(run.params.get("seed", 0)) + k},
                               after_training=[f"{n}{REPLICA}{k}" if n in read else n for n in run.after_training])


def parse_assignment(text: str) -> tuple[str | None, str, Any]:
    """Split a --set option 'target.name=value' (or 'name=value' for every run) into its parts."""
    if "=" not in text:
        raise ProfileError(f"--set needs name=value or run.name=value, got {text!r}")
    lhs, value = text.split("=", 1)
    target, _, name = lhs.strip().rpartition(".")
    if PLACEHOLDER.search(value) or sweeping.SWEEP_PLACEHOLDER.search(value):  # text, not a YAML flow mapping
        return target or None, name, value.strip()
    try:
        return target or None, name, yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        return target or None, name, value


def apply_overrides(runs: list[Run], assignments: list[str], device: str | None = None) -> list[Run]:
    """Copies of runs with --set overrides applied; a target is a run name or a notebook's stem ('vae')."""
    runs = [dataclasses.replace(run, params=dict(run.params)) for run in runs]
    if device:
        assignments = [f"device={device}", *assignments]
    for text in assignments:
        target, name, value = parse_assignment(text)
        chosen = [run for run in runs if target in (None, run.name, run.notebook_path.stem)]
        if target and not chosen:
            names = [run.name for run in runs] + sorted({run.notebook_path.stem for run in runs})
            raise ProfileError(f"--set {text}: no run or notebook {target!r}{did_you_mean(target, names)}")
        if target is None:  # a bare name goes to every run that declares it
            chosen = [run for run in chosen if name in declared(run)]
            if not chosen:
                raise ProfileError(f"--set {text}: no selected notebook declares a parameter {name!r}")
        for run in chosen:
            allowed = declared(run)
            if allowed and name not in allowed:
                raise ProfileError(f"--set {text}: {run.notebook} has no parameter {name!r}"
                                   f"{did_you_mean(name, allowed)}")
            run.params[name] = value
    return runs


def declared(run: Run) -> list[str]:
    """The parameter names a run's notebook declares in its parameters cell ([] when it is missing)."""
    if not run.notebook_path.exists():
        return []
    return list(notebook_parameters(run.notebook_path))


def notebook_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares (papermill's inspection), read once per version of the file."""
    return inspected(str(notebook.resolve()), notebook.stat().st_mtime_ns)


@functools.cache
def inspected(notebook: str, version: int) -> dict[str, dict[str, Any]]:
    """papermill's inspection of one version of a notebook (version: its modification time)."""
    import papermill

    return papermill.inspect_notebook(notebook)


def check_parameters(selected: list[Run], build: Path) -> None:
    """Coerce and check every run's parameters as its notebook will, before any run folder is touched.

    The notebook's config class (helpers.config.CONFIGS, by the notebook's name) gives the same one-line
    messages as the notebook; a folder that a run of this build has still to make is judged by that run's
    checked parameters. A notebook without a config class (a test's own) is checked when it runs.
    """
    from helpers.config import CONFIGS, ParameterError
    from helpers.config.registry import described

    checked: dict[str, dict[str, Any] | None] = {}
    for run in selected:
        config = CONFIGS.get(run.notebook_path.stem)
        if config is None:
            checked[run.name] = None
            continue
        values = {**run.params, "output_dir": display_path(run_folder(build, run.name))}
        upstream = {f"{{runs.{name}}}": checked.get(name) for name in run.needs()}
        try:
            checked[run.name] = described(config.check(values, upstream))
        except ParameterError as exc:
            raise ProfileError(f"run {run.name}: {exc}") from None


def run_folder(build: Path, name: str) -> Path:
    """The folder one run writes to."""
    return build / name


def resolved_params(run: Run, build: Path) -> dict[str, Any]:
    """The parameters papermill injects: placeholders filled, output_dir set to the run's folder."""
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: display_path(run_folder(build, m.group(1))), value)
        return value

    params = {k: fill(v) for k, v in run.params.items()}
    params["output_dir"] = display_path(run_folder(build, run.name))
    return params


def summary_table(results: list[Result]) -> str:
    """A plain-text table: run, status, minutes."""
    width = max([len(r.name) for r in results] + [3])
    lines = [f"{'run':<{width}}  {'status':<8}  minutes", f"{'-' * width}  {'-' * 8}  -------"]
    lines += [f"{r.name:<{width}}  {r.status:<8}  {r.minutes:7.1f}" for r in results]
    lines += [f"{'-' * width}  {'-' * 8}  -------", f"{'sum':<{width}}  {'':<8}  {minutes_of_runs(results):7.1f}"]
    return "\n".join(lines)


def minutes_of_runs(results: list[Result]) -> float:
    """The minutes the runs took together (more than the wall time when they ran side by side)."""
    return sum(r.minutes for r in results)
