"""The explorers as a person uses them, in Debian's headless Chromium driven by Playwright.

1. A Jupyter server on localhost (known token) opens the exploration notebook in JupyterLab and in
   Notebook 7, runs all cells, moves the first slider with the keyboard, and the decoded image changes to
   the decoder's output for the new value.
2. The report's four kernel-free explorers, saved in an HTML file and opened from disk (no kernel, no
   network): moving their controls changes the pixels of their canvases, which match the models computed
   in Python; each redraw is timed in the page and printed.

Screenshots go to the test's folder and are copied to outputs/explore_shots/ (ignored by git), to look at.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import CHROMIUM, CHROMIUM_ARGS, NOTEBOOKS, ROOT, canvas_pixels, press, run_models
from helpers.models.vae import load_vae

SHOTS = ROOT / "outputs" / "explore_shots"
TOKEN = "explore-test-token"
# Grey levels between the kernel's picture and the test's decoding of the same point: both decode in float32, but
# with other thread counts (so other sums), and a mean within 1e-6 of k + 0.5 may round to either neighbour; the
# PNG path adds nothing (lossless, nearest-neighbour scaling, its bytes read as sent).
SAME_PICTURE = 1
# The report's explorers compute with the payload's float16 weights (the tests round theirs the same way), in
# JavaScript's float64 arithmetic stored as float32 against torch's float32: the same rounding-boundary argument
# gives 1; the conditional GAN's digit embedding also travels with 4 decimals (<= 5e-5 per input).
IN_THE_PAGE = 1

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                       "and could not be (make setup installs it: bash .ci/apt-install chromium)"),
]


def shot(page, folder: Path, name: str) -> None:
    """Save a screenshot into the test's folder and a copy into outputs/explore_shots/."""
    page.screenshot(path=str(folder / name), full_page=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / name, SHOTS / name)


