"""The document: the section templates (report/sections/*.md.j2) rendered once with this build's runs.

Templates place figures, tables, run blocks and explorers by label (``{{ fig("vae-losses", ...) }}``) and
cite them with ``{{ ref("vae-losses") }}``. The text is rendered once; what only the whole text can tell is filled
in after: a run's figures that no section places by name go where a section asked for them
(``{{ unplaced(run) }}``), then figures and tables are numbered in the order they are laid out and citations filled
in, so a conditional figure never breaks one; section headings are numbered the same way (``## Title {-}`` stays
unnumbered; ``## Title {@label}`` can be cited as "Section 4" with ``ref("label")``). Every float placed should be
cited somewhere in the text (``Document.uncited`` lists those that are not; the tests hold the templates to it).
HTML is escaped by Jinja's autoescape. The result is a notebook: prose as markdown cells, each placed
block as the HTML output of a code cell (its source names what it shows), for helpers.report.export to convert.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import nbformat
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from helpers.common import measures
from helpers.common.paths import ROOT
from helpers.common.reference import WRITEUP_GAN_CLAIM, WRITEUP_GAN_EPOCHS, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config import CONFIGS, MONITOR_SAMPLES, SCORE_SAMPLES, TEST_SIZE
from helpers.config.registry import MODELS, SECTION_RUNS
from helpers.report import claims, collapse, findings, settings, stats, verify
from helpers.report import results as record
from helpers.report.found import Found
from helpers.report.runview import RunView, devices
from helpers.runs import words

SECTIONS = ROOT / "report" / "sections"
TEMPLATES = ROOT / "report" / "templates"
MAIN = "report.md.j2"
UNPLACED_FIGURES = "blocks/unplaced.md.j2"
TITLE = "Variational autoencoders and GANs on MNIST: a reproduction"
BLOCK = re.compile(r"<!--block (\d+)-->")
REF = re.compile(r"⟦ref:([^⟧]*)⟧")
NUMBER = re.compile(r"⟦number:([^⟧]*)⟧")
UNPLACED = re.compile(r"⟦unplaced:([^⟧]*)⟧")
PRINT_SCALE = 0.75  # CSS pixels per pixel of a saved figure (110 dpi): its 8.3 pt text prints at 7 pt or more
HEADING = re.compile(r"^(#{2,3}) (.+?)(\s*\{-\})?(?:\s*\{@([\w-]+)\})?\s*$", re.M)
CONTENTS = "<!--contents-->"  # where helpers.report.export puts the table of contents
REFERENCES = re.compile(r'(<div class="references">)(.*?)(</div>)', re.S)  # report/sections/references.md.j2


class DocumentError(ValueError):
    """A template places a label twice or cites one that nothing placed."""


@dataclass
class Panel:
    """One image of a figure: a run's saved figure by name, with an optional label under it."""

    run: RunView
    name: str
    label: str = ""


@jinja2.pass_eval_context
def join_and(context: EvalContext, items: Iterable[Any]) -> str:
    """Items as a list in words: 'a', 'a and b', 'a, b and c' (escaped where the template is autoescaped)."""
    text = words.joined(escape(item) if context.autoescape else item for item in items)  # escaped, joined as text
    return Markup(text) if context.autoescape else text


@jinja2.pass_eval_context
def listed(context: EvalContext, names: Iterable[Any], noun: str) -> str:
    """Names after their noun, in the plural for more than one: 'Run gan', 'Runs gan and aux_gan' (escaped where
    the template is autoescaped)."""
    text = words.listed((escape(name) if context.autoescape else name for name in names), noun)
    return Markup(text) if context.autoescape else text


def each(items: Iterable[Any], macro: Callable[[Any], str]) -> list[str]:
    """Each item worded by a template's macro, for join or join_and."""
    return [macro(item) for item in items]


def columns(items: Iterable[Any], *macros: Callable[[Any], str]) -> list[list[str]]:
    """Table rows: each item worded by one macro per column."""
    return [[macro(item) for macro in macros] for item in items]


def cell(value: object) -> object:
    """A table cell: markup (a citation, a link) as it is, whole numbers with thousands separators (1,000, as the
    prose writes them), other numbers as findings.fmt writes them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value if isinstance(value, Markup) else findings.fmt(value)


WORDING_FILTERS = {"join_and": join_and, "each": each,  # the report's and README's templates word lists and counts
                   "listed": listed, "counted": words.counted, "agreed": words.agreed}
REPORT_FILTERS = {"columns": columns, "number": cell}  # and the report's build tables with these


def environment() -> jinja2.Environment:
    """Jinja for the sections and blocks: autoescaped, undefined names are errors."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([SECTIONS, TEMPLATES]), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(WORDING_FILTERS | REPORT_FILTERS)
    env.filters["run_row"] = lambda v: [v.name, v.status, v.record.get("minutes"), v.notebook_path(),
                                        v.record.get("key", "")]
    return env


