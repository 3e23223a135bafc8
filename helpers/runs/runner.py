"""One run in a process of its own: ``python -m helpers.runs.runner '<spec as JSON>'``.

The executor starts this for every run (papermill changes directory with os.chdir and concurrent kernel
starts can race, so runs never share a process). It executes the notebook with papermill into the run's
folder, its output going to this process's stdout/stderr (the executor points both at the run's log.txt),
retries a kernel that failed to start up to KERNEL_RETRIES times, and writes run.json. Its one argument is a
RunSpec as JSON.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from helpers.common.folder import Result, RunFolder, Status
from helpers.common.paths import ROOT
from helpers.runs import provenance
from helpers.runs.cachekey import source_digest
from helpers.runs.profile import notebook_file


class RunSpec(BaseModel):
    """What a run's process needs: the run, its resolved parameters, its folder, cache key, timeout, environment."""

    model_config = ConfigDict(extra="forbid")

    name: str
    notebook: str
    params: dict[str, Any]
    folder: str
    key: str
    sources: str = ""  # the helpers' digest the key was computed from: a run refuses to start on other code
    timeout: float | None = None  # seconds one cell may run
    env: dict[str, str] = {}

    @property
    def run_folder(self) -> RunFolder:
        """The run's folder and its owner."""
        return RunFolder(Path(self.folder), self.name)


KERNEL_RETRIES = 2  # a kernel that failed to start is tried again this many times
NOT_RETRIED = ("NoSuchKernel",)  # start failures that another try cannot fix
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies


def kernel_started(output: Path) -> bool:
    """Whether papermill began executing any code cell of the output notebook (else the kernel never started)."""
    import nbformat

    if not output.exists():
        return False
    try:
        cells = nbformat.read(output, as_version=4).cells
    except Exception:  # a half-written notebook: papermill got that far, so something ran
        return True
    return any((cell.metadata.get("papermill") or {}).get("start_time") for cell in cells if cell.cell_type == "code")


def execute_with_retries(execute: Callable[[], None], started: Callable[[], bool],
                         retries: int = KERNEL_RETRIES) -> str:
    """Call execute; retry when it failed before any cell ran; return '' or the error's one-line message."""
    from papermill.exceptions import PapermillExecutionError

    for attempt in range(retries + 1):
        try:
            execute()
            return ""
        except PapermillExecutionError as exc:
            return f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        except Exception as exc:  # a kernel that died or never started, a timeout: recorded, the build goes on
            error = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            if started() or type(exc).__name__ in NOT_RETRIED:
                return error
            if attempt == retries:
                return f"the kernel failed to start {retries + 1} times: {error}"
            print(f"runner: the kernel failed to start ({error}); retry {attempt + 1} of {retries}", flush=True)
    return ""


def run(spec: RunSpec) -> Result:
    """Execute one run as the spec says, write its run.json and return its result."""
    import papermill

    folder = spec.run_folder
    output = folder.path / f"{spec.name}.ipynb"
    notebook = notebook_file(spec.notebook)

    def execute() -> None:
        papermill.execute_notebook(str(notebook), str(output), parameters=spec.params, kernel_name="python3",
                                   execution_timeout=spec.timeout, progress_bar=False, cwd=str(ROOT),
                                   stdout_file=sys.stdout, stderr_file=sys.stderr)

    start = time.perf_counter()
    if spec.sources and source_digest() != spec.sources:
        error = ("the helpers' code changed after the build computed this run's cache key: start the build again "
                 "(it recomputes the keys)")
    else:
        starts = provenance.record_start(folder.path, spec.key)
        error = execute_with_retries(execute, lambda: kernel_started(output))
    result = Result(spec.name, Status.FAILED if error else Status.OK, (time.perf_counter() - start) / 60, error,
                    spec.key)
    folder.write_record(spec.notebook, spec.params, result, None if error else starts)
    return result


def die_with_parent() -> None:
    """On Linux, be sent SIGTERM when the worker that started this run dies (a stopped build leaves no orphan
    writing into the run folder; the kernel follows: ipykernel exits when its parent is gone)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the line above
        sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    """Entry point: the spec (JSON) is the only argument; exit status 1 when the run failed."""
    args = sys.argv[1:] if argv is None else argv
    if argv is None:
        die_with_parent()
    result = run(RunSpec.model_validate_json(args[0]))
    print(f"runner: {result.name} {result.status} in {result.minutes:.2f} min"
          + (f" ({result.error})" if result.error else ""), flush=True)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
