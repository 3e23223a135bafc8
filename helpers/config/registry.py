"""The experiment registry: every notebook of the package, and the writeup's models its runs make, named once.

A plain table, read by everything that lists experiments: the run layer (a notebook's config by its name), the
run-folder checks (what kind of run a folder holds: written by the run into metrics.json), the report (which runs
its sections and results table are made of, their labels and explorers) and the tests. Adding an experiment is
one new ``Experiment`` entry plus its own files (model, notebook, section template).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from helpers.common.paths import ROOT
from helpers.config.base import Config
from helpers.config.experiments import (
    ClassifierConfig,
    CollapseConfig,
    ExploreConfig,
    GANConfig,
    StudyConfig,
    VAEConfig,
)
from helpers.config.folders import Kind


@dataclass(frozen=True)
class Model:
    """One of the writeup's models: a run (by its name in the profiles) that the report's sections are made of."""

    run: str  # its name in the profiles: 'vae_z2'
    label: str | None = None  # in words, for tables: 'VAE, latent 2' (None: the GAN variant its parameters make)
    section: bool = True  # a section of the writeup shows it (else only the results table)
    explorer: str | None = None  # the kernel-free explorer drawn for it (report/templates/explorers/<name>.html.j2)


@dataclass(frozen=True)
class Experiment:
    """One notebook: its config class, the kind of run folder it writes, its loader, the writeup's models it makes."""

    name: str  # the notebook's stem, also what `--set NAME.param=...` targets
    config: type[Config]
    kind: Kind  # what its run folders hold, written into their metrics.json (and so which parameters may name them)
    loader: str = ""  # 'module:function' loading a finished run's trained model from its folder ('' for none)
    models: tuple[Model, ...] = field(default=())

    @property
    def notebook(self) -> Path:
        """The notebook file."""
        return ROOT / "notebooks" / f"{self.name}.ipynb"

    def load(self, folder: str | Path, **options: Any) -> Any:
        """The trained model of one of its finished runs (the loader imported on first use: torch lives there)."""
        module, _, function = self.loader.partition(":")
        return getattr(import_module(module), function)(folder, **options)


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("classifier", ClassifierConfig, Kind.CLASSIFIER, "helpers.models.classifier:load_classifier"),
    Experiment("vae", VAEConfig, Kind.VAE, "helpers.models.vae:load_vae",
               (Model("vae_z2", "VAE, latent 2", explorer="vae2"),
                Model("vae_z20", "VAE, latent 20", explorer="vae20"))),
    Experiment("gan", GANConfig, Kind.GAN, "helpers.models.gan:load_generator",
               (Model("gan", "GAN", explorer="gan"), Model("aux_gan", explorer="gan"),
                Model("digit_head_gan", "auxiliary GAN", section=False))),
    Experiment("explore", ExploreConfig, Kind.SUMMARY),
    Experiment("study", StudyConfig, Kind.SUMMARY),
    Experiment("collapse", CollapseConfig, Kind.SUMMARY),
)
BY_NAME = {experiment.name: experiment for experiment in EXPERIMENTS}
CONFIGS: dict[str, type[Config]] = {experiment.name: experiment.config for experiment in EXPERIMENTS}
MODELS: dict[str, Model] = {model.run: model for experiment in EXPERIMENTS for model in experiment.models}
EXPERIMENT_OF_MODEL = {model.run: e for e in EXPERIMENTS for model in e.models}  # 'vae_z2' -> the VAE experiment
SECTION_RUNS = tuple(name for name, model in MODELS.items() if model.section)  # the writeup's sections' runs


def experiment_of(config: Config | type[Config]) -> Experiment | None:
    """The experiment whose config class config is (exactly; None for a config the registry does not name)."""
    cls = config if isinstance(config, type) else type(config)
    return next((e for e in EXPERIMENTS if e.config is cls), None)


def described(config: Config) -> dict[str, Any]:
    """A run as metrics.json names it: its kind (from the registry; None when unregistered) and its parameters."""
    experiment = experiment_of(config)
    return {"kind": experiment.kind.value if experiment else None, "parameters": config.to_dict()}
