"""What the report's sentences need computed: comparisons with the writeup and the trends of the runs.

Each function returns numbers or names, never prose; the section templates (report/sections/) word them.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.common import tables
from helpers.common.reference import PUBLISHED_NLL, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config import MONITOR_SAMPLES, SCORE_SAMPLES
from helpers.config.experiments import variant_name
from helpers.report.runview import RunView

STUDY_HEADERS = tables.STUDY_HEADERS
EQUILIBRIUM_MARGIN = 0.1  # D(real) and D(fake) within this of 1/2 count as "close to the equilibrium"


@dataclass
class VAEComparison:
    """One VAE run's final validation loss beside the writeup's."""

    latent: int
    run: RunView
    ours: float | None
    theirs: float

    @property
    def gap(self) -> float:
        """Ours minus the writeup's (positive: we are above)."""
        return (self.ours or 0.0) - self.theirs

    @property
    def above(self) -> bool:
        """Whether our loss ended above the writeup's."""
        return self.ours is not None and self.ours > self.theirs

    @property
    def below(self) -> bool:
        """Whether our loss ended below the writeup's."""
        return self.ours is not None and self.ours < self.theirs


def vae_comparisons(z2: RunView, z20: RunView) -> list[VAEComparison]:
    """Latent 2 and 20: our final validation loss and the writeup's."""
    return [VAEComparison(latent, run, run.final("validation_loss"), WRITEUP_VAE_LOSS[latent][1])
            for latent, run in ((2, z2), (20, z20))]


def vae_loss_rows(z2: RunView, z20: RunView) -> list[list]:
    """The rows of the VAE results table: ours and the writeup's, per latent size."""
    rows = []
    for latent, run in ((2, z2), (20, z20)):
        rows.append([f"VAE, latent {latent} (ours)", run.epochs_run, run.final("train_loss"),
                     run.final("validation_loss"), (run.metrics.get("test") or {}).get("loss")])
        rows.append([f"VAE, latent {latent} (writeup)", WRITEUP_VAE_EPOCHS, *WRITEUP_VAE_LOSS[latent], None])
    return rows


def is_falling(run: RunView, key: str = "validation_loss") -> bool:
    """Whether the last epoch lowered the loss."""
    values = run.history(key)
    return len(values) >= 2 and values[-1] < values[-2]


def trained_as_long(*runs: RunView) -> bool:
    """Whether every run trained at least the writeup's number of epochs."""
    return min((run.epochs_run or 0) for run in runs) >= WRITEUP_VAE_EPOCHS


def still_falling_behind(z2: RunView, z20: RunView) -> list[int]:
    """The latent sizes that ended above the writeup while still improving; [] unless all such runs are."""
    behind = [c for c in vae_comparisons(z2, z20) if c.above]
    return [c.latent for c in behind] if behind and all(is_falling(c.run) for c in behind) else []


def epochs_text(*runs: RunView) -> str:
    """'10 epochs' or '10 and 12 epochs' from the runs' parameters."""
    found = sorted({v.params.get("epochs") for v in runs if v.params.get("epochs")})
    if not found:
        return "an unknown number of epochs"
    return " and ".join(str(e) for e in found) + (" epoch" if found == [1] else " epochs")


def gan_label(run: RunView) -> str:
    """What a GAN run is, by its parameters (the profiles' aux_gan, before it ran, is the AC-GAN)."""
    return variant_name(run.params or {"auxiliary": True, "conditional": True})


def gan_rows(gan: RunView, aux: RunView) -> list[list]:
    """The rows of the GAN table: the last epoch's losses, D's outputs and the auxiliary accuracy."""
    return [[label, run.epochs_run, run.final("d_loss"), run.final("g_loss"), run.final("d_real"),
             run.final("d_fake"), run.final("val_accuracy")] for label, run in (("GAN", gan), (gan_label(aux), aux))]


def discriminator_ends(gan: RunView, aux: RunView) -> list[tuple[str, float, float]]:
    """(label, D(real), D(fake)) of each GAN that finished."""
    return [(label, run.final("d_real"), run.final("d_fake")) for label, run in
            (("plain GAN", gan), (gan_label(aux), aux)) if run.final("d_real") is not None
            and run.final("d_fake") is not None]


