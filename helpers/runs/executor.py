"""The executor: runs on Dask distributed, each in a process of its own, with one line per state change.

By default a LocalCluster sized to the machine (one worker process per core, one thread each); `workers`
chooses how many; `scheduler` ('tcp://host:port') uses an existing cluster instead, whose workers need the
repository, its environment and the data at the same paths (or the build folder on a shared mount). A
run's task starts ``python -m helpers.runs.runner`` (papermill) and waits for it. A run is submitted once every
run it needs ('{runs.NAME}') has ended, with their results as arguments, or, for the runs its profile declares
it reads only after its training (``after_training``: a VAE's classifier, which scores its samples at the end),
once they started: a task holds a lock on its run folder while it executes (RunFolder.executing), on which the
notebook waits where it reads the folder. A run is submitted only while a worker thread is free, so Dask starts
it at once on that worker. (Dask would assign every submitted task to a worker straight away, without knowing
that a run takes minutes: runs could wait behind one worker while another idles.) Runs start in the order they
are given; one worker runs them one after another.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import queue
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

from helpers.common.files import LOG, PROGRESS_ENV
from helpers.common.folder import Result, RunFolder, Status
from helpers.common.paths import ROOT, display_path
from helpers.runs.cachekey import cache_key, data_digest, source_digest
from helpers.runs.profile import Run, resolved_params, run_folder
from helpers.runs.progress import Progress
from helpers.runs.runner import RunSpec
from helpers.runs.words import counted

TOPIC = "helpers-runs"  # the Dask event topic on which a task says that its run started
CONNECT_SECONDS = 4  # how long to try to reach a scheduler before giving up
POLL_SECONDS = 0.5  # the longest the build waits for a run to end before it prints what started
NOT_INHERITED = ("MALLOC_TRIM_THRESHOLD_",)  # environment a run's process must not take over from a Dask worker


class ClusterError(RuntimeError):
    """The Dask scheduler cannot be reached (nothing of the build has been touched)."""


class Waiting(NamedTuple):
    """A run not yet submitted: its spec and the runs it waits for."""

    spec: RunSpec
    needs: list[str]  # the runs it needs that this build executes or has settled: each must have ended...
    after_training: list[str]  # ...or, for these (its profile's declaration), only have started


def run_env(threads: int | None) -> dict[str, str]:
    """Environment variables for a run's process: epoch bars as text, CPU threads, this repository first (the
    allocator keeps glibc's own settings, as in a run by hand)."""
    env = {PROGRESS_ENV: "text", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def run_task(spec: RunSpec, *upstream: Result) -> Result:
    """On a Dask worker: execute one run in a child process (helpers.runs.runner) and return its result."""
    folder = spec.run_folder
    unfinished = [r.name for r in upstream if not r.status.finished]
    if unfinished:
        result = Result(spec.name, Status.FAILED, error=f"needs run {', '.join(unfinished)}, which did not finish")
        folder.write_record(spec.notebook, spec.params, result)
        return result
    with folder.executing():  # runs that read this one only after their training wait on this lock
        announce(spec.name)
        done, start = execute(spec, folder)
    record = folder.record()
    if record.get("key") != spec.key:  # the process died before it could write run.json
        result = Result(spec.name, Status.FAILED, (time.perf_counter() - start) / 60,
                        f"the run's process ended with exit code {done.returncode} (see {LOG})", spec.key)
        folder.write_record(spec.notebook, spec.params, result)
    else:
        fields = {f.name for f in dataclasses.fields(Result)}
        result = Result(**{k: v for k, v in record.items() if k in fields})
    if result.status is Status.OK:
        folder.discard_set_aside()
    elif folder.put_back_set_aside():
        result.error += f"; the previous finished outputs are kept in {display_path(folder.path)}"
    return result


def execute(spec: RunSpec, folder: RunFolder) -> tuple[subprocess.CompletedProcess, float]:
    """Run the notebook in a child process (helpers.runs.runner), its output into the run's log; it and its start."""
    folder.set_aside()  # a finished run's outputs wait in .previous/ until this run finished
    start = time.perf_counter()
    with open(folder.log, "w") as log:
        done = subprocess.run([sys.executable, "-m", "helpers.runs.runner", spec.model_dump_json()], cwd=ROOT,
                              env=run_process_env(spec.env), stdout=log, stderr=subprocess.STDOUT)
    return done, start


def run_process_env(extra: dict[str, str]) -> dict[str, str]:
    """The worker's environment without the settings that slow a run down, plus the run's own variables.

    Dask's nanny exports MALLOC_TRIM_THRESHOLD_=65536 to its workers: a training process that inherits it hands
    freed memory back to the system at every step and faults it in again (a quarter of its CPU time).
    """
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED} | extra


def reusable(folder: RunFolder, key: str) -> bool:
    """Whether the folder holds this run finished with this key (also when a failed attempt since kept it)."""
    folder.recover()  # a build killed while this run executed: its finished outputs go back first
    return folder.is_cached(key) or (folder.reuse_kept(key) and folder.is_cached(key))


