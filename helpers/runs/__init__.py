"""The run layer, torch-free: profiles and sweeps, the cache key and run records, the Dask executor, the runner
(one run in a process of its own), the set-aside of finished outputs and the build lock.

A run is one notebook executed by papermill with one set of parameters into one folder; the report build,
the cache, resume and sweeps are ways of choosing, skipping or scheduling runs.
"""

from helpers.common.folder import Result, RunFolder, Status
from helpers.common.paths import ROOT, display_path
from helpers.runs.profile import (
    PLACEHOLDER,
    PROFILES,
    Profile,
    ProfileError,
    Run,
    apply_overrides,
    cache_key,
    check_parameters,
    data_digest,
    declared,
    did_you_mean,
    load_profile,
    resolved_params,
    run_folder,
    run_minutes,
    select,
    source_digest,
    summary_table,
)

__all__ = ["PLACEHOLDER", "PROFILES", "ROOT", "Profile", "ProfileError", "Result", "Run", "RunFolder", "Status",
           "apply_overrides", "cache_key", "check_parameters", "data_digest", "declared", "did_you_mean",
           "display_path", "load_profile", "resolved_params", "run_folder", "run_minutes", "select", "source_digest",
           "summary_table"]
