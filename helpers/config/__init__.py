"""Every notebook's parameters as pydantic models, torch-free: names, types, defaults and checks in one place.

The notebooks, the run layer (which checks a profile before anything runs) and the report read them here.
"""

from helpers.config.base import (
    ACTIVE_UNIT_VARIANCE,
    MONITOR_SAMPLES,
    SCORE_SAMPLES,
    TEST_SIZE,
    TRAIN_SIZE,
    Config,
    ParameterError,
    Role,
    RunConfig,
    check_device,
    resolve_device,
)
from helpers.config.experiments import (
    ClassifierConfig,
    CollapseConfig,
    ExploreConfig,
    GANConfig,
    StudyConfig,
    VAEConfig,
)
from helpers.config.registry import CONFIGS, EXPERIMENTS, MODELS

__all__ = ["ACTIVE_UNIT_VARIANCE", "CONFIGS", "EXPERIMENTS", "MODELS", "MONITOR_SAMPLES", "SCORE_SAMPLES", "TEST_SIZE",
           "TRAIN_SIZE",
           "ClassifierConfig",
           "CollapseConfig", "Config", "ExploreConfig", "GANConfig", "ParameterError", "Role", "RunConfig",
           "StudyConfig", "VAEConfig", "check_device", "resolve_device"]
