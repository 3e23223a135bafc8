"""What the report's sentences need computed: comparisons with the writeup and the trends of the runs.

Each function returns numbers or names, never prose; the section templates (report/sections/) word them.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.common.folder import RunFolder
from helpers.common.reference import PUBLISHED_NLL, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config import MONITOR_SAMPLES, SCORE_SAMPLES, TRAIN_SIZE
from helpers.config.experiments import variant_name
from helpers.config.folders import split_folders
from helpers.config.registry import MODELS
from helpers.report import evidence
from helpers.report.runview import RunView

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


LATENT_SIZE_HEADERS = ["latent size", "validation loss", "training loss (mean)", "active units",
                       "against the lowest mean"]
SIZE_VERDICTS = {evidence.Verdict.HIGHER: "above its range", evidence.Verdict.OVERLAP: "cannot be told apart",
                 evidence.Verdict.TOO_FEW: "too few seeds to compare"}


def latent_size_rows(study: RunView, best: dict) -> list[list[str]]:
    """Per latent size: the final validation loss over its seeds (mean, range), the training loss, the active
    units (mean, range), and the rule's verdict against the best size (best: best_latent_size(study))."""
    table = {row["latent_dim"]: row for row in study.metrics.get("study", [])}
    rows = []
    for size, loss in best["losses"].items():
        units = table.get(size, {})
        verdict = "lowest" if size == best["latent_dim"] else SIZE_VERDICTS[best["verdicts"][size]]
        rows.append([str(size), loss.text(2), fmt(units.get("train_loss")),
                     f"{units['active_units']:.1f} of {size} ({units['active_units_min']}–{units['active_units_max']})"
                     if units else "–", verdict])
    return rows


def latent_size_losses(study: RunView) -> dict[int, evidence.Spread]:
    """Per latent size, the final validation loss of each of its sweep's runs (read from their folders)."""
    losses: dict[int, list[float]] = {}
    for folder in split_folders(study.params.get("sweep_dirs", "")):
        metrics = RunFolder(folder).metrics()
        history = metrics.get("history") or []
        if history and "latent_dim" in metrics.get("parameters", {}):
            losses.setdefault(metrics["parameters"]["latent_dim"], []).append(history[-1]["validation_loss"])
    return {size: evidence.spread(values) for size, values in sorted(losses.items())}


def best_latent_size(study: RunView) -> dict | None:
    """The latent size with the lowest mean validation loss, its spread, every size's spread and verdict against it,
    and by the rule the sizes the runs cannot tell it apart from (every other size when any has fewer than three
    seeds); None without results."""
    losses = latent_size_losses(study)
    if not losses:
        return None
    best = min(losses, key=lambda size: losses[size].mean)
    verdicts = {size: evidence.compare(losses[size], losses[best]) for size in losses if size != best}
    return {"latent_dim": best, "loss": losses[best], "too_few": any(v is evidence.Verdict.TOO_FEW
                                                                      for v in verdicts.values()),
            "ties": [size for size, v in verdicts.items() if not v.apart], "epochs": study_epochs(study),
            "largest": max(losses), "losses": losses, "verdicts": verdicts}


def study_epochs(study: RunView) -> int | None:
    """The epochs of the study's runs (its table's)."""
    rows = study.metrics.get("study", [])
    return rows[0]["epochs"] if rows else None


# ---- the results table over all models (also written to results/<profile>.json) ----------------------------------

RESULT_COLUMNS = ["model", "negative ELBO", "IS-NLL", "active units", "IS", f"FD ({SCORE_SAMPLES:,} samples)",
                  "density", "coverage",
                  "conditional accuracy", "epochs", "training minutes", "device", "notes"]
REFERENCE_POINTS = (("real_test", "real test images (IS; its maximum is 10)"),
                    ("real_validation", "real validation vs test images (FD)"),
                    ("real_validation_monitored", f"{MONITOR_SAMPLES:,} real validation vs test images (FD at the "
                     "GAN monitor's sample size)"),
                    ("independent_pixels", "independent pixels (floor)"))


SHMELKOV = ("gan_train_accuracy", "gan_test_accuracy", "real_classifier_accuracy")  # the AC-GAN's GAN-train/test


