"""Runs: profiles, --only/--set, placeholders, the cache and the executor that never stops on a failure."""

from __future__ import annotations

import json

import nbformat
import pytest

from conftest import execute_runs
from helpers.common.folder import Result, RunFolder, Status
from helpers.common.paths import ROOT
from helpers.runs.profile import (
    ProfileError,
    Run,
    apply_overrides,
    load_profile,
    resolved_params,
    select,
    summary_table,
)


def test_profiles_list_every_experiment_of_the_writeup():
    writeup = {"classifier", "vae_z2", "vae_z20", "gan", "aux_gan", "explore"}
    quick, full = load_profile("quick"), load_profile("full")
    assert writeup <= set(quick.names()) and set(full.names()) == writeup  # full: the writeup's reproduction only
    for profile in (quick, full):
        assert all(profile.run(n).params["classifier_dir"] == "{runs.classifier}"
                   for n in ("vae_z2", "vae_z20", "gan", "aux_gan"))
        assert profile.run("vae_z2").params["latent_dim"] == 2
        assert profile.run("vae_z20").params["latent_dim"] == 20
    head = quick.run("digit_head_gan").params  # the auxiliary GAN's other reading, short, beside the AC-GAN
    assert head["auxiliary"] and "conditional" not in head  # the generator is not told the digit


def test_the_full_profile_orders_its_runs_so_that_two_workers_end_together():
    # Two workers take runs in the profile's order: the VAEs start beside the classifier (they need it only for
    # their final scores), then the GANs, which need it from their first epoch, the AC-GAN (the longest) first.
    assert load_profile("full").names() == ["classifier", "vae_z20", "vae_z2", "aux_gan", "gan", "explore"]


def test_full_profile_uses_the_writeups_epochs_and_default_vae_parameters():
    # The notebooks' defaults are the writeup's settings: the full profile states only what picks each experiment,
    # and the classifier that scores it (the IS-NLL covers all 10,000 test images at Burda et al.'s K = 5000).
    full = load_profile("full")
    judge = {"classifier_dir": "{runs.classifier}"}
    assert full.run("classifier").params == {}
    assert full.run("vae_z2").params == {"latent_dim": 2} | judge
    assert full.run("vae_z20").params == {"latent_dim": 20} | judge
    assert full.run("gan").params == judge
    assert full.run("aux_gan").params == {"auxiliary": True, "conditional": True} | judge
    assert full.run("gan").notebook == full.run("aux_gan").notebook == "notebooks/gan.ipynb"


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(ProfileError, match="quick"):
        load_profile("quikc")


def test_only_pulls_in_the_runs_it_needs_and_orders_them_first():
    profile = load_profile("quick")
    assert [r.name for r in select(profile, ["classifier"])] == ["classifier"]
    assert [r.name for r in select(profile, ["vae_z20"])] == ["classifier", "vae_z20"]
    ordered = [r.name for r in select(profile, ["explore"])]
    assert ordered[0] == "classifier" and ordered[-1] == "explore"
    assert set(ordered) == {"classifier", "vae_z2", "vae_z20", "gan", "aux_gan", "explore"}
    with pytest.raises(ProfileError, match="did you mean 'vae_z2'"):
        select(profile, ["vae_z3"])


def test_set_targets_a_run_a_notebook_or_every_run_that_declares_the_name():
    profile = load_profile("quick")
    chosen = [r for r in select(profile, ["vae_z2", "vae_z20"]) if r.name != "classifier"]
    before = [dict(r.params) for r in chosen]
    by_notebook = apply_overrides(chosen, ["vae.epochs=3", "vae_z20.learning_rate=0.05"], device="cpu")
    assert [r.params["epochs"] for r in by_notebook] == [3, 3]
    assert [r.params.get("learning_rate") for r in by_notebook] == [None, 0.05]
    assert all(r.params["device"] == "cpu" for r in by_notebook)
    assert [r.params for r in chosen] == before  # the profile itself is untouched
    everywhere = apply_overrides(chosen, ["train_size=1000"])
    assert all(r.params["train_size"] == 1000 for r in everywhere)


@pytest.mark.parametrize("assignment, message", [
    ("vea.epochs=3", "did you mean 'vae'"),
    ("vae.epoch=3", "did you mean 'epochs'"),
    ("epochs", "name=value"),
])
def test_bad_set_options_are_refused_with_a_hint(assignment, message):
    chosen = select(load_profile("quick"), ["vae_z2"])
    with pytest.raises(ProfileError, match=message):
        apply_overrides(chosen, [assignment])


def test_placeholders_become_run_folders_and_output_dir_is_the_runs_own(tmp_path):
    explore = load_profile("quick").run("explore")
    params = resolved_params(explore, tmp_path)
    assert params["vae_z2_dir"] == str(tmp_path.resolve() / "vae_z2")
    assert params["output_dir"] == str(tmp_path.resolve() / "explore")
    inside = resolved_params(explore, ROOT / "report" / "build" / "quick")
    assert inside["gan_dir"] == "report/build/quick/gan"  # relative to the repository root, where papermill runs


