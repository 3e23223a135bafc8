"""One build per folder: a second build waits or refuses; a dead holder's lock is taken over."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.runs.lock import BuildLockedError, build_lock

HOLD = """
import sys, time
from pathlib import Path
from helpers.runs.lock import build_lock
with build_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # hold until told (or killed)
"""


@pytest.fixture
def holder(tmp_path):
    """A second process holding the build folder's lock until its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_build_refuses_with_no_wait(tmp_path, holder):
    with pytest.raises(BuildLockedError, match=f"pid {holder.pid}.*is using {tmp_path}"):
        with build_lock(tmp_path, wait=False):
            pass


def test_a_second_build_waits_and_then_runs(tmp_path, holder):
    said = []

    def say(line):
        said.append(line)
        holder.stdin.close()  # the first build finishes while the second waits

    with build_lock(tmp_path, say=say):
        pass
    assert said and said[0].startswith("waiting: another build")


def test_the_lock_of_a_killed_build_is_taken_over(tmp_path, holder):
    holder.kill()
    holder.wait()
    with build_lock(tmp_path, wait=False):
        pass
