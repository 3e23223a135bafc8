"""Every command the README and docs/ give runs as stated.

The test walks the shell commands of README.md and docs/*.md (the lines of their bash blocks and the `code`
spans that start with a program) and checks each one by what it is: a make target and its variables; the
build's options, parsed by the build's own parser and, where they name no placeholder, checked against the
profile as a build would check them; a notebook's -p parameters, checked by the notebook's config class; any
other module's or program's flags against its --help. A command it does not know how to check fails the test,
so a new kind of command cannot slip past. The by-hand papermill examples run at small sizes (marked slow).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROGRAMS = ("make ", ".venv/bin/", "python -m ", "python3 -m ", "dask ", "bash ")
PLACEHOLDERS = {"HOST": "127.0.0.1", "N": "2"}  # the docs' stand-ins for a user's values
VENV_BIN = ROOT / ".venv" / "bin"


def doc_commands() -> list[tuple[str, str]]:
    """(doc, command) for every shell command in the docs, in order."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
        lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
        found += [(doc.name, c) for c in lines + spans if c.startswith(PROGRAMS) and c not in ("make ", "bash ")]
    return list(dict.fromkeys(found))


def words(command: str) -> list[str]:
    """The command's words with the docs' placeholders (HOST, N) replaced by values."""
    return [PLACEHOLDERS.get(word, re.sub(r"\bHOST\b", "127.0.0.1", word)) for word in shlex.split(command)]


def make_targets() -> set[str]:
    """The Makefile's targets."""
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), flags=re.M))


def check_make(argv: list[str]) -> None:
    """make TARGET [VAR=VALUE ...]: a target of ours; PROFILE a profile; ARGS what the build accepts."""
    from helpers.runs.profile import PROFILES

    assert argv[1] in make_targets(), f"no make target {argv[1]!r}"
    for assignment in argv[2:]:
        name, _, value = assignment.partition("=")
        assert name in ("PROFILE", "ARGS", "DATASET"), f"make variable {name!r} is not one the Makefile reads"
        if name == "PROFILE":
            assert (PROFILES / f"{value}.yaml").exists(), f"no profile {value!r}"
        if name == "DATASET":
            assert value in ("mnist", "fashion-mnist")
        if name == "ARGS":
            profile = dict(a.split("=", 1) for a in argv[2:] if a.startswith("PROFILE=")).get("PROFILE", "quick")
            check_build(["--profile", profile, *shlex.split(value)])


def check_build(options: list[str]) -> None:
    """The build's options parse, and (unless they name a cluster or an absent GPU) its runs check out."""
    import torch

    from helpers.report import cli

    args = cli.parse_args(options)
    if args.scheduler or (args.device or "").startswith("cuda") and not torch.cuda.is_available():
        return  # parsed: the rest needs the cluster or the GPU that the docs' user has
    cli.checked_runs(args)


