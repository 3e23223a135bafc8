"""A hostile but fair user: tries bad inputs against the report's command line and the notebooks, and counts.

Every try is one bad input (a broken profile, a bad --set value or option, a bad papermill parameter) given to
the package exactly as a user would, in a process of its own, against a temporary folder that holds a finished
run. A try is *refused clearly* when it stops at once with one line that names the problem and leaves every
finished file byte for byte as it was (see docs/hostile.md for the exact rules).

    .venv/bin/python -m bench.hostile                  # both halves (a few minutes on 2 cores)
    .venv/bin/python -m bench.hostile --only cli       # python -m helpers.report ...
    .venv/bin/python -m bench.hostile --only papermill # papermill NOTEBOOK OUT -p NAME VALUE

It prints one line per try, then a Markdown table of the counts and every try that was not refused clearly.
Exit status 0 when every try was refused clearly, 1 otherwise. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PROFILE_NAME = "hostile"
CLI_TIMEOUT = 180.0  # seconds before a command-line try is killed (a refusal takes a few)
PAPERMILL_LIMIT = 60.0  # a refusal must come within this: no training started
PAPERMILL_TIMEOUT = 120.0  # seconds before a papermill try is killed
# Every command-line try also gets these: a bad input that is wrongly accepted then only rebuilds the report from
# the existing folders instead of training for hours. The checks refused here all come before that choice.
CLI_SAFETY = ["--no-run", "--no-pdf", "--no-wait"]
TINY = {"epochs": 1, "train_size": 1000}  # valid values, so that a wrongly accepted try ends soon
VAE_TINY = TINY | {"nll_samples": 10, "nll_images": 100}
SCORED = {"classifier_dir": "{runs.classifier}"}  # the collapse study compares runs a classifier scored


@dataclass
class Place:
    """The temporary folder: what the tries must leave untouched (guarded/) and where papermill writes (work/)."""

    root: Path

    @property
    def guarded(self) -> Path:
        """Everything hashed before and after each try."""
        return self.root / "guarded"

    @property
    def build(self) -> Path:
        """The --output folder: holds hostile/vae_z2, a finished run."""
        return self.guarded / "build"

    @property
    def finished(self) -> Path:
        """The finished run of the build folder."""
        return self.build / PROFILE_NAME / "vae_z2"

    @property
    def a_file(self) -> Path:
        """A file where a folder is expected."""
        return self.guarded / "report.html"

    @property
    def runs(self) -> Path:
        """Untrained but finished run folders for the papermill tries' run-folder parameters."""
        return self.guarded / "runs"

    @property
    def profile(self) -> Path:
        """The tiny profile of the command-line tries."""
        return self.root / f"{PROFILE_NAME}.yaml"

    @property
    def profiles(self) -> Path:
        """Broken profiles."""
        return self.root / "profiles"

    @property
    def work(self) -> Path:
        """papermill's working folder and output notebooks."""
        return self.root / "work"


@dataclass
class Try:
    """One bad input: the command, the words its refusal must hold, and (papermill) the folder it must not make."""

    kind: str  # "cli" or "papermill"
    name: str
    argv: list[str]
    expected: list[str]
    not_made: Path | None = None