def toy_notebook(path):
    """A notebook that writes metrics.json, and fails with a clear message when value < 0."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('value: int = 1  # any whole number; a negative one fails\n'
                                  'source: str = ""  # another run folder\n'
                                  'seed: int = 0  # copied to metrics.json\n'
                                  'output_dir: str = "out"  # where metrics.json goes',
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import json, pathlib\nif value < 0:\n"
                                  "    raise ValueError(f'value must be >= 0, got {value}')\n"
                                  "print(f'value is {value}')\n"
                                  "pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
                                  "pathlib.Path(output_dir, 'metrics.json')"
                                  ".write_text(json.dumps({'value': value, 'seed': seed}))"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return str(path)


@pytest.mark.slow
def test_executor_caches_finished_runs_and_keeps_going_after_a_failure(tmp_path, capsys):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    build = tmp_path / "build"
    first = [Run("bad", notebook, {"value": -1}), Run("good", notebook, {"value": 2}),
             Run("after_bad", notebook, {"source": "{runs.bad}"})]
    results = {r.name: r for r in execute_runs(first, build, timeout=120)}
    assert results["bad"].failed and "value must be >= 0, got -1" in results["bad"].error
    assert results["good"].status == "ok"
    assert json.loads((build / "good" / "metrics.json").read_text()) == {"value": 2, "seed": 0}
    assert "value is 2" in (build / "good" / "log.txt").read_text()  # the notebook's output, to follow a run
    assert results["after_bad"].failed and "needs run bad" in results["after_bad"].error
    assert RunFolder(build / "bad", "bad").record()["status"] == "failed"
    assert "bad" in summary_table(list(results.values()))

    again = execute_runs([Run("good", notebook, {"value": 2})], build, timeout=120)
    assert [r.status for r in again] == ["cached"]
    changed = execute_runs([Run("good", notebook, {"value": 5})], build, timeout=120)
    assert changed[0].status == "ok"
    assert json.loads((build / "good" / "metrics.json").read_text()) == {"value": 5, "seed": 0}
    assert "[1/1] good: ok" in capsys.readouterr().out


def test_optional_run_without_its_notebook_is_skipped_not_failed(tmp_path):
    results = execute_runs([Run("later", str(tmp_path / "absent.ipynb"), optional=True),
                            Run("needed", str(tmp_path / "absent.ipynb"))], tmp_path)
    assert [r.status for r in results] == ["skipped", "failed"]
    assert "does not exist" in results[1].error


def test_a_runs_process_keeps_glibcs_allocator_settings_not_the_nannys(monkeypatch):
    from helpers.runs import executor

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # what Dask's nanny exports to its workers
    env = executor.run_process_env(executor.run_env(1))
    assert "MALLOC_TRIM_THRESHOLD_" not in env and "MALLOC_MMAP_THRESHOLD_" not in env  # as in a run by hand
    assert env["OMP_NUM_THREADS"] == "1" and env[executor.PROGRESS_ENV] == "text"


def test_spread_replicas_retrain_the_scoring_classifier_each_replica_reading_its_own():
    from helpers.report.results import MODELS
    from helpers.runs.profile import seed_replicas

    replicas = {run.name: run for run in seed_replicas(load_profile("quick").runs, set(MODELS), 3)}
    assert replicas["classifier.seed2"].params["seed"] == 2  # the classifier retrained at the replica's seed
    assert replicas["vae_z20.seed2"].params["classifier_dir"] == "{runs.classifier.seed2}"
    assert replicas["vae_z20.seed2"].after_training == ["classifier.seed2"] and "explore.seed1" not in replicas


def test_epoch_lines_say_how_long_a_run_and_the_build_have_left_at_the_pace_seen(tmp_path, monkeypatch, capsys):
    from helpers.runs import progress as console

    clock = [0.0]
    monkeypatch.setattr(console.time, "perf_counter", lambda: clock[0])
    gan = ROOT / "notebooks/gan.ipynb"
    progress = console.Progress([Run("gan", gan, {"epochs": 1000}), Run("next", gan), Run("classifier",
                                 ROOT / "notebooks/classifier.ipynb"), Run("explore", "notebooks/explore.ipynb")],
                                tmp_path)  # explore trains nothing: it adds no time
    progress.ended.add("classifier")
    progress.queued("next", "new key")
    progress.started["gan"] = 0.0
    stale = tmp_path / "next"  # a finished run of older code: it starts afresh, its progress does not count
    stale.mkdir()
    (stale / "progress.json").write_text(json.dumps({"epoch": 300, "epochs": 300}))
    (stale / "starts.json").write_text(json.dumps([{"key": "old key"}]))
    folder = RunFolder(tmp_path / "gan", "gan")
    folder.path.mkdir()
    for minute, epoch in enumerate((100, 106, 112), 1):  # an epoch line a minute: ten seconds an epoch
        clock[0] = 60.0 * minute
        (folder.path / "progress.json").write_text(json.dumps({"epoch": epoch, "epochs": 1000, "losses": {}}))
        progress.epochs()
    assert capsys.readouterr().out.splitlines()[1:] == [  # the build: 894 epochs of this run and 300 of the next
        "    gan: epoch 100 of 1000", "    gan: epoch 106 of 1000 (about 2.5 h left)",
        "    the build: about 3.3 h left in epochs, more for evaluation (2 runs to end)",
        "    gan: epoch 112 of 1000 (about 2.5 h left)"]
    (stale / "starts.json").write_text(json.dumps([{"key": "new key"}]))  # interrupted under this build's key
    assert progress.epochs_done("next") == 300  # it resumes where it stopped
    progress.started["next"] = 60.0  # side by side, the build still lasts as long as its longest run has left
    assert progress.build_left() == "about 2.5 h left in epochs, more for evaluation (2 runs to end, 2 side by side)"
    clock[0] = 300.0  # a first run of the notebook ends after 2 epochs and 20 minutes: 1,180 s were not epochs
    progress.work["first"] = ("gan", 2)
    progress.finished(Result("first", Status.OK, minutes=20.0))
    assert progress.overhead["gan"] == pytest.approx(1180.0)
    assert progress.build_left() == "about 2.8 h left (2 runs to end, 2 side by side)"  # 894 epochs and 1,180 s
