"""Layers point one way: the run and report layer load neither torch nor ipywidgets; run-file names are defined once."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from helpers import runfiles

TORCH_FREE = ["helpers.runfiles", "helpers.params", "helpers.runs", "helpers.sweeps", "helpers.executor",
              "helpers.previous", "helpers.profilefile", "helpers.tables", "helpers.runfolders",
              "helpers.runner", "helpers.buildlock", "helpers.report", "helpers.report.cli"]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_importing_the_run_and_report_layer_loads_neither_torch_nor_ipywidgets(module):
    probe = f"import json, sys, {module}; print(json.dumps(sorted({{'torch', 'ipywidgets'}} & set(sys.modules))))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [], f"importing {module} loads {done.stdout.strip()}"


def test_run_file_names_are_spelled_only_in_runfiles():
    names = {value for key, value in vars(runfiles).items() if key.isupper() and isinstance(value, str)}
    spelled = [f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
               for path in sorted((ROOT / "helpers").glob("*.py")) if path.name != "runfiles.py"
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and node.value in names]
    assert spelled == [], "use the names in helpers.runfiles instead: " + ", ".join(spelled)