@dataclass
class Outcome:
    """What one try did: refused clearly or not, and if not, why, with the end of its error output."""

    attempt: Try
    seconds: float
    problems: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Whether the try was refused clearly."""
        return not self.problems


@dataclass
class Finished:
    """A finished process: exit status (None when killed at the timeout), stderr, seconds."""

    code: int | None
    stderr: str
    seconds: float


# ---- the temporary folder ---------------------------------------------------------------------------------------

def profile_spec() -> dict:
    """The tiny profile: every notebook the --set tries name, with valid settings, and a two-point sweep."""
    vae, gan = str(NOTEBOOKS / "vae.ipynb"), str(NOTEBOOKS / "gan.ipynb")
    slots = {"vae_z2_dir": "{runs.vae_z2}", "vae_z20_dir": "{runs.vae_z20}", "gan_dir": "{runs.gan}",
             "aux_gan_dir": "{runs.aux_gan}"}
    runs = {"vae_z2": {"notebook": vae, "params": VAE_TINY | {"latent_dim": 2}},
            "vae_z20": {"notebook": vae, "params": VAE_TINY | {"latent_dim": 20}},
            "classifier": {"notebook": str(NOTEBOOKS / "classifier.ipynb"), "params": dict(TINY)},
            "gan": {"notebook": gan, "params": TINY | SCORED},
            "aux_gan": {"notebook": gan, "params": TINY | SCORED | {"auxiliary": True, "conditional": True}},
            "explore": {"notebook": str(NOTEBOOKS / "explore.ipynb"), "params": slots},
            "collapse": {"notebook": str(NOTEBOOKS / "collapse.ipynb"),
                         "params": {"run_dirs": "{runs.gan},{runs.aux_gan}"}},
            "study": {"notebook": str(NOTEBOOKS / "study.ipynb"), "params": {"sweep_dirs": "{sweep.vae_latent}"}}}
    sweep = {"notebook": vae, "params": dict(VAE_TINY), "grid": {"latent_dim": [2, 5], "seed": [0]}}
    return {"name": PROFILE_NAME, "description": "bench/hostile.py's tiny profile", "runs": runs,
            "sweeps": {"vae_latent": sweep}}


def untrained_run(folder: Path, kind: str, **values: object) -> Path:
    """A run folder as a notebook leaves it (weights.pt, metrics.json) with an untrained model of kind vae or gan."""
    import torch

    from helpers.config import GANConfig, VAEConfig
    from helpers.models import gan
    from helpers.models.vae import VAE
    from helpers.outputs import RunOutputs

    folder.mkdir(parents=True, exist_ok=True)
    config = (VAEConfig if kind == "vae" else GANConfig)(output_dir=str(folder), **TINY, **values)
    torch.manual_seed(0)
    if kind == "vae":
        modules = {"model": VAE(config.latent_dim, config.hidden_dim, config.activation)}
    else:
        generator, discriminator = gan.models_from_parameters(config.to_dict())
        modules = {"generator": generator, "discriminator": discriminator}
    out = RunOutputs.of(config)
    out.save_weights(modules)
    out.write_metrics(config, [], torch.device("cpu"))
    return folder


def scoring_classifier(folder: Path) -> str:
    """A folder that passes for a finished classifier run (the GAN runs name it; no try reads its weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({"parameters": {"channels": 4, "epochs": 1}}))
    (folder / "weights.pt").write_bytes(b"")
    return str(folder)


def finished_build_run(folder: Path) -> None:
    """The build folder's vae_z2: an untrained VAE run with the files the runner adds when a run finishes."""
    untrained_run(folder, "vae", latent_dim=2)
    (folder / "run.json").write_text(json.dumps({"name": "vae_z2", "status": "ok", "key": "old",
                                                 "finished": "before the hostile user came"}))
    (folder / "log.txt").write_text("a finished run's log\n")
    (folder / "vae_z2.ipynb").write_text((NOTEBOOKS / "vae.ipynb").read_text())


