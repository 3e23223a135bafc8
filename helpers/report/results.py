"""The reproduction record and the results table over all models: every number of the table and the build's
provenance, in one JSON file; the table's columns are the measures helpers.common.measures declares.

The build writes it (``results/<profile>.json`` at the repository root for the report's default build folder),
never a person: README's results table is generated from ``results/full.json`` by helpers.report.readme.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
import time
from pathlib import Path
from typing import Any

from helpers.common import measures
from helpers.common.files import write_json
from helpers.common.measures import MISSING
from helpers.common.reference import WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config import MONITOR_SAMPLES, TEST_SIZE
from helpers.config.registry import MODELS
from helpers.report import findings
from helpers.report.found import Found
from helpers.report.runview import RunView, devices
from helpers.runs.profile import REPLICA
from helpers.runs.provenance import arithmetic as runs_arithmetic
from helpers.runs.words import alternatives

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # run.json's "finished" (RunFolder.write_record)

REFERENCE_POINTS = (("real_test", "real test images (IS; its maximum is 10)"),
                    ("real_validation", "real validation images (IS); against test images (FD)"),
                    ("real_validation_monitored", f"{MONITOR_SAMPLES:,} real validation images (IS); against test "
                     "images (FD at the GAN monitor's sample size)"),
                    ("independent_pixels", "independent pixels (floor)"))


def difference(a: float | None, b: float | None) -> float | None:
    """a - b, or None when either is missing."""
    return None if a is None or b is None else a - b


def game(run: RunView) -> dict | None:
    """A GAN's discriminator outputs D(x) and D(G(z)) at its first and last epoch; None for other runs."""
    real, fake = run.history("d_real"), run.history("d_fake")
    if not real or not fake:
        return None
    return {"d_real_first": real[0], "d_real_last": real[-1], "d_fake_first": fake[0], "d_fake_last": fake[-1]}


def training_minutes(run: RunView) -> float | None:
    """Minutes the run spent training, summed over its epochs (so a resumed run counts all of them); None for a run
    that trains nothing or did not say."""
    seconds = run.metrics.get("train_seconds")
    return round(seconds / 60, 2) if seconds is not None else None


COMPUTED = {  # the measures the record computes from a run rather than reads from its metrics.json
    "validation_neg_elbo": lambda run: run.final("validation_loss"), "monitor": findings.coverage, "game": game,
    "epochs": lambda run: run.epochs_run, "minutes": training_minutes, "device": lambda run: run.device() or None}


DERIVED = {  # the measures a record computes from its other measures, recomputed wherever a record is read
    "elbo_minus_nll": lambda result: difference(result.get("nll_elbo"), result.get("nll"))}  # on the same images


def with_derived(result: dict[str, Any]) -> dict[str, Any]:
    """A model's numbers with DERIVED computed from its own (a record written before a definition changed reads as
    one written after)."""
    return result | {key: derive(result) for key, derive in DERIVED.items()}


def model_result(run: RunView, label: str) -> dict:
    """One model's numbers as the results table and results file hold them (None where the run has none)."""
    result = {"run": run.name, "model": label, "status": run.status, "latent_dim": run.params.get("latent_dim")}
    for measure in measures.RECORDED:
        result[measure.key] = measure.value(run.metrics) if measure.source else COMPUTED.get(measure.key, no_value)(run)
    return with_derived(result)


def no_value(run: RunView) -> None:
    """A measure derived from other measures of the same record (filled in after them, from DERIVED)."""
    return None


def model_results(views: dict[str, RunView]) -> list[dict]:
    """The writeup's models' results, in the registry's order."""
    return [model_result(views[name], model.label or findings.gan_label(views[name]))
            for name, model in MODELS.items() if name in views]


