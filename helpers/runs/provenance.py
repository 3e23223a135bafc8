"""Which code a run ran: the commit and the state of the work tree when each of its starts began, kept in its
folder, and the check that a record's runs ran committed code that did not change between their starts.

A run that resumes from its checkpoint starts again; each start appends (time, commit, dirty, cache key, the
arithmetic of its machine) to the folder's starts.json, which outlives the run. A start whose cache key differs
from the last start's (the code it hashes or its parameters changed), or a checkpoint with no start recorded,
discards the checkpoint and begins the list afresh: nothing trained by other code is resumed. The finished run's
record (run.json) keeps the list, and a results record lists each run's starts.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from helpers import NOT_HASHED
from helpers.common.files import CHECKPOINT, PROGRESS, read_json, write_json
from helpers.common.machine import cpu_flags, cpu_name
from helpers.common.paths import ROOT

STARTS = "starts.json"  # this attempt's starts: time, commit, dirty, key (helpers.runs.provenance)
HASHED = ("helpers", "notebooks", *(f":(exclude)helpers/{wing}" for wing in NOT_HASHED))  # git pathspecs
NUMERIC_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # the CPU flags that change the arithmetic


def git_run(*args: str) -> subprocess.CompletedProcess | None:
    """A git command run in the repository (None when git cannot run)."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def git(*args: str) -> str:
    """A git command's output in the repository ('' when it failed, or git or the repository is missing)."""
    done = git_run(*args)
    return done.stdout.strip() if done and done.returncode == 0 else ""


def has_commit(commit: str) -> bool:
    """Whether this repository holds the commit."""
    done = git_run("cat-file", "-e", f"{commit}^{{commit}}") if commit else None
    return bool(done and done.returncode == 0)


def tree_state() -> dict[str, Any]:
    """The commit checked out and whether the files runs hash (helpers' science wings, notebooks) differ from it."""
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--", *HASHED))}


def arithmetic() -> dict[str, Any]:
    """The arithmetic a run started in this process does (besides its threads, which the run records itself): the
    CPU, its flags that change the arithmetic, and the vector instructions torch's kernels were told to use
    (ATEN_CPU_CAPABILITY, else 'native')."""
    return {"cpu": cpu_name(), "cpu_flags": sorted(set(NUMERIC_FLAGS) & cpu_flags()),
            "cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY") or "native"}


def short_commit() -> str:
    """The short commit, marked when the work tree has changes ('unknown' outside a repository)."""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def record_start(folder: Path, key: str) -> list[dict[str, Any]]:
    """Append this start to the folder's starts. A checkpoint left by a start with another cache key, or by one
    that recorded none, is discarded with the older starts: the run trains afresh on this code."""
    starts = read_starts(folder)
    last = starts[-1].get("key") if starts else None
    if last != key:
        if (folder / CHECKPOINT).exists():
            print(f"runner: the checkpoint here was trained under cache key {last or 'unknown'}, not {key}: the "
                  "run starts afresh", flush=True)
        for name in (CHECKPOINT, PROGRESS):
            (folder / name).unlink(missing_ok=True)
        starts = []
    starts.append({"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), **tree_state(), "key": key,
                   "arithmetic": arithmetic()})
    write_json(folder / STARTS, starts)
    return starts


def read_starts(folder: Path) -> list[dict[str, Any]]:
    """The starts recorded in a run folder (none before its first)."""
    return read_json(folder / STARTS, [])


def code_problems(name: str, starts: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the code one run ran: no starts recorded, uncommitted changes, a commit this repository
    lacks, starts whose commits differ in the files runs hash, or a last start whose files differ from the checked
    out commit's (the record no longer describes this code); one line each, none when all is well."""
    if not starts:
        return [f"{name}: no start recorded (built before runs recorded their commit)"]
    problems = [f"{name}: started {s['started']} with uncommitted changes to the code it hashes"
                for s in starts if s.get("dirty")]
    commits = list(dict.fromkeys(s.get("commit", "") for s in starts))
    missing = [c for c in commits if not has_commit(c)]
    problems += [f"{name}: commit {c[:10] or '(none)'} is not in this repository" for c in missing]
    known = [c for c in commits if c not in missing]
    problems += [f"{name}: resumed at {b[:10]} across a change to the code it hashes since {a[:10]}"
                 for a, b in zip(known, known[1:]) if git("diff", "--name-only", a, b, "--", *HASHED)]
    last = starts[-1].get("commit", "")
    changed = git("diff", "--name-only", last, "HEAD", "--", *HASHED).split() if last in known else []
    if changed:
        problems.append(f"{name}: ran at {last[:10]}; the code it hashes has changed since "
                        f"({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''}): rebuild the record")
    return problems
