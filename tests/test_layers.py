"""The wings are folders and imports point down: what is torch-free, and what enters the cache key, follows from
the folder a module sits in; the import graph has no circle; run-file names are defined once."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys

import pytest

import helpers
from bench.import_graph import mermaid, module_graph, module_name, wing, wing_graph
from conftest import ROOT
from helpers.common import files as runfiles

MODULES = {name: path for path in sorted((ROOT / "helpers").rglob("*.py")) if (name := module_name(path))}
GRAPH = module_graph()


def test_the_import_graph_has_no_circle():
    graphlib.TopologicalSorter(GRAPH).prepare()  # raises CycleError naming the circle


def test_imports_point_down_the_floors_and_the_layers_never_reach_the_science():
    upward = [f"{a} -> {b}" for a, needs in GRAPH.items() for b in needs
              if wing(a) and wing(b) and helpers.FLOORS[wing(b)] > helpers.FLOORS[wing(a)]]
    into_science = [f"{a} -> {b}" for a, needs in GRAPH.items() for b in needs
                    if wing(a) in helpers.TORCH_FREE and wing(b) in helpers.SCIENCE]
    assert upward == [] and into_science == [], upward + into_science


def test_every_module_sits_in_a_wing_on_a_floor():
    assert {wing(m) for m in MODULES if wing(m)} == set(helpers.FLOORS)


@pytest.mark.parametrize("torch_free", helpers.TORCH_FREE)
def test_importing_the_run_and_report_layer_loads_neither_torch_nor_ipywidgets(torch_free):
    modules = [m for m in MODULES if wing(m) == torch_free and not m.endswith("__main__")]
    probe = (f"import json, sys; import {', '.join(modules)}; "
             "print(json.dumps(sorted({'torch', 'ipywidgets'} & set(sys.modules))))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [], f"importing helpers.{torch_free} loads {done.stdout.strip()}"


def test_the_cache_key_covers_every_wing_a_notebook_imports():
    from helpers.runs.cachekey import source_digest

    notebook_imports = {wing(m) for path in (ROOT / "notebooks").glob("*.ipynb")
                        for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"
                        for m in imports_of_source("".join(cell["source"]))}
    assert notebook_imports.isdisjoint(helpers.NOT_HASHED), notebook_imports & set(helpers.NOT_HASHED)
    assert len(source_digest()) == 64


def test_the_drawing_of_the_wings_is_current():
    drawing = (ROOT / "docs" / "architecture.md").read_text()
    assert mermaid(wing_graph(GRAPH)) in drawing, "redraw: python -m bench.import_graph (docs/architecture.md)"


def imports_of_source(source: str) -> set[str]:
    """The helpers modules a notebook cell imports."""
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.startswith(("%", "!"))))
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
            and node.module.startswith("helpers.")}


def test_run_file_names_are_spelled_only_in_runfiles():
    names = {value for key, value in vars(runfiles).items() if key.isupper() and isinstance(value, str)}
    spelled = [f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
               for path in MODULES.values() if path.name != "files.py"
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and node.value in names]
    assert spelled == [], "use the names in helpers.common.files instead: " + ", ".join(spelled)
