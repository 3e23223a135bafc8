"""The report pipeline's fixed cost and a VAE run's peak memory, measured on one short run of vae.ipynb.

One papermill run of notebooks/vae.ipynb for one epoch: its wall time minus the epoch's own training time is
the fixed cost of a run (kernel start, imports, data, figures, metrics); then an nbconvert HTML export
of the executed notebook and a Chromium PDF print of that HTML, each timed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.common.files import METRICS, PROGRESS_ENV

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], **options) -> float:
    """Seconds a command takes (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True, **options)
    return time.perf_counter() - start


def pipeline_cost(train_size: int = 0) -> dict[str, float | str | None]:
    """Seconds of a one-epoch VAE run with papermill (fixed part apart), its HTML export and PDF print; peak MiB."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        out = Path(folder)
        executed = out / "vae.ipynb"
        env = os.environ | {PROGRESS_ENV: "text"}
        papermill = timed([sys.executable, "-m", "papermill", "notebooks/vae.ipynb", str(executed),
                           "-p", "epochs", "1", "-p", "train_size", str(train_size), "-p", "output_dir", folder,
                           "-p", "resume", "False", "-p", "device", "cpu",
                           "-p", "nll_samples", "10", "-p", "nll_images", "100"], env=env)  # evaluation kept small
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest process so far
        train_seconds = json.loads((out / METRICS).read_text())["train_seconds"]
        html_seconds = timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(executed)])
        pdf_seconds, pdf_note = print_pdf(executed.with_suffix(".html"), out / "vae.pdf")
    return {"papermill_seconds": papermill, "train_seconds": train_seconds,
            "fixed_seconds": papermill - train_seconds, "html_export_seconds": html_seconds,
            "pdf_print_seconds": pdf_seconds, "pdf_note": pdf_note, "peak_memory_mib": peak_mib}


def print_pdf(html: Path, pdf: Path) -> tuple[float | None, str | None]:
    """Seconds to print html to pdf with the report's Chromium printer, or (None, why not)."""
    from helpers.report.export import print_pdf as chromium_print

    start = time.perf_counter()
    problem = chromium_print(html, pdf)
    seconds = time.perf_counter() - start
    return (seconds, None) if pdf.exists() else (None, str(problem))
