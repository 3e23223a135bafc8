"""Which code a run ran: each start's commit, state and key in its folder, and the check of a record against them."""

from __future__ import annotations

import json
import subprocess

import pytest

from helpers.common.files import CHECKPOINT, METRICS
from helpers.common.folder import RunFolder
from helpers.report import readme
from helpers.runs import provenance
from helpers.runs.cachekey import source_digest


def test_a_start_with_the_same_key_resumes_and_one_with_another_key_starts_afresh(tmp_path, capsys):
    provenance.record_start(tmp_path, "k1")
    (tmp_path / CHECKPOINT).write_bytes(b"epoch 7")  # the run trained a while, then stopped
    starts = provenance.record_start(tmp_path, "k1")  # resumed: the checkpoint stays
    assert [s["key"] for s in starts] == ["k1", "k1"] and (tmp_path / CHECKPOINT).exists()
    assert starts[0]["commit"] == provenance.git("rev-parse", "HEAD") and isinstance(starts[0]["dirty"], bool)
    starts = provenance.record_start(tmp_path, "k2")  # other code or parameters: nothing of k1's training is kept
    assert [s["key"] for s in starts] == ["k2"] and not (tmp_path / CHECKPOINT).exists()
    assert "the checkpoint here was trained under cache key k1, not k2" in capsys.readouterr().out
    (tmp_path / provenance.STARTS).unlink()
    (tmp_path / CHECKPOINT).write_bytes(b"epoch 20 of 20, by code no start recorded")
    provenance.record_start(tmp_path, "k2")
    assert not (tmp_path / CHECKPOINT).exists()  # a checkpoint of unknown code is not resumed either


@pytest.fixture
def repository(tmp_path, monkeypatch) -> dict[str, str]:
    """A git repository with three commits: a hashed file, a change to it, then a change to the report layer only."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    commits = {}
    for name, path, text in (("first", "helpers/models/x.py", "a = 1\n"), ("changed", "helpers/models/x.py", "a = 2\n"),
                             ("report", "helpers/report/y.py", "b = 1\n")):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
        git("add", "-A")
        git("commit", "-qm", name)
        commits[name] = git("rev-parse", "HEAD")
    monkeypatch.setattr(provenance, "ROOT", tmp_path)
    return commits


def start(commit: str, dirty: bool = False) -> dict:
    """One recorded start."""
    return {"started": "2026-12-07 01:00:00 UTC", "commit": commit, "dirty": dirty, "key": "k"}


def test_runs_that_ran_committed_code_pass_and_each_fault_is_one_line(repository):
    changed, report_only = repository["changed"], repository["report"]
    assert provenance.code_problems("gan", [start(changed), start(report_only)]) == []  # the report layer is not hashed
    assert provenance.code_problems("gan", [start(repository["first"]), start(changed)]) == [
        f"gan: resumed at {changed[:10]} across a change to the code it hashes since {repository['first'][:10]}"]
    assert provenance.code_problems("gan", [start(repository["first"])]) == [  # a record of older code than HEAD's
        f"gan: ran at {repository['first'][:10]}; the code it hashes has changed since (helpers/models/x.py): "
        "rebuild the record"]
    back = provenance.code_problems("gan", [start(repository["first"]), start(changed), start(repository["first"])])
    assert back[-1].startswith(f"gan: ran at {repository['first'][:10]}; the code it hashes has changed since")
    assert provenance.code_problems("gan", [start(changed, dirty=True)]) == [
        "gan: started 2026-12-07 01:00:00 UTC with uncommitted changes to the code it hashes"]
    assert provenance.code_problems("gan", [start("0" * 40)]) == ["gan: commit 0000000000 is not in this repository"]
    assert provenance.code_problems("gan", []) == ["gan: no start recorded (built before runs recorded their commit)"]


def test_the_readme_check_fails_on_a_record_whose_run_ran_uncommitted_code(repository, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    runs = {"gan": {"status": "ok", "starts": [start(repository["changed"], dirty=True)]},
            "vae": {"status": "ok", "starts": [start(repository["changed"])]}}
    (results / "tiny.json").write_text(json.dumps({"profile": "tiny", "provenance": {"runs": runs}}))
    assert not readme.check_provenance(results)
    assert capsys.readouterr().out.splitlines() == [
        "error: results/tiny.json: gan: started 2026-12-07 01:00:00 UTC with uncommitted changes to the code it hashes"]
    runs["gan"]["starts"][0]["dirty"] = False
    (results / "tiny.json").write_text(json.dumps({"profile": "tiny", "provenance": {"runs": runs}}))
    assert readme.check_provenance(results)
    for run in runs.values():  # both ran code older than the checked-out commit's: one line for the two
        run["starts"] = [start(repository["first"])]
    (results / "tiny.json").write_text(json.dumps({"profile": "tiny", "provenance": {"runs": runs}}))
    capsys.readouterr()
    assert not readme.check_provenance(results)
    assert capsys.readouterr().out.splitlines() == [
        f"error: results/tiny.json: 2 runs (gan, ...): ran at {repository['first'][:10]}; the code it hashes has "
        "changed since (helpers/models/x.py): rebuild the record"]


@pytest.mark.slow
def test_a_finished_run_records_the_commit_it_started_at_and_refuses_code_changed_under_its_key(tmp_path):
    from test_faults import toy_notebook

    from helpers.runs.runner import RunSpec, run

    folder = tmp_path / "toy"

    def spec(sources: str) -> RunSpec:
        return RunSpec(name="toy", notebook=toy_notebook(tmp_path / "toy.ipynb"), params={"output_dir": str(folder)},
                       folder=str(folder), key="k1", sources=sources, timeout=120)

    assert run(spec(source_digest())).status == "ok"
    record = RunFolder(folder, "toy").record()
    assert [(s["commit"], s["key"]) for s in record["starts"]] == [(provenance.git("rev-parse", "HEAD"), "k1")]
    assert (folder / METRICS).exists() and provenance.read_starts(folder)[-1]["key"] == "k1"  # kept for the next
    refused = run(spec("another digest"))
    assert refused.failed and "the helpers' code changed after the build computed this run's cache key" in refused.error