def announce(name: str) -> None:
    """Tell the client that a run started, and where (a no-op outside a Dask worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return
    worker.log_event(TOPIC, {"name": name, "worker": worker.address})


def cores() -> int:
    """The CPU cores this process may use (its affinity where the system tells, else all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def dashboard_available() -> bool:
    """Whether Dask's dashboard can be served (it needs bokeh)."""
    return importlib.util.find_spec("bokeh") is not None


class Executor:
    """A Dask client for one build: `with Executor(workers=2) as executor: executor.execute(runs, build)`."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None, threads: int | None = 1):
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers, self.scheduler, self.threads = workers, scheduler, threads
        self.cluster: Any = None
        self.client: Any = None
        self.events: queue.Queue[dict[str, str]] = queue.Queue()
        self.started: set[str] = set()  # runs whose process started

    def __enter__(self) -> Executor:
        self.connect()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def connect(self) -> None:
        """Start a LocalCluster or reach the scheduler (ClusterError within CONNECT_SECONDS when it cannot)."""
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
            except Exception as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {self.scheduler} "
                                   f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else exc!r})"
                                   ) from None
            where = f"scheduler {self.scheduler}"
        else:
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                self.cluster = LocalCluster(n_workers=self.workers or cores(), threads_per_worker=1,
                                            processes=True, memory_limit=0, silence_logs=logging.CRITICAL,
                                            dashboard_address=":0")
            self.client = Client(self.cluster, set_as_default=False)
            where = "a local cluster"
        self.client.subscribe_topic(TOPIC, lambda event: self.events.put(event[1]))
        workers = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        line = f"dask: {where} with {counted(workers, 'worker')}"
        if dashboard_available():
            line += f"; dashboard at {self.client.dashboard_link}"
        print(line + ("; runs wait until a worker joins" if not workers else ""), flush=True)

    def close(self) -> None:
        """Close the client and the LocalCluster it started."""
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def execute(self, runs: list[Run], build: Path, timeout: float | None = None, force: bool = False
                ) -> list[Result]:
        """Execute runs (dependencies first), skipping cached ones; returns their results in the given order."""
        build = build.resolve()
        progress = Progress(runs, build)
        results: dict[str, Result] = {}
        pending: dict[str, Waiting] = {}
        keys: dict[str, str] = {}
        sources, data_keys = source_digest(), {}
        for run in runs:
            folder, params = RunFolder(run_folder(build, run.name), run.name), resolved_params(run, build)
            if not run.notebook_path.exists():
                results[run.name] = Result(run.name, Status.SKIPPED if run.optional else Status.FAILED,
                                           error=f"notebook {run.notebook} does not exist")
                folder.write_record(run.notebook, params, results[run.name])
                progress.finished(results[run.name])
                continue
            source = (str(run.params.get("dataset", "mnist")), str(run.params.get("data_dir", "")))
            if source not in data_keys:  # hashing the dataset takes a second: once per build
                data_keys[source] = data_digest(*source)
            upstream = [keys.get(n) or RunFolder(run_folder(build, n), n).record().get("key", "") for n in run.needs()]
            keys[run.name] = key = cache_key(run.notebook_path, params, upstream, sources, data_keys[source])
            if not (force or any(n in pending for n in run.needs())) and reusable(folder, key):
                results[run.name] = Result(run.name, Status.CACHED, key=key)
                progress.finished(results[run.name])
                continue
            spec = RunSpec(name=run.name, notebook=run.notebook, params=params, folder=str(folder.path), key=key,
                           sources=sources, timeout=timeout, env=run_env(self.threads))
            pending[run.name] = Waiting(spec, [n for n in run.needs() if n in pending or n in results],
                                        run.after_training)
            progress.queued(run.name, key)
        self.wait(pending, results, progress)
        return [results[run.name] for run in runs]

    def submit_ready(self, pending: dict[str, Waiting], futures: dict[str, Any], results: dict[str, Result]
                     ) -> None:
        """Submit, in the given order, pending runs whose needed runs have all ended (or, those it declares it
        reads only after its training, started), while a worker thread is free."""
        free = sum(self.client.nthreads().values()) - sum(name not in results for name in futures)
        for name, (spec, needs, after_training) in list(pending.items()):
            if free > 0 and all(n in results or (n in after_training and n in self.started) for n in needs):
                free -= 1
                ended = [results[n] for n in needs if n in results]
                futures[name] = self.client.submit(run_task, spec, *ended, pure=False,
                                                   key=f"{name}-{uuid.uuid4().hex[:8]}")
                del pending[name]

    def until_one_ends(self, running: list[Any]) -> None:
        """Block until a running run ends, or POLL_SECONDS pass (to print start and epoch lines in between)."""
        from distributed import wait

        if not running:  # runs wait for a worker to join
            time.sleep(POLL_SECONDS)
            return
        try:
            with self.client.as_current():
                wait(running, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass

    def wait(self, pending: dict[str, Waiting], results: dict[str, Result], progress: Progress) -> None:
        """Submit runs as they become ready and follow them until all ended, adding each one's Result to results."""
        futures: dict[str, Any] = {}
        try:
            while pending or any(name not in results for name in futures):
                self.submit_ready(pending, futures, results)
                started = {}
                while not self.events.empty():
                    event = self.events.get()
                    started[event["name"]] = event.get("worker", "")
                    self.started.add(event["name"])
                for name, future in futures.items():
                    if name not in results and future.done():
                        if name in started:  # started and ended since the last look: both lines, in order
                            progress.running(name, started.pop(name))
                        results[name] = outcome(name, future)
                        progress.finished(results[name])
                for name, worker in started.items():
                    progress.running(name, worker)
                progress.epochs()
                self.until_one_ends([future for name, future in futures.items() if name not in results])
        except KeyboardInterrupt:
            self.client.cancel(list(futures.values()))
            raise


def outcome(name: str, future: Any) -> Result:
    """A finished future's Result; a task that raised (a lost worker, an import error there) counts as failed."""
    try:
        return future.result()
    except Exception as exc:
        return Result(name, Status.FAILED, error=f"{type(exc).__name__} on the Dask worker: {exc}".strip())
