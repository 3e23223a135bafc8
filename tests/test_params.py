"""Bad parameters stop a run with one clear line naming the parameter; loose papermill types are accepted;
each notebook's parameters cell and its config agree on every name, type and default."""

from __future__ import annotations

import ast
import re
import typing

import papermill as pm
import pytest

from conftest import NOTEBOOKS
from helpers.config import EXPERIMENTS, Config, GANConfig, ParameterError, VAEConfig
from helpers.config.folders import Kind


@pytest.mark.parametrize(("changes", "message"), [
    ({"latent_dim": 0}, "latent_dim must be > 0, got 0"),
    ({"epochs": -1}, "epochs must be > 0, got -1"),
    ({"learning_rate": 0}, "learning_rate must be > 0, got 0"),
    ({"train_size": -5}, "train_size must be >= 0, got -5"),
    ({"device": "tpu"}, "device must be auto, cpu, cuda, cuda:N or mps; got 'tpu'"),
    ({"device": "mps"}, "device 'mps' asked for, but Apple's MPS is not available here"),
    ({"dataset": "cifar"}, "dataset must be 'mnist' or 'fashion-mnist', got 'cifar'"),
    ({"activation": "swish"}, "activation must be 'relu', 'leaky_relu', 'tanh', 'elu' or 'softplus', got 'swish'"),
    ({"precision": "fp16"}, "precision must be 'fp32', 'bf16' or 'auto', got 'fp16'"),
    ({"latent_dim": "two"}, "latent_dim must be a valid integer, got 'two'"),
    ({"epochs": 2.5}, "epochs must be a valid integer, got 2.5"),
    ({"resume": "maybe"}, "resume must be a valid boolean, got 'maybe'"),
])
def test_bad_values_name_the_parameter_and_what_is_allowed(changes, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}"):
        VAEConfig(**changes)


def test_every_bad_value_is_named_on_one_line():
    with pytest.raises(ParameterError) as caught:
        VAEConfig(epochs=0, latent_dim="x")
    assert str(caught.value) == "epochs must be > 0, got 0; latent_dim must be a valid integer, got 'x'"


def test_loose_values_from_the_command_line_are_accepted():
    config = VAEConfig(latent_dim="20", epochs=3.0, learning_rate="0.05", grid_limit=3, resume="false")
    assert (config.latent_dim, config.epochs, config.learning_rate, config.grid_limit, config.resume) == \
        (20, 3, 0.05, 3.0, False)
    assert GANConfig(auxiliary="true", conditional="True").variant == "AC-GAN"


def test_unknown_parameter_is_refused_with_a_suggestion():
    namespace = {"latnet_dim": 5, "epochs": 1, "In": [], "json": __import__("json"), "_private": 1}
    with pytest.raises(ParameterError, match="^unknown parameter 'latnet_dim' \\(did you mean 'latent_dim'\\?\\); "
                                             "allowed: activation, batch_size,"):
        VAEConfig.from_namespace(namespace)


def test_notebook_globals_become_a_config():
    config = VAEConfig.from_namespace({"latent_dim": 20, "epochs": 1, "get_ipython": print, "Out": {}})
    assert config.latent_dim == 20 and config.epochs == 1 and config.hidden_dim == 500


def test_the_defaults_are_the_writeups_settings():
    vae, gan = VAEConfig(), GANConfig()
    assert (vae.epochs, vae.batch_size, vae.hidden_dim, vae.learning_rate, vae.latent_dim) == (200, 100, 500, 0.01, 2)
    assert (gan.epochs, gan.batch_size, gan.hidden_dim, gan.learning_rate, gan.noise_dim) == (300, 100, 256, 5e-4, 64)


def test_gan_variants_are_fields_and_a_generator_told_digits_needs_the_digit_head():
    assert [GANConfig(auxiliary=a, conditional=c).variant for a, c in ((0, 0), (1, 0), (1, 1))] == \
        ["GAN", "auxiliary GAN", "AC-GAN"]
    assert GANConfig(auxiliary=True).to_dict() | {"auxiliary": False} == GANConfig().to_dict()
    with pytest.raises(ParameterError, match="^conditional=True needs auxiliary=True"):
        GANConfig(conditional=True)


def notebook_parameters(name: str) -> dict[str, tuple[str, typing.Any]]:
    """A notebook's parameters cell as {name: (type name, default value)}."""
    cell = pm.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    return {p: (spec["inferred_type_name"], ast.literal_eval(spec["default"])) for p, spec in cell.items()}


def config_fields(config: type[Config]) -> dict[str, tuple[str, typing.Any]]:
    """A config's fields as {name: (type name, default value)}; Literal choices count as their values' type."""
    def type_name(annotation: typing.Any) -> str:
        if typing.get_origin(annotation) is typing.Literal:
            return type(typing.get_args(annotation)[0]).__name__
        return annotation.__name__

    return {name: (type_name(f.annotation), f.default) for name, f in config.model_fields.items()}


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_each_notebook_declares_exactly_its_configs_fields_and_defaults(experiment):
    declared, fields = notebook_parameters(experiment.name), config_fields(experiment.config)
    # a notebook that only reads other runs (a summary) may leave out the base fields it does not use
    optional = set(Config.model_fields) if experiment.kind is Kind.SUMMARY else set()
    assert set(declared) <= set(fields) and set(fields) - set(declared) <= optional
    for name, (kind, default) in fields.items():
        if name in declared:
            assert declared[name] == (kind, default) and type(declared[name][1]) is type(default), name


@pytest.mark.parametrize("config", [VAEConfig, GANConfig])
def test_a_classifier_folder_that_is_not_a_finished_run_is_refused_in_one_line(config, tmp_path):
    with pytest.raises(ParameterError, match=r"classifier_dir='.*' is not a finished run folder: weights.pt, "
                                             r"metrics.json missing"):
        config(classifier_dir=str(tmp_path))
