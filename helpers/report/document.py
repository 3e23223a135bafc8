"""The document: the section templates (report/sections/*.md.j2) rendered with this build's runs.

Templates place figures, tables, run blocks and explorers by label (``{{ fig("vae-losses", ...) }}``) and
cite them with ``{{ ref("vae-losses") }}``. Numbers are given in the order things are laid out and
references are filled in after the whole text is rendered, so a conditional figure never breaks one;
section headings are numbered the same way (``## Title {-}`` stays unnumbered). HTML is escaped by
Jinja's autoescape. The result is a notebook: prose as markdown cells, each placed block as the HTML
output of a code cell (its source names what it shows), for helpers.report.export to convert.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import jinja2
import nbformat
from markupsafe import Markup

from helpers.common.paths import ROOT
from helpers.common.reference import WRITEUP_GAN_CLAIM, WRITEUP_GAN_EPOCHS, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config.registry import MODELS
from helpers.report import collapse, findings
from helpers.report import results as record
from helpers.report.runview import RunView, devices

SECTIONS = ROOT / "report" / "sections"
TEMPLATES = ROOT / "report" / "templates"
MAIN = "report.md.j2"
TITLE = "Variational autoencoders and GANs on MNIST: a reproduction"
BLOCK = re.compile(r"<!--block (\d+)-->")
REF = re.compile(r"⟦ref:([^⟧]*)⟧")
HEADING = re.compile(r"^(#{2,3}) (.+?)(\s*\{-\})?\s*$", re.M)


class DocumentError(ValueError):
    """A template places a label twice or cites one that nothing placed."""


@dataclass
class Panel:
    """One image of a figure: a run's saved figure by name, with an optional label under it."""

    run: RunView
    name: str
    label: str = ""


def environment() -> jinja2.Environment:
    """Jinja for the sections and blocks: autoescaped, undefined names are errors."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([SECTIONS, TEMPLATES]), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["number"] = findings.fmt
    env.filters["run_row"] = lambda v: [v.name, v.status, v.record.get("minutes"), v.notebook_path(),
                                        v.record.get("key", "")]
    return env


class Document:
    """The report under construction: numbered blocks by label, then markdown and HTML cells."""

    def __init__(self, env: jinja2.Environment | None = None, placed: frozenset[tuple[str, str]] | None = None):
        self.env = env or environment()
        self.blocks: list[tuple[str, str]] = []  # (note, HTML)
        self.numbers: dict[str, str] = {}  # label -> "Figure 3" / "Table 1"
        self.counts = {"Figure": 0, "Table": 0}
        self.placed = placed  # (run, figure) pairs the sections place by name (None: this pass finds them)
        self.shown: set[tuple[str, str]] = set()  # what this pass placed

    def unplaced(self, run: RunView) -> list[str]:
        """The run's figures no section places by name (none while the first pass is still finding those)."""
        if self.placed is None:
            return []
        return [name for name in run.figures if (run.name, name) not in self.placed]

    def place(self, html: str, note: str) -> Markup:
        """Keep an HTML block; return the marker the rendered text carries in its place."""
        self.blocks.append((note, html))
        return Markup(f"\n\n<!--block {len(self.blocks) - 1}-->\n\n")

    def number(self, label: str, kind: str) -> str:
        """Give a label the next number of its kind ('Figure 2')."""
        if label in self.numbers:
            raise DocumentError(f"label {label!r} is placed twice")
        self.counts[kind] += 1
        self.numbers[label] = f"{kind} {self.counts[kind]}"
        return self.numbers[label]

    def ref(self, label: str) -> Markup:
        """A citation of a label ('Figure 2'), filled in once the whole document is laid out."""
        return Markup(f"⟦ref:{label}⟧")

    def fig(self, label: str, *panels: Panel, caption: str = "", layout: str = "row", caller: Any = None) -> Markup:
        """Place a numbered figure of run figures; the caption is the argument or the call block's text."""
        number = self.number(label, "Figure")
        text = Markup(" ".join(caller().split())) if caller else caption
        self.shown.update((p.run.name, p.name) for p in panels)
        views = [{"label": p.label, "name": p.name, "run": p.run.name, "src": p.run.image_uri(p.name),
                  "why": p.run.record.get("error") or f"run {p.run.name} has not produced it ({p.run.status})"}
                 for p in panels]
        html = self.env.get_template("blocks/figure.html.j2").render(
            label=label, number=number, panels=views, caption=text, layout="single" if len(panels) == 1 else layout)
        return self.place(html, f"{number}: " + ", ".join(f"{p.run.name}/{p.name}" for p in panels))

    def table(self, label: str, headers: list[str], rows: list[list], caption: str = "", caller: Any = None
              ) -> Markup:
        """Place a numbered table (floats with two decimals, '–' where missing)."""
        number = self.number(label, "Table")
        text = Markup(" ".join(caller().split())) if caller else caption
        html = self.env.get_template("blocks/table.html.j2").render(label=label, number=number, headers=headers,
                                                                    rows=rows, caption=text)
        return self.place(html, number)

    def runs(self, profile: str, *views: RunView) -> Markup:
        """Place how the runs went: status, parameters, and the failure box of a run that gave no results."""
        html = self.env.get_template("blocks/run.html.j2").render(runs=views, profile=profile)
        return self.place(html, "parameters of " + " and ".join(v.name for v in views))

    def explorer(self, run: str, payload: dict[str, Any] | None, title: str = "") -> Markup:
        """Place the kernel-free explorer its registry entry names for one model's payload ('' when the exploration
        run wrote none)."""
        if not payload:
            return Markup("")
        kind = MODELS[run].explorer
        uid = "x" + hashlib.sha256(repr(sorted(payload.items())).encode()).hexdigest()[:10]
        html = self.env.get_template(f"explorers/{kind}.html.j2").render(
            uid=uid, data=payload, title=title, kit=script("kit.js"), script=script(f"{kind}.js"))
        return self.place(html, f"kernel-free explorer ({kind})")

    def resolve(self, text: str) -> str:
        """Fill in every citation; a label nothing placed is an error."""
        def number(match: re.Match) -> str:
            label = match.group(1)
            if label not in self.numbers:
                raise DocumentError(f"ref({label!r}) cites a label nothing placed; placed: {', '.join(self.numbers)}")
            return f'<a href="#{label}">{self.numbers[label]}</a>'
        return REF.sub(number, text)

    def cells(self, text: str) -> list[Any]:
        """The rendered text as notebook cells: markdown between the blocks, each block an HTML output."""
        cells = []
        parts = BLOCK.split(number_sections(text))
        for i, part in enumerate(parts):
            if i % 2 == 0:
                if part.strip():
                    cells.append(nbformat.v4.new_markdown_cell(self.resolve(part.strip())))
                continue
            note, html = self.blocks[int(part)]
            cell = nbformat.v4.new_code_cell(f"# {note}")
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": self.resolve(html)})]
            cells.append(cell)
        return cells


