"""The import graph of helpers, drawn: modules and the helpers modules each imports, grouped into wings.

    .venv/bin/python -m bench.import_graph           Mermaid of the wings and the imports between them
    .venv/bin/python -m bench.import_graph --modules one line per module: what it imports

docs/architecture.md holds the drawing (tests/test_layers.py checks that it is current, and the rules it shows).
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELPERS = ROOT / "helpers"


def module_name(path: Path) -> str:
    """helpers/runs/executor.py -> helpers.runs.executor (a package's __init__ is the package)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def wing(module: str) -> str:
    """The wing a module belongs to: its first folder, or its own name for a top-level module ('' for helpers)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def is_module(name: str) -> bool:
    """Whether a dotted helpers name is a module or a package of the source tree."""
    path = HELPERS.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").exists() or path.is_dir()


def imports(path: Path) -> set[str]:
    """The helpers modules a file imports (at its top or inside functions), as module names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            for alias in node.names:  # 'from helpers.models import vae' names a module; else the module itself
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if is_module(candidate) else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "helpers"}
    return found - {"helpers"}


def module_graph() -> dict[str, set[str]]:
    """Each helpers module and the helpers modules it imports (itself and the top package left out)."""
    modules = {module_name(path): path for path in sorted(HELPERS.rglob("*.py"))}
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def wing_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between wings (imports inside a wing left out)."""
    wings: dict[str, set[str]] = {}
    for name, needs in graph.items():
        if wing(name):
            wings.setdefault(wing(name), set()).update(wing(m) for m in needs if wing(m) and wing(m) != wing(name))
    return wings


def mermaid(wings: dict[str, set[str]]) -> str:
    """A Mermaid flowchart, top to bottom: an arrow from each wing to each wing it imports."""
    lines = ["flowchart TD"]
    lines += [f"    {a} --> {b}" for a in sorted(wings) for b in sorted(wings[a])]
    lines += [f"    {a}" for a in sorted(wings) if not wings[a] and not any(a in v for v in wings.values())]
    return "\n".join(lines)


def main() -> None:
    """Print the drawing, or the modules' imports."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_graph", description=__doc__.splitlines()[0])
    parser.add_argument("--modules", action="store_true", help="one line per module instead of the wings")
    graph = module_graph()
    if parser.parse_args().modules:
        for name, needs in graph.items():
            print(f"{name} -> {', '.join(sorted(needs))}")
    else:
        print(mermaid(wing_graph(graph)))


if __name__ == "__main__":
    main()
