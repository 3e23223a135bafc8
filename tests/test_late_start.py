"""A run that declares it reads another only after its training (after_training in the profile) starts once that one
started, and waits for it where it reads its folder; without the declaration it starts once that one ended."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from conftest import execute_runs
from helpers.common.folder import Result, RunFolder
from helpers.runs.executor import Executor, Waiting
from helpers.runs.profile import Run, load_profile

HOLD = """
import sys
from pathlib import Path
from helpers.common.folder import RunFolder
with RunFolder(Path(sys.argv[1])).executing():
    print("holding", flush=True)
    sys.stdin.readline()
"""


class Client:
    """What the executor hands to Dask, recorded: the names of the submitted runs; three workers of one thread."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def nthreads(self) -> dict[str, int]:
        return {"tcp://a": 1, "tcp://b": 1, "tcp://c": 1}

    def submit(self, function, spec, *upstream, key, pure):
        self.submitted.append(spec["name"])
        return key


def submitted_as_the_classifier_starts_and_ends(chosen: list[Run]) -> list[list[str]]:
    """The runs the executor submits before the classifier started, once it started, and once it ended."""
    executor = Executor(workers=3)
    executor.client = Client()
    pending = {run.name: Waiting({"name": run.name}, run.needs(), run.after_training) for run in chosen}
    futures: dict = {}
    results: dict = {}
    steps = []
    for event in ("queued", "started", "ended"):
        if event == "started":
            executor.started.add("classifier")  # its task announced that its process started
        if event == "ended":
            results["classifier"] = Result("classifier", "ok")
        before = len(executor.client.submitted)
        executor.submit_ready(pending, futures, results)
        steps.append(executor.client.submitted[before:])
    return steps


def test_the_profiles_let_the_vaes_alone_start_beside_the_classifier():
    for name in ("quick", "full"):  # the GANs' monitor scores samples while they train: no declaration
        declared = {run.name: run.after_training for run in load_profile(name).runs if run.after_training}
        assert declared == {"vae_z2": ["classifier"], "vae_z20": ["classifier"]}, name
    assert not [run.name for name in ("collapse", "study") for run in load_profile(name).runs if run.after_training]


def test_a_run_declaring_after_training_starts_once_that_run_started():
    full = load_profile("full")
    steps = submitted_as_the_classifier_starts_and_ends([full.run(n) for n in ("classifier", "vae_z2", "gan")])
    assert steps == [["classifier"], ["vae_z2"], ["gan"]]


def test_without_the_declaration_a_run_starts_once_that_run_ended():
    full = load_profile("full")
    vae = dataclasses.replace(full.run("vae_z2"), after_training=[])
    steps = submitted_as_the_classifier_starts_and_ends([full.run("classifier"), vae, full.run("gan")])
    assert steps == [["classifier"], [], ["vae_z2", "gan"]]


def code_cells(notebook: Path) -> list[str]:
    """The source of each code cell of a notebook, in order."""
    return [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]


def read_only_after_training(notebook: Path, parameter: str) -> bool:
    """Whether every cell that reads config.<parameter> comes after the notebook's last training cell (a fit call)."""
    cells = code_cells(notebook)
    training = [i for i, source in enumerate(cells) if re.search(r"\bfit\w*\(", source)]
    reading = [i for i, source in enumerate(cells) if f"config.{parameter}" in source]
    return bool(training and reading) and min(reading) > max(training)


def test_every_declared_run_is_read_only_after_the_notebooks_training():
    for name in ("quick", "full"):
        for run in load_profile(name).runs:
            for upstream in run.after_training:
                read_by = [key for key, value in run.params.items() if f"{{runs.{upstream}}}" in str(value)]
                assert read_by and all(read_only_after_training(run.notebook_path, key) for key in read_by), run.name
    gan = load_profile("full").run("gan").notebook_path
    assert not read_only_after_training(gan, "classifier_dir")  # read from the first epoch: may not declare it


def toy_notebook(path: Path, code: str) -> Path:
    """A notebook of two cells: its parameters (source, fifo, output_dir) and code."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('source: str = ""  # the upstream run folder\n'
                                          'fifo: str = ""  # a named pipe shared with the other run\n'
                                          'output_dir: str = "out"  # where metrics.json goes',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


UPSTREAM = """import json, pathlib
with open(fifo) as pipe:  # opening blocks until the dependent run opens the pipe: it cannot end before that starts
    pipe.read()
pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)
pathlib.Path(output_dir, 'metrics.json').write_text(json.dumps({'value': 7}))
"""
DEPENDENT = """import json, pathlib
from helpers.common.folder import RunFolder
upstream = RunFolder(pathlib.Path(source), 'upstream')
began_beside = upstream.executing_elsewhere()
with open(fifo, 'w') as pipe:  # lets the upstream run end
    pipe.write('started')
upstream.wait_until_ended()  # where its output is needed
value = json.loads(pathlib.Path(source, 'metrics.json').read_text())['value']
pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)
pathlib.Path(output_dir, 'metrics.json').write_text(json.dumps({'began_beside': began_beside, 'read': value}))
"""


@pytest.mark.slow
def test_a_declared_run_executes_beside_the_run_it_reads_and_waits_for_its_output(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    chosen = [Run("upstream", str(toy_notebook(tmp_path / "upstream.ipynb", UPSTREAM)), {"fifo": str(fifo)}),
              Run("dependent", str(toy_notebook(tmp_path / "dependent.ipynb", DEPENDENT)),
                  {"source": "{runs.upstream}", "fifo": str(fifo)}, after_training=["upstream"])]
    results = execute_runs(chosen, tmp_path / "build", timeout=60, workers=2)  # a run that never starts: a timeout
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    metrics = json.loads((tmp_path / "build" / "dependent" / "metrics.json").read_text())
    assert metrics == {"began_beside": True, "read": 7}


def test_reading_a_run_that_executes_waits_until_it_ended(tmp_path):
    folder = RunFolder(tmp_path / "classifier", "classifier")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert folder.executing_elsewhere()
        said: list[str] = []
        saying = threading.Event()
        say = lambda line: (said.append(line), saying.set())  # noqa: E731
        waiter = threading.Thread(target=folder.wait_until_ended, args=(say,))
        waiter.start()
        assert saying.wait(timeout=30) and "waiting for run classifier" in said[0]
        assert waiter.is_alive()  # it cannot return while the holder keeps the lock
        holder.stdin.write("\n")
        holder.stdin.flush()
        waiter.join(timeout=30)
        assert not waiter.is_alive()
    finally:
        holder.kill()
        holder.wait()
    assert not folder.executing_elsewhere()
    folder.wait_until_ended(refuse)  # ended: no wait, no line


def refuse(line: str) -> None:
    """A say() that must not be called."""
    raise AssertionError(f"unexpected: {line}")
