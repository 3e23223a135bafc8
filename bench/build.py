"""Benchmark (issue 23): is a run in the build as fast per epoch as the same notebook run by hand?

The same short VAE run of notebooks/vae.ipynb three ways, one after another on a quiet machine:
- by hand: papermill from this process's environment (one thread, as the build gives a run);
- in the build: the Executor's LocalCluster (one worker), its task starting the run's process as for any build;
- inheriting the allocator setting that Dask's nanny exports (MALLOC_TRIM_THRESHOLD_=65536), by hand: what a
  run in the build cost before the executor dropped it.
Reported: the median seconds per epoch of each (from the run's metrics.json history) and their ratios.
Usage: .venv/bin/python -m bench.build [--epochs 4] [--train-size 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.common.files import METRICS, PROGRESS_ENV, read_json
from helpers.runs.executor import Executor, run_env
from helpers.runs.profile import Run

ROOT = Path(__file__).resolve().parent.parent
NANNY_SETTING = {"MALLOC_TRIM_THRESHOLD_": "65536"}


def parameters(epochs: int, train_size: int, output: Path) -> dict:
    """The short run's parameters (evaluation kept small: the epochs are what is compared)."""
    return {"latent_dim": 20, "epochs": epochs, "train_size": train_size, "nll_samples": 10, "nll_images": 10,
            "device": "cpu", "resume": False, "output_dir": str(output)}


def epoch_seconds(folder: Path) -> float:
    """The median seconds of the run's epochs after the first (which also warms the caches)."""
    history = read_json(folder / METRICS)["history"]
    return statistics.median(row["seconds"] for row in history[1:])


def by_hand(folder: Path, params: dict, extra_env: dict[str, str]) -> float:
    """papermill run in a child of this process, with one thread; its median seconds per epoch."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "papermill", "notebooks/vae.ipynb", str(folder / "vae.ipynb"), "-k", "python3"]
    for key, value in params.items():
        command += ["-p", key, str(value)]
    env = os.environ | run_env(1) | extra_env
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
    return epoch_seconds(folder)


def in_build(build: Path, params: dict) -> float:
    """The same run executed by the build's Executor (a LocalCluster of one worker); its median seconds per epoch."""
    run = Run("vae", "notebooks/vae.ipynb", {k: v for k, v in params.items() if k != "output_dir"})
    with Executor(workers=1) as executor:
        [result] = executor.execute([run], build, force=True)
    if not result.status.finished:
        raise RuntimeError(f"the run in the build failed: {result.error}")
    return epoch_seconds(build / "vae")


def measure(epochs: int = 4, train_size: int = 10_000) -> dict:
    """Seconds per epoch by hand, in the build and with the nanny's setting inherited; their ratios."""
    os.environ.setdefault(PROGRESS_ENV, "text")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        root = Path(tmp)
        hand = by_hand(root / "hand", parameters(epochs, train_size, root / "hand"), {})
        build = in_build(root / "build", parameters(epochs, train_size, root / "build"))
        inherited = by_hand(root / "inherited", parameters(epochs, train_size, root / "inherited"), NANNY_SETTING)
    result = {"epochs": epochs, "train_images": train_size, "by_hand_seconds_per_epoch": hand,
              "in_build_seconds_per_epoch": build, "inherited_malloc_trim_seconds_per_epoch": inherited,
              "build_over_by_hand": build / hand, "inherited_over_by_hand": inherited / hand}
    print(f"per epoch ({train_size:,} images): by hand {hand:.2f} s, in the build {build:.2f} s "
          f"({build / hand:.2f}x), inheriting MALLOC_TRIM_THRESHOLD_ {inherited:.2f} s ({inherited / hand:.2f}x)",
          flush=True)
    return result


def main() -> None:
    """Measure and print (bench.speed stores the result in bench/results.json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--train-size", type=int, default=10_000)
    args = parser.parse_args()
    measure(args.epochs, args.train_size)


if __name__ == "__main__":
    main()