@dataclass
class Block:
    """One placed HTML block: what its code cell says it shows, its HTML, and its label when it is numbered."""

    note: str
    html: str
    label: str = ""


class Document:
    """The report under construction: blocks by label, then, once the text is rendered, markdown and HTML cells."""

    def __init__(self, env: jinja2.Environment | None = None, home: Path | None = None):
        self.env = env or environment()
        self.home = home  # the folder the HTML is opened from: captions link to the notebooks from there
        self.blocks: list[Block] = []
        self.kinds: dict[str, str] = {}  # label -> "Figure" / "Table", as placed
        self.numbers: dict[str, str] = {}  # label -> "Figure 3" / "Table 1", in the order of the laid-out text
        self.anchors: dict[str, str] = {}  # a section's label -> its heading's id in the HTML
        self.cited: set[str] = set()  # the labels the text cites
        self.shown: set[tuple[str, str]] = set()  # the (run, figure) pairs placed
        self.later: dict[str, RunView] = {}  # the runs whose unplaced figures go where unplaced() was called

    def unplaced(self, *runs: RunView) -> Markup:
        """Where the runs' figures that no section places by name go (found once the whole text is rendered)."""
        self.later.update((run.name, run) for run in runs)
        return Markup("".join(f"⟦unplaced:{run.name}⟧" for run in runs))

    def place(self, html: str, note: str, label: str = "") -> Markup:
        """Keep an HTML block; return the marker the rendered text carries in its place."""
        self.blocks.append(Block(note, html, label))
        return Markup(f"\n\n<!--block {len(self.blocks) - 1}-->\n\n")

    def number(self, label: str, kind: str) -> Markup:
        """Claim a label for a block of a kind; its number ('Figure 2') is filled in once the text is laid out."""
        if label in self.kinds:
            raise DocumentError(f"label {label!r} is placed twice")
        self.kinds[label] = kind
        return Markup(f"⟦number:{label}⟧")

    def ref(self, label: str) -> Markup:
        """A citation of a label ('Figure 2', 'Section 4'), filled in once the whole document is laid out."""
        self.cited.add(label)
        return Markup(f"⟦ref:{label}⟧")

    def uncited(self) -> list[str]:
        """The labels of the figures and tables placed that the text never cites."""
        return [label for label in self.kinds if label not in self.cited]

    def skip(self, *panels: Panel) -> Markup:
        """Leave run figures out on purpose (a table shows what they show): unplaced() will not list them."""
        self.shown.update((p.run.name, p.name) for p in panels)
        return Markup("")

    def contents(self) -> Markup:
        """Where the table of contents goes (helpers.report.export fills it in)."""
        return self.place(CONTENTS, "contents")

    def made_by(self, panels: Iterable[Panel]) -> list[dict[str, str]]:
        """Each run behind the panels, once: its name and notebook, each with a link from the HTML's folder."""
        runs = list({p.run.name: p.run for p in panels}.values())
        return [{"run": run.name, "notebook": run.record.get("notebook", ""),
                 "run_href": self.link(run.notebook_file),
                 "notebook_href": self.link(ROOT / run.record["notebook"]) if run.record.get("notebook") else ""}
                for run in runs]

    def link(self, path: Path) -> str:
        """A relative link from the HTML's folder to a file ('' when the folder is not known)."""
        return quote(Path(os.path.relpath(path, self.home)).as_posix()) if self.home else ""

    def fig(self, label: str, *panels: Panel, caption: str = "", layout: str = "row", caller: Any = None) -> Markup:
        """Place a numbered figure of run figures; the caption is the argument or the call block's text."""
        number = self.number(label, "Figure")
        text = Markup(" ".join(caller().split())) if caller else caption
        self.shown.update((p.run.name, p.name) for p in panels)
        views = [{"label": p.label, "name": p.name, "run": p.run.name, "src": p.run.image_uri(p.name),
                  "alt": alt_text(p),
                  "why": p.run.record.get("error") or f"run {p.run.name} has not produced it ({p.run.status})"}
                 | drawn_size(p.run.image_size(p.name)) for p in panels]
        html = self.env.get_template("blocks/figure.html.j2").render(
            label=label, number=number, panels=views, caption=text, layout="single" if len(panels) == 1 else layout,
            made=self.made_by(panels))
        return self.place(html, f"{number}: " + ", ".join(f"{p.run.name}/{p.name}" for p in panels), label)

    def table(self, label: str, headers: list[str], rows: list[list], caption: str = "", text: bool = False,
              caller: Any = None) -> Markup:
        """Place a numbered table (floats with two decimals, '–' where missing); a text table is set flush left."""
        number = self.number(label, "Table")
        words = Markup(" ".join(caller().split())) if caller else caption
        html = self.env.get_template("blocks/table.html.j2").render(label=label, number=number, headers=headers,
                                                                    rows=rows, caption=words, text=text)
        return self.place(html, number, label)

    def runs(self, profile: str, *views: RunView) -> Markup:
        """Place how the runs went: status, minutes, device and every parameter (the appendix)."""
        html = self.env.get_template("blocks/run.html.j2").render(runs=views, profile=profile)
        return self.place(html, "parameters of " + " and ".join(v.name for v in views))

    def failures(self, *views: RunView) -> Markup:
        """Place the failure box of each run that gave no results (nothing when every run did)."""
        failed = [view for view in views if not view.ok]
        if not failed:
            return Markup("")
        html = self.env.get_template("blocks/failure.html.j2").render(runs=failed)
        return self.place(html, "failures of " + " and ".join(v.name for v in failed))

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

    def with_unplaced(self, text: str) -> str:
        """The text with each unplaced() marker replaced by its run's figures that no section placed by name."""
        template = self.env.get_template(UNPLACED_FIGURES)

        def figures(match: re.Match) -> str:
            run = self.later[match.group(1)]
            names = [name for name in run.figures if (run.name, name) not in self.shown]
            return template.render(run=run, names=names, fig=self.fig, ref=self.ref, panel=Panel)

        return UNPLACED.sub(figures, text)

    def number_in_order(self, text: str) -> None:
        """Number the labelled blocks in the order the text lays them out (Figure 1, 2, ...; Table 1, ...)."""
        counts = dict.fromkeys(self.kinds.values(), 0)
        for index in BLOCK.findall(text):
            label = self.blocks[int(index)].label
            if label:
                kind = self.kinds[label]
                counts[kind] += 1
                self.numbers[label] = f"{kind} {counts[kind]}"

    def resolve(self, text: str) -> str:
        """Fill in every block's number and every citation; a label nothing placed is an error."""
        def cited(match: re.Match) -> str:
            label = match.group(1)
            if label not in self.numbers:
                raise DocumentError(f"ref({label!r}) cites a label nothing placed; placed: {', '.join(self.numbers)}")
            return f'<a href="#{self.anchors.get(label, label)}">{self.numbers[label]}</a>'
        return NUMBER.sub(lambda match: self.numbers[match.group(1)], REF.sub(cited, text))

    def number_headings(self, text: str) -> str:
        """Number the text's headings; a labelled one can then be cited ('Section 4', linked to its heading)."""
        text, labelled = number_sections(text)
        for label, (number, heading) in labelled.items():
            self.numbers[label] = f"Section {number}"
            self.anchors[label] = heading_id(heading)
        return text

    def cells(self, text: str) -> list[Any]:
        """The rendered text laid out as notebook cells: markdown between the blocks, each block an HTML output."""
        text = self.with_unplaced(text)
        text = self.number_headings(cited_references(text, " ".join(block.html for block in self.blocks)))
        self.number_in_order(text)
        cells = []
        parts = BLOCK.split(text)
        for i, part in enumerate(parts):
            if i % 2 == 0:
                if part.strip():
                    cells.append(nbformat.v4.new_markdown_cell(self.resolve(part.strip())))
                continue
            block = self.blocks[int(part)]
            cell = nbformat.v4.new_code_cell(f"# {self.resolve(block.note)}")
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": self.resolve(block.html)})]
            cells.append(cell)
        return cells