def near_equilibrium(ends: list[tuple[str, float, float]]) -> bool:
    """Whether every discriminator ended within the margin of 1/2 on real and generated images."""
    return bool(ends) and all(abs(real - 0.5) < EQUILIBRIUM_MARGIN and abs(fake - 0.5) < EQUILIBRIUM_MARGIN
                              for _, real, fake in ends)


def fmt(value: object, digits: int = 2) -> str:
    """A number for tables and prose; '–' when missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def study_rows(study: RunView) -> list[list]:
    """The latent-size study's table, as its notebook prints it."""
    return tables.study_rows(study.metrics.get("study", []))


def best_latent_size(study: RunView) -> dict | None:
    """The study's row with the lowest mean validation loss, or None without results."""
    rows = study.metrics.get("study", [])
    return min(rows, key=lambda row: row["validation_loss"]) if rows else None


# ---- the results table over all models (also written to results/<profile>.json) ----------------------------------

RESULT_MODELS = (("vae_z2", "VAE, latent 2"), ("vae_z20", "VAE, latent 20"), ("gan", "GAN"), ("aux_gan", None),
                 ("digit_head_gan", None))  # the writeup's auxiliary GAN read both ways: AC-GAN, and a digit head only
RESULT_COLUMNS = ["model", "negative ELBO", "IS-NLL", "active units", "IS", f"FD ({SCORE_SAMPLES:,} samples)",
                  "density", "coverage",
                  "conditional accuracy", "epochs", "training minutes", "device", "notes"]
REFERENCE_POINTS = (("real_test", "real test images (IS; its maximum is 10)"),
                    ("real_validation", "real validation vs test images (FD)"),
                    ("real_validation_monitored", f"{MONITOR_SAMPLES:,} real validation vs test images (FD at the "
                     "GAN monitor's sample size)"),
                    ("independent_pixels", "independent pixels (floor)"))


def model_result(run: RunView, label: str) -> dict:
    """One model's numbers as the results table and results file hold them (None where the run has none)."""
    test, samples = run.metrics.get("test") or {}, run.metrics.get("samples") or {}
    return {"run": run.name, "model": label, "status": run.status, "latent_dim": run.params.get("latent_dim"),
            "neg_elbo": test.get("loss"), "nll_elbo": test.get("nll_elbo"), "nll": test.get("nll"),
            "nll_stderr": test.get("nll_stderr"),
            "nll_samples": test.get("nll_samples"), "nll_images": test.get("nll_images"),
            **{key: test.get(key) for key in ("nll_published_k", "nll_published_k_stderr", "nll_published_k_samples")},
            "active_units": test.get("active_units"), "inception_score": samples.get("inception_score"),
            "frechet_distance": samples.get("frechet_distance"), "density": samples.get("density"),
            "coverage": samples.get("coverage"), "digits_covered": samples.get("digits_covered"),
            "conditional_accuracy": samples.get("conditional_accuracy"), "scored_samples": samples.get("samples"),
            "epochs": run.epochs_run, "minutes": training_minutes(run), "device": run.device() or None}


def training_minutes(run: RunView) -> float | None:
    """Minutes the run spent training, summed over its epochs (so a resumed run counts all of them)."""
    seconds = run.metrics.get("train_seconds")
    return seconds / 60 if seconds is not None else run.record.get("minutes")


def model_results(views: dict[str, RunView]) -> list[dict]:
    """The four models' results, in the table's order."""
    return [model_result(views[name], label or gan_label(views[name])) for name, label in RESULT_MODELS
            if name in views]


def reference_results(classifier: RunView | None) -> list[dict]:
    """IS and FD of real data and of the floor, from the classifier run (empty without one)."""
    points = (classifier.metrics.get("reference") or {}) if classifier else {}
    return [{"reference": key, "model": label, "inception_score": points[key].get("inception_score"),
             "frechet_distance": points[key].get("frechet_distance"), "density": points[key].get("density"),
             "coverage": points[key].get("coverage"), "samples": points[key].get("samples")}
            for key, label in REFERENCE_POINTS if key in points]


