"""The package survives a real install: its wheel holds every module and the profiles, declares what it needs,
and every module imports from the installed copy; what it reads from a checkout is refused in one line there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # builds a wheel and installs it


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, zipfile.ZipFile]:
    """The wheel built from this checkout, installed (without dependencies) into a folder of its own."""
    folder = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    leftover = not (ROOT / "build").exists()  # setuptools builds in the checkout's build/: removed again below
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT)], check=True,
                   capture_output=True)
    if leftover:
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    wheel = next(folder.glob("*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(folder / "site"), str(wheel)], check=True,
                   capture_output=True)
    return folder, zipfile.ZipFile(wheel)


def run_installed(folder: Path, code: list[str]) -> subprocess.CompletedProcess:
    """Python with the installed copy first on its path, away from the checkout."""
    return subprocess.run([sys.executable, *code], cwd=folder, capture_output=True, text=True,
                          env={"PYTHONPATH": str(folder / "site"), "PATH": "/usr/bin:/bin"})


def test_the_wheel_holds_every_module_and_the_profiles(installed):
    _, wheel = installed
    shipped = set(wheel.namelist())
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "helpers").rglob("*.py")}
    profiles = {str(p.relative_to(ROOT)) for p in (ROOT / "helpers" / "runs" / "profiles").glob("*.yaml")}
    assert sources | profiles <= shipped, sorted((sources | profiles) - shipped)


def test_the_wheel_declares_what_the_package_imports(installed):
    _, wheel = installed
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("METADATA"))).decode()
    required = {line.split()[1].split("[")[0].split("<")[0].split(">")[0].split(";")[0].lower()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert {"torch", "papermill", "nbconvert", "pydantic", "dask", "ipywidgets", "pyyaml", "tqdm"} <= required


def test_every_module_imports_from_the_installed_copy(installed):
    folder, wheel = installed
    modules = sorted(name[:-3].replace("/", ".").removesuffix(".__init__") for name in wheel.namelist()
                     if name.startswith("helpers/") and name.endswith(".py") and not name.endswith("__main__.py"))
    probe = (f"import importlib, json, helpers; [importlib.import_module(m) for m in {modules!r}]; "
             "print(json.dumps(helpers.__file__))")
    done = run_installed(folder, ["-c", probe])
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout).startswith(str(folder / "site"))


def test_the_report_needs_a_checkout_and_says_so_in_one_line(installed):
    folder, _ = installed
    done = run_installed(folder, ["-m", "helpers.report", "--no-run", "--no-pdf"])
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "built from a checkout of the repository" in lines[0]