def alt_text(panel: Panel) -> str:
    """What a panel shows, for a reader who cannot see it: its label and the caption its notebook gave the figure
    (else the figure's name in words)."""
    shows = panel.run.caption(panel.name) or panel.name.replace("_", " ")
    return f"{panel.label}: {shows}" if panel.label else shows


def cited_references(text: str, blocks: str = "") -> str:
    """The text with only the references it cites: an entry stays when its first author's surname and its year are
    cited outside the reference list, in the text or its placed blocks (so a section left out of this build takes
    its works)."""
    match = REFERENCES.search(text)
    if not match:
        return text
    body = text[:match.start()] + text[match.end():] + blocks
    entries = [entry for entry in re.split(r"\n\s*\n", match.group(2)) if entry.strip()]
    kept = [entry for entry in entries if re.search(citation(entry), body)]
    return text[:match.start()] + match.group(1) + "\n\n" + "\n\n".join(e.strip() for e in kept) + "\n\n" \
        + match.group(3) + text[match.end():]


def citation(entry: str) -> str:
    """The pattern of a reference's citation in the text: its first author's surname as a word, then its year
    within a few words ('Kingma and Ba, 2015', 'Goodfellow et al. (2014)')."""
    surname = re.escape(entry.strip().split(",")[0])
    year = re.search(r"\((\d{4})\)", entry)
    return rf"\b{surname}\b" + (rf"[^()]{{0,30}}?\(?{year.group(1)}\b" if year else "")


