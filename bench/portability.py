"""Simulate other CPUs: the numerically sensitive tests under each of torch's dispatch levels and thread counts.

torch picks its CPU kernels by the dispatch level (ATEN_CPU_CAPABILITY: default, avx2, avx512; never above what
the CPU has) and splits sums by the thread count, and both change the last bits of float32 results. Each
combination runs in a fresh process: the tests not marked slow, then the float64 equivalence of the optimized and
plain training loops, whose largest relative differences it prints (the margin that tests/test_train_equivalence.py
keeps above them). Prints the CPU and its flags; exit status 1 when any combination fails.

Usage: .venv/bin/python -m bench.portability [--levels default avx2 avx512] [--threads 1 2] [--skip-tests]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.common.machine import cpu_flags, cpu_name

ROOT = Path(__file__).resolve().parent.parent
MEASURE = """
import json, sys, torch
sys.path.insert(0, "tests")
import test_train_equivalence as t
torch.set_default_dtype(torch.float64)
ways = {"vae": t.train_vae_both_ways(), "gan": t.train_gan_both_ways(False), "aux_gan": t.train_gan_both_ways(True)}
print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
                  **{k: t.largest_differences(v) for k, v in ways.items()}}))
"""


def environment(level: str, threads: int) -> dict[str, str]:
    """This process's environment with one dispatch level and thread count."""
    return os.environ | {"ATEN_CPU_CAPABILITY": level, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def run_tests(level: str, threads: int) -> tuple[bool, str]:
    """The fast tests under one combination: (passed, pytest's closing line)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=environment(level, threads), capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return done.returncode == 0, lines[-1] if lines else done.stderr[-300:]


def measure(level: str, threads: int) -> dict:
    """The equivalence's largest relative differences (losses, weights) per model under one combination."""
    done = subprocess.run([sys.executable, "-c", MEASURE], cwd=ROOT, env=environment(level, threads),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run every combination and print one row each."""
    parser = argparse.ArgumentParser(prog="python -m bench.portability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", nargs="+", default=["default", "avx2", "avx512"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--skip-tests", action="store_true", help="only measure the loops' differences")
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_name()}; flags: {' '.join(sorted(cpu_flags() & {'avx2', 'avx512f', 'avx512_bf16', 'amx_bf16'}))}")
    print("| level asked | torch runs | threads | tests | largest relative difference: losses / weights |")
    print("|---|---|---|---|---|")
    failed = False
    for level in args.levels:
        for threads in args.threads:
            passed, line = (True, "skipped") if args.skip_tests else run_tests(level, threads)
            found = measure(level, threads)
            worst = "; ".join(f"{m} {found[m]['losses']:.1e} / {found[m]['weights']:.1e}"
                              for m in ("vae", "gan", "aux_gan"))
            print(f"| {level} | {found['capability']} | {threads} | {line} | {worst} |", flush=True)
            failed |= not passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
