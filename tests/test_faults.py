"""Hostile inputs and faults: every bad input is one line (exit 2) that touches nothing; nothing finished is lost.

Each test builds on a build folder holding a finished run (its files' bytes compared afterwards), so "nothing
touched" is checked, not assumed. Tiny notebooks and configs keep the whole file to seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import NOTEBOOKS, ROOT
from helpers.common.files import FIGURES, LOG, METRICS, PREVIOUS, RECORD, WEIGHTS, DiskFullError
from helpers.common.folder import RunFolder
from helpers.config import CONFIGS, CollapseConfig, ExploreConfig, GANConfig, ParameterError, StudyConfig, VAEConfig
from helpers.report import cli
from helpers.report.runview import RunView
from helpers.runs.lock import build_lock
from helpers.runs.profile import check_parameters, load_profile


def finished_run(folder: Path, name: str) -> dict[str, bytes]:
    """A run folder as a finished run leaves it; returns every file's bytes (to compare afterwards)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {METRICS: json.dumps({"kind": "vae", "parameters": {"latent_dim": 2}, "history": [{"epoch": 1}]}),
             FIGURES: json.dumps([{"name": "loss", "file": "loss.png", "caption": "c"}]), "loss.png": "png",
             WEIGHTS: "weights", RECORD: json.dumps({"name": name, "status": "ok", "key": "old", "finished": "then"}),
             LOG: "old log", f"{name}.ipynb": "{}", "checkpoint.pt": "checkpoint", "best.pt": "best"}
    for file, text in files.items():
        (folder / file).write_text(text)
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder (relative name -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """The command line's exit status and its stderr (argparse's errors exit through SystemExit)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def assert_refused(argv: list[str], message: str, build: tuple[Path, dict[str, bytes]], capsys) -> None:
    """The command exits 2 with message as its one line on stderr, and the finished run is left as it was."""
    output, before = build
    code, err = run_cli([*argv, "--output", str(output)], capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert snapshot(output / "quick" / "vae_z2") == before


@pytest.fixture
def build_with_a_finished_run(tmp_path) -> tuple[Path, dict[str, bytes]]:
    """An output folder whose quick/vae_z2 run finished; returns (output folder, its files' bytes)."""
    output = tmp_path / "out"
    before = finished_run(output / "quick" / "vae_z2", "vae_z2")
    return output, before


# ---- bad options and profiles: one line, exit 2, nothing touched --------------------------------------------

def profile_file(tmp_path: Path, text: str) -> str:
    """A profile file with the given YAML text."""
    path = tmp_path / "hostile.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


EARLY_VAE = "  vae:\n    notebook: notebooks/vae.ipynb\n    params: {classifier_dir: \"{runs.classifier}\"}\n"
PROFILES = {
    "typo": ("runs:\n  vae_z2:\n    notebook: notebooks/vae.ipynb\n    parmas: {epochs: 1}\n",
             "runs.vae_z2: unknown key 'parmas' (did you mean 'params'?)"),
    "top-level typo": ("nmae: x\nruns:\n  a: {notebook: notebooks/vae.ipynb}\n",
                       "unknown key 'nmae' (did you mean 'name'?)"),
    "no notebook": ("runs:\n  vae_z2:\n    params: {epochs: 1}\n", "runs.vae_z2.notebook is missing"),
    "a list": ("- vae_z2\n- gan\n", "must be a mapping with runs:"),
    "invalid YAML": ("runs: {vae_z2: [\n", "is not valid YAML at line 2"),
    "empty": ("", "got an empty file"),
    "no runs": ("name: x\n", "has no runs"),
    "a run that is a number": ("runs:\n  a: 5\n", "runs.a must be a mapping"),
    "after_training misspelt": (f"runs:\n  classifier: {{notebook: notebooks/classifier.ipynb}}\n{EARLY_VAE}"
                                "    after_training: [clasifier]\n",
                                "run vae: after_training names 'clasifier', no run of the profile; "
                                "did you mean 'classifier'?"),
    "after_training on a run not read": (f"runs:\n  classifier: {{notebook: notebooks/classifier.ipynb}}\n"
                                         "  gan: {notebook: notebooks/gan.ipynb}\n"
                                         f"{EARLY_VAE}    after_training: [gan]\n",
                                         "run vae: after_training names 'gan', but none of its parameters reads "
                                         "that run's folder"),
    "after_training not a list": (f"runs:\n  classifier: {{notebook: notebooks/classifier.ipynb}}\n{EARLY_VAE}"
                                  "    after_training: classifier\n",
                                  "runs.vae.after_training must be a list of values, got 'classifier'"),
    "after_training on a sweep": ("sweeps:\n  s:\n    notebook: notebooks/vae.ipynb\n    grid: {seed: [0]}\n"
                                  "    after_training: [classifier]\n",
                                  "sweeps.s: unknown key 'after_training'"),
}


@pytest.mark.parametrize("case", PROFILES)
def test_a_bad_profile_is_one_line_and_touches_nothing(case, tmp_path, build_with_a_finished_run, capsys):
    text, message = PROFILES[case]
    assert_refused(["--profile", profile_file(tmp_path, text)], message, build_with_a_finished_run, capsys)
    assert sorted(os.listdir(build_with_a_finished_run[0])) == ["quick"]


OPTIONS = {
    "--threads -1": "argument --threads: must be >= 0, got -1",
    "--threads abc": "argument --threads: must be a whole number, got 'abc'",
    "--timeout 0": "argument --timeout: must be a positive, finite number of seconds",
    "--timeout nan": "argument --timeout: must be a positive, finite number of seconds",
    "--timeout soon": "argument --timeout: must be a number of seconds, got 'soon'",
    "--workers 0": "argument --workers: must be >= 1, got 0",
    "--workers two": "argument --workers: must be a whole number, got 'two'",
}


@pytest.mark.parametrize("option", OPTIONS)
def test_a_bad_option_is_one_line_and_touches_nothing(option, build_with_a_finished_run, capsys):
    assert_refused(option.split(), OPTIONS[option], build_with_a_finished_run, capsys)


@pytest.mark.parametrize("where", ["the file", "inside the file"])
def test_an_output_path_that_is_a_file_is_refused(where, tmp_path, capsys):
    file = tmp_path / "report.html"
    file.write_text("an older report")
    output = file if where == "the file" else file / "sub"
    code, err = run_cli(["--output", str(output)], capsys)
    assert code == 2 and f"argument --output: {file} is a file, not a folder" in err and err.count("\n") == 1
    assert file.read_text() == "an older report"


# ---- parameters checked in the build process before any run folder is cleared -----------------------------

SETS = {  # --set value -> the notebook's own message (the same config class checks both)
    "vae_z2.epochs=abc": "run vae_z2: epochs must be a valid integer, got 'abc'",
    "vae.learning_rate=inf": "run vae_z2: learning_rate must be a finite number, got 'inf'",
    "vae.learning_rate=.nan": "run vae_z2: learning_rate must be a finite number",
    "gan.learning_rate=1000": "run gan: learning_rate must be <= 10, got 1000",
    "seed=18446744073709551616": "seed must be < 18446744073709551616, got 18446744073709551616",
    "train_size=60000": "train_size must be <= 50000 (the training split's images; 0 means all of them), got 60000",
    "vae.hidden_dim=100000000": "hidden_dim=100000000 is too large",
    "gan.noise_dim=10000000000": "noise_dim=10000000000 is too large",
    "explore.vae_z2_dir={runs.gan}": "vae_z2_dir='{runs.gan}' is a GAN run with auxiliary=False; vae_z2_dir needs "
                                     "a VAE run with latent_dim 2",
    "explore.vae_z2_dir={runs.vae_z20}": "vae_z2_dir='{runs.vae_z20}' is a VAE run with latent_dim 20",
    "explore.gan_dir={runs.aux_gan}": "gan_dir needs a GAN run without the digit head",
    "explore.aux_gan_dir={runs.vae_z2}": "aux_gan_dir needs a GAN run with the digit head",
    "study.sweep_dirs={runs.gan}": "sweep_dirs needs a VAE run",
    "collapse.run_dirs={runs.vae_z2}": "run_dirs needs a GAN run",
    "vae_latent_latent_dim-2_seed-0.batch_size=0": "batch_size must be > 0, got 0",
    "gan.conditional=true": "conditional=True needs auxiliary=True",
    "vae_z2.nll_images=20000": "run vae_z2: nll_images must be <= 10000 (the test split's images; 0 means all of "
                               "them), got 20000",
    "collapse.at_epoch=-1": "run collapse: at_epoch must be >= 0, got -1",
    "collapse.at_epoch=11": "run collapse: at_epoch must be <= 10 (the epochs of the shortest run in run_dirs",
}


@pytest.mark.parametrize("assignment", SETS)
def test_a_bad_value_is_refused_before_a_finished_run_is_touched(assignment, build_with_a_finished_run, capsys):
    assert_refused(["--set", assignment], SETS[assignment], build_with_a_finished_run, capsys)
    assert sorted(os.listdir(build_with_a_finished_run[0] / "quick")) == ["vae_z2"]


def test_every_notebook_has_its_config_class_in_the_registry():
    stems = {path.stem for path in NOTEBOOKS.glob("*.ipynb")}
    assert stems <= set(CONFIGS), stems - set(CONFIGS)


def test_profile_runs_and_sweep_points_pass_the_check():
    for name in ("quick", "full", "study"):
        profile = load_profile(name)
        check_parameters(profile.runs, Path("/nonexistent/build"))


def test_values_that_only_look_valid_name_the_parameter(untrained_runs):
    cases = [(VAEConfig, {"learning_rate": float("nan")}, "learning_rate must be a finite number"),
             (GANConfig, {"learning_rate": 11}, "learning_rate must be <= 10"),
             (VAEConfig, {"seed": 2**64}, "seed must be < 18446744073709551616"),
             (VAEConfig, {"batch_size": 10**9}, "batch_size=1000000000 is too large"),
             (ExploreConfig, {"vae_z2_dir": str(untrained_runs["gan"])}, "vae_z2_dir="),
             (ExploreConfig, {"vae_z2_dir": str(untrained_runs["vae_z20"])}, "needs a VAE run with latent_dim 2"),
             (ExploreConfig, {"gan_dir": str(untrained_runs["aux_gan"])}, "needs a GAN run without the digit head"),
             (ExploreConfig, {"aux_gan_dir": str(untrained_runs["gan"])}, "needs a GAN run with the digit head"),
             (StudyConfig, {"sweep_dirs": str(untrained_runs["gan"])}, "sweep_dirs needs a VAE run"),
             (CollapseConfig, {"run_dirs": str(untrained_runs["vae_z2"])}, "run_dirs needs a GAN run"),
             (VAEConfig, {"nll_images": 10_001}, "nll_images must be <= 10000 (the test split's images"),
             (VAEConfig, {"output_dir": "/proc/no-such-place"}, "output_dir='/proc/no-such-place' cannot be made or "
                                                                "written: /proc refuses new files"),
             (GANConfig, {"output_dir": str(untrained_runs["gan"] / "weights.pt" / "x")},
              f"cannot be a folder: {untrained_runs['gan'] / 'weights.pt'} is a file"),
             (CollapseConfig, {"run_dirs": str(untrained_runs["gan"])}, "is a GAN run trained without "
                                                                         "classifier_dir; run_dirs needs runs scored")]
    for config, values, message in cases:
        with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
            config(**values)
    assert VAEConfig(seed=2**64 - 1).seed == 2**64 - 1 and VAEConfig(nll_images=10_000).nll_images == 10_000
    ExploreConfig(vae_z2_dir=str(untrained_runs["vae_z2"]), vae_z20_dir=str(untrained_runs["vae_z20"]),
                  gan_dir=str(untrained_runs["gan"]), aux_gan_dir=str(untrained_runs["aux_gan"]))


def test_a_folder_is_judged_by_the_kind_its_run_wrote_not_by_its_parameter_names(untrained_runs, tmp_path):
    assert json.loads((untrained_runs["vae_z2"] / METRICS).read_text())["kind"] == "vae"
    relabelled = tmp_path / "relabelled"
    shutil.copytree(untrained_runs["vae_z2"], relabelled)
    metrics = json.loads((relabelled / METRICS).read_text())
    (relabelled / METRICS).write_text(json.dumps(metrics | {"kind": "gan"}))  # latent_dim 2 still in its parameters
    with pytest.raises(ParameterError, match=r"^vae_z2_dir='.*' is a GAN run with auxiliary=False; vae_z2_dir needs "
                                             r"a VAE run with latent_dim 2$"):
        ExploreConfig(vae_z2_dir=str(relabelled))


PAPERMILL = {  # notebook, injected parameters, the line the run stops with
    "vae epochs": ("vae", {"epochs": "abc"}, "epochs must be a valid integer, got 'abc'"),
    "vae learning rate": ("vae", {"learning_rate": "inf"}, "learning_rate must be a finite number"),
    "gan train_size": ("gan", {"train_size": 60000}, "train_size must be <= 50000"),
    "explore wrong kind": ("explore", {"vae_z2_dir": "RUN:gan"}, "needs a VAE run with latent_dim 2"),
    "vae nll_images": ("vae", {"nll_images": 20000}, "nll_images must be <= 10000"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", PAPERMILL)
def test_papermill_parameters_give_the_same_line(case, tmp_path, untrained_runs):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, params, message = PAPERMILL[case]
    params = {k: str(untrained_runs[v[4:]]) if str(v).startswith("RUN:") else v for k, v in params.items()}
    params["output_dir"] = str(tmp_path / "run")
    with pytest.raises(PapermillExecutionError) as error:
        papermill.execute_notebook(str(NOTEBOOKS / f"{notebook}.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters=params, kernel_name="python3", cwd=str(ROOT), progress_bar=False)
    assert error.value.ename == "ParameterError" and message in error.value.evalue
    assert not (tmp_path / "run").exists()  # stopped before anything was written


# ---- a finished run is only replaced by a run that finished --------------------------------------------------

def test_a_failed_attempt_puts_the_finished_outputs_back_and_says_so(tmp_path):
    folder = tmp_path / "vae_z2"
    before = finished_run(folder, "vae_z2")
    assert RunFolder(folder, "vae_z2").set_aside()
    assert sorted(os.listdir(folder)) == [PREVIOUS, "best.pt", "checkpoint.pt"]  # they stay, for resume
    (folder / "best.pt").write_text("the failed attempt's best")
    (folder / METRICS).write_text("{half")  # what the failed attempt left
    (folder / "vae_z2.ipynb").write_text("the failed attempt")
    (folder / LOG).write_text("Traceback: boom")
    (folder / RECORD).write_text(json.dumps({"name": "vae_z2", "status": "failed", "error": "boom", "key": "new"}))
    assert RunFolder(folder, "vae_z2").put_back_set_aside()
    after = snapshot(folder)
    finished = (METRICS, FIGURES, "loss.png", WEIGHTS, "best.pt", "vae_z2.ipynb")
    assert {k: after[k] for k in finished} == {k: before[k] for k in finished}
    assert after["vae_z2.failed.ipynb"] == b"the failed attempt" and after[LOG] == b"Traceback: boom"
    record = json.loads(after[RECORD])
    assert record["status"] == "failed" and record["kept"]["key"] == "old"
    view = RunView.read(tmp_path, "vae_z2")
    assert not view.ok and "boom" in view.error() and "previous run, which finished on then" in view.error()
    assert view.metrics == {} and view.figures == {}  # the older run's numbers and figures are not this build's
    assert view.notebook_path().endswith("vae_z2.failed.ipynb")
    assert RunFolder(folder, "vae_z2").reuse_kept("old")  # its settings again: reused
    assert RunView.read(tmp_path, "vae_z2").ok


def test_a_build_killed_during_a_rerun_gets_the_finished_outputs_back(tmp_path):
    folder = tmp_path / "gan"
    before = finished_run(folder, "gan")
    RunFolder(folder, "gan").set_aside()
    (folder / WEIGHTS).write_bytes(b"half")  # then SIGKILL: no settle
    RunFolder(folder, "gan").recover()
    after = snapshot(folder)
    assert after[WEIGHTS] == before[WEIGHTS] and after[METRICS] == before[METRICS]
    assert PREVIOUS not in os.listdir(folder)
    assert "interrupted" in json.loads(after[RECORD])["error"]


def test_a_finished_rerun_replaces_the_outputs(tmp_path):
    folder = tmp_path / "gan"
    finished_run(folder, "gan")
    RunFolder(folder, "gan").set_aside()
    (folder / METRICS).write_text("new")
    (folder / RECORD).write_text(json.dumps({"status": "ok", "key": "new"}))
    RunFolder(folder, "gan").discard_set_aside()
    assert (folder / METRICS).read_text() == "new" and not (folder / PREVIOUS).exists()
    assert not RunFolder(folder, "gan").put_back_set_aside()  # nothing is left to put back


def toy_notebook(path: Path) -> str:
    """A notebook that writes metrics.json and fails with a clear line when value < 0."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('value: int = 1\noutput_dir: str = "out"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import json, pathlib\nif value < 0:\n    raise ValueError(f'value must be "
                                          ">= 0, got {value}')\npathlib.Path(output_dir, 'metrics.json')"
                                          ".write_text(json.dumps({'value': value}))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return str(path)


@pytest.mark.slow
def test_a_rerun_that_fails_keeps_the_finished_run_through_the_executor(tmp_path):
    from helpers.runs.executor import reusable, run_env, run_task
    from helpers.runs.runner import RunSpec

    notebook, folder = toy_notebook(tmp_path / "toy.ipynb"), tmp_path / "build" / "toy"

    def spec(value: int) -> RunSpec:
        return RunSpec(name="toy", notebook=notebook, params={"value": value, "output_dir": str(folder)},
                       folder=str(folder), key=f"key{value}", timeout=120, env=run_env(1))

    assert run_task(spec(2)).status == "ok"
    failed = run_task(spec(-1))
    assert failed.failed and "the previous finished outputs are kept" in failed.error
    assert json.loads((folder / METRICS).read_text()) == {"value": 2}
    assert "value must be >= 0" in (folder / LOG).read_text()
    assert "value must be >= 0" in RunView.read(folder.parent, "toy").error()
    toy = RunFolder(folder, "toy")
    assert not reusable(toy, "key-1") and reusable(toy, "key2")  # its settings again: reused
    assert toy.record()["status"] == "ok"


# ---- the report: atomic, one build per folder, HTML and PDF together ----------------------------------------

def tiny_profile(tmp_path: Path) -> str:
    """A profile of one toy run (no config class: nothing to check, nothing to train)."""
    path = tmp_path / "tiny.yaml"
    notebook = toy_notebook(tmp_path / "toy.ipynb")
    path.write_text(yaml.safe_dump({"name": "tiny", "runs": {"toy": {"notebook": notebook}}}))
    return str(path)


TERMINATED_MID_WRITE = """
import os, signal, sys
from helpers.report import cli, export
real = export.atomic_path

class Halfway:
    def __init__(self, path): self.inner = real(path)
    def __enter__(self):
        partial = self.inner.__enter__()
        partial.write_text("<html>half a rep")
        print("writing", partial, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)  # as a user's kill, while the report is half written
        signal.pause()
    def __exit__(self, *exc): return self.inner.__exit__(*exc)

export.atomic_path = Halfway
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_sigterm_while_the_report_is_written_keeps_the_previous_report(tmp_path, capsys):
    profile, output = tiny_profile(tmp_path), tmp_path / "out"
    assert cli.main(["--profile", profile, "--output", str(output), "--no-run", "--no-pdf"]) == 0
    report, copy = (output / "tiny" / "report.html").read_text(), (output / "report.html").read_text()
    done = subprocess.run([sys.executable, "-c", TERMINATED_MID_WRITE, "--profile", profile, "--output", str(output),
                           "--no-run", "--no-pdf"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 143 and "writing" in done.stdout, done.stderr[-2000:]
    assert (output / "tiny" / "report.html").read_text() == report and (output / "report.html").read_text() == copy
    assert not [p for p in output.rglob("*.partial")]


def test_a_second_build_refuses_with_no_wait_and_touches_nothing(tmp_path, capsys):
    profile, output = tiny_profile(tmp_path), tmp_path / "out"
    with build_lock(output / "tiny"):
        code, err = run_cli(["--profile", profile, "--output", str(output), "--no-run", "--no-pdf", "--no-wait"],
                            capsys)
    assert code == 2 and f"another build (pid {os.getpid()}" in err and err.count("\n") == 1
    assert not (output / "report.html").exists()


@pytest.mark.slow
def test_a_second_build_waits_for_the_first(tmp_path):
    profile, output = tiny_profile(tmp_path), tmp_path / "out"
    with build_lock(output / "tiny"):
        second = subprocess.Popen([sys.executable, "-m", "helpers.report", "--profile", profile, "--output",
                                   str(output), "--no-run", "--no-pdf"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert second.stdout.readline().startswith("waiting: another build")
        assert not (output / "report.html").exists()  # nothing written while it waits
    assert second.wait(timeout=120) == 0 and (output / "report.html").exists()
    second.stdout.close()


def test_a_pdf_not_printed_removes_the_older_one(tmp_path, capsys, monkeypatch):
    from helpers.report import export

    profile, output = tiny_profile(tmp_path), tmp_path / "out"
    for pdf in (output / "tiny" / "report.pdf", output / "report.pdf"):
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(b"%PDF of an older build")
    monkeypatch.setattr(export, "print_pdf", lambda html, pdf, timeout=180: "chromium crashed")
    assert cli.main(["--profile", profile, "--output", str(output), "--no-run"]) == 0
    err = capsys.readouterr().err
    assert "no PDF this time (chromium crashed); removed the older" in err
    assert not (output / "report.pdf").exists() and not (output / "tiny" / "report.pdf").exists()


# ---- a full disk ----------------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (skipped where this machine does not let us mount one)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)  # lazily: a failed writer may hold a file


def test_weights_on_a_full_disk_name_the_folder_and_leave_no_partial_file(small_disk):
    import torch

    from helpers.outputs import RunOutputs

    out = RunOutputs(small_disk)
    out.save_weights({"model": torch.nn.Linear(10, 10)})
    before = snapshot(small_disk)
    with pytest.raises(DiskFullError, match=f"no space left on the disk of {small_disk} while writing {WEIGHTS}"):
        out.save_weights({"model": torch.nn.Linear(1000, 1000)})  # 4 MB
    assert snapshot(small_disk) == before


def test_a_report_on_a_full_disk_is_one_line_and_leaves_no_partial_file(small_disk, tmp_path, capsys):
    profile = tiny_profile(tmp_path)
    (small_disk / "filler").write_bytes(b"x" * (1024 * 1024 - 64 * 1024))  # 64 KiB left: the lock, not the report
    code, err = run_cli(["--profile", profile, "--output", str(small_disk), "--no-run", "--no-pdf"], capsys)
    assert code == 2 and "no space left on the disk of" in err and err.count("\n") == 1, err
    assert not list(small_disk.rglob("*.partial")) and not (small_disk / "report.html").exists()


# ---- training: a SIGKILL mid-epoch resumes exactly; an unreadable checkpoint is moved aside ----------------

TRAINING = """
import json, os, signal, sys
from pathlib import Path
import torch
from helpers.training import train

folder, kill = Path(sys.argv[1]), sys.argv[2] == "kill"
torch.manual_seed(0)
model = torch.nn.Linear(8, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
data = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
target = data.sum(1, keepdim=True)
generator = train.make_generator(0, torch.device("cpu"))

def run_epoch(epoch):
    total = 0.0
    for batch, index in enumerate(torch.randperm(64, generator=generator).split(16)):
        if kill and epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # mid-epoch, after the checkpoint of epoch 2
        loss = ((model(data[index]) - target[index]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return {"loss": total / 4}

history = train.fit(run_epoch, 4, {"model": model, "optimizer": optimizer}, generator, folder / train.CHECKPOINT,
                    {"toy": 1})
print(json.dumps({"loss": [row["loss"] for row in history], "weight": model.weight.tolist()}))
"""


def train_toy(folder: Path, how: str) -> subprocess.CompletedProcess:
    """Train the toy model for 4 epochs in a process of its own ('kill': SIGKILL during epoch 3)."""
    folder.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-c", TRAINING, str(folder), how], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def train_here(folder: Path, capsys) -> tuple[str, dict]:
    """The same training in this process (only the killed one needs a process of its own)."""
    folder.mkdir(exist_ok=True)
    argv = sys.argv
    sys.argv = ["-c", str(folder), "run"]
    try:
        exec(compile(TRAINING, "training", "exec"), {"__name__": "__main__"})
    finally:
        sys.argv = argv
    out = capsys.readouterr().out
    return out, json.loads(out.splitlines()[-1])


@pytest.mark.slow
def test_a_sigkill_mid_epoch_then_the_same_command_gives_the_uninterrupted_run(tmp_path, capsys):
    killed = train_toy(tmp_path / "killed", "kill")
    assert killed.returncode == -9 and not list((tmp_path / "killed").glob("*.partial")), killed.stderr[-2000:]
    out, resumed = train_here(tmp_path / "killed", capsys)
    assert "resuming from" in out and "after epoch 2" in out
    assert resumed == train_here(tmp_path / "whole", capsys)[1]  # same losses per epoch, same final weights


@pytest.mark.parametrize("damage", ["truncated", "zero bytes", "not a checkpoint"])
def test_an_unreadable_checkpoint_is_moved_aside_and_training_starts_afresh(damage, tmp_path, capsys):
    import torch

    from helpers.training import checkpoints, train

    checkpoint = tmp_path / train.CHECKPOINT
    model = torch.nn.Linear(2, 1)
    state = {"model": model}
    generator = train.make_generator(0, torch.device("cpu"))
    checkpoints.save_checkpoint(checkpoint, state, generator, [{"epoch": 1, "loss": 1.0}], {"toy": 1})
    content = checkpoint.read_bytes()
    checkpoint.write_bytes({"truncated": content[: len(content) // 2], "zero bytes": b"",
                            "not a checkpoint": b"hello"}[damage])
    history = train.fit(lambda epoch: {"loss": 0.5}, 2, state, generator, checkpoint, {"toy": 1})
    assert [row["epoch"] for row in history] == [1, 2]  # afresh, not resumed, not stuck
    moved = list(tmp_path.glob("checkpoint.unreadable-*.pt"))
    assert len(moved) == 1 and len(moved[0].read_bytes()) < len(content)
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "cannot be read" in line)
    assert str(checkpoint) in line and moved[0].name in line and "starting from scratch" in line
    assert torch.load(checkpoint, weights_only=True)["history"] == history  # a good one written again


def test_a_checkpoint_on_a_full_disk_names_the_folder_and_leaves_no_partial_file(small_disk):
    import torch

    from helpers.training import checkpoints, train

    state = {"model": torch.nn.Linear(1000, 1000)}  # 4 MB
    with pytest.raises(DiskFullError, match=f"no space left on the disk of {small_disk}"):
        checkpoints.save_checkpoint(small_disk / train.CHECKPOINT, state, train.make_generator(0, torch.device("cpu")),
                                    [], None)
    assert os.listdir(small_disk) == []


def test_weights_and_checkpoints_load_only_with_weights_only_and_pickle_only_after_its_hash():
    import ast

    sources = {str(path.relative_to(ROOT)): path.read_text() for path in sorted((ROOT / "helpers").rglob("*.py"))}
    sources |= {f"{path.name} cell {i}": "".join(cell.source) for path in sorted(NOTEBOOKS.glob("*.ipynb"))
                for i, cell in enumerate(nbformat.read(path, as_version=4).cells) if cell.cell_type == "code"}
    unsafe = [f"{name}:{node.lineno}" for name, text in sources.items()
              for node in ast.walk(ast.parse(text))
              if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load"
              and not any(k.arg == "weights_only" and ast.unparse(k.value) == "True" for k in node.keywords)]
    assert unsafe == [], f"torch.load without weights_only=True: {unsafe}"
    assert [name for name, text in sources.items() if "pickle.load" in text] == ["helpers/data.py"]
    data = sources["helpers/data.py"]
    reader = data[data.index("def write_mnist_from_pickle"):]
    assert reader.index("check_sha256(") < reader.index("pickle.load(")


def test_files_written_atomically_get_the_usual_permissions(tmp_path):
    from helpers.common.files import UMASK, write_text

    write_text(tmp_path / "report.html", "shared")
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o666 & ~UMASK


WORKER = """
import json, subprocess, sys
spec = json.loads(sys.argv[1])
runner = subprocess.Popen([sys.executable, "-m", "helpers.runs.runner", json.dumps(spec)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
print(runner.pid, flush=True)
runner.wait()
"""


def gone(pid: int, polls: int = 10**6) -> bool:
    """Whether a process (not our child) ends, or is a zombie, within polls looks."""
    import psutil

    for _ in range(polls):
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
    return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_run_dies_with_the_worker_that_started_it(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('output_dir: str = "out"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import pathlib, time\npathlib.Path(output_dir, 'started').touch()\n"
                                          "time.sleep(120)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "sleepy.ipynb")
    folder = tmp_path / "run"
    folder.mkdir()
    spec = {"name": "sleepy", "notebook": str(tmp_path / "sleepy.ipynb"), "params": {"output_dir": str(folder)},
            "folder": str(folder), "key": "k", "timeout": 200}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(spec)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    runner = int(worker.stdout.readline())
    while not (folder / "started").exists():  # the notebook runs: kernel and runner are up
        assert worker.poll() is None
    worker.kill()  # as a build stopped with its Dask workers
    worker.wait()
    assert gone(runner), "the runner outlived its worker"
    worker.stdout.close()
