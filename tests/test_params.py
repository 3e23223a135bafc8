"""Bad parameters stop a run with one clear line naming the parameter; loose papermill types are coerced."""

from __future__ import annotations

import pytest

from helpers.params import ParameterError, VAEConfig


@pytest.mark.parametrize(("changes", "message"), [
    ({"latent_dim": 0}, "latent_dim must be > 0, got 0"),
    ({"epochs": -1}, "epochs must be > 0, got -1"),
    ({"learning_rate": 0}, "learning_rate must be > 0"),
    ({"device": "tpu"}, "device must be auto, cpu, cuda, cuda:N or mps; got 'tpu'"),
    ({"device": "mps"}, "device 'mps' asked for, but Apple's MPS is not available here"),
    ({"dataset": "cifar"}, "dataset must be one of mnist, fashion-mnist; got 'cifar'"),
    ({"activation": "swish"}, "activation must be one of relu"),
    ({"latent_dim": "two"}, "latent_dim must be int, got 'two'"),
    ({"epochs": 2.5}, "epochs must be int, got 2.5"),
    ({"resume": "maybe"}, "resume must be bool, got 'maybe'"),
])
def test_bad_values_name_the_parameter_and_what_is_allowed(changes, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        VAEConfig(**changes)


def test_loose_values_from_the_command_line_are_coerced():
    config = VAEConfig(latent_dim="20", epochs=3.0, learning_rate="0.05", resume="false")
    assert (config.latent_dim, config.epochs, config.learning_rate, config.resume) == (20, 3, 0.05, False)


def test_unknown_parameter_is_refused_with_a_suggestion():
    namespace = {"latnet_dim": 5, "epochs": 1, "In": [], "json": __import__("json"), "_private": 1}
    with pytest.raises(ParameterError, match="unknown parameter 'latnet_dim' \\(did you mean 'latent_dim'\\?\\)"):
        VAEConfig.from_namespace(namespace)


def test_notebook_globals_become_a_config():
    config = VAEConfig.from_namespace({"latent_dim": 20, "epochs": 1, "get_ipython": print, "Out": {}})
    assert config.latent_dim == 20 and config.epochs == 1 and config.hidden_dim == 500


def test_the_defaults_are_the_writeups_settings():
    config = VAEConfig()
    assert (config.epochs, config.batch_size, config.hidden_dim, config.learning_rate) == (200, 100, 500, 0.01)
