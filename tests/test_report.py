"""The report build: tiny runs of the real notebooks, stitched into a self-contained HTML and a PDF."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import CHROMIUM, CHROMIUM_ARGS, canvas_pixels, press
from helpers import report, runs

TINY = {"epochs": 1, "train_size": 1000}  # applied to every run whose notebook declares the name
TINY_RUNS = ("vae_z2", "vae_z20", "gan", "aux_gan")  # explore is left out to keep the suite fast
SECTIONS = ["1 Introduction", "2 Problem description", "3 Models and algorithms", "3.1 Variational autoencoder",
            "3.2 Generative adversarial networks", "4 Experiments", "4.1 Variational autoencoder",
            "4.2 Generative adversarial networks", "5 Conclusion", "References"]


def tiny_profile(path: Path) -> Path:
    """The quick profile's training runs with tiny settings, limited to the notebooks that exist here."""
    quick = runs.load_profile("quick")
    spec = {"name": "tiny", "description": "tiny test runs", "runs": {}}
    for run in quick.runs:
        if run.name in TINY_RUNS and run.notebook_path.exists():
            params = dict(run.params) | {k: v for k, v in TINY.items() if k in runs.declared(run)}
            spec["runs"][run.name] = {"notebook": run.notebook, "params": params}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """Build the report once from tiny runs; returns (output folder, exit code, a copy of the HTML and PDF)."""
    root = tmp_path_factory.mktemp("report")
    profile = tiny_profile(root / "tiny.yaml")
    code = report.main(["--profile", str(profile), "--output", str(root / "build"), "--device", "cpu"])
    kept = root / "kept"
    kept.mkdir()
    for name in ("report.html", "report.pdf"):
        if (root / "build" / name).exists():
            shutil.copy(root / "build" / name, kept / name)
    return root, code, kept


@pytest.mark.slow
def test_build_succeeds_and_writes_both_paths(tiny_build):
    root, code, kept = tiny_build
    assert code == 0
    assert (root / "build" / "tiny" / "report.html").exists() and (kept / "report.html").exists()
    for run in ("vae_z2", "vae_z20"):
        folder = root / "build" / "tiny" / run
        assert {f"{run}.ipynb", "metrics.json", "figures.json", "run.json", "weights.pt"} <= {
            p.name for p in folder.iterdir()}
        assert "1/1 [" in (folder / "log.txt").read_text()  # the epoch bar, as text a terminal can follow


@pytest.mark.slow
def test_html_has_every_section_figure_and_the_results_table(tiny_build):
    root, _, kept = tiny_build
    page = (kept / "report.html").read_text()
    headings = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", page, re.S)]
    for section in SECTIONS:
        assert section in headings, section
    build = root / "build" / "tiny"
    expected = [(run.name, f["file"]) for run in runs.load_profile(root / "tiny.yaml").runs
                for f in report.read_json(build / run.name / "figures.json", [])]
    assert len(expected) >= 6
    images = re.findall(r'<img[^>]*\bsrc="data:image/png;base64,([^"]+)"', page)
    embedded = {base64.b64decode(data) for data in images}
    for run, file in expected:
        assert (build / run / file).read_bytes() in embedded, f"{run}/{file} is not in the report"
    numbers = re.findall(r"<b>Figure (\d+)\.</b>", page)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
    for writeup in ("157.23", "157.18", "102.69", "102.67"):
        assert writeup in page
    final = json.loads((build / "vae_z20" / "metrics.json").read_text())["final"]["validation_loss"]
    assert f"{final:.2f}" in page  # our number, read from the run's metrics
    assert "profile tiny" in page and "<math" in page and "$$" not in page
    assert 'class="failure"' not in page


@pytest.mark.slow
def test_html_needs_no_network(tiny_build):
    _, _, kept = tiny_build
    page = (kept / "report.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)


@pytest.mark.slow
@pytest.mark.browser
def test_pdf_pages_render_to_non_blank_images(tiny_build, tmp_path):
    if not report.find_chromium():
        pytest.skip("no chromium on PATH: the report builds without its PDF (make chromium installs it)")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is missing")
    from PIL import Image
    from pypdf import PdfReader

    pdf = tiny_build[2] / "report.pdf"
    reader = PdfReader(pdf)
    assert 5 <= len(reader.pages) <= 30
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) in ((595, 842), (612, 792))  # A4 or Letter, in points
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(reader.pages)
    for page in pages:
        lo, hi = Image.open(page).convert("L").getextrema()
        assert hi - lo > 100, f"{page.name} is blank"


@pytest.mark.slow
def test_failing_run_fails_the_build_and_its_section_shows_the_error(tiny_build, capsys):
    root, _, _ = tiny_build
    code = report.main(["--profile", str(root / "tiny.yaml"), "--output", str(root / "build"), "--device", "cpu",
                        "--set", "vae_z20.learning_rate=-1", "--no-pdf"])
    assert code == 1
    out = capsys.readouterr().out
    assert re.search(r"vae_z2: cached", out)  # the other runs were reused, not retrained
    assert re.search(r"vae_z20\s+failed", out)
    page = (root / "build" / "report.html").read_text()
    section = page[page.index("4.1 Variational autoencoder"):page.index("4.2 Generative adversarial networks")]
    assert 'class="failure"' in section and "learning_rate must be &gt; 0" in section


@pytest.mark.slow
@pytest.mark.browser
def test_the_built_report_explorer_works_from_the_file(tiny_build, tmp_path):
    """Open report.html from disk in Chromium, move the latent sliders and α: the pictures change."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((tiny_build[2] / "report.html").as_uri())
        uid = page.eval_on_selector(".vae-explorer", "element => element.id")
        page.eval_on_selector(f"#{uid}", "element => element.scrollIntoView()")
        before, mix_before = canvas_pixels(page, uid, "image"), canvas_pixels(page, uid, "mix")
        press(page, f"#{uid}-z1", "ArrowRight", 30)
        press(page, f"#{uid}-alpha", "ArrowLeft", 10)
        assert page.input_value(f"#{uid}-z1") == "1.5"
        assert (canvas_pixels(page, uid, "image") != before).any()
        assert (canvas_pixels(page, uid, "mix") != mix_before).any()
        page.screenshot(path=str(tmp_path / "report_explorer.png"))
        browser.close()
    assert not errors, errors
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_an_unavailable_device_is_refused_before_any_run_is_touched(tmp_path, capsys):
    assert report.main(["--device", "cuda", "--output", str(tmp_path)]) == 2
    assert "CUDA is not available here" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
