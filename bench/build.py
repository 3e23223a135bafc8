"""Benchmark (issue 23): is a run in the build as fast per epoch as the same notebook run by hand?

The same short VAE run of notebooks/vae.ipynb three ways, one after another on a quiet machine:
- by hand: papermill from this process's environment (one thread, as the build gives a run);
- in the build: the Executor's LocalCluster (one worker), its task starting the run's process as for any build;
- inheriting the allocator setting that Dask's nanny exports (MALLOC_TRIM_THRESHOLD_=65536), by hand: what a
  run in the build cost before the executor dropped it;
- with glibc's mmap threshold fixed at 4 MiB, by hand: the setting runs were given after that, until the IS-NLL
  stopped needing it.
Reported: the median seconds per epoch of each (from the run's metrics.json history), the seconds of its IS-NLL
(K = 5000 on --nll-images test images: the cell's time as papermill recorded it), and their ratios.
Usage: .venv/bin/python -m bench.build [--epochs 6] [--train-size 10000] [--nll-images 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.common.files import METRICS, PROGRESS_ENV, read_json
from helpers.evaluation.metrics import BURDA_SAMPLES
from helpers.runs.executor import Executor, run_env
from helpers.runs.profile import Run

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"inherited_malloc_trim": {"MALLOC_TRIM_THRESHOLD_": "65536"},  # what Dask's nanny exports
            "fixed_mmap_threshold": {"MALLOC_MMAP_THRESHOLD_": str(4 * 2**20)}}  # what runs were given before


def parameters(epochs: int, train_size: int, nll_images: int, output: Path) -> dict:
    """The short run's parameters: its epochs, and its IS-NLL at the full profile's K on nll_images images."""
    return {"latent_dim": 20, "epochs": epochs, "train_size": train_size, "nll_samples": BURDA_SAMPLES,
            "nll_images": nll_images, "device": "cpu", "resume": False, "output_dir": str(output)}


def epoch_seconds(folder: Path) -> float:
    """The median seconds of the run's epochs after the first (which also warms the caches)."""
    history = read_json(folder / METRICS)["history"]
    return statistics.median(row["seconds"] for row in history[1:])


def likelihood_seconds(notebook: Path) -> float:
    """The seconds papermill recorded for the executed notebook's IS-NLL cell."""
    cells = json.loads(notebook.read_text())["cells"]
    return next(cell["metadata"]["papermill"]["duration"] for cell in cells
                if "importance_sampled_nll" in "".join(cell["source"]))


def by_hand(folder: Path, params: dict, extra_env: dict[str, str]) -> tuple[float, float]:
    """papermill run in a child of this process, with one thread; its median seconds per epoch and its IS-NLL's."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "papermill", "notebooks/vae.ipynb", str(folder / "vae.ipynb"), "-k", "python3"]
    for key, value in params.items():
        command += ["-p", key, str(value)]
    env = os.environ | run_env(1) | extra_env
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
    return epoch_seconds(folder), likelihood_seconds(folder / "vae.ipynb")


def in_build(build: Path, params: dict) -> tuple[float, float]:
    """The same run executed by the build's Executor (a LocalCluster of one worker): seconds per epoch, IS-NLL's."""
    run = Run("vae", "notebooks/vae.ipynb", {k: v for k, v in params.items() if k != "output_dir"})
    with Executor(workers=1) as executor:
        [result] = executor.execute([run], build, force=True)
    if not result.status.finished:
        raise RuntimeError(f"the run in the build failed: {result.error}")
    return epoch_seconds(build / "vae"), likelihood_seconds(build / "vae" / "vae.ipynb")


def measure(epochs: int = 6, train_size: int = 10_000, nll_images: int = 200) -> dict:
    """Seconds per epoch and of the IS-NLL by hand, in the build and by hand under each of SETTINGS; ratios."""
    os.environ.setdefault(PROGRESS_ENV, "text")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        root = Path(tmp)
        hand, hand_nll = by_hand(root / "hand", parameters(epochs, train_size, nll_images, root / "hand"), {})
        build, build_nll = in_build(root / "build", parameters(epochs, train_size, nll_images, root / "build"))
        other = {name: by_hand(root / name, parameters(epochs, train_size, nll_images, root / name), env)
                 for name, env in SETTINGS.items()}
    result = {"epochs": epochs, "train_images": train_size, "nll_images": nll_images, "nll_samples": BURDA_SAMPLES,
              "by_hand_seconds_per_epoch": hand, "in_build_seconds_per_epoch": build,
              "build_over_by_hand": build / hand, "by_hand_nll_seconds": hand_nll, "in_build_nll_seconds": build_nll,
              "nll_build_over_by_hand": build_nll / hand_nll}
    for name, (epoch, nll) in other.items():
        result |= {f"{name}_seconds_per_epoch": epoch, f"{name}_nll_seconds": nll,
                   f"{name}_over_by_hand": epoch / hand, f"{name}_nll_over_by_hand": nll / hand_nll}
    print(f"per epoch ({train_size:,} images) and IS-NLL of {nll_images} images: by hand {hand:.2f} s, "
          f"{hand_nll:.1f} s; in the build {build:.2f} s ({build / hand:.2f}x), {build_nll:.1f} s "
          f"({build_nll / hand_nll:.2f}x); " + "; ".join(
              f"{name} {epoch:.2f} s ({epoch / hand:.2f}x), {nll:.1f} s ({nll / hand_nll:.2f}x)"
              for name, (epoch, nll) in other.items()), flush=True)
    return result


def main() -> None:
    """Measure and print (bench.speed stores the result in bench/results.json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--nll-images", type=int, default=200)
    args = parser.parse_args()
    measure(args.epochs, args.train_size, args.nll_images)


if __name__ == "__main__":
    main()