def make_place(root: Path, papermill: bool) -> Place:
    """Lay out the temporary folder; the papermill tries also get four untrained runs and two non-runs."""
    place = Place(root)
    for folder in (place.profiles, place.work):
        folder.mkdir(parents=True)
    place.profile.write_text(yaml.safe_dump(profile_spec(), sort_keys=False))
    finished_build_run(place.finished)
    place.a_file.write_text("an older report\n")
    if papermill:
        untrained_run(place.runs / "vae_z2", "vae", latent_dim=2)
        untrained_run(place.runs / "vae_z20", "vae", latent_dim=20)
        classifier = scoring_classifier(place.runs / "classifier")
        untrained_run(place.runs / "gan", "gan", classifier_dir=classifier)
        untrained_run(place.runs / "aux_gan", "gan", auxiliary=True, conditional=True, classifier_dir=classifier)
        untrained_run(place.runs / "unscored_gan", "gan")
        (place.runs / "empty").mkdir()
        (place.runs / "half").mkdir()
        (place.runs / "half" / "metrics.json").write_text(json.dumps({"parameters": {"noise_dim": 64}}))
    return place


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under folder: a file's sha256, or 'folder'."""
    return {str(p.relative_to(folder)): "folder" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))}


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths made, removed or changed between two snapshots."""
    made = [f"made {p}" for p in after if p not in before]
    removed = [f"removed {p}" for p in before if p not in after]
    changed = [f"changed {p}" for p in before if p in after and before[p] != after[p]]
    return made + removed + changed


# ---- the command-line tries -------------------------------------------------------------------------------------

BAD_PROFILES = {  # file stem -> (YAML text, what the refusal says)
    "key typo parmas": ("runs:\n  vae_z2:\n    notebook: notebooks/vae.ipynb\n    parmas: {epochs: 1}\n",
                        "runs.vae_z2: unknown key 'parmas' (did you mean 'params'?)"),
    "top-level typo nmae": ("nmae: x\nruns:\n  a: {notebook: notebooks/vae.ipynb}\n",
                            "unknown key 'nmae' (did you mean 'name'?)"),
    "run without notebook": ("runs:\n  vae_z2:\n    params: {epochs: 1}\n", "runs.vae_z2.notebook is missing"),
    "a list": ("- vae_z2\n- gan\n", "must be a mapping with runs:"),
    "invalid YAML": ("runs: {vae_z2: [\n", "is not valid YAML at line 2"),
    "empty file": ("", "got an empty file"),
    "no runs": ("name: x\n", "has no runs"),
    "a run that is a number": ("runs:\n  a: 5\n", "runs.a must be a mapping"),
    "sweep key typo gird": ("runs:\n  a: {notebook: notebooks/vae.ipynb}\nsweeps:\n  s:\n"
                            "    notebook: notebooks/vae.ipynb\n    gird: {latent_dim: [2, 5]}\n",
                            "sweeps.s: unknown key 'gird' (did you mean 'grid'?)"),
    "sweep over an undeclared parameter": ("runs:\n  a: {notebook: notebooks/vae.ipynb}\nsweeps:\n  s:\n"
                                           "    notebook: notebooks/vae.ipynb\n    grid: {latnet_dim: [2, 5]}\n",
                                           "has no parameter 'latnet_dim'; did you mean 'latent_dim'?"),
    "placeholder of no run": ("runs:\n  a:\n    notebook: notebooks/explore.ipynb\n"
                              "    params: {gan_dir: '{runs.nope}'}\n", "no run 'nope'"),
}

OPTIONS = {  # options -> what the refusal says
    "--threads -1": "argument --threads: must be >= 0, got -1",
    "--threads abc": "argument --threads: must be a whole number, got 'abc'",
    "--timeout 0": "argument --timeout: must be a positive, finite number of seconds",
    "--timeout nan": "argument --timeout: must be a positive, finite number of seconds",
    "--timeout soon": "argument --timeout: must be a number of seconds, got 'soon'",
    "--workers 0": "argument --workers: must be >= 1, got 0",
    "--workers two": "argument --workers: must be a whole number, got 'two'",
    "--only nope": f"no run 'nope' in profile '{PROFILE_NAME}'",
    "--profile quikc": "no profile 'quikc'; known profiles: ",
    "--device tpu": "device must be auto, cpu, cuda, cuda:N or mps; got 'tpu'",
    "--set epochs": "--set needs name=value or run.name=value, got 'epochs'",
    "--set vea.epochs=3": "no run or notebook 'vea'; did you mean 'vae'?",
}

SETS = {  # --set value -> what the refusal says (the notebook's own message, with the run's name)
    "vae_z2.epochs=abc": "run vae_z2: epochs must be a valid integer, got 'abc'",
    "vae.learning_rate=inf": "run vae_z2: learning_rate must be a finite number, got 'inf'",
    "vae.learning_rate=.nan": "run vae_z2: learning_rate must be a finite number",
    "gan.learning_rate=1000": "run gan: learning_rate must be <= 10, got 1000",
    "seed=18446744073709551616": "seed must be < 18446744073709551616, got 18446744073709551616",
    "train_size=60000": "train_size must be <= 50000",
    "vae.hidden_dim=100000000": "hidden_dim=100000000 is too large",
    "gan.noise_dim=10000000000": "noise_dim=10000000000 is too large",
    "gan.conditional=true": "run gan: conditional=True needs auxiliary=True",
    "vae.activation=sigmoid": "activation must be",
    "vae.latnet_dim=5": "has no parameter 'latnet_dim'; did you mean 'latent_dim'?",
    "vae_z2.nll_images=20000": "run vae_z2: nll_images must be <= 10000",
    "explore.vae_z2_dir={runs.gan}": "vae_z2_dir='{runs.gan}' is a GAN run with auxiliary=False; vae_z2_dir needs "
                                     "a VAE run with latent_dim 2",
    "explore.vae_z2_dir={runs.vae_z20}": "vae_z2_dir='{runs.vae_z20}' is a VAE run with latent_dim 20",
    "explore.gan_dir={runs.aux_gan}": "gan_dir needs a GAN run without the digit head",
    "explore.aux_gan_dir={runs.vae_z2}": "aux_gan_dir needs a GAN run with the digit head",
    "explore.gan_dir=/no/such/run": "gan_dir='/no/such/run' is not a finished run folder",
    "study.sweep_dirs={runs.gan}": "sweep_dirs needs a VAE run",
    "collapse.run_dirs={runs.vae_z2}": "run_dirs needs a GAN run",
    "collapse.at_epoch=-1": "run collapse: at_epoch must be >= 0, got -1",
    "collapse.at_epoch=5": "run collapse: at_epoch must be <= 1",
    "vae_latent_latent_dim-2_seed-0.batch_size=0": "batch_size must be > 0, got 0",
}


def cli_try(place: Place, name: str, extra: list[str], expected: str) -> Try:
    """python -m helpers.report on the tiny profile and the build folder, then extra (later options win)."""
    argv = [sys.executable, "-m", "helpers.report", "--profile", str(place.profile), "--output", str(place.build),
            *CLI_SAFETY, *extra]
    return Try("cli", name, argv, [expected])


def profile_tries(place: Place) -> list[Try]:
    """One try per broken profile file, and a profile path that is a folder."""
    tries = []
    for name, (text, expected) in BAD_PROFILES.items():
        path = place.profiles / f"{name.replace(' ', '_')}.yaml"
        path.write_text(text)
        tries.append(cli_try(place, f"profile: {name}", ["--profile", str(path)], expected))
    folder = place.profiles / "a_folder.yaml"
    folder.mkdir()
    tries.append(cli_try(place, "profile: a folder named .yaml", ["--profile", str(folder)], "cannot be read"))
    return tries


def option_tries(place: Place) -> list[Try]:
    """Bad options: numbers, names, an output or results path that is a file, a device this machine lacks."""
    tries = [cli_try(place, option, option.split(), expected) for option, expected in OPTIONS.items()]
    for label, path in (("--output FILE", place.a_file), ("--output FILE/sub", place.a_file / "sub")):
        tries.append(cli_try(place, label, ["--output", str(path)], f"argument --output: {place.a_file} is a file"))
    tries.append(cli_try(place, "--results FILE", ["--results", str(place.a_file)],
                         f"argument --results: {place.a_file} is a file"))
    if not cuda_available():
        tries.append(cli_try(place, "--device cuda (no CUDA here)", ["--device", "cuda"],
                             "CUDA is not available here"))
    return tries


def set_tries(place: Place) -> list[Try]:
    """Bad --set values, each checked before any run folder is touched."""
    return [cli_try(place, f"--set {value}", ["--set", value], expected) for value, expected in SETS.items()]


def cli_tries(place: Place) -> list[Try]:
    """Every command-line try."""
    return profile_tries(place) + option_tries(place) + set_tries(place)


def cuda_available() -> bool:
    """Whether torch sees CUDA here (a --device cuda try is only bad where it does not)."""
    import torch

    return torch.cuda.is_available()


# ---- the papermill tries -----------------------------------------------------------------------------------------

def base_parameters(place: Place, notebook: str) -> dict[str, object]:
    """Valid parameters for a notebook, so that each try has one bad value: small sizes, finished runs."""
    runs = place.runs
    return {"vae": dict(VAE_TINY), "gan": dict(TINY), "classifier": dict(TINY),
            "explore": {"vae_z2_dir": runs / "vae_z2", "vae_z20_dir": runs / "vae_z20", "gan_dir": runs / "gan",
                        "aux_gan_dir": runs / "aux_gan"},
            "study": {"sweep_dirs": f"{runs / 'vae_z2'},{runs / 'vae_z20'}"},
            "collapse": {"run_dirs": f"{runs / 'gan'},{runs / 'aux_gan'}"}}[notebook]


def papermill_cases(place: Place) -> list[tuple[str, dict[str, object], str]]:
    """(notebook, the bad parameter(s), words the refusal must hold besides the parameter's name)."""
    runs = place.runs
    device = "cuda" if not cuda_available() else "tpu"
    return [
        ("vae", {"latnet_dim": 5}, "did you mean 'latent_dim'?"),
        ("vae", {"epochs": "abc"}, "epochs must be a valid integer, got 'abc'"),
        ("vae", {"learning_rate": "inf"}, "learning_rate must be a finite number"),
        ("vae", {"train_size": 60000}, "train_size must be <= 50000"),
        ("vae", {"nll_images": 20000}, "nll_images must be <= 10000"),
        ("vae", {"output_dir": "/proc/no-such-place"}, "cannot be made or written"),
        ("vae", {"output_dir": "/etc/hostname/x"}, "cannot be a folder: /etc/hostname is a file"),
        ("vae", {"classifier_dir": runs / "gan"}, "classifier_dir needs a classifier run"),
        ("vae", {"hidden_dim": 100000000}, "hidden_dim=100000000 is too large"),
        ("vae", {"activation": "sigmoid"}, "activation must be"),
        ("gan", {"conditional": "True"}, "conditional=True needs auxiliary=True"),
        ("gan", {"noise_dim": 10000000000}, "noise_dim=10000000000 is too large"),
        ("gan", {"seed": 2**64}, "seed must be < 18446744073709551616"),
        ("gan", {"device": device}, "device"),
        ("classifier", {"channels": 0}, "channels must be > 0, got 0"),
        ("classifier", {"learning_rate": "nan"}, "learning_rate must be a finite number"),
        ("explore", {"vae_z2_dir": runs / "gan"}, "vae_z2_dir needs a VAE run with latent_dim 2"),
        ("explore", {"gan_dir": runs / "empty"}, "is not a finished run folder"),
        ("explore", {"aux_gan_dir": runs / "vae_z2"}, "aux_gan_dir needs a GAN run with the digit head"),
        ("study", {"sweep_dirs": runs / "gan"}, "sweep_dirs needs a VAE run"),
        ("study", {"sweep_dirs": runs / "no-such-*"}, "sweep_dirs names no run folder"),
        ("collapse", {"at_epoch": -1}, "at_epoch must be >= 0, got -1"),
        ("collapse", {"at_epoch": 100000}, "at_epoch must be <= 1"),
        ("collapse", {"run_dirs": runs / "half"}, "is not a finished run folder: weights.pt missing"),
        ("collapse", {"run_dirs": runs / "vae_z2"}, "run_dirs needs a GAN run"),
        ("collapse", {"run_dirs": runs / "unscored_gan"}, "trained without classifier_dir"),
    ]


def papermill_try(place: Place, index: int, notebook: str, bad: dict[str, object], words: str) -> Try:
    """papermill NOTEBOOK OUT -k python3 -p NAME VALUE ..., run in work/ with output_dir in work/ (unless tried)."""
    run = place.work / f"{index:02d}-run"
    parameters = base_parameters(place, notebook) | {"output_dir": run} | bad
    argv = [sys.executable, "-m", "papermill", str(NOTEBOOKS / f"{notebook}.ipynb"),
            str(place.work / f"{index:02d}-{notebook}.ipynb"), "-k", "python3", "--cwd", str(place.work),
            "--no-progress-bar"]
    for name, value in parameters.items():
        argv += ["-p", name, str(value)]
    shown = " ".join(f"{k} {v}" for k, v in bad.items()).replace(str(place.root), "TMP")
    return Try("papermill", f"{notebook}: {shown}", argv, [*bad, words], None if "output_dir" in bad else run)


def papermill_tries(place: Place) -> list[Try]:
    """Every papermill try."""
    return [papermill_try(place, i, *case) for i, case in enumerate(papermill_cases(place), 1)]


# ---- running and judging -----------------------------------------------------------------------------------------

def run_process(argv: list[str], timeout: float) -> Finished:
    """Run argv from the repository root in a session of its own; kill the whole session at the timeout."""
    start = time.perf_counter()
    with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # papermill's kernel too: it is in the same session
            _, stderr = process.communicate()
            code = None
    return Finished(code, stderr, time.perf_counter() - start)


def lines_of(text: str) -> list[str]:
    """The non-empty lines of text."""
    return [line for line in text.splitlines() if line.strip()]


def cli_problems(attempt: Try, done: Finished) -> list[str]:
    """Why a command-line try was not refused clearly: not exit 2, not one 'error:' line, not the message."""
    lines = lines_of(done.stderr)
    problems = [] if done.code == 2 else ["killed at the timeout" if done.code is None else f"exit {done.code}"]
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, not 1")
    if not lines or not lines[-1].startswith("error:"):
        problems.append("the last line does not start with 'error:'")
    problems += [f"no {words!r} in stderr" for words in attempt.expected if words not in done.stderr]
    return problems


def papermill_problems(attempt: Try, done: Finished) -> list[str]:
    """Why a papermill try was not refused clearly: it ran, ran long, or stopped with another error."""
    lines = lines_of(done.stderr)
    last = lines[-1] if lines else ""
    if done.code is None:
        return [f"still running after {PAPERMILL_TIMEOUT:.0f} s: killed (training had started)"]
    problems = ["papermill exited 0: the notebook ran"] if done.code == 0 else []
    if done.seconds > PAPERMILL_LIMIT:
        problems.append(f"took {done.seconds:.0f} s (> {PAPERMILL_LIMIT:.0f} s)")
    if not last.startswith("ParameterError:"):
        problems.append("the last line is not 'ParameterError: ...'")
    problems += [f"no {words!r} in the last line" for words in attempt.expected if words not in last]
    if attempt.not_made is not None and attempt.not_made.exists():
        problems.append(f"output_dir {attempt.not_made.name} was made")
    return problems


def judge(attempt: Try, place: Place) -> Outcome:
    """Run one try; refused clearly only when its own rules hold and nothing under guarded/ changed."""
    before = snapshot(place.guarded)
    timeout = CLI_TIMEOUT if attempt.kind == "cli" else PAPERMILL_TIMEOUT
    done = run_process(attempt.argv, timeout)
    problems = (cli_problems if attempt.kind == "cli" else papermill_problems)(attempt, done)
    problems += changes(before, snapshot(place.guarded))
    tail = [line.replace(str(place.root), "TMP") for line in lines_of(done.stderr)[-3:]]
    return Outcome(attempt, done.seconds, problems, tail)


def run_all(tries: list[Try], place: Place) -> list[Outcome]:
    """Run the tries one after another, printing a line for each."""
    outcomes = []
    for i, attempt in enumerate(tries, 1):
        outcome = judge(attempt, place)
        verdict = "refused clearly" if outcome.refused else "NOT REFUSED CLEARLY"
        print(f"{attempt.kind:9} {i:2d}/{len(tries)}  {outcome.seconds:5.1f} s  {verdict:19}  {attempt.name}",
              flush=True)
        outcomes.append(outcome)
    return outcomes


# ---- the report --------------------------------------------------------------------------------------------------

def table(outcomes: list[Outcome], kinds: list[str]) -> str:
    """The Markdown table of counts: tries, refused clearly, not, per kind and in all."""
    rows = ["| bad inputs tried | tries | refused clearly | not refused clearly |", "|---|---:|---:|---:|"]
    label = {"cli": "CLI (`python -m helpers.report`)", "papermill": "papermill (`-p NAME VALUE`)"}
    for kind in kinds:
        mine = [o for o in outcomes if o.attempt.kind == kind]
        refused = sum(o.refused for o in mine)
        rows.append(f"| {label[kind]} | {len(mine)} | {refused} | {len(mine) - refused} |")
    refused = sum(o.refused for o in outcomes)
    rows.append(f"| **all** | {len(outcomes)} | {refused} | {len(outcomes) - refused} |")
    return "\n".join(rows)


def failures(outcomes: list[Outcome]) -> str:
    """Every try not refused clearly: what was wrong and the last lines it printed on stderr."""
    items = []
    for o in outcomes:
        if not o.refused:
            items.append(f"- {o.attempt.kind} `{o.attempt.name}` ({o.seconds:.1f} s): {'; '.join(o.problems)}\n"
                         + "\n".join(f"    > {line[:400]}" for line in o.tail))
    return "\n".join(items) if items else "Every try was refused clearly."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description="A hostile but fair user: bad "
                                     "inputs against the report's command line and the notebooks, counted.")
    parser.add_argument("--only", choices=["cli", "papermill"], help="run one half only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Lay out the temporary folder, run the tries, print the table; 0 when every try was refused clearly."""
    args = parse_args(argv)
    kinds = [args.only] if args.only else ["cli", "papermill"]
    root = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        place = make_place(root, "papermill" in kinds)
        tries = (cli_tries(place) if "cli" in kinds else []) + (papermill_tries(place) if "papermill" in kinds
                                                                   else [])
        start = time.perf_counter()
        outcomes = run_all(tries, place)
        minutes = (time.perf_counter() - start) / 60
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\n{table(outcomes, kinds)}\n\n{failures(outcomes)}\n\n({len(outcomes)} tries in {minutes:.1f} min)")
    return 0 if all(o.refused for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
