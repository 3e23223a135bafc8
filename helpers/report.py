"""The report: run a profile's notebooks, then stitch their outputs into one HTML and one PDF.

    python -m helpers.report [--profile quick] [--only vae_z2 ...] [--device cpu] [--set vae.epochs=5]

The runs are executed (or reused from the cache) by helpers.runs into report/build/<profile>/<run>/.
The report never retrains: it reads each run's run.json, metrics.json, figures.json and PNGs, writes
the document as a notebook (prose in markdown cells with LaTeX turned into MathML, figures and tables as
HTML outputs of hidden code cells), exports it with nbconvert's HTMLExporter and our template (no
script, every image embedded), and prints the HTML to PDF with Debian's headless Chromium.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from . import runs
from .executor import ClusterError
from .explorer import explorer_html
from .params import ParameterError, check_device
from .reference import WRITEUP_GAN_EPOCHS, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS

ROOT = runs.ROOT
BUILD = ROOT / "report" / "build"
TEMPLATES = ROOT / "report" / "templates"
TEMPLATE = "report"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
SECTION_RUNS = ("vae_z2", "vae_z20", "gan", "aux_gan")  # the runs the writeup's sections are made of
TITLE = "Variational autoencoders and GANs on MNIST: a reproduction"


@dataclass
class RunView:
    """What one run left in its folder, as the report reads it."""

    name: str
    folder: Path
    record: dict[str, Any]
    metrics: dict[str, Any]
    figures: dict[str, dict[str, str]]

    @classmethod
    def read(cls, build: Path, name: str) -> RunView:
        """Read a run's folder (empty parts when the run never ran or stopped early)."""
        folder = runs.run_folder(build, name)
        metrics = read_json(folder / runs.METRICS, {})
        figures = {f["name"]: f for f in read_json(folder / runs.FIGURES, [])}
        return cls(name, folder, runs.read_record(folder), metrics, figures)

    @property
    def status(self) -> str:
        """ok, cached, failed, skipped, or 'not run'."""
        return self.record.get("status", "not run")

    @property
    def ok(self) -> bool:
        """Whether the run finished and wrote its metrics."""
        return self.status in ("ok", "cached") and bool(self.metrics)

    @property
    def params(self) -> dict[str, Any]:
        """The run's full parameters (from metrics.json), or the injected ones when it stopped early."""
        return self.metrics.get("parameters") or self.record.get("params", {})

    def final(self, key: str) -> float | None:
        """A number from the run's final epoch, or None."""
        return (self.metrics.get("final") or {}).get(key)

    def image(self, name: str) -> Path | None:
        """The PNG of one of the run's figures, or None."""
        entry = self.figures.get(name)
        path = self.folder / entry["file"] if entry else None
        return path if path and path.exists() else None

    def caption(self, name: str) -> str:
        """The caption the notebook gave a figure."""
        return self.figures.get(name, {}).get("caption", "")

    def device(self) -> str:
        """Where the run trained, e.g. 'cpu (AMD EPYC 7B13)'."""
        env = self.metrics.get("environment") or {}
        if not env:
            return ""
        name = env.get("device_name", "")
        return f"{env.get('device', '')} ({name})" if name else env.get("device", "")


@dataclass
class Document:
    """The report as a notebook under construction, numbering its figures and tables."""

    cells: list[Any] = field(default_factory=list)
    figures: int = 0
    tables: int = 0

    def markdown(self, text: str) -> None:
        """Add prose; $...$ and $$...$$ become MathML."""
        self.cells.append(nbformat.v4.new_markdown_cell(latex_to_mathml(text)))

    def html(self, content: str, note: str) -> None:
        """Add an HTML block as the output of a hidden code cell (its source names where it came from)."""
        cell = nbformat.v4.new_code_cell(f"# {note}")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": content})]
        self.cells.append(cell)

    def figure(self, panels: list[tuple[str, RunView, str]], caption: str, layout: str = "row") -> int:
        """Add a numbered figure of one or more run figures (label, run, figure name); returns its number."""
        self.figures += 1
        self.html(figure_html(self.figures, panels, caption, layout),
                  f"Figure {self.figures}: " + ", ".join(f"{run.name}/{name}" for _, run, name in panels))
        return self.figures

    def table(self, headers: list[str], rows: list[list[Any]], caption: str) -> int:
        """Add a numbered table; returns its number."""
        self.tables += 1
        self.html(f'<div class="table-block"><div class="table-caption"><b>Table {self.tables}.</b> '
                  f"{html.escape(caption)}</div>{table_html(headers, rows)}</div>", f"Table {self.tables}")
        return self.tables