def percent(value: float | None) -> str | None:
    """0.873 as '87.3%'; None stays None."""
    return None if value is None else f"{100 * value:.1f}%"


def nll_text(result: dict) -> str | None:
    """'88.12 ± 0.31' with K and the image count, or None."""
    if result["nll"] is None:
        return None
    return f"{result['nll']:.2f} ± {result['nll_stderr']:.2f}"


def nll_note(result: dict) -> str:
    """How the IS-NLL was estimated: K and images."""
    if result["nll"] is None:
        return ""
    return f"K = {result['nll_samples']:,}, {result['nll_images']:,} test images"


def results_rows(views: dict[str, RunView]) -> list[list]:
    """The results table: our four models, real data and the floor, the writeup's and published figures."""
    rows, ours = [], model_results(views)
    for r in ours:
        units = f"{r['active_units']} of {r['latent_dim']}" if r["active_units"] is not None else None
        rows.append([f"{r['model']} (ours)", r["neg_elbo"], nll_text(r), units, r["inception_score"],
                     r["frechet_distance"], r["density"], r["coverage"], percent(r["conditional_accuracy"]),
                     r["epochs"], r["minutes"], (r["device"] or "").split(" (")[0] or None, nll_note(r)])
    for r in reference_results(views.get("classifier")):
        rows.append([r["model"], None, None, None, r["inception_score"], r["frechet_distance"], r["density"],
                     r["coverage"], None, None, None, None, f"{r['samples']:,} images" if r["samples"] else ""])
    for latent in (2, 20):
        rows.append([f"VAE, latent {latent} (writeup)", WRITEUP_VAE_LOSS[latent][1], None, None, None, None, None,
                     None, None, WRITEUP_VAE_EPOCHS, None, None, "validation set"])
    vaes = {r["latent_dim"]: r for r in ours if r["latent_dim"] is not None}
    for source, model, latent, nll, samples, differs in PUBLISHED_NLL:
        rows.append([f"{model} ({source})", None, f"{nll:.2f}", None, None, None, None, None, None, None, None, None,
                     published_note(nll, samples, differs, vaes.get(latent))])
    return rows


def published_note(nll: float, samples: int, differs: str, ours: dict | None) -> str:
    """A published row's notes: its K; ours at the same K and how far above or below theirs; what differs."""
    note = f"K = {samples:,}"
    if ours and ours.get("nll_published_k_samples") == samples:
        gap = ours["nll_published_k"] - nll
        note += (f"; ours at this K on {ours['nll_images']:,} test images: {ours['nll_published_k']:.2f} ± "
                 f"{ours['nll_published_k_stderr']:.2f} ({gap:+.2f} nats)")
    return f"{note}; differs: {differs}"


# ---- the GANs' digit coverage ------------------------------------------------------------------------------------

def coverage(run: RunView) -> dict | None:
    """A GAN's monitored coverage: final and fewest digits covered (with its epoch), best FD epoch; None without."""
    rows = [row for row in run.metrics.get("history") or [] if "monitor_digits_covered" in row]
    if not rows:
        return None
    fewest = min(rows, key=lambda row: (row["monitor_digits_covered"], -row["epoch"]))
    best = min(rows, key=lambda row: row.get("monitor_frechet_distance", float("inf")))
    return {"final": rows[-1]["monitor_digits_covered"], "final_epoch": rows[-1]["epoch"],
            "fewest": fewest["monitor_digits_covered"], "fewest_epoch": fewest["epoch"],
            "final_entropy": rows[-1].get("monitor_digit_entropy"), "best_epoch": best["epoch"],
            "best_fd": best.get("monitor_frechet_distance"), "final_fd": rows[-1].get("monitor_frechet_distance")}


SIMILAR_IS_RATIO = 0.9  # two generators' Inception Scores within 10% of each other count as similar


