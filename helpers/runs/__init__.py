"""The run layer, torch-free: profiles and sweeps (profile, profilefile, sweeps), the cache key (cachekey), the
Dask executor, the runner (one run in a process of its own) and the build lock; a run folder's record and
set-aside belong to helpers.common.folder.

A run is one notebook executed by papermill with one set of parameters into one folder; the report build,
the cache, resume and sweeps are ways of choosing, skipping or scheduling runs.
"""