def spreads(views: dict[str, RunView]) -> dict[str, dict[str, Any]]:
    """Per model with seed replicas in the build ('vae_z2.seed1', ...): each numeric measure's standard deviation
    over its seeds, and the seed count ({} without replicas)."""
    found = {}
    for name, model in MODELS.items():
        seeds = [view for key, view in views.items() if key == name or key.startswith(name + REPLICA)]
        if len(seeds) < 2 or name not in views:
            continue
        rows = [model_result(view, model.label or name) for view in seeds]
        found[name] = {m.key: statistics.stdev(values) for m in measures.RECORDED
                       if len(values := [r[m.key] for r in rows if is_number(r[m.key])]) == len(rows)}
        found[name]["seeds"] = len(rows)
        found[name]["classifier_seeds"] = len({view.params.get("classifier_dir") for view in seeds})
    return found


def is_number(value: Any) -> bool:
    """Whether a record's value is a number (not a flag, a text or a table)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def reference_results(classifier: RunView | None) -> list[dict]:
    """IS and FD of real data and of the floor, from the classifier run (empty without one)."""
    points = (classifier.metrics.get("reference") or {}) if classifier else {}
    return [{"reference": key, "model": label, "inception_score": points[key].get("inception_score"),
             "frechet_distance": points[key].get("frechet_distance"), "density": points[key].get("density"),
             "coverage": points[key].get("coverage"), "samples": points[key].get("samples")}
            for key, label in REFERENCE_POINTS if key in points]


TOPICS = {  # the report's results, one table per topic so that each fits a page: the measures' keys in order
    "likelihood": ("neg_elbo", "nll", "active_units", "epochs"),
    "samples": ("inception_score", "frechet_distance", "density", "coverage", "conditional_accuracy", "epochs"),
}
ELSEWHERE = ("minutes",)  # measures of the report's table shown by the appendix instead (minutes per run)


def topic_cells(record: dict[str, Any], topic: str) -> list[str | None]:
    """One row's cells of a topic's measures (None where the row has none)."""
    return [measures.BY_KEY[key].text(record) for key in TOPICS[topic]]


def results_columns(topic: str) -> list[str]:
    """A results table's headers: the model, its topic's measures, the notes."""
    return ["model", *(measures.BY_KEY[key].header for key in TOPICS[topic]), "notes"]


# Published test-set negative log-likelihoods (nats) of VAEs on binarized MNIST, each with its K (importance samples)
# and their setup where it differs from ours. Davidson et al. estimate with K = 500 on all 10,000 test images, as
# our K = 500 row does (the first 500 of the same K = 5,000 draws per image).
PUBLISHED_NLL = [  # (source, model, latent size, NLL, K, their setup)
    ("Davidson et al. 2018, Table 1", "Gaussian VAE, latent 2", 2, 135.73, 500, "their MLP sizes and training"),
    ("Davidson et al. 2018, Table 1", "Gaussian VAE, latent 20", 20, 88.90, 500, "their MLP sizes and training"),
    ("Burda et al. 2015", "VAE, one stochastic layer", 50, 86.76, 5000,
     "50 latent units, tanh MLPs, 3,280 epochs"),
]
DAVIDSON = {latent: nll for source, _, latent, nll, _, _ in PUBLISHED_NLL if source.startswith("Davidson")}
DIFFERS = ("architecture, optimizer, training images and length, model selection (ours: the last epoch) and "
           "precision (ours: bf16 matrix products where the CPU has them)")  # every way a published row may differ
# (the likelihood table's caption says it once; each row gives their own setup)


def results_rows(views: dict[str, RunView], topic: str) -> list[list]:
    """A results table: for 'likelihood', our VAEs, the writeup's and the published figures; for 'samples', our
    models and the classifier's reference points (real data and the floor)."""
    ours = model_results(views)
    if topic == "samples":
        return [[f"{r['model']} (ours)", *topic_cells(r, topic), ""] for r in ours] + [
            [r["model"], *topic_cells(r, topic), f"{r['samples']:,} images" if r["samples"] else ""]
            for r in reference_results(views.get("classifier"))]
    vaes = {r["latent_dim"]: r for r in ours if r["latent_dim"] is not None}
    return ([[f"{r['model']} (ours)", *topic_cells(r, topic), nll_note(r)] for r in vaes.values()]
            + [[f"{findings.vae_label(latent)} (writeup)", *topic_cells(
                {"neg_elbo": WRITEUP_VAE_LOSS[latent][1], "epochs": WRITEUP_VAE_EPOCHS}, topic), "validation set"]
               for latent in sorted(WRITEUP_VAE_LOSS)]
            + [[f"{model} ({source})", *topic_cells({"nll": nll}, topic),
                published_note(nll, samples, differs, vaes.get(latent))]
               for source, model, latent, nll, samples, differs in PUBLISHED_NLL])