def read_json(path: Path, default: Any) -> Any:
    """A JSON file's content, or default when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


def latex_to_mathml(text: str) -> str:
    """Replace $$display$$ and $inline$ LaTeX in markdown with MathML (no script needed to show it)."""
    from latex2mathml.converter import convert

    text = re.sub(r"\$\$(.+?)\$\$", lambda m: f'\n<div class="equation">{convert(m.group(1).strip(), display="block")}'
                  "</div>\n", text, flags=re.S)
    return re.sub(r"\$(.+?)\$", lambda m: convert(m.group(1)), text)


def fmt(value: Any, digits: int = 2) -> str:
    """A number for tables and prose; '–' when missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table_html(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain HTML table; floats with two decimals."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def png_data_uri(path: Path) -> str:
    """A PNG file as a data: URI, so the HTML needs no other file."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def figure_html(number: int, panels: list[tuple[str, RunView, str]], caption: str, layout: str) -> str:
    """A numbered <figure> with one panel per run figure; a missing figure shows why it is missing."""
    parts = []
    for label, run, name in panels:
        path = run.image(name)
        if path:
            body = f'<img src="{png_data_uri(path)}" alt="{html.escape(label or name)}">'
        else:
            why = run.record.get("error") or f"run {run.name} has not produced it ({run.status})"
            body = f'<div class="missing">Figure “{html.escape(name)}” of run {run.name} is missing: ' \
                   f"{html.escape(why)}</div>"
        tag = f'<div class="label">{html.escape(label)}</div>' if label else ""
        parts.append(f'<div class="panel">{body}{tag}</div>')
    kind = "single" if len(panels) == 1 else layout
    return (f'<figure class="{kind}" id="figure-{number}"><div class="panels">{"".join(parts)}</div>'
            f"<figcaption><b>Figure {number}.</b> {html.escape(caption)}</figcaption></figure>")


def params_html(run: RunView, profile: str) -> str:
    """One line on how a run went, its parameters in a compact table, and its error when it failed."""
    status = run.status
    minutes = run.record.get("minutes")
    line = (f'<div class="run-line">Run <b>{run.name}</b> ({html.escape(run.record.get("notebook", "?"))}, '
            f'profile {profile}): <span class="status-{status}">{status}</span>'
            + (f", executed in {minutes:.1f} min" if minutes else "")
            + (f", {run.metrics.get('epochs_run')} epochs in {run.metrics.get('train_seconds', 0) / 60:.1f} min"
               if run.metrics.get("epochs_run") else "")
            + (f", device {html.escape(run.device())}" if run.device() else "") + ".</div>")
    shown = {k: v for k, v in run.params.items() if k not in ("output_dir", "data_dir")}
    pairs = [f"<th>{html.escape(k)}</th><td>{html.escape(str(v))}</td>" for k, v in shown.items()]
    rows = "".join("<tr>" + "".join(pairs[i:i + 4]) + "</tr>" for i in range(0, len(pairs), 4))
    table = f'<table class="params">{rows}</table>' if rows else ""
    return f'<div class="run-block">{line}{table}</div>' + failure_html(run)


def failure_html(run: RunView) -> str:
    """A red box with the error of a run that failed or never ran; '' for a run that finished."""
    if run.ok:
        return ""
    error = run.record.get("error") or ("the run has not been executed in this build folder yet"
                                        if run.status == "not run" else "the run wrote no metrics.json")
    notebook = runs.display_path(run.folder / f"{run.name}.ipynb")
    return (f'<div class="failure"><b>Run {run.name} {run.status}.</b> The results it should have given are '
            f"missing from this section.<pre>{html.escape(error)}</pre>"
            f"The executed notebook, with the full traceback, is <code>{html.escape(notebook)}</code>.</div>")


def git_commit() -> str:
    """The repository's short commit, marked when the work tree has changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no")
                         else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def devices(views: dict[str, RunView]) -> str:
    """The devices the runs trained on, each once."""
    found = sorted({v.device() for v in views.values() if v.device()})
    return ", ".join(found) or "unknown (no run finished)"


def build_document(profile: runs.Profile, build: Path) -> nbformat.NotebookNode:
    """The report notebook: the writeup's sections filled with this build's runs."""
    views = {name: RunView.read(build, name) for name in profile.names()}
    z2, z20, gan, aux = (views.get(name) or RunView.read(build, name) for name in SECTION_RUNS)
    doc = Document()
    header(doc, profile, views)
    introduction(doc)
    problem(doc, z2)
    models(doc, aux)
    doc.markdown("## 4 Experiments")
    vae_section(doc, profile.name, z2, z20)
    gan_section(doc, profile.name, gan, aux)
    if "explore" in views:
        explore_section(doc, profile.name, views["explore"])
    conclusion(doc, z2, z20, gan, aux)
    references(doc)
    runs_appendix(doc, profile, views)
    nb = nbformat.v4.new_notebook(cells=doc.cells)
    nb.metadata.update(title=TITLE, kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"})
    return nb


def header(doc: Document, profile: runs.Profile, views: dict[str, RunView]) -> None:
    """Title and the line that says when, from which commit, with which profile and device."""
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    meta = [("Built", built), ("Commit", git_commit()), ("Profile", f"{profile.name} ({profile.description})"),
            ("Device", devices(views))]
    spans = "".join(f"<span><b>{k}:</b> {html.escape(v)}</span> " for k, v in meta)
    doc.html(f"<h1>{TITLE}</h1><div class=\"meta\">{spans}</div>", "header")


def introduction(doc: Document) -> None:
    """Section 1."""
    doc.markdown(
        "## 1 Introduction\n\n"
        "A generative model describes how data like ours could have come about, closely enough that it can "
        "make new examples of its own. For images of handwritten digits that means drawing digits nobody wrote. "
        "This report rebuilds a short study that compared two such models on MNIST, a variational autoencoder "
        "(VAE) and a generative adversarial network (GAN), together with a GAN whose discriminator also names "
        "the digit, and it sets our results beside the numbers the study reported. Every number, table and "
        "picture below was produced by the notebooks executed for this build; the profile named above "
        "decides how long they trained.")


def problem(doc: Document, vae: RunView) -> None:
    """Section 2."""
    train_size = vae.params.get("train_size") or 0
    subset = (f" (this build trained on the first {train_size:,} training images only)" if train_size else "")
    doc.markdown(
        "## 2 Problem description\n\n"
        "MNIST (LeCun et al., 1998) holds greyscale pictures of handwritten digits, 28 × 28 pixels each, "
        "every pixel a grey level "
        f"between 0 (white) and 1 (black). We train on 50,000 images{subset}, watch a held-out validation set "
        "of 10,000 during training and keep a test set of 10,000 for last. The aim is a latent space of few "
        "dimensions with a simple, known distribution, the standard normal, so that drawing a point there and "
        "passing it through the learned decoder or generator gives a picture that looks handwritten, and so "
        "that nearby points give similar digits.")


def models(doc: Document, aux: RunView) -> None:
    """Section 3: the two objectives, in MathML."""
    doc.markdown(
        "## 3 Models and algorithms\n\n"
        "### 3.1 Variational autoencoder\n\n"
        "The VAE (Kingma and Welling, 2013) pairs two networks. The encoder maps an image $x$ to the mean "
        r"$\mu(x)$ and variance $\sigma^2(x)$ of a Gaussian $q_\phi(z \mid x)$ over latent codes; the decoder "
        r"maps a code $z$ to one Bernoulli probability per pixel, $p_\theta(x \mid z)$. Both are fitted together "
        "by minimising the negative evidence lower bound, a reconstruction term plus the divergence of the "
        r"encoder's Gaussian from the prior $p(z) = \mathcal{N}(0, I)$:"
        r"$$\min_{\phi,\theta}\; \mathbb{E}_{q_\phi(z \mid x)}\left[-\log\, p_\theta(x \mid z)\right]"
        r" + \mathrm{KL}\left(q_\phi(z \mid x) \,\|\, p(z)\right)$$"
        "The KL term has a closed form for two Gaussians. The expectation is estimated with one sample per "
        r"image, written as $z = \mu(x) + \sigma(x) \odot \epsilon$ with $\epsilon \sim \mathcal{N}(0, I)$ "
        "(the reparameterisation trick), so that the gradient of the loss reaches the encoder through the "
        "sample, and both networks are trained by backpropagation.\n\n"
        "### 3.2 Generative adversarial networks\n\n"
        r"A GAN (Goodfellow et al., 2014) sets a generator $G$, which turns noise $z \sim p(z)$ into an image, "
        r"against a discriminator $D$, which gives the probability that its input is a real image from the data "
        r"distribution $p_d$ rather than one of $G$'s. They play the two-player game"
        r"$$\min_G \max_D\; \mathbb{E}_{p_d(x)}\left[\log D(x)\right] + \mathbb{E}_{p(z)}\left[\log\left(1 - "
        r"D(G(z))\right)\right]$$"
        r"whose solution has $G$ reproduce the data distribution and $D(x) = 1/2$ everywhere. Training "
        r"alternates $k$ discriminator updates, on a batch of real and a batch of generated images, with one "
        r"generator update; the generator is trained to maximise $\log D(G(z))$ rather than to minimise "
        r"$\log(1 - D(G(z)))$, the same fixed point with stronger gradients while $D$ still wins easily. "
        "The auxiliary GAN gives the discriminator a second output layer, a softmax over the ten digits, that "
        "learns to classify real images alongside the real-or-generated decision"
        + (", and it passes the digit label to the generator as well, so that each sample is drawn for a "
           "chosen digit." if aux.params.get("conditional") else "."))


def vae_section(doc: Document, profile: str, z2: RunView, z20: RunView) -> None:
    """Section 4.1: losses, results table, latent space, decoded grid, samples, interpolation."""
    p = z2.params or z20.params
    doc.markdown(
        "### 4.1 Variational autoencoder\n\n"
        "Pixels are binarized by coin flips with the grey level as the probability of black: afresh for every "
        "training batch, once (from the seed) for the validation and test sets, so that their losses can be "
        f"compared between epochs and runs. Encoder and decoder are each a two-layer perceptron with "
        f"{fmt(p.get('hidden_dim'))} hidden units ({p.get('activation', 'relu')}), trained with Adagrad "
        f"(learning rate {fmt(p.get('learning_rate'), 3)}) on batches of {fmt(p.get('batch_size'))}. "
        f"We trained two VAEs, with latent sizes 2 and 20, for {epochs_text(z2, z20)}; the writeup trained "
        f"for {WRITEUP_VAE_EPOCHS}.")
    doc.html(params_html(z2, profile) + params_html(z20, profile), "parameters of vae_z2 and vae_z20")
    doc.figure([("latent size 2", z2, "loss_curves"), ("latent size 20", z20, "loss_curves")],
               "Training and validation loss (negative ELBO, nats per image) per epoch, for latent size 2 (left) "
               "and 20 (right). " + (z2.caption("loss_curves") or z20.caption("loss_curves")))
    rows, sentences = [], []
    for latent, run in ((2, z2), (20, z20)):
        ours = (run.final("train_loss"), run.final("validation_loss"))
        theirs = WRITEUP_VAE_LOSS[latent]
        rows.append([f"VAE, latent {latent} (ours)", run.metrics.get("epochs_run"), *ours,
                     (run.metrics.get("test") or {}).get("loss")])
        rows.append([f"VAE, latent {latent} (writeup)", WRITEUP_VAE_EPOCHS, *theirs, None])
        if ours[1] is not None:
            gap = ours[1] - theirs[1]
            sentences.append(f"with latent size {latent} our validation loss is {ours[1]:.2f} nats after "
                             f"{run.metrics.get('epochs_run')} epochs, {abs(gap):.2f} "
                             f"{'above' if gap > 0 else 'below'} the writeup's {theirs[1]:.2f}")
        else:
            sentences.append(f"the latent-size-{latent} run gave no loss ({run.status})")
    number = doc.tables + 1
    doc.markdown(f"Table {number} compares the final losses: " + "; ".join(sentences) + ". "
                 + training_sentence(z2, z20, doc.figures) + below_writeup_sentence(z2, z20))
    doc.table(["model", "epochs", "train loss", "validation loss", "test loss"], rows,
              f"Final mean negative ELBO (nats per image) of our runs (profile {profile}, device "
              f"{devices({'a': z2, 'b': z20})}) and of the writeup. Training loss is averaged over the last "
              "epoch's batches; validation and test losses use one fixed binarization.")
    doc.markdown(
        "#### The latent space\n\n"
        "With two latent dimensions the whole code space can be drawn. Figure "
        f"{doc.figures + 1} places every validation image at the mean of its encoding, coloured by its digit; "
        f"Figure {doc.figures + 2} decodes a regular grid of points over the square "
        rf"$[-{fmt(z2.params.get('grid_limit', 2.0), 0)}, {fmt(z2.params.get('grid_limit', 2.0), 0)}]^2$.")
    doc.figure([("", z2, "latent_space")], z2.caption("latent_space") or "Latent means of the validation images.")
    doc.figure([("", z2, "latent_grid")], z2.caption("latent_grid") or "Decoded grid over the latent square.")
    explorer(doc, z2)
    doc.markdown(
        "#### Samples and interpolations\n\n"
        r"Drawing codes from the prior $\mathcal{N}(0, I)$ and decoding them shows what each model has learned "
        f"to generate (Figure {doc.figures + 1}). Following a straight line between two prior draws, "
        r"$\alpha z_1 + (1 - \alpha) z_2$ for $\alpha = 0, 0.2, \ldots, 1$, shows how smoothly one digit "
        f"turns into another (Figure {doc.figures + 2}).")
    doc.figure([("latent size 20", z20, "prior_samples"), ("latent size 2", z2, "prior_samples")],
               "Decoder means for 100 codes drawn from the prior, latent size 20 (left, the writeup's figure) and "
               "latent size 2 (right); pixel probabilities, not binary draws.")
    doc.figure([("latent size 20", z20, "interpolation"), ("latent size 2", z2, "interpolation")],
               "Interpolations between pairs of prior draws, latent size 20 (top) and 2 (bottom): each row "
               "decodes α·z₁ + (1 − α)·z₂ for one pair, α from 0 (left) to 1 (right).", layout="column")
    shown = {"loss_curves", "latent_space", "latent_grid", "prior_samples", "interpolation"}
    other_figures(doc, [z2, z20], shown)


def training_sentence(z2: RunView, z20: RunView, figure: int) -> str:
    """How long the VAEs trained against the writeup, and whether the ones behind it were still improving."""
    if min(v.metrics.get("epochs_run") or 0 for v in (z2, z20)) >= WRITEUP_VAE_EPOCHS:
        return "Both runs trained for the writeup's number of epochs."
    behind = [(latent, v) for latent, v in ((2, z2), (20, z20))
              if (loss := v.final("validation_loss")) is not None and loss > WRITEUP_VAE_LOSS[latent][1]]
    falling = behind and all(len(h := v.metrics.get("history") or []) >= 2
                             and h[-1]["validation_loss"] < h[-2]["validation_loss"] for _, v in behind)
    names = " and ".join(f"latent size {latent}" for latent, _ in behind)
    still = (f"; for {names} the validation loss in Figure {figure} was still falling at the last epoch, so more "
             "epochs should narrow the gap." if falling else ".")
    return f"These runs trained for {epochs_text(z2, z20)} against the writeup's {WRITEUP_VAE_EPOCHS}{still}"


def below_writeup_sentence(z2: RunView, z20: RunView) -> str:
    """Why a run can end below the writeup's loss: said only when one does (we never tune toward its numbers)."""
    below = [latent for latent, v in ((2, z2), (20, z20))
             if (loss := v.final("validation_loss")) is not None and loss < WRITEUP_VAE_LOSS[latent][1]]
    if not below:
        return ""
    return (" A lower loss is the better one here: a plain implementation of the model as described is "
            f"expected to end below the writeup's figures after its {WRITEUP_VAE_EPOCHS} epochs. The writeup "
            "does not say enough to pin the difference down; a different reduction of the loss, "
            "fewer effective updates, or a detail of the architecture it leaves out would each explain part of "
            "it. We report what our runs give and did not tune toward its numbers.")


def explorer(doc: Document, z2: RunView) -> None:
    """The interactive latent explorer (inline JavaScript, no kernel) when the latent-2 run saved weights."""
    if not (z2.folder / runs.WEIGHTS).exists():
        return
    try:
        fragment = explorer_html(z2.folder)
    except Exception as exc:  # the static figures above still tell the story
        print(f"report: the interactive explorer failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return
    doc.markdown("The explorer below decodes any latent point you move to (interactive in the HTML file, "
                 "a still picture in the PDF).")
    doc.html(f'<div class="explorer">{fragment}</div>', "interactive latent explorer (helpers.explorer)")


def other_figures(doc: Document, views: list[RunView], shown: set[str]) -> None:
    """Figures a run saved that the sections above do not place, each with its own caption."""
    for run in views:
        for name in run.figures:
            if name not in shown and run.image(name):
                doc.figure([("", run, name)], f"Run {run.name}: {run.caption(name)}")


def epochs_text(*views: RunView) -> str:
    """'10 epochs' or '10 and 12 epochs' from the runs' parameters."""
    found = sorted({v.params.get("epochs") for v in views if v.params.get("epochs")})
    if not found:
        return "an unknown number of epochs"
    return " and ".join(str(e) for e in found) + (" epoch" if found == [1] else " epochs")


def gan_section(doc: Document, profile: str, gan: RunView, aux: RunView) -> None:
    """Section 4.2: Figure 1 (samples side by side), Figure 2 (interpolations), losses and D's outputs."""
    p = gan.params or aux.params
    doc.markdown(
        "### 4.2 Generative adversarial networks\n\n"
        "Images are scaled to $[-1, 1]$ for the GANs and scaled back for display. Generator and discriminator "
        f"are each two hidden layers of {fmt(p.get('hidden_dim'))} units with leaky ReLU (slope 0.2); the "
        "discriminator ends in a sigmoid, the generator in a tanh. Noise vectors have "
        f"{fmt(p.get('noise_dim'))} dimensions, drawn from the standard normal. Both networks use Adam "
        f"(learning rate {fmt(p.get('learning_rate'), 4)}), with {fmt(p.get('d_steps'))} discriminator "
        f"{'step' if p.get('d_steps') == 1 else 'steps'} per generator step. "
        f"We trained for {epochs_text(gan, aux)}; the writeup trained for "
        f"{WRITEUP_GAN_EPOCHS}.")
    doc.html(params_html(gan, profile) + params_html(aux, profile), "parameters of gan and aux_gan")
    first = doc.figures + 1
    doc.markdown(f"Figure {first} shows 100 samples of each GAN side by side and Figure {first + 1} walks "
                 "between pairs of noise vectors. " + gan_sentence(gan, aux))
    doc.figure([("GAN", gan, "samples"), ("auxiliary GAN", aux, "samples")],
               "The writeup's Figure 1 with our models: 100 samples from noise drawn from the standard normal, "
               "the plain GAN (left) and the GAN with the auxiliary digit classifier (right), mapped from "
               "[-1, 1] back to grey levels.")
    doc.figure([("GAN", gan, "interpolation"), ("auxiliary GAN", aux, "interpolation")],
               "The writeup's Figure 2 with our models: samples along straight lines between pairs of noise "
               "vectors, the plain GAN (top) and the auxiliary GAN (bottom): each row draws "
               "G(α·z₁ + (1 − α)·z₂) for one pair, α from 0 (left) to 1 (right).", layout="column")
    rows = [[label, run.metrics.get("epochs_run"), run.final("d_loss"), run.final("g_loss"), run.final("d_real"),
             run.final("d_fake"), run.final("val_accuracy")] for label, run in (("GAN", gan), ("auxiliary GAN", aux))]
    doc.table(["model", "epochs", "D loss", "G loss", "D(real)", "D(fake)", "validation digit accuracy"], rows,
              f"The last epoch of each GAN (profile {profile}, device {devices({'a': gan, 'b': aux})}): mean "
              "losses, the discriminator's mean output on real and generated images, and, for the auxiliary "
              "GAN, its classifier's accuracy on the validation images. The writeup reports no numbers here.")
    for name, what in (("losses", "Discriminator and generator losses per epoch"),
                       ("d_outputs", "The discriminator's mean output on real and generated images per epoch"),
                       ("progress", "Samples from fixed noise as training went on")):
        if gan.image(name) or aux.image(name):
            doc.figure([("GAN", gan, name), ("auxiliary GAN", aux, name)],
                       f"{what}: plain GAN (top) and auxiliary GAN (bottom).", layout="column")
    other_figures(doc, [gan, aux], {"samples", "interpolation", "losses", "d_outputs", "progress"})


def gan_sentence(gan: RunView, aux: RunView) -> str:
    """What the discriminators' final outputs say, in numbers from the runs."""
    parts = []
    for label, run in (("plain GAN", gan), ("auxiliary GAN", aux)):
        real, fake = run.final("d_real"), run.final("d_fake")
        if real is None or fake is None:
            parts.append(f"The {label} gave no final numbers ({run.status}).")
        elif not parts:
            parts.append(f"At the end of training the {label}'s discriminator gives real images {real:.2f} and "
                         f"generated ones {fake:.2f} on average (1/2 for both would mean it can no longer tell "
                         "them apart).")
        else:
            parts.append(f"For the {label} the two are {real:.2f} and {fake:.2f}.")
    accuracy = aux.final("val_accuracy")
    if accuracy is not None:
        parts.append(f"The auxiliary classifier names the digit of {100 * accuracy:.1f}% of validation images.")
    return " ".join(parts)


def explore_section(doc: Document, profile: str, run: RunView) -> None:
    """Section 4.3: the exploration notebook's figures, as it captioned them."""
    doc.markdown("### 4.3 Further exploration\n\nThe exploration notebook (`notebooks/explore.ipynb`) puts "
                 "sliders over every trained model above. Its widgets need a running kernel, so this report "
                 "gives only its parameters and how long one update took.")
    doc.html(params_html(run, profile), "parameters of explore")
    latency = run.metrics.get("update_latency_ms") or {}
    if latency:
        doc.table(["model", "milliseconds"], [[name, ms] for name, ms in latency.items()],
                  "Time one explorer update took in the notebook (decode and redraw after a slider move), per model.")
    other_figures(doc, [run], set())


def conclusion(doc: Document, z2: RunView, z20: RunView, gan: RunView, aux: RunView) -> None:
    """Section 5, with this build's numbers."""
    lines = []
    writeup = f"{WRITEUP_VAE_LOSS[20][1]:.2f} against {WRITEUP_VAE_LOSS[2][1]:.2f}"
    if z2.ok and z20.ok:
        better = z20.final("validation_loss") < z2.final("validation_loss")
        lines.append(f"With twenty latent dimensions the VAE reached {z20.final('validation_loss'):.2f} nats on "
                     f"validation against {z2.final('validation_loss'):.2f} with two, after "
                     f"{epochs_text(z20, z2)}: "
                     + (f"the same ordering as in the writeup ({writeup}). " if better else
                        f"not yet the writeup's ordering ({writeup}). ")
                     + "The two-dimensional code has another use: it can be drawn whole, as in the latent-space "
                     "figures.")
    ended = [(label, run.final("d_real"), run.final("d_fake")) for label, run in
             (("plain GAN", gan), ("auxiliary GAN", aux)) if run.final("d_real") is not None]
    if ended:
        near = all(abs(real - 0.5) < 0.1 and abs(fake - 0.5) < 0.1 for _, real, fake in ended)
        lines.append("The discriminators ended with " + " and ".join(
            f"D(real) = {real:.2f}, D(fake) = {fake:.2f} ({label})" for label, real, fake in ended)
            + (": close to the 1/2 of the game's equilibrium." if near
               else ": still some way from the 1/2 of the game's equilibrium."))
    failed = [v.name for v in (z2, z20, gan, aux) if not v.ok]
    if failed:
        lines.append(f"Runs {', '.join(failed)} gave no results in this build; their sections say why.")
    doc.markdown("## 5 Conclusion\n\nWe trained a variational autoencoder and two generative adversarial "
                 "networks to draw handwritten digits. " + " ".join(lines))


def references(doc: Document) -> None:
    """The works cited."""
    doc.markdown(
        "## References\n\n<div class=\"references\">\n\n"
        "Goodfellow, I., Pouget-Abadie, J., Mirza, M., Xu, B., Warde-Farley, D., Ozair, S., Courville, A., and "
        "Bengio, Y. (2014). Generative adversarial nets. In *Advances in Neural Information Processing "
        "Systems 27*, pages 2672–2680.\n\n"
        "Kingma, D. P. and Welling, M. (2013). Auto-encoding variational Bayes. *arXiv preprint* "
        "arXiv:1312.6114.\n\n"
        "LeCun, Y., Bottou, L., Bengio, Y., and Haffner, P. (1998). Gradient-based learning applied to document "
        "recognition. *Proceedings of the IEEE*, 86(11):2278–2324.\n\n"
        "Lin, A. and Yu, M. (2018). HW4: Variational autoencoders. The writeup this report reproduces.\n\n</div>")


def runs_appendix(doc: Document, profile: runs.Profile, views: dict[str, RunView]) -> None:
    """A table of every run of the profile: status, minutes, executed notebook."""
    rows = [[v.name, v.status, v.record.get("minutes"), runs.display_path(v.folder / f"{v.name}.ipynb"),
             v.record.get("key", "")] for v in views.values()]
    doc.markdown("## Appendix: the runs of this build")
    doc.table(["run", "status", "minutes (last execution)", "executed notebook", "cache key"], rows,
              f"Every run of profile {profile.name}; 'cached' runs were reused from an earlier build with the same "
              "notebook, parameters, helpers and data.")


def export_html(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Convert the report notebook to one self-contained HTML file with our template, code hidden."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    path.write_text(body, encoding="utf-8")
    return path


def find_chromium() -> str | None:
    """The path of a Chromium to print with, or None."""
    for name in CHROMIUM:
        if found := shutil.which(name):
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> str:
    """Print the HTML to PDF with headless Chromium; returns '' on success, else why it was skipped."""
    chromium = find_chromium()
    if not chromium:
        return "no chromium on PATH (make chromium installs Debian's)"
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile_dir:
        partial = pdf_path.with_suffix(".partial.pdf")
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile_dir}", "--no-pdf-header-footer", "--virtual-time-budget=3000",
                   f"--print-to-pdf={partial}", html_path.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"chromium did not finish printing within {timeout:.0f} s"
        if not partial.exists() or partial.stat().st_size == 0:
            return f"chromium wrote no PDF (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        partial.replace(pdf_path)
    return ""


def build_report(profile: runs.Profile, build: Path, output: Path, pdf: bool = True) -> tuple[Path, Path | None]:
    """Write <build>/report.{ipynb,html,pdf} and copy the HTML and PDF to <output>/report.{html,pdf}."""
    build.mkdir(parents=True, exist_ok=True)
    nb = build_document(profile, build)
    nbformat.write(nb, build / "report.ipynb")
    html_path = export_html(nb, build / "report.html")
    shutil.copyfile(html_path, output / "report.html")
    print(f"report: wrote {runs.display_path(html_path)} and {runs.display_path(output / 'report.html')}")
    if not pdf:
        return html_path, None
    why = print_pdf(html_path, build / "report.pdf")
    if why:
        print(f"report: PDF skipped: {why}", file=sys.stderr)
        return html_path, None
    shutil.copyfile(build / "report.pdf", output / "report.pdf")
    print(f"report: wrote {runs.display_path(build / 'report.pdf')} and {runs.display_path(output / 'report.pdf')}")
    return html_path, build / "report.pdf"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m helpers.report", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", help="profile name in report/profiles/ or a YAML path "
                        "(default: quick)")
    parser.add_argument("--only", nargs="+", metavar="RUN", help="execute only these runs (and those they need); "
                        "the report still shows every run of the profile")
    parser.add_argument("--device", help="device for every run that has one: auto, cpu, cuda, cuda:N, mps")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="[RUN.]NAME=VALUE",
                        help="override one parameter, for a run or notebook (vae.epochs=5) or for every run "
                        "that has it (epochs=5); repeatable")
    parser.add_argument("--output", type=Path, default=BUILD, help="build folder (default: report/build)")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds one notebook cell may run "
                        "(default: 4 hours)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per notebook (OMP_NUM_THREADS); "
                        "1, the default, is fastest on a busy or 2-core machine; 0 keeps torch's default")
    parser.add_argument("--workers", type=int, help="Dask worker processes on this machine, one run each "
                        "(default: one per CPU core; 1 runs one after another)")
    parser.add_argument("--scheduler", metavar="ADDR", help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                        "(its workers need this repository, its environment and the data at the same paths)")
    parser.add_argument("--force", action="store_true", help="execute runs even when the cache has them")
    parser.add_argument("--no-run", action="store_true", help="only rebuild the report from existing runs")
    parser.add_argument("--no-pdf", action="store_true", help="build the HTML only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the profile, build the report, print a summary; exit status 1 when a run failed."""
    args = parse_args(argv)
    try:
        if args.device:
            check_device(args.device)  # before any run's old outputs are cleared
        profile = runs.load_profile(args.profile)
        selected = runs.apply_overrides(runs.select(profile, args.only), args.assignments, args.device)
    except (runs.ProfileError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build = args.output / profile.name
    start = time.perf_counter()
    try:
        results = [] if args.no_run else runs.execute_all(selected, build, args.timeout, args.force,
                                                          args.threads or None, args.workers, args.scheduler)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build_report(profile, build, args.output, pdf=not args.no_pdf)
    if results:
        print("\n" + runs.summary_table(results))
    failed = [r.name for r in results if r.failed]
    print(f"\nbuild {'FAILED (' + ', '.join(failed) + ')' if failed else 'ok'} in "
          f"{(time.perf_counter() - start) / 60:.1f} min wall, {runs.run_minutes(results):.1f} min of runs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