def model_result(run: RunView, label: str) -> dict:
    """One model's numbers as the results table and results file hold them (None where the run has none)."""
    test, samples = run.metrics.get("test") or {}, run.metrics.get("samples") or {}
    return {"run": run.name, "model": label, "status": run.status, "latent_dim": run.params.get("latent_dim"),
            "neg_elbo": test.get("loss"), "nll_elbo": test.get("nll_elbo"), "nll": test.get("nll"),
            "nll_stderr": test.get("nll_stderr"), "elbo_minus_nll": difference(test.get("loss"), test.get("nll")),
            "nll_samples": test.get("nll_samples"), "nll_images": test.get("nll_images"),
            **{key: test.get(key) for key in ("nll_published_k", "nll_published_k_stderr", "nll_published_k_samples")},
            "active_units": test.get("active_units"), "inception_score": samples.get("inception_score"),
            "frechet_distance": samples.get("frechet_distance"), "density": samples.get("density"),
            "coverage": samples.get("coverage"), "digits_covered": samples.get("digits_covered"),
            "conditional_accuracy": samples.get("conditional_accuracy"), "scored_samples": samples.get("samples"),
            **{key: samples.get(key) for key in SHMELKOV},
            "validation_neg_elbo": run.final("validation_loss"), "monitor": coverage(run), "game": game(run),
            "epochs": run.epochs_run, "minutes": training_minutes(run), "device": run.device() or None}


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
    """Minutes the run spent training, summed over its epochs (so a resumed run counts all of them)."""
    seconds = run.metrics.get("train_seconds")
    return seconds / 60 if seconds is not None else run.record.get("minutes")


def model_results(views: dict[str, RunView]) -> list[dict]:
    """The four models' results, in the table's order."""
    return [model_result(views[name], model.label or gan_label(views[name])) for name, model in MODELS.items()
            if name in views]


def reference_results(classifier: RunView | None) -> list[dict]:
    """IS and FD of real data and of the floor, from the classifier run (empty without one)."""
    points = (classifier.metrics.get("reference") or {}) if classifier else {}
    return [{"reference": key, "model": label, "inception_score": points[key].get("inception_score"),
             "frechet_distance": points[key].get("frechet_distance"), "density": points[key].get("density"),
             "coverage": points[key].get("coverage"), "samples": points[key].get("samples")}
            for key, label in REFERENCE_POINTS if key in points]


def percent(value: float | None, digits: int = 1) -> str | None:
    """0.873 as '87.3%' (with digits decimals); None stays None."""
    return None if value is None else f"{100 * value:.{digits}f}%"


def training_images(params: dict) -> str:
    """The training images a run used, as '50,000' (train_size, where 0 or absent means the whole split)."""
    return f"{params.get('train_size') or TRAIN_SIZE:,}"


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
    most = max(rows, key=lambda row: (row["monitor_digits_covered"], -row["epoch"]))
    best = min(rows, key=lambda row: row.get("monitor_frechet_distance", float("inf")))
    return {"final": rows[-1]["monitor_digits_covered"], "final_epoch": rows[-1]["epoch"],
            "fewest": fewest["monitor_digits_covered"], "fewest_epoch": fewest["epoch"],
            "most": most["monitor_digits_covered"], "most_epoch": most["epoch"],
            "final_entropy": rows[-1].get("monitor_digit_entropy"), "best_epoch": best["epoch"],
            "best_fd": best.get("monitor_frechet_distance"), "final_fd": rows[-1].get("monitor_frechet_distance")}


SAMPLE_MEASURES = ("digits_covered", "inception_score", "frechet_distance")  # what "appear similar" is judged on


def samples_of(runs: list[RunView]) -> list[dict]:
    """The scored samples of each run that has them."""
    return [run.metrics["samples"] for run in runs if run.metrics.get("samples")]


def similarity(plain: list[RunView], other: list[RunView]) -> evidence.Verdict | None:
    """The writeup's "appear similar" by the rule over seeds: HIGHER or LOWER (told apart) when any measure's
    ranges lie apart, OVERLAP when none do, TOO_FEW below three seeds a side; None without scores."""
    a, b = samples_of(plain), samples_of(other)
    if not a or not b:
        return None
    verdicts = [evidence.compare(evidence.spread([s[key] for s in b]), evidence.spread([s[key] for s in a]))
                for key in SAMPLE_MEASURES]
    return next((v for v in verdicts if v is not evidence.Verdict.OVERLAP), evidence.Verdict.OVERLAP)


def gan_train_test_rows(samples: dict) -> list[list]:
    """GAN-train, GAN-test and the real classifier: what each trains and tests on, and its accuracy."""
    return [["GAN-train", "generated digits", "real test images", percent(samples["gan_train_accuracy"])],
            ["GAN-test", "real training images", "generated digits", percent(samples["gan_test_accuracy"])],
            ["real classifier", "real training images", "real test images",
             percent(samples["real_classifier_accuracy"])]]


def larger_code_is_better(z2_loss: float, z20_loss: float) -> bool:
    """Whether latent size 20 ended below latent size 2, the writeup's ordering."""
    return z20_loss < z2_loss
