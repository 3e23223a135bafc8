"""A run that reads another only after its training starts before that one ends, and waits for it where it reads."""

from __future__ import annotations

import subprocess
import sys
import threading

from helpers import runs
from helpers.common.folder import RunFolder
from helpers.runs.executor import Executor

HOLD = """
import sys
from pathlib import Path
from helpers.common.folder import RunFolder
with RunFolder(Path(sys.argv[1])).executing():
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_the_vaes_start_once_the_classifier_started_and_the_gans_once_it_ended():
    full = runs.load_profile("full")
    assert full.run("vae_z2").needs_after_training() == ["classifier"]
    assert full.run("gan").needs_after_training() == []  # the GAN's monitor scores samples while it trains
    assert full.run("explore").needs_after_training() == []

    class Client:  # records what the executor hands to Dask; three workers of one thread
        submitted: list[str] = []

        def nthreads(self) -> dict[str, int]:
            return {"tcp://a": 1, "tcp://b": 1, "tcp://c": 1}

        def submit(self, function, spec, *upstream, key, pure):
            self.submitted.append(spec["name"])
            return key

    executor = Executor(workers=3)
    executor.client = Client()
    executor.after_training = {"vae_z2": ["classifier"], "gan": []}
    pending = {name: ({"name": name}, needs) for name, needs in
               {"classifier": [], "vae_z2": ["classifier"], "gan": ["classifier"]}.items()}
    futures, results = {}, {}
    executor.submit_ready(pending, futures, results)
    assert executor.client.submitted == ["classifier"]
    executor.started.add("classifier")  # its task announced that its process started
    executor.submit_ready(pending, futures, results)
    assert executor.client.submitted == ["classifier", "vae_z2"] and list(pending) == ["gan"]


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
