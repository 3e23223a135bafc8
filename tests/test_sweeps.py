"""Sweeps and the Dask executor: grids checked before any run, points run side by side, cached, on a scheduler."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_runs import toy_notebook

from conftest import assert_non_blank, execute_runs
from helpers.common.folder import Result
from helpers.runs import runner
from helpers.runs.profile import ProfileError, load_profile, resolved_params, select

ROOT = Path(__file__).resolve().parent.parent


def write_profile(tmp_path: Path, grid: dict, notebook: str, extra_runs: dict | None = None) -> Path:
    """A profile with one sweep 'toy' over the toy notebook (and optionally more runs)."""
    path = tmp_path / "sweep.yaml"
    spec = {"name": "sweep", "sweeps": {"toy": {"notebook": notebook, "params": {"source": "x"}, "grid": grid}},
            "runs": extra_runs or {}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def outputs(build: Path, results: list[Result]) -> dict[str, tuple[str, dict]]:
    """Each run's status and metrics.json, as a user compares two builds."""
    return {r.name: (r.status, json.loads((build / r.name / "metrics.json").read_text())
                     if (build / r.name / "metrics.json").exists() else {}) for r in results}


def test_a_sweep_expands_into_runs_named_from_their_values_and_a_placeholder_waits_for_all(tmp_path):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    profile = load_profile(write_profile(tmp_path, {"value": [1, 2], "seed": [0, 1]}, notebook,
                                         {"summary": {"notebook": notebook, "params": {"source": "{sweep.toy}"}}}))
    points = ["toy_value-1_seed-0", "toy_value-1_seed-1", "toy_value-2_seed-0", "toy_value-2_seed-1"]
    assert profile.sweeps == {"toy": points}
    assert profile.run("toy_value-2_seed-1").params == {"source": "x", "value": 2, "seed": 1}
    assert [r.name for r in select(profile, ["summary"])] == [*points, "summary"]
    assert [r.name for r in select(profile, ["toy"])] == points  # a sweep's name selects its points
    resolved = resolved_params(profile.run("summary"), tmp_path / "build")
    assert resolved["source"].split(",") == [str((tmp_path / "build" / p).resolve()) for p in points]


@pytest.mark.parametrize("grid, message", [
    ({"value": []}, "grid parameter 'value' needs a non-empty list"),
    ({"valeu": [1, 2]}, "has no parameter 'valeu'; did you mean 'value'"),
    ({"value": [1, "two"]}, "value must be int, got 'two'"),
    ({"value": 3}, "needs a non-empty list of values, got 3"),
    ({}, "the grid is empty"),
])
def test_a_malformed_grid_is_refused_in_one_line_before_any_run(tmp_path, grid, message):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    with pytest.raises(ProfileError, match=message) as caught:
        load_profile(write_profile(tmp_path, grid, notebook))
    assert "\n" not in str(caught.value)


def test_the_quick_profile_has_a_small_latent_sweep_and_the_study_reads_all_of_it():
    profile = load_profile("quick")
    points = profile.sweeps["vae_latent"]
    assert len(points) == 8 and all(profile.run(p).params["epochs"] <= 5 for p in points)
    assert set(profile.run("study").needs()) == set(points)


def test_a_kernel_that_fails_to_start_is_retried_twice_and_the_log_says_so(capsys):
    attempts = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("Kernel didn't respond in 60 seconds")

    assert runner.execute_with_retries(flaky, started=lambda: False) == ""
    assert "retry 1 of 2" in capsys.readouterr().out and len(attempts) == 3

    def broken() -> None:
        raise RuntimeError("Kernel died before replying to kernel_info")

    assert "failed to start 3 times" in runner.execute_with_retries(broken, started=lambda: False)
    assert runner.execute_with_retries(broken, started=lambda: True).startswith("RuntimeError")  # ran: no retry


@pytest.mark.slow
def test_four_points_on_two_workers_match_one_worker_and_run_once(tmp_path, capsys):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    profile = load_profile(write_profile(tmp_path, {"value": [1, 2], "seed": [0, 1]}, notebook))
    selected = select(profile, None)
    parallel = execute_runs(selected, tmp_path / "two", timeout=120, workers=2)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == profile.sweeps["toy"]
    assert [r.status for r in parallel] == ["ok"] * 4
    out = capsys.readouterr().out
    assert "2 workers" in out and all(f"{s}" in out for s in (": queued", ": running on", ": ok in"))
    sequential = execute_runs(selected, tmp_path / "one", timeout=120, workers=1)
    assert outputs(tmp_path / "one", sequential) == outputs(tmp_path / "two", parallel) == {
        f"toy_value-{value}_seed-{seed}": ("ok", {"value": value, "seed": seed}) for value in (1, 2) for seed in (0, 1)}
    again = execute_runs(selected, tmp_path / "two", timeout=120, workers=2)
    assert [r.status for r in again] == ["cached"] * 4


