"""Run-folder files are written atomically: a failed or interrupted write keeps the old file and leaves nothing."""

from __future__ import annotations

import errno
import json

import pytest

from helpers.common import files as runfiles


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / runfiles.METRICS
    runfiles.write_json(target, {"a": 1})
    runfiles.write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == [runfiles.METRICS]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "report.html"
    runfiles.write_text(target, "the previous report")
    with pytest.raises(RuntimeError), runfiles.atomic_path(target) as partial:
        partial.write_text("half a rep")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_two_writers_never_share_a_temporary_name(tmp_path):
    target = tmp_path / runfiles.CHECKPOINT
    with runfiles.atomic_path(target) as first, runfiles.atomic_path(target) as second:
        assert first != second and first.parent == second.parent == tmp_path


def test_a_full_disk_is_named_and_leaves_nothing(tmp_path):
    target = tmp_path / "sub" / runfiles.WEIGHTS
    with pytest.raises(runfiles.DiskFullError) as error, runfiles.atomic_path(target) as partial:
        partial.write_bytes(b"x" * 10)
        raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos") from OSError(
            errno.ENOSPC, "No space left on device")
    assert "no space left on the disk of" in str(error.value) and str(target.parent) in str(error.value)
    assert list(target.parent.iterdir()) == []