def script(name: str) -> Markup:
    """One of the explorers' JavaScript files, inlined as it is."""
    return Markup((TEMPLATES / "explorers" / name).read_text(encoding="utf-8"))


def number_sections(text: str) -> str:
    """Number '## ' and '### ' headings in order (1, 1.1, ...); a heading ending in {-} keeps no number."""
    counts = [0, 0]

    def number(match: re.Match) -> str:
        hashes, title, unnumbered = match.groups()
        if unnumbered:
            return f"{hashes} {title}"
        level = len(hashes) - 2
        counts[level] += 1
        if level == 0:
            counts[1] = 0
        label = str(counts[0]) if level == 0 else f"{counts[0]}.{counts[1]}"
        return f"{hashes} {label} {title}"

    return HEADING.sub(number, text)


def found_once(views: dict[str, RunView]) -> dict[str, Any]:
    """The findings several sections share, computed once per build."""
    return {"collapse": collapse.collapse_study(views["collapse"]) if "collapse" in views else None,
            "ends": findings.discriminator_ends(views["gan"], views["aux_gan"])
            if "gan" in views and "aux_gan" in views else [],
            "comparisons": findings.vae_comparisons(views["vae_z2"], views["vae_z20"])
            if "vae_z2" in views and "vae_z20" in views else []}


def context(doc: Document, views: dict[str, RunView], profile: str, meta: list[tuple[str, str]],
            found: dict[str, Any]) -> dict[str, Any]:
    """Everything a section template can name."""
    explore = views.get("explore")
    payloads = explore.explorers() if explore else {}
    return {
        "runs": views, "profile": profile, "meta": meta, "title": TITLE, **{n: views[n] for n in views},
        "fig": doc.fig, "table": doc.table, "ref": doc.ref, "run_blocks": doc.runs, "unplaced": doc.unplaced,
        "explorer": lambda name, title="": doc.explorer(name, payloads.get(name), title), "explorers": payloads,
        "panel": lambda run, name, label="": Panel(run, name, label), "devices": lambda *v: devices(list(v)),
        "writeup": {"vae_loss": WRITEUP_VAE_LOSS, "vae_epochs": WRITEUP_VAE_EPOCHS, "gan_epochs": WRITEUP_GAN_EPOCHS,
                    "gan_claim": WRITEUP_GAN_CLAIM},
        "f": findings, "record": record, "found": found, "fmt": findings.fmt,
        "aux_label": findings.gan_label(views["aux_gan"]) if "aux_gan" in views else "AC-GAN",
        "place_header": lambda: doc.place(
            doc.env.get_template("blocks/header.html.j2").render(title=TITLE, meta=meta), "header"),
    }


def render(views: dict[str, RunView], profile: str, meta: list[tuple[str, str]],
           env: jinja2.Environment | None = None) -> nbformat.NotebookNode:
    """The report notebook: the section templates filled with these runs."""
    found = found_once(views)
    first = Document(env)  # the first pass finds the figures the sections place by name
    first.env.get_template(MAIN).render(context(first, views, profile, meta, found))
    doc = Document(first.env, frozenset(first.shown))
    text = doc.env.get_template(MAIN).render(context(doc, views, profile, meta, found))
    nb = nbformat.v4.new_notebook(cells=doc.cells(text))
    nb.metadata.update(title=TITLE, kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"})
    return nb
