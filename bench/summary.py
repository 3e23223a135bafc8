"""The tables of docs/speed.md, generated from bench/results.json (never typed by hand).

Usage: .venv/bin/python -m bench.summary          print the tables
       .venv/bin/python -m bench.summary --write  put them into docs/speed.md between its markers
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bench.speed import BF16_TARGET, FP32_TARGET, RESULTS
from helpers.common.files import read_json
from helpers.common.tables import markdown_table
from helpers.report.precision import summary_runs

DOC = Path(__file__).resolve().parent.parent / "docs" / "speed.md"
BLOCK = re.compile(r"(<!-- bench:results -->\n).*?(<!-- /bench:results -->)", re.S)


def machine_line(results: dict) -> str:
    """What the numbers were measured on."""
    m = results["machine"]
    flags = ", ".join(flag for flag, present in m["flags"].items() if present) or "none of the bf16 flags"
    return (f"Measured on {m['cpu']} ({m['cores']} cores; {flags}), torch {m['torch']}, load average "
            f"{m['load_average_start']:.1f} at the start and {m['load_average_end']:.1f} at the end.")


def step_table(results: dict, threads: int = 1) -> str:
    """Seconds per epoch of each model's step, autograd's and the written-out one, against the ceilings."""
    rows = [[r["model"], r["step"], r["precision"], f"{r['seconds_per_epoch']:.2f}",
             f"{r['fraction_of_ceiling']:.2f}", f"{r['fraction_of_chained_ceiling']:.2f}",
             f"{r['fraction_of_fp32_ceiling']:.2f}"] for r in results["rows"] if r["threads"] == threads]
    return markdown_table(["model", "step", "precision", "s/epoch", "of its ceiling", "of its chained ceiling",
                           "× the fp32 ceiling's speed"], rows)


def breakdown_table(results: dict) -> str:
    """Shares of the written-out step's time by part."""
    parts = list(results["breakdown"][0]["shares"])
    rows = [[b["model"], b["precision"], *(f"{b['shares'][p]:.0%}" for p in parts)] for b in results["breakdown"]]
    return markdown_table(["model", "precision", *parts], rows)


MEMORY_PARTS = ("optimizer", "precision copies")  # whole passes over the parameter buffers: bound by memory


def bound_table(results: dict) -> str:
    """How fast each written-out step could be with nothing but its products (at their ceiling, or chained) and its
    passes over the parameter buffers (as measured): a bound on the issue's targets on this machine.
    The products are those the written-out step runs (bench.ceiling.step_products).
    """
    ceilings = {(c["model"], c["precision"]): c for c in results["ceilings"] if c["threads"] == 1}
    steps = {(r["model"], r["precision"]): r["seconds_per_epoch"] for r in results["rows"]
             if r["threads"] == 1 and r["step"] == "explicit"}
    rows = []
    for b in results["breakdown"]:
        key = (b["model"], b["precision"])
        memory = steps[key] * sum(b["shares"][part] for part in MEMORY_PARTS)
        alone = ceilings[key]["written_out_seconds_per_epoch"]
        chained = ceilings[key]["written_out_chained_seconds_per_epoch"]
        fp32 = ceilings[(b["model"], "fp32")]["seconds_per_epoch"]
        target = FP32_TARGET if b["precision"] == "fp32" else BF16_TARGET
        rows.append([*key, f"{steps[key]:.2f}", f"{alone:.2f}", f"{chained:.2f}", f"{memory:.2f}",
                     f"{fp32 / (alone + memory):.2f}", f"{fp32 / (chained + memory):.2f}", f"{target:g}"])
    return markdown_table(["model", "precision", "s/epoch", "its products alone (s)", "its products chained (s)",
                           "optimizer and precision copies (s)", "bound: × the fp32 ceiling's speed",
                           "bound with the products chained", "target"], rows)


def likelihood_table(results: dict) -> str:
    """The IS-NLL per test image in each precision."""
    likelihood = results["likelihood"]
    rows = [[r["precision"], f"{r['samples']:,}", f"{1e3 * r['seconds_per_image']:.1f}",
             f"{r['fraction_of_fp32_matmul_rate']:.2f}", f"{r['test_set_minutes']:.1f}"] for r in likelihood["rows"]]
    table = markdown_table(["precision", "K", "ms per image", "of the fp32 matmul rate", "minutes for 10,000 images"],
                           rows)
    if "bf16_minus_fp32_nats" in likelihood:
        table += (f"\n\nbf16 minus fp32 on the same {likelihood['rows'][0]['images_timed']} images and draws: "
                  f"{likelihood['bf16_minus_fp32_nats']:+.4f} nats on average, at most "
                  f"{likelihood['largest_image_difference_nats']:.4f} on one image.")
    return table