@pytest.mark.slow
def test_a_failing_point_is_reported_and_the_others_finish(tmp_path, capsys):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    profile = load_profile(write_profile(tmp_path, {"value": [-1, 1, 2]}, notebook))
    results = {r.name: r for r in execute_runs(select(profile, None), tmp_path / "b", 120, workers=2)}
    assert results["toy_value--1"].failed and "value must be >= 0, got -1" in results["toy_value--1"].error
    assert results["toy_value-1"].status == results["toy_value-2"].status == "ok"
    assert "toy_value--1: failed" in capsys.readouterr().out
    rerun = execute_runs(select(profile, None), tmp_path / "b", 120, workers=2)
    assert [r.status for r in rerun] == ["failed", "cached", "cached"]  # only the failed point ran again


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def loopback_cluster(tmp_path):
    """A `dask scheduler` and a `dask worker` (2 processes) on 127.0.0.1, started as the README says."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                  address.rsplit(":", 1)[1], "--no-dashboard"], **common)
    worker = subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "2", "--nthreads", "1",
                               "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"], **common)
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.slow
def test_the_same_sweep_through_a_loopback_scheduler_gives_the_same_results(tmp_path, loopback_cluster):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    selected = select(load_profile(write_profile(tmp_path, {"value": [1, 2], "seed": [0, 1]}, notebook)),
                      None)
    remote = execute_runs(selected, tmp_path / "remote", timeout=120, scheduler=loopback_cluster)
    assert outputs(tmp_path / "remote", remote) == {  # what the LocalCluster gives (the test above)
        f"toy_value-{value}_seed-{seed}": ("ok", {"value": value, "seed": seed}) for value in (1, 2) for seed in (0, 1)}
    again = execute_runs(selected, tmp_path / "remote", timeout=120, scheduler=loopback_cluster)
    assert [r.status for r in again] == ["cached"] * 4


@pytest.mark.slow  # waits out the connection timeout
def test_an_unreachable_scheduler_is_one_line_and_exit_2_with_nothing_touched(tmp_path):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    profile = write_profile(tmp_path, {"value": [1]}, notebook)
    done = subprocess.run([sys.executable, "-m", "helpers.report", "--profile", str(profile), "--output",
                           str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{free_port()}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "cannot reach the Dask scheduler" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_study_notebook_summarises_a_tiny_sweep(tmp_path):
    import papermill
    import torch

    from helpers.config import VAEConfig
    from helpers.models.vae import VAE
    from helpers.outputs import RunOutputs

    torch.manual_seed(0)
    for latent_dim in (2, 5):
        for seed in (0, 1):
            config = VAEConfig(latent_dim=latent_dim, seed=seed, epochs=3, train_size=500,
                               output_dir=str(tmp_path / "build" / f"vae_latent_latent_dim-{latent_dim}_seed-{seed}"))
            out = RunOutputs.of(config)
            out.save_weights({"model": VAE(latent_dim, config.hidden_dim)})
            history = [{"epoch": e, "train_loss": 200.0 - 10 * e - seed, "validation_loss": 210.0 - 10 * e - latent_dim}
                       for e in range(1, 4)]
            out.write_metrics(config, history, torch.device("cpu"))
    output = tmp_path / "study"
    papermill.execute_notebook(str(ROOT / "notebooks" / "study.ipynb"), str(tmp_path / "study.ipynb"),
                               parameters={"sweep_dirs": str(tmp_path / "build" / "vae_latent_*"),
                                           "output_dir": str(output)},
                               kernel_name="python3", progress_bar=False, cwd=str(ROOT))
    metrics = json.loads((output / "metrics.json").read_text())
    rows = {row["latent_dim"]: row for row in metrics["study"]}
    assert sorted(rows) == [2, 5] and all(row["seeds"] == 2 and row["epochs"] == 3 for row in rows.values())
    assert rows[5]["validation_loss"] == pytest.approx(210 - 30 - 5) and rows[5]["validation_loss_std"] == 0
    assert all(0 <= row["active_units_min"] <= row["active_units_max"] <= size for size, row in rows.items())
    assert {f["name"] for f in metrics["figures"]} == {"latent_size_curves", "latent_size_active_units"}
    per_run = {(run["latent_dim"], run["seed"]): run for run in metrics["runs"]}  # each seed's values, for the tests
    assert len(per_run) == 4 and per_run[(5, 1)]["validation_loss"] == 210 - 30 - 5
    assert per_run[(5, 1)]["train_loss"] == 200 - 30 - 1 and per_run[(5, 1)]["nll"] is None  # no test-set IS-NLL
    for name in ("latent_size_curves", "latent_size_active_units"):
        assert_non_blank(output / f"{name}.png")


def write_points_profile(tmp_path: Path, points: object, notebook: str, grid: dict | None = None) -> Path:
    """A profile with one sweep 'toy' listing its points (and a grid too, when given)."""
    path = tmp_path / "points.yaml"
    sweep = {"notebook": notebook, "params": {"source": "x"}, "points": points} | ({"grid": grid} if grid else {})
    path.write_text(yaml.safe_dump({"name": "points", "sweeps": {"toy": sweep}}, sort_keys=False))
    return path


def test_listed_points_change_one_setting_each_and_are_named_from_it(tmp_path):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    profile = load_profile(write_points_profile(tmp_path, [{"value": 2}, {"seed": 1}, {"value": 3, "seed": 1}],
                                                notebook))
    assert profile.sweeps == {"toy": ["toy_value-2", "toy_seed-1", "toy_value-3_seed-1"]}
    assert profile.run("toy_seed-1").params == {"source": "x", "seed": 1}  # the notebook's default value otherwise
    assert profile.run("toy_value-3_seed-1").params == {"source": "x", "value": 3, "seed": 1}


@pytest.mark.parametrize("points, grid, message", [
    ([], None, "points needs a non-empty list"),
    ([{"value": 2}, {"value": 2}], None, "two points are the same"),
    ([{"valeu": 2}], None, "has no parameter 'valeu'; did you mean 'value'"),
    ([{"value": "two"}], None, "value must be int, got 'two'"),
    (["value"], None, "each point is a non-empty {parameter: value} mapping"),
    ([{"value": 2}], {"seed": [0, 1]}, "either a grid of parameter: \\[values\\] or a list of points"),
])
def test_malformed_points_are_refused_in_one_line_before_any_run(tmp_path, points, grid, message):
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    with pytest.raises(ProfileError, match=message) as caught:
        load_profile(write_points_profile(tmp_path, points, notebook, grid))
    assert "\n" not in str(caught.value)


def test_the_full_profile_is_the_writeups_models_and_the_collapse_study_a_profile_of_its_own():
    full = load_profile("full")  # the writeup's models; the digit-head reading runs in the collapse study
    assert {run.name for run in full.runs} == {"classifier", "vae_z2", "vae_z20", "gan", "aux_gan", "explore"}
    assert not full.sweeps and all(run.params.get("nll_images", 0) == 0 for run in full.runs)  # all test images
    collapse = load_profile("collapse")
    settings = {name: [collapse.run(point) for point in points] for name, points in collapse.sweeps.items()}
    assert all(sorted(run.params["seed"] for run in points) == [0, 1, 2, 3, 4]
               for points in settings.values())  # five seeds per setting, at the notebook's 300 epochs but one
    assert {name for name, points in settings.items() for run in points if "epochs" in run.params} == {"weaker_d"}
    assert settings["weaker_d"][0].params["epochs"] == 1000  # the setting that keeps its digits, run on
    assert collapse.run("collapse").params["at_epoch"] == 300 and set(collapse.comparisons["collapse"].against) == (
        set(settings) - {"writeup"})
    head = settings["digit_head"][0].params  # the auxiliary GAN's other reading: a digit head, the generator not told
    assert head["auxiliary"] and "conditional" not in head
    assert set(collapse.run("collapse").needs()) == {run.name for points in settings.values() for run in points}


def test_a_run_is_submitted_once_the_runs_it_needs_ended_and_a_worker_is_free():
    from helpers.runs.executor import Executor, Waiting

    class Client:  # records what the executor hands to Dask; two workers of one thread
        def __init__(self) -> None:
            self.submitted: list[tuple[str, tuple]] = []

        def nthreads(self) -> dict[str, int]:
            return {"tcp://a": 1, "tcp://b": 1}

        def submit(self, function, spec, *upstream, key, pure):
            self.submitted.append((spec["name"], upstream))
            return key

    executor = Executor(workers=2)
    executor.client = Client()
    needs = {"classifier": [], "gan": ["classifier"], "seed-1": ["classifier"], "seed-2": ["classifier"],
             "collapse": ["gan", "seed-1", "seed-2"]}
    pending = {name: Waiting({"name": name}, needed, []) for name, needed in needs.items()}
    futures: dict = {}
    results: dict = {}
    executor.submit_ready(pending, futures, results)
    assert executor.client.submitted == [("classifier", ())]
    assert list(pending) == ["gan", "seed-1", "seed-2", "collapse"]
    results["classifier"] = Result("classifier", "ok")
    executor.submit_ready(pending, futures, results)
    assert [name for name, _ in executor.client.submitted[1:]] == ["gan", "seed-1"]  # two workers: two at once
    assert executor.client.submitted[1][1] == (results["classifier"],)  # its result, not a future to wait on
    results["gan"] = Result("gan", "ok")
    executor.submit_ready(pending, futures, results)
    assert [name for name, _ in executor.client.submitted[3:]] == ["seed-2"] and list(pending) == ["collapse"]