def as_in_the_page(model: torch.nn.Module) -> torch.nn.Module:
    """The model with its weights rounded to float16, as the report's explorers carry them (explorers.payloads)."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(parameter.half().float())
    return model


def decoded(run_dir: Path, z: list[float], in_the_page: bool = False) -> np.ndarray:
    """The grey levels (ink dark on white) the decoder's means give at latent point z, 28 x 28."""
    model = as_in_the_page(load_vae(run_dir)) if in_the_page else load_vae(run_dir)
    with torch.no_grad():
        means = torch.sigmoid(model.decode(torch.tensor([z], dtype=torch.float32)))[0].numpy()
    return np.rint(255 * (1 - means)).reshape(28, 28)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter(untrained_runs, tmp_path_factory):
    """A Jupyter server (JupyterLab and Notebook 7) on localhost whose root holds the parameterized notebook."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    root = tmp_path_factory.mktemp("jupyter")
    params = {f"{name}_dir": str(path) for name, path in untrained_runs.items()} | {"output_dir": str(root / "out")}
    nbformat.write(parameterize_notebook(load_notebook_node(str(NOTEBOOKS / "explore.ipynb")), params),
                   root / "explore.ipynb")
    settings = root / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = os.environ | {"JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
                        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces")}
    port = free_port()
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root",
               "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(root / "server.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(root / 'server.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not answer within 120 s")
                try:
                    server.wait(timeout=0.2)  # the pause between polls; returns early if the server exits
                except subprocess.TimeoutExpired:
                    pass
        yield url, root
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


KERNEL_IDLE = """async ([url, name]) => {
    const sessions = await (await fetch(url)).json();
    return sessions.some((s) => s.path.endsWith(name) && s.kernel.execution_state === 'idle'); }"""
SOME_CELL_STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .some((e) => /^\\[(\\*|\\d+)\\]:$/.test(e.textContent.trim()))"""
ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map((e) => e.textContent.trim());
    return prompts.length > 5 && prompts.every((text) => /^\\[\\d+\\]:$/.test(text)); }"""


def image_pixels(page, image) -> np.ndarray:
    """The grey levels of an <img>'s current picture (fetched from its blob URL), shrunk to 28 x 28.

    An update replaces the blob URL and revokes the old one, so the picture is read again until its URL
    held still while it was read.
    """
    data = page.evaluate("""async (img) => {
        for (let attempt = 0; attempt < 50; attempt++) {
            const src = img.src;
            try {
                const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
                if (img.src === src) {
                    let text = ""; bytes.forEach((b) => { text += String.fromCharCode(b); });
                    return btoa(text);
                }
            } catch (error) { /* revoked while we read it: try the new one */ }
            await new Promise((next) => requestAnimationFrame(next));
        }
        throw new Error("the image kept changing"); }""", image.element_handle())
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"), dtype=float)
    scale = picture.shape[0] // 28
    return picture[::scale, ::scale]


def drive_jupyter(page, url: str, interface: str, name: str, folder: Path, decode: Callable[[list[float]], np.ndarray]
                  ) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Open the notebook, run all cells, drag z1 to a quarter of its track: (z1, z2, picture before, after).

    The picture after is the first one that shows the readout's point (see settled_picture).
    """
    label = interface.split("/")[0]
    page.goto(f"{url}/{interface}/{name}?token={TOKEN}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
    page.wait_for_function(KERNEL_IDLE, arg=[f"{url}/api/sessions?token={TOKEN}", name], timeout=90_000, polling=250)
    for attempt in range(3):  # the page may report its kernel idle just before it is connected: then click again
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(state="attached")
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(SOME_CELL_STARTED, timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    try:
        page.wait_for_function(ALL_CELLS_RAN, timeout=180_000)
    finally:
        shot(page, folder, f"{label}_ran.png")
    slider = page.locator(".widget-slider").first
    slider.scroll_into_view_if_needed()
    image = page.locator(".widget-image").first
    page.wait_for_function("(img) => img.src.startsWith('blob:')", arg=image.element_handle())
    before_src, before = image.get_attribute("src"), image_pixels(page, image)
    shot(page, folder, f"{label}_before.png")
    handle, track = slider.locator(".noUi-handle"), slider.locator(".noUi-target").bounding_box()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()  # drag the z1 handle to a quarter of the track, as a person would
    page.mouse.move(track["x"] + track["width"] / 4, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    page.wait_for_function("([img, src]) => img.src !== src", arg=[image.element_handle(), before_src])
    page.wait_for_function(KERNEL_IDLE, arg=[f"{url}/api/sessions?token={TOKEN}", name], polling=250)  # drag done
    (z1, z2), after = settled_picture(page, image, decode)
    shot(page, folder, f"{label}_after.png")
    return z1, z2, before, after


def settled_picture(page, image, decode: Callable[[list[float]], np.ndarray]) -> tuple[list[float], np.ndarray]:
    """The sliders' readout and the picture, once the picture shows the readout's point (or stopped changing).

    The kernel draws every value the page sends, and the page (which throttles a drag's updates) may send the
    last one after the kernel reported itself idle: then the readout is ahead of the picture by one update, up to
    5 grey levels on an AMD Zen 4. So each new picture is read until one matches; a picture that never does is
    returned after 30 s without a change, for the assertion to report.
    """
    while True:
        z = [float(page.locator(".widget-slider").nth(i).locator(".widget-readout").inner_text().replace("−", "-"))
             for i in (0, 1)]
        src, picture = image.get_attribute("src"), image_pixels(page, image)
        if np.abs(picture - decode(z)).max() <= SAME_PICTURE:
            return z, picture
        try:
            page.wait_for_function("([img, src]) => img.src !== src", arg=[image.element_handle(), src],
                                   timeout=30_000)
        except PlaywrightTimeout:
            return z, picture


@pytest.mark.parametrize("interface", ["lab/tree", "notebooks"], ids=["jupyterlab", "notebook7"])
def test_slider_moves_the_picture_in_jupyter(interface, jupyter, browser, untrained_runs, tmp_path):
    url, root = jupyter
    name = f"explore-{interface.split('/')[0]}.ipynb"  # one copy per interface: each gets its own kernel
    shutil.copy(root / "explore.ipynb", root / name)
    for attempt in (1, 2):  # a second, fresh page when the first one's UI timing went wrong on a loaded machine
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(f"{error}\n{error.stack}"))
        try:
            z1, z2, before, after = drive_jupyter(page, url, interface, name, tmp_path,
                                                  lambda z: decoded(untrained_runs["vae_z2"], z))
            break
        except PlaywrightTimeout:
            shot(page, tmp_path, f"{interface.split('/')[0]}_failure{attempt}.png")  # what the page showed
            if attempt == 2:
                raise
        finally:
            page.close()
    assert -2.0 < z1 < -1.0 and np.abs(after - before).max() > 0  # the picture followed the handle
    assert np.abs(after - decoded(untrained_runs["vae_z2"], [z1, z2])).max() <= SAME_PICTURE
    # Notebook 7.6's own start-up code throws one TypeError (reading 'schema') in notebook_core; ours must not
    assert not [e for e in errors if "notebook_core" not in e], errors


REDRAW_MS = """([uid, name]) => {  // median milliseconds of one redraw as the control sweeps its range
    const control = document.getElementById(uid + "-" + name), times = [];
    const low = +control.min, high = +control.max, start = control.value;
    for (let k = 0; k < 60; k++) {
        control.value = String(low + (high - low) * (k % 20) / 19);
        const t = performance.now();
        control.dispatchEvent(new Event("input"));
        times.push(performance.now() - t);
    }
    control.value = start;
    control.dispatchEvent(new Event("input"));
    times.sort((a, b) => a - b);
    return [times[30], times[57]]; }"""


@pytest.fixture(scope="module")
def explorer_page(untrained_runs, tmp_path_factory) -> tuple[Path, dict, dict]:
    """An HTML file with the four kernel-free explorers, their payloads, and each one's id prefix."""
    from helpers.data import load_splits
    from helpers.explorers import payloads
    from helpers.report.document import Document

    models = run_models(untrained_runs)
    folder = tmp_path_factory.mktemp("static")
    data = json.loads(payloads.write_explorers(folder, models, load_splits("mnist", device="cpu").validation, 2.0
                                               ).read_text())
    doc = Document()
    for name in models:
        doc.explorer(name, data[name])
    uids = {name: re.search(r'id="([^"]+)"', block.html).group(1) for name, block in zip(models, doc.blocks)}
    css = (ROOT / "report" / "templates" / "report" / "report.css").read_text()
    page_file = folder / "explorers.html"
    page_file.write_text("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>explorers</title>"
                         f"<style>{css}</style></head><body><main class='report'>"
                         + "".join(block.html for block in doc.blocks) + "</main></body></html>", encoding="utf-8")
    return page_file, data, uids


def off(page, uid: str, expected: np.ndarray) -> float:
    """The largest difference, in grey levels, between an explorer's picture and the expected one."""
    return float(np.abs(canvas_pixels(page, uid, "image") - expected).max())


def generated(run_dir: Path, z: np.ndarray, digit: int | None = None) -> np.ndarray:
    """The grey levels a generator gives for noise z (and a digit), 28 x 28, with the page's float16 weights."""
    from helpers.models import gan

    model = as_in_the_page(gan.load_generator(run_dir))
    labels = torch.tensor([digit]) if digit is not None else None
    with torch.no_grad():
        pixels = gan.to_unit(model(torch.tensor(np.asarray(z)[None], dtype=torch.float32), labels))[0].numpy()
    return np.rint(255 * (1 - pixels)).reshape(28, 28)


def test_every_static_explorer_works_from_a_file_and_redraws_within_a_frame(browser, untrained_runs, explorer_page,
                                                                             tmp_path):
    page_file, data, uids = explorer_page
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_file.as_uri())
    # latent-2 VAE: sliders, a click on the map, the binary draw
    uid = uids["vae_z2"]
    run = untrained_runs["vae_z2"]
    assert off(page, uid, decoded(run, [0.0, 0.0], True)) <= IN_THE_PAGE
    press(page, f"#{uid}-z1", "ArrowRight", 30)
    press(page, f"#{uid}-z2", "ArrowLeft", 20)
    z = [float(page.input_value(f"#{uid}-z1")), float(page.input_value(f"#{uid}-z2"))]
    assert z == [1.5, -1.0] and off(page, uid, decoded(run, z, True)) <= IN_THE_PAGE
    shot(page, tmp_path, "static_vae2.png")
    origin, unit = data["vae_z2"]["origin"], data["vae_z2"]["unit"]
    box = page.locator(f"#{uid}-map").bounding_box()
    page.mouse.click(box["x"] + origin[0] + unit[0] * -1.0, box["y"] + origin[1] + unit[1] * 0.5)
    z = [float(page.input_value(f"#{uid}-z1")), float(page.input_value(f"#{uid}-z2"))]
    assert abs(z[0] + 1.0) <= 0.05 and abs(z[1] - 0.5) <= 0.05
    assert off(page, uid, decoded(run, z, True)) <= IN_THE_PAGE
    mix_before = canvas_pixels(page, uid, "mix")
    press(page, f"#{uid}-alpha", "ArrowRight", 10)
    assert page.input_value(f"#{uid}-alpha") == "0.7" and (canvas_pixels(page, uid, "mix") != mix_before).any()
    page.check(f"#{uid}-binary")
    assert set(np.unique(canvas_pixels(page, uid, "image"))) <= {0.0, 255.0}
    # latent-20 VAE: a principal direction, a draw from the prior, reset, α between two validation images
    uid, spec = uids["vae_z20"], data["vae_z20"]
    start = canvas_pixels(page, uid, "image")
    press(page, f"#{uid}-pc1", "ArrowRight", 20)
    z = np.array(spec["centre"]) + 1.0 * np.array(spec["directions"][0])
    assert off(page, uid, decoded(untrained_runs["vae_z20"], z.tolist(), True)) <= IN_THE_PAGE
    page.click(f"#{uid}-prior")
    assert (canvas_pixels(page, uid, "image") != start).any() and page.input_value(f"#{uid}-pc1") == "0"
    page.click(f"#{uid}-reset")
    assert np.array_equal(canvas_pixels(page, uid, "image"), start)
    mix_before = canvas_pixels(page, uid, "mix")
    page.select_option(f"#{uid}-to", "0")
    assert (canvas_pixels(page, uid, "mix") != mix_before).any()
    shot(page, tmp_path, "static_vae20.png")
    # the GANs: a noise direction, a new pair, and the digit of the conditional one
    for name in ("gan", "aux_gan"):
        uid, spec = uids[name], data[name]
        digit = 3 if spec["classes"] else None
        press(page, f"#{uid}-dir1", "ArrowRight", 20)
        z = np.array(spec["origin"]) + 1.0 * np.array(spec["directions"][digit or 0][0])
        assert off(page, uid, generated(untrained_runs[name], z, digit)) <= IN_THE_PAGE
        mix_before = canvas_pixels(page, uid, "mix")
        page.click(f"#{uid}-pair")
        assert (canvas_pixels(page, uid, "mix") != mix_before).any()
        if spec["classes"]:
            page.select_option(f"#{uid}-digit", "7")
            z = np.array(spec["origin"]) + 1.0 * np.array(spec["directions"][7][0])
            assert off(page, uid, generated(untrained_runs[name], z, 7)) <= IN_THE_PAGE
        shot(page, tmp_path, f"static_{name}.png")
    times = {f"{name}/{control}": page.evaluate(REDRAW_MS, [uids[name], control]) for name, control in
             (("vae_z2", "z1"), ("vae_z2", "alpha"), ("vae_z20", "pc1"), ("vae_z20", "alpha"), ("gan", "dir1"),
              ("gan", "alpha"), ("aux_gan", "dir1"), ("aux_gan", "alpha"))}
    print("\nredraw in Chromium, median and 95th percentile of 60 moves (ms): "
          + ", ".join(f"{k} {m:.1f}/{p:.1f}" for k, (m, p) in times.items()))
    page.close()
    assert not errors, errors
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests
    assert all(median < 16 for median, _ in times.values()), times
