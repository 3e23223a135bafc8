"""The export: the report notebook to one self-contained HTML (nbconvert, our template, MathML), then a PDF.

nbconvert's own templates load require.js and MathJax from CDNs; ours (report/templates/report/) loads
nothing: LaTeX in the prose becomes MathML here, images are data: URIs. A table of contents links every section
and subsection (nbconvert gives each heading its id); it goes where the document marked its place (after the front
matter: title, summary, claims), else at the top of the page. Debian's headless
Chromium prints the HTML to PDF, with the same headings as the PDF's outline (bookmarks).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat

from helpers.common.files import atomic_path
from helpers.report.document import CONTENTS, TEMPLATES

TEMPLATE = "report"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
HEADING = re.compile(r'<h([23])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)<a class="anchor-link"', re.S)
MAIN = '<main class="report">'


def latex_to_mathml(text: str) -> str:
    """Replace $$display$$ and $inline$ LaTeX in markdown with MathML (no script needed to show it)."""
    from latex2mathml.converter import convert

    text = re.sub(r"\$\$(.+?)\$\$", lambda m: f'\n<div class="equation">{convert(m.group(1).strip(), display="block")}'
                  "</div>\n", text, flags=re.S)
    return re.sub(r"\$(.+?)\$", lambda m: convert(m.group(1)), text)


def with_mathml(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook whose markdown cells carry MathML instead of LaTeX."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = latex_to_mathml(cell.source)
    return nb


def export_html(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Convert the report notebook to one self-contained HTML file with our template, code hidden."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(with_mathml(nb))
    body = with_contents(body)
    with atomic_path(path) as partial:  # a reader, or a build stopped now, never sees half a report
        partial.write_text(body, encoding="utf-8")
    return path


def with_contents(page: str) -> str:
    """The page with a table of contents, a link to every h2 and h3 heading, where the document marked its place
    (else at the top of its main part)."""
    entries = [(level, anchor, re.sub(r"<[^>]+>", "", text).strip()) for level, anchor, text in HEADING.findall(page)]
    if not entries:
        return page
    items = "\n".join(f'<li class="toc-h{level}"><a href="#{anchor}">{text}</a></li>'
                      for level, anchor, text in entries)
    contents = (f'<nav class="toc" aria-label="Contents">\n<p class="toc-title">Contents</p>\n'
                f"<ul>\n{items}\n</ul>\n</nav>")
    if CONTENTS in page:
        return page.replace(CONTENTS, contents, 1)
    return page.replace(MAIN, f"{MAIN}\n{contents}", 1)


def find_chromium() -> str | None:
    """The path of a Chromium to print with, or None."""
    for name in CHROMIUM:
        if found := shutil.which(name):
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> str:
    """Print the HTML to PDF with headless Chromium; returns '' on success, else why there is no PDF."""
    chromium = find_chromium()
    if not chromium:
        return "no chromium on PATH (make chromium installs Debian's)"
    try:
        return chromium_print(chromium, html_path, pdf_path, timeout)
    except NotPrinted as exc:
        return str(exc)


def chromium_print(chromium: str, html_path: Path, pdf_path: Path, timeout: float) -> str:
    """Print with the given Chromium into a temporary file beside pdf_path, renamed on success."""
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile_dir, atomic_path(pdf_path) as partial:
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile_dir}", "--no-pdf-header-footer", "--virtual-time-budget=3000",
                   "--generate-pdf-document-outline",
                   f"--print-to-pdf={partial}", html_path.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NotPrinted(f"chromium did not finish printing within {timeout:.0f} s") from None
        if not partial.exists() or partial.stat().st_size == 0:
            raise NotPrinted(f"chromium wrote no PDF (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    return ""


class NotPrinted(RuntimeError):
    """Chromium gave no PDF (the temporary file is removed on the way out)."""