def gans_similar(gan: RunView, aux: RunView) -> bool | None:
    """Whether both GANs' 10,000 samples cover as many digits with Inception Scores within 10%; None unscored."""
    a, b = gan.metrics.get("samples") or {}, aux.metrics.get("samples") or {}
    if not a or not b:
        return None
    low, high = sorted((a["inception_score"], b["inception_score"]))
    return a["digits_covered"] == b["digits_covered"] and low >= SIMILAR_IS_RATIO * high


# ---- what drives the plain GAN's collapse (notebooks/collapse.ipynb) ----------------------------------------------

def collapse_study(collapse: RunView) -> dict | None:
    """The collapse runs at their common epoch: the writeup's (seed 0 first), the changed ones by their FD's rise
    over its best, and the rank correlation across all runs of D(x) with that rise; None without results."""
    rows = collapse.metrics.get("collapse") or []
    writeup = [row for row in rows if not row["changes"]]
    if not writeup:
        return None
    changed = sorted((row for row in rows if row["changes"]), key=lambda row: row["frechet_rise"])
    full_length = [row for row in writeup if row["final_epoch"] > row["at_epoch"]]
    role = collapse_roles(changed)
    return {"at_epoch": rows[0]["at_epoch"], "base": writeup[0], "seeds": writeup, "changed": changed, "role": role,
            "plain_changes": [row for row in changed if not row["changes"].get("conditional")],
            "full_length": full_length,
            "all_lose_digits": all(row["final_digits"] < row["most_digits"] for row in full_length),
            "rho": rank_correlation([row["d_real"] for row in rows], [row["frechet_rise"] for row in rows]),
            "stronger_d_drifts_further": drifts(role["stronger_d"], writeup[0], further=True),
            "weaker_d_drifts_less": drifts(role["weaker_d"], writeup[0], further=False),
            "discriminator_drives": discriminator_drives(writeup[0], role)}


def drifts(run: dict | None, base: dict, further: bool) -> bool:
    """Whether a changed run's FD rose further (or less) over its best than the writeup's settings' did."""
    if run is None:
        return False
    return run["frechet_rise"] > base["frechet_rise"] if further else run["frechet_rise"] < base["frechet_rise"]


def larger_code_is_better(z2_loss: float, z20_loss: float) -> bool:
    """Whether latent size 20 ended below latent size 2, the writeup's ordering."""
    return z20_loss < z2_loss


def discriminator_drives(base: dict, role: dict[str, dict | None]) -> bool:
    """Whether a stronger discriminator drifted further from its best than the writeup's settings, a weaker less."""
    return drifts(role["stronger_d"], base, further=True) and drifts(role["weaker_d"], base, further=False)


def collapse_roles(changed: list[dict]) -> dict[str, dict]:
    """The changed runs by what they test: stronger_d, weaker_d, faster, slower, digit_head, ac_gan (None: absent)."""
    from helpers.config import GANConfig

    rate = GANConfig().learning_rate  # the writeup's, for both networks
    tests = {"stronger_d": lambda c: c.get("d_steps", 1) > 1,
             "weaker_d": lambda c: 0 < c.get("disc_learning_rate", 0) < c.get("learning_rate", rate),
             "faster": lambda c: c.get("learning_rate", 0) > rate,
             "slower": lambda c: 0 < c.get("learning_rate", rate) < rate,
             "digit_head": lambda c: bool(c.get("auxiliary")) and not c.get("conditional"),
             "ac_gan": lambda c: bool(c.get("conditional"))}
    return {role: next((row for row in changed if test(row["changes"])), None) for role, test in tests.items()}


def collapse_rows(collapse: RunView) -> list[list]:
    """The collapse runs' table, as its notebook prints it."""
    return tables.collapse_rows(collapse.metrics.get("collapse") or [])


def collapse_headers(collapse: RunView) -> list[str]:
    """The collapse table's headers, naming the epoch the runs are compared at."""
    return tables.collapse_headers(collapse.metrics.get("at_epoch", 0))


def rank_correlation(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rank correlation of two equally long lists (ties share their mean rank); None below 3 pairs."""
    if len(xs) < 3:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    norm = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / norm if norm else None


def ranks(values: list[float]) -> list[float]:
    """1-based ranks of values, tied values sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result