def check_papermill(argv: list[str]) -> None:
    """papermill NOTEBOOK OUT -k python3 -p NAME VALUE ...: the notebook exists, its config accepts every -p."""
    from papermill.cli import _resolve_type

    from helpers.config import CONFIGS

    if "--help-notebook" in argv:
        assert (ROOT / argv[-1]).exists(), argv[-1]
        return
    notebook, options = Path(argv[1]), argv[3:]
    assert (ROOT / notebook).exists() and argv[2].endswith(".ipynb"), argv
    assert options[:2] == ["-k", "python3"], "by-hand runs name the project's kernel"
    pairs = options[2:]
    assert pairs[::3] == ["-p"] * (len(pairs) // 3) and len(pairs) % 3 == 0, f"only -p NAME VALUE follows: {pairs}"
    CONFIGS[notebook.stem](**{name: _resolve_type(value) for name, value in zip(pairs[1::3], pairs[2::3])})


def help_text(program: list[str]) -> str:
    """What `program --help` prints (it must exit 0)."""
    done = subprocess.run([*program, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check_flags(program: list[str], argv: list[str]) -> None:
    """Every --flag of argv is one that program's --help lists."""
    listed = help_text(program)
    for flag in (word.split("=")[0] for word in argv if word.startswith("--")):
        assert re.search(rf"{re.escape(flag)}\b", listed), f"{' '.join(program)} has no option {flag}"


def check_command(command: str) -> None:
    """Check one command by what it is; fail on a kind this test does not know."""
    argv = words(command)
    program = argv[0].removeprefix(".venv/bin/")
    if program == "make":
        check_make(argv)
    elif program == "papermill":
        check_papermill(argv)
    elif program == "jupyter":
        assert argv[1] == "lab" and (ROOT / argv[2]).exists() and (VENV_BIN / "jupyter-lab").exists(), argv
    elif program in ("python", "python3") and argv[1:3] == ["-m", "helpers.report"] and "--help" not in argv:
        check_build(argv[3:])
    elif program in ("python", "python3") and argv[1] == "-m":
        check_flags([sys.executable, "-m", argv[2]], argv[3:])
    elif program == "dask":
        check_flags([str(VENV_BIN / "dask"), argv[1]], argv[2:])
    elif program == "bash":
        assert (ROOT / argv[1]).is_file(), f"{argv[1]} is not in the repository"
    else:
        pytest.fail(f"the docs give a command this test cannot check: {command}")


COMMANDS = doc_commands()


def test_the_docs_give_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    assert [c for d, c in COMMANDS if d == "README.md"][:2] == ["make report", "make test"]
    assert len(readme.splitlines()) <= 160, "the README is a front door: details go to docs/"


def test_no_tracked_file_names_a_place_on_one_machine():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode:
        pytest.skip("not a git checkout")
    machine_paths = re.compile(r"(?<![\w.])/(?:work|home|root|Users|mnt)/|(?<![\w.])/tmp/\w")
    found = [f"{name}:{number}" for name in listed.stdout.splitlines() if (ROOT / name).is_file()
             and not name.endswith((".png", ".pdf", ".pt"))
             for number, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), 1)
             if machine_paths.search(line)]
    assert not found, f"paths of one machine (a user cannot follow them): {found}"


def test_no_doc_names_a_path_outside_the_repository():
    allowed = ("/usr/", "/etc/", "/proc/", "/dev/", "/bin/", "/tmp")  # the system's, named as examples
    for doc in DOCS:
        paths = re.findall(r"(?<![\w.~])(/[A-Za-z][\w.-]*(?:/[\w.-]+)*)", re.sub(r"https?://\S+", "", doc.read_text()))
        outside = [p for p in paths if not p.startswith(allowed) and not (ROOT / p.lstrip("/")).exists()
                   and p.count("/") > 1]
        assert not outside, f"{doc.name} names paths outside the repository: {outside}"


def in_a_subprocess(command: str) -> bool:
    """Whether checking the command starts a program (its --help), which takes seconds: the slow tier's."""
    argv = words(command)
    return argv[0] in ("python", "python3", "dask") and argv[1:3] != ["-m", "helpers.report"] or "--help" in argv


@pytest.mark.parametrize("doc, command", [pytest.param(d, c, marks=[pytest.mark.slow] * in_a_subprocess(c),
                                                       id=f"{d}:{c[:60]}") for d, c in COMMANDS])
def test_each_command_in_the_docs_is_one_we_accept(doc, command):
    check_command(command)


BY_HAND = [c for _, c in COMMANDS if c.startswith(".venv/bin/papermill notebooks/")]
SMALL = ["-p", "train_size", "500", "-p", "nll_samples", "20"]  # the by-hand runs, at small sizes


@pytest.mark.slow
@pytest.mark.parametrize("command", BY_HAND)
def test_a_by_hand_notebook_run_finishes(command, tmp_path):
    argv = words(command)
    notebook = argv[1]
    small = SMALL if Path(notebook).stem == "vae" else SMALL[:3]
    output = [] if "output_dir" in argv else ["-p", "output_dir", "outputs/run"]
    argv = [str(VENV_BIN / "papermill"), str(ROOT / notebook), str(tmp_path / argv[2]), *argv[3:], *small, *output]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = tmp_path / (argv[argv.index("output_dir") + 1])
    assert (folder / "metrics.json").exists() and (folder / "weights.pt").exists()


def test_the_docs_python_snippets_import_what_they_name():
    imports = [line for doc in DOCS for block in re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
               for line in block.splitlines() if line.startswith(("from ", "import "))]
    assert imports, "the docs show how to load a trained model"
    for line in imports:
        exec(line.split("#")[0], {})


# ---- every number of README comes from a results file or from the package's own settings ----------------------

NUMBER = re.compile(r"(?<![\w.\-/])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w/])")


def spellings(value: float) -> set[str]:
    """The ways README may write a number: as an integer, with 0 to 2 decimals, with thousands commas, or as a
    percentage of a fraction."""
    forms = {f"{value:.{d}f}" for d in range(3)} | {f"{value:,.{d}f}" for d in range(3)} | {f"{value:g}", str(value)}
    if float(value).is_integer():
        forms |= {str(int(value)), f"{int(value):,}"}
    if 0 < abs(value) <= 1:
        forms |= {f"{100 * value:.{d}f}" for d in range(3)}
    return forms


def numbers_in(data: object) -> set[str]:
    """Every number of a JSON value, numbers inside its strings included, in all its spellings."""
    if isinstance(data, dict):
        return set().union(*(numbers_in(v) for v in data.values()), set())
    if isinstance(data, list):
        return set().union(*(numbers_in(v) for v in data), set())
    if isinstance(data, bool) or data is None:
        return set()
    if isinstance(data, int | float):
        return spellings(data)
    tokens = NUMBER.findall(str(data))  # a date or a time keeps its leading zeros
    return set(tokens).union(*(spellings(float(t.replace(",", ""))) for t in tokens))


def results_numbers() -> set[str]:
    """The numbers of the committed results files and the bench record."""
    files = [*sorted((ROOT / "results").glob("*.json")), ROOT / "bench" / "results.json"]
    return set().union(*(numbers_in(json.loads(f.read_text())) for f in files if f.exists()))


def settings_numbers() -> set[str]:
    """The package's own settings: every config's defaults, the profiles' parameters and grids, the writeup's and
    the published reference numbers, and the pinned versions."""
    from helpers import config
    from helpers.common import reference

    configs = [c() for c in vars(config).values() if isinstance(c, type) and issubclass(c, config.Config)
               and c is not config.Config and not getattr(c, "__abstractmethods__", None) and safe_default(c)]
    found = set().union(*(numbers_in(c.to_dict()) for c in configs))
    profiles = (ROOT / "helpers" / "runs" / "profiles").glob("*.yaml")
    found |= set().union(*(numbers_in(yaml.safe_load(p.read_text())) for p in profiles))
    found |= numbers_in([v for k, v in vars(reference).items() if k.isupper()])
    return found | numbers_in((ROOT / "requirements.txt").read_text() + (ROOT / "pyproject.toml").read_text())


def safe_default(cls: type) -> bool:
    """Whether the config class builds with its defaults alone."""
    try:
        cls()
    except Exception:
        return False
    return True


def prose_numbers(text: str) -> list[str]:
    """The numbers README states in prose: outside code blocks, code spans and links' targets."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]+`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return NUMBER.findall(text)


def test_every_number_in_the_readme_comes_from_a_results_file_or_the_packages_settings():
    known = results_numbers() | settings_numbers()
    unknown = [n for n in prose_numbers((ROOT / "README.md").read_text()) if n not in known]
    assert not unknown, (f"README states {sorted(set(unknown))}, found in no results file (results/*.json, "
                         "bench/results.json) and no setting of the package: generate them from a record")


def test_a_hand_typed_result_is_caught_and_code_is_not_prose():
    known = results_numbers() | settings_numbers()
    stated = prose_numbers("Ours reached 123.47 nats (`-p epochs 7`, [docs](docs/x2.md)).")
    assert stated == ["123.47"] and "123.47" not in known


def test_every_committed_record_ran_committed_code_that_did_not_change_under_it(capsys):
    from helpers.report import readme

    assert readme.check_provenance(), capsys.readouterr().out  # records older than per-run starts only warn
    quick = json.loads((readme.RESULTS / "quick.json").read_text())
    assert all(run["starts"] for run in quick["provenance"]["runs"].values() if run["status"] in ("ok", "cached"))