def nll_note(result: dict) -> str:
    """How the IS-NLL was estimated: K and images, and on fewer than all test images the negative ELBO on those
    same images (the row's negative ELBO is on all of them)."""
    if result["nll"] is None:
        return ""
    note = f"K = {result['nll_samples']:,}, {result['nll_images']:,} test images"
    partial = result["nll_images"] < TEST_SIZE and result.get("nll_elbo") is not None
    return f"{note} (negative ELBO on them: {result['nll_elbo']:.2f})" if partial else note


def published_note(nll: float, samples: int, differs: str, ours: dict | None) -> str:
    """A published row's notes: its K; ours at the same K and how far above or below theirs; what differs."""
    note = f"K = {samples:,}"
    if ours and ours.get("nll_published_k_samples") == samples:
        gap = ours["nll_published_k"] - nll
        note += (f"; ours at this K on {ours['nll_images']:,} test images: {ours['nll_published_k']:.2f} ± "
                 f"{ours['nll_published_k_stderr']:.2f} ({gap:+.2f} nats)")
    return f"{note}; theirs: {differs}"


def run_environments(views: dict[str, RunView]) -> dict[str, dict[str, Any]]:
    """Per finished run: device, CPU, torch threads, minutes of its last execution and of training."""
    return {name: {"device": view.device() or None, "cpu": (view.metrics.get("environment") or {}).get("cpu"),
                   "threads": (view.metrics.get("environment") or {}).get("threads"),
                   "minutes": view.record.get("minutes"), "status": view.status, "key": view.record.get("key"),
                   "train_minutes": training_minutes(view),
                   "starts": view.record.get("starts", [])}
            for name, view in views.items() if view.record or view.metrics}


def runs_span(views: dict[str, RunView]) -> dict[str, Any] | None:
    """The wall time the runs took together, from their own records (each run.json says when the run finished and
    how many minutes it executed): from the first run's start to the last run's end, and how many runs were
    stopped and resumed on the way; None without records."""
    ends = {name: datetime.datetime.strptime(view.record["finished"], TIME_FORMAT)
            for name, view in views.items() if view.record.get("finished") and view.record.get("minutes") is not None}
    if not ends:
        return None
    starts = {name: end - datetime.timedelta(minutes=views[name].record["minutes"]) for name, end in ends.items()}
    first, last = min(starts.values()), max(ends.values())
    return {"wall_minutes": round((last - first).total_seconds() / 60, 1), "first_start": first.strftime(TIME_FORMAT),
            "last_end": last.strftime(TIME_FORMAT), "cores": os.cpu_count(), "runs": len(ends),
            "resumed": sum(len(views[name].record.get("starts", [])) > 1 for name in ends)}


def provenance(views: dict[str, RunView], argv: list[str], commit: str) -> dict[str, Any]:
    """Where these numbers come from: command, date, commit, devices and CPUs, threads, minutes per run, and the
    wall time of the runs from the first one's start to the last one's end."""
    per_run = run_environments(views)
    return {"command": "python -m helpers.report " + shlex.join(argv),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "device": devices(list(views.values())),
            "cpu": sorted({r["cpu"] for r in per_run.values() if r["cpu"]}) or [platform.processor()],
            **arithmetic_of(views, per_run),
            "torch": versions(views, "torch"),
            "precision": precisions(views), "python": platform.python_version(), "platform": platform.platform(),
            "runs_wall": runs_span(views), "run_commits": run_commits(per_run), "runs": per_run}