def build_line(results: dict) -> str:
    """A run in the build against the same run by hand: its epochs and its IS-NLL."""
    b = results.get("build")
    if not b:
        return "The build comparison was not measured (bench.speed --skip-pipeline)."
    return (f"Per epoch ({b['train_images']:,} training images): by hand {b['by_hand_seconds_per_epoch']:.2f} s, in "
            f"the build {b['in_build_seconds_per_epoch']:.2f} s ({b['build_over_by_hand']:.2f}×); inheriting Dask's "
            f"`MALLOC_TRIM_THRESHOLD_=65536`, as runs did before, {b['inherited_malloc_trim_seconds_per_epoch']:.2f} s "
            f"({b['inherited_malloc_trim_over_by_hand']:.2f}×). The IS-NLL (K = {b['nll_samples']:,}) of "
            f"{b['nll_images']:,} test images: by hand {b['by_hand_nll_seconds']:.1f} s, in the build "
            f"{b['in_build_nll_seconds']:.1f} s ({b['nll_build_over_by_hand']:.2f}×); with glibc's mmap threshold "
            f"fixed at 4 MiB, as runs had it before, {b['fixed_mmap_threshold_nll_seconds']:.1f} s "
            f"({b['fixed_mmap_threshold_nll_over_by_hand']:.2f}×).")


PRECISION_TESTS = {"summary": "the test", "exploratory": "exploratory"}  # bench.precision's two summaries


def precision_table(results: dict) -> str:
    """The full-length comparison of fp32 and bf16 training, per model and measure, by the declared margins: the
    test on the declared seeds, and the earlier seeds apart as exploratory."""
    comparison = results.get("precision_comparison") or {}
    rows = [row for model, c in comparison.items() for part, words in PRECISION_TESTS.items()
            for row in precision_rows(model, c, part, words)]
    if not rows:
        return "No full-length precision comparison is on record yet (python -m bench.precision)."
    first = next(iter(comparison.values()))
    waiting = [model for model, c in comparison.items() if not c.get("summary")]
    return markdown_table(["model", "measured on", "epochs", "measure", "runs", "seeds", "fp32 mean", "bf16 mean",
                           "bf16 − fp32 (95% interval)", "margin", "interval in margin"], rows) + (
        f"\n\nRule: {first['rule']}. Margins declared {first.get('margins_declared', '')}, with the seeds of the "
        f"test ({', '.join(map(str, first.get('declared_seeds', [])))}), before any of them ran; the exploratory "
        f"seeds ran before."
        + (f" Not yet run to the end for the test: {', '.join(waiting)}." if waiting else ""))


def precision_rows(model: str, comparison: dict, part: str, words: str) -> list[list]:
    """One summary of a model's comparison (the test or the exploratory seeds): a row per measure."""
    runs = summary_runs(comparison, part == "summary")
    cpus = " and ".join(sorted({run["cpu"] for run in runs}))
    seeds = ", ".join(map(str, sorted(run["seed"] for run in runs if run["precision"] == "fp32")))
    return [[model, cpus, comparison["epochs"], measure, words, seeds,
             f"{s['fp32_mean']:.3f} (range {s['fp32_range']:.3f})",
             f"{s['bf16_mean']:.3f} (range {s['bf16_range']:.3f})",
             f"{s['bf16_minus_fp32']:+.3f} ({s['low']:+.3f} to {s['high']:+.3f})", f"±{s['margin']:g}",
             "inside" if s["inside_margin"] else "not inside"]
            for measure, s in (comparison.get(part) or {}).items()]


def tables(results: dict) -> str:
    """Every generated part of docs/speed.md."""
    return "\n\n".join([machine_line(results), "### The training step, one thread", step_table(results),
                        "### Where the written-out step's time goes", breakdown_table(results),
                        "### How fast the step could be on this machine", bound_table(results),
                        "### The likelihood of the test set", likelihood_table(results),
                        "### A run in the build", build_line(results),
                        "### bf16 against fp32 at full length", precision_table(results)]) + "\n"


def main() -> None:
    """Print the tables, or write them into docs/speed.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = tables(read_json(RESULTS))
    if args.write:
        DOC.write_text(BLOCK.sub(lambda m: m.group(1) + text + m.group(2), DOC.read_text()))
    print(text)


if __name__ == "__main__":
    main()