def drawn_size(pixels: tuple[int, int] | None) -> dict[str, int]:
    """The width and height a saved figure is drawn at (PRINT_SCALE of its pixels); {} when it is missing."""
    return {"width": round(pixels[0] * PRINT_SCALE), "height": round(pixels[1] * PRINT_SCALE)} if pixels else {}


def script(name: str) -> Markup:
    """One of the explorers' JavaScript files, inlined as it is."""
    return Markup((TEMPLATES / "explorers" / name).read_text(encoding="utf-8"))


def number_sections(text: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """Number '## ' and '### ' headings in order (1, 1.1, ...); a heading ending in {-} keeps no number, one ending
    in {@label} is returned by label with its number and numbered heading."""
    counts = [0, 0]
    labelled: dict[str, tuple[str, str]] = {}

    def number(match: re.Match) -> str:
        hashes, title, unnumbered, label = match.groups()
        if unnumbered:
            heading = title
        else:
            level = len(hashes) - 2
            counts[level] += 1
            if level == 0:
                counts[1] = 0
            numbered = str(counts[0]) if level == 0 else f"{counts[0]}.{counts[1]}"
            heading = f"{numbered} {title}"
            if label:
                labelled[label] = (numbered, heading)
        return f"{hashes} {heading}"

    return HEADING.sub(number, text), labelled


def heading_id(heading: str) -> str:
    """The id nbconvert gives a Markdown heading of this text (its spaces as '-', then URL-quoted)."""
    return quote(heading.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


def trained_runs(views: dict[str, RunView]) -> list[RunView]:
    """The runs whose training images the problem statement names: the writeup's models where the profile has them,
    else every run of the profile with a training set (a study's sweep)."""
    section = [views[name] for name in SECTION_RUNS if name in views and views[name].planned]
    return section or [view for view in views.values() if view.planned and "train_size" in view.params]


DEFAULTS = {name: config() for name, config in CONFIGS.items()}  # each notebook's settings, for the prose
COUNTS = {"score_samples": f"{SCORE_SAMPLES:,}", "monitor_samples": f"{MONITOR_SAMPLES:,}",
          "test_images": f"{TEST_SIZE:,}"}  # the evaluation's fixed sizes, as the prose writes them


def context(doc: Document, views: dict[str, RunView], profile: str, meta: list[tuple[str, str]],
            found: Found) -> dict[str, Any]:
    """Everything a section template can name."""
    explore = views.get("explore")
    payloads = explore.explorers() if explore else {}
    return {
        "runs": views, "profile": profile, "meta": meta, "title": TITLE, **{n: views[n] for n in views},
        "fig": doc.fig, "table": doc.table, "ref": doc.ref, "run_blocks": doc.runs, "failures": doc.failures,
        "unplaced": doc.unplaced, "planned": lambda *runs: any(run.planned for run in runs),
        "trained": trained_runs(views), "section_runs": [views[name] for name in SECTION_RUNS if name in views],
        "skip": doc.skip, "contents": doc.contents, "settings": settings, "measure": measures.BY_KEY,
        "panels": lambda runs, name, labels: [Panel(run, name, labels.get(run.name, "")) for run in runs],
        "explorer": lambda name, title="": doc.explorer(name, payloads.get(name), title), "explorers": payloads,
        "panel": lambda run, name, label="": Panel(run, name, label), "devices": lambda *v: devices(list(v)),
        "writeup": {"vae_loss": WRITEUP_VAE_LOSS, "vae_epochs": WRITEUP_VAE_EPOCHS, "gan_epochs": WRITEUP_GAN_EPOCHS,
                    "gan_claim": WRITEUP_GAN_CLAIM},
        "f": findings, "record": record, "verify": verify, "found": found, "fmt": findings.fmt,
        "Outcome": collapse.Outcome, "Call": stats.Call, "Basis": claims.Basis, "stats": stats, "defaults": DEFAULTS,
        "counts": COUNTS,
        "aux_label": findings.gan_label(views.get("aux_gan")),
        "place_header": lambda: doc.place(
            doc.env.get_template("blocks/header.html.j2").render(title=TITLE, meta=meta), "header"),
    }


def render(views: dict[str, RunView], profile: str, meta: list[tuple[str, str]], found: Found,
           env: jinja2.Environment | None = None, home: Path | None = None) -> nbformat.NotebookNode:
    """The report notebook: the section templates filled once with these runs and what the build found in them
    (home: the folder the HTML will be opened from, for the captions' links to the notebooks)."""
    doc = Document(env, home)
    text = doc.env.get_template(MAIN).render(context(doc, views, profile, meta, found))
    nb = nbformat.v4.new_notebook(cells=doc.cells(text))
    nb.metadata.update(title=TITLE, kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"})
    return nb