def arithmetic_of(views: dict[str, RunView], per_run: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The arithmetic the runs did (what make verify compares): the CPU flags and kernel level their starts
    recorded, and the torch threads the runs report; a field is None where the runs differ in it. Runs whose
    starts predate that record are taken to have run in this process's arithmetic."""
    recorded = [s["arithmetic"] for run in per_run.values() for s in run["starts"] if s.get("arithmetic")]
    arithmetic = recorded or [runs_arithmetic()]
    flags = {tuple(a["cpu_flags"]) for a in arithmetic}
    capability = {a["cpu_capability"] for a in arithmetic}
    threads = environment_values(views, "threads")
    return {"cpu_flags": list(flags.pop()) if len(flags) == 1 else None,
            "cpu_capability": capability.pop() if len(capability) == 1 else None,
            "threads_per_run": threads[0] if len(threads) == 1 else None}


def run_commits(per_run: dict[str, dict[str, Any]]) -> list[str]:
    """The commits the runs started at (short, in order of first use; '+dirty' where the tree had changes)."""
    starts = sorted((s for run in per_run.values() for s in run["starts"]), key=lambda s: s["started"])
    return list(dict.fromkeys(s["commit"][:7] + ("+dirty" if s.get("dirty") else "") for s in starts))


def environment_values(views: dict[str, RunView], key: str) -> list[Any]:
    """The distinct values of one field of the runs' environments ('cpu', 'threads', 'python'), in order."""
    return sorted({v for view in views.values() if (v := (view.metrics.get("environment") or {}).get(key))
                   is not None}, key=str)


def threads_text(views: dict[str, RunView]) -> str:
    """The CPU threads the runs used, in words: '1 CPU thread per run', '1 or 2 CPU threads per run'."""
    threads = [int(t) for t in environment_values(views, "threads")]
    return f"{alternatives(threads, 'CPU thread') if threads else 'an unrecorded number of CPU threads'} per run"


RUN_HEADERS = ["run", "notebook", "status", "precision", "threads", "minutes run", "minutes training", "cache key"]


def listed_runs(views: dict[str, RunView]) -> list[RunView]:
    """The runs the appendix lists: the profile's, where they left a record or metrics."""
    return [view for view in views.values() if view.planned and (view.record or view.metrics)]


def run_rows(views: dict[str, RunView]) -> list[list[Any]]:
    """The appendix's table of runs, one row per listed run, in the order of RUN_HEADERS."""
    return [[view.name, view.record.get("notebook", MISSING), str(view.status), view.precision or MISSING,
             (view.metrics.get("environment") or {}).get("threads"), view.record.get("minutes"),
             training_minutes(view), view.record.get("key") or MISSING] for view in listed_runs(views)]


def total_training_minutes(views: dict[str, RunView]) -> float:
    """The listed runs' minutes of training, summed."""
    return sum(minutes for view in listed_runs(views) if (minutes := training_minutes(view)) is not None)


def versions(views: dict[str, RunView], package: str) -> list[str]:
    """The versions of a package the runs ran with (from their metrics.json)."""
    return sorted({v for view in views.values()
                   if (v := ((view.metrics.get("environment") or {}).get("versions") or {}).get(package))})


def precisions(views: dict[str, RunView]) -> dict[str, str]:
    """The precision each run trained in, resolved ('bf16' or 'fp32'; runs that record none are left out)."""
    return {name: view.precision for name, view in views.items() if view.history("precision")}


def record(views: dict[str, RunView], profile: str, provenance: dict[str, Any], found: Found) -> dict[str, Any]:
    """Every number of the results table (ours, the reference points, the writeup's and published), the studies
    the build found (found), the spread over seeds of replicated runs, and provenance."""
    models = model_results(views)
    return {"profile": profile, "models": models,
            "reference": reference_results(views.get("classifier")),
            "classifier": {"test_accuracy": views["classifier"].metrics.get("test_accuracy")}
            if "classifier" in views else {},
            "writeup": [{"model": findings.vae_label(latent), "validation_neg_elbo": WRITEUP_VAE_LOSS[latent][1],
                         "train_neg_elbo": WRITEUP_VAE_LOSS[latent][0], "epochs": WRITEUP_VAE_EPOCHS}
                        for latent in sorted(WRITEUP_VAE_LOSS)],
            "published": published_rows(models),
            **collapse_record(views.get("collapse"), found.collapse),
            **study_record(views.get("study"), found.latent_size),
            **({"spreads": spread} if (spread := spreads(views)) else {}), "provenance": provenance}


def published_rows(models: list[dict]) -> list[dict[str, Any]]:
    """The published likelihoods, each with ours at its K minus theirs where we scored at that K."""
    ours_at = {(m["latent_dim"], m.get("nll_published_k_samples")): m.get("nll_published_k")
               for m in models if m.get("latent_dim") is not None}  # ours at the published K, by latent size and K
    return [{"source": source, "model": model, "latent_dim": latent, "nll": nll, "nll_samples": samples,
             "differs": differs, "ours_minus_theirs": difference(ours_at.get((latent, samples)), nll)}
            for source, model, latent, nll, samples, differs in PUBLISHED_NLL]


def study_record(study: RunView | None, sizes: dict[str, Any] | None) -> dict[str, Any]:
    """The latent-size study: its table's rows and each size's test against the declared reference size (sizes:
    findings.latent_size_tests of the study run; {} when the build has none)."""
    rows = study.metrics.get("study") if study else None
    sizes = sizes if rows else None
    if not sizes:
        return {"study": {"rows": rows, "tests": None}} if rows else {}
    settings = {"headers": findings.latent_size_headers(sizes["reference"]),
                "rows": sizes["rows"]}
    return {"study": {"rows": rows, "settings": settings, "reference": sizes["reference"],
                      "runs": study.metrics.get("runs"),
                      "seeds": sizes["seeds"], "epochs": sizes["epochs"], "lowest": sizes["lowest"],
                      "tests": {str(size): test.record() for size, test in sizes["tests"].items()},
                      "writeup_sizes": over_seeds_record(study.metrics.get("runs"))}}


def over_seeds_record(runs: list[dict] | None) -> dict[str, Any]:
    """The writeup's two VAEs over the study's seeds as README and the report state them (seeds, mean, interval per
    measure; the K = 500 mean and interval less Davidson et al.'s figure), so that every number stated is on record."""
    return {str(latent): {key: list(values) for key, values in by_key.items()}
            | {"minus_published": [value - DAVIDSON[latent] for value in by_key["nll_published_k"][1:]]}
            for latent, by_key in findings.writeup_sizes_over_seeds(runs).items() if "nll_published_k" in by_key}


def collapse_record(collapse: RunView | None, study: dict[str, Any] | None) -> dict[str, Any]:
    """The collapse runs compared at one epoch, each setting over its seeds with its test against the writeup's
    settings, and the end of the settings that ran longer, in words (study: collapse.collapse_study of the collapse
    run; {} when the build has none)."""
    rows = collapse.metrics.get("collapse") if collapse else None
    if not rows:
        return {}
    settings = {"headers": study["setting_headers"], "rows": study["setting_rows"]} if study else None
    tests = {s.label: test.record() for s, test in study["tests"].items()} if study else {}
    fates = {s.label: fate for s, fate in study["fates"].items()} if study else {}
    return {"collapse": {"at_epoch": collapse.metrics["at_epoch"], "runs": rows, "settings": settings,
                         "measure": study["measure"] if study else None, "tests": tests, "fates": fates}}


def write_results(data: dict[str, Any], folder: Path) -> Path:
    """Write <folder>/<profile>.json atomically."""
    path = folder / f"{data['profile']}.json"
    write_json(path, data)
    return path
