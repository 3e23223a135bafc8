"""What the report's sentences need computed: comparisons with the writeup and the trends of the runs.

Each function returns numbers or names, never prose; the section templates (report/sections/) word them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from helpers.common.measures import MISSING
from helpers.common.reference import WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config import TEST_SIZE
from helpers.config.experiments import variant_name
from helpers.config.registry import MODELS
from helpers.report import stats
from helpers.report.runview import RunView
from helpers.runs.profile import load_profile
from helpers.runs.words import agreed, alternatives, listed

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


def vae_run(latent: int) -> str:
    """The run of the writeup's VAE of this latent size ('vae_z20')."""
    return f"vae_z{latent}"


def vae_label(latent: int) -> str:
    """The writeup's VAE of this latent size as every table names it ('VAE, latent 20')."""
    return MODELS[vae_run(latent)].label


def vae_comparisons(z2: RunView, z20: RunView) -> list[VAEComparison]:
    """Latent 2 and 20: our final validation loss and the writeup's."""
    return [VAEComparison(latent, run, run.final("validation_loss"), WRITEUP_VAE_LOSS[latent][1])
            for latent, run in ((2, z2), (20, z20))]


def vae_loss_rows(z2: RunView, z20: RunView) -> list[list]:
    """The rows of the VAE results table: ours and the writeup's, per latent size."""
    rows = []
    for latent, run in ((2, z2), (20, z20)):
        rows.append([f"{vae_label(latent)} (ours)", run.epochs_run, run.final("train_loss"),
                     run.final("validation_loss"), (run.metrics.get("test") or {}).get("loss")])
        rows.append([f"{vae_label(latent)} (writeup)", WRITEUP_VAE_EPOCHS, *WRITEUP_VAE_LOSS[latent], None])
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
    found = [v.params["epochs"] for v in runs if v.params.get("epochs")]
    return alternatives(found, "epoch", "and") if found else "an unknown number of epochs"


PLANNED_AUX = {"auxiliary": True, "conditional": True}  # the profiles' aux_gan: the AC-GAN reading


def gan_label(run: RunView | None) -> str:
    """What a GAN run is, by its parameters (the profiles' aux_gan, before it ran or where a build has none, is the
    AC-GAN)."""
    return variant_name((run.params if run else None) or PLANNED_AUX)


PLAIN_GAN = "plain GAN"  # the GAN without a digit head as sentences name it (tables: its model name, 'GAN')


def labelled_gans(gan: RunView, aux: RunView, in_sentences: bool = False) -> list[tuple[str, RunView]]:
    """The writeup's two GANs, each with the name its parameters give it (the plain one's: 'GAN', or in
    sentences PLAIN_GAN)."""
    return [(PLAIN_GAN if in_sentences else variant_name(gan.params), gan), (gan_label(aux), aux)]


def gan_rows(gan: RunView, aux: RunView) -> list[list]:
    """The rows of the GAN table: the last epoch's losses, D's outputs and the auxiliary accuracy (a percentage, as
    every accuracy the report gives)."""
    return [[label, run.epochs_run, run.final("d_loss"), run.final("g_loss"), run.final("d_real"),
             run.final("d_fake"), percent(run.final("val_accuracy"))]
            for label, run in labelled_gans(gan, aux)]


def discriminator_ends(gan: RunView, aux: RunView) -> list[tuple[str, float, float]]:
    """(label, D(real), D(fake)) of each GAN that finished, labelled as sentences name it."""
    return [(label, run.final("d_real"), run.final("d_fake")) for label, run in labelled_gans(gan, aux, True)
            if run.final("d_real") is not None and run.final("d_fake") is not None]


def near_equilibrium(ends: list[tuple[str, float, float]]) -> bool:
    """Whether every discriminator ended within the margin of 1/2 on real and generated images."""
    return bool(ends) and all(abs(real - 0.5) < EQUILIBRIUM_MARGIN and abs(fake - 0.5) < EQUILIBRIUM_MARGIN
                              for _, real, fake in ends)


def fmt(value: object, digits: int = 2) -> str:
    """A number for tables and prose; '–' when missing."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def latent_size_headers(reference: int) -> list[str]:
    """The latent-size table's column headers, naming the size every other is tested against."""
    return ["latent size", "validation loss", "training loss (mean)", "active units",
            f"against latent size {reference}", "adjusted p"]


def latent_size_rows(study: RunView, sizes: dict) -> list[list[str]]:
    """Per latent size: the final validation loss over its seeds (mean, range), the training loss, the active
    units (mean, range), and the test against the reference size (sizes: latent_size_tests(study))."""
    table = {row["latent_dim"]: row for row in study.metrics.get("study", [])}
    rows = []
    for size, loss in sizes["losses"].items():
        units, test = table.get(size, {}), sizes["tests"].get(size)
        rows.append([str(size), loss.text(2), fmt(units.get("train_loss")),
                     f"{units['active_units']:.1f} of {size} ({units['active_units_min']}–{units['active_units_max']})"
                     if units else MISSING, "reference" if test is None else f"{test.difference:+.2f} ({test.call})",
                     MISSING if test is None else test.p_cell()])
    return rows


def idle_units(study: RunView) -> list[dict]:
    """The study's rows (one per latent size, in order) whose seeds keep fewer units active on average than the
    size has; the other sizes use every unit."""
    rows = sorted(study.metrics.get("study") or [], key=lambda row: row["latent_dim"])
    return [row for row in rows if row.get("active_units") is not None and row["active_units"] < row["latent_dim"]]


def latent_size_values(study: RunView, measure: str) -> dict[int, stats.Spread]:
    """Per latent size, the measure of each of the study's runs (its notebook's per-run rows)."""
    values: dict[int, list[float]] = {}
    for row in study.metrics.get("runs") or []:
        if row.get(measure) is not None:
            values.setdefault(row["latent_dim"], []).append(row[measure])
    return {size: stats.spread(found) for size, found in sorted(values.items())}


@functools.cache
def declared_sizes() -> tuple[str, int, tuple[int, ...]]:
    """The study profile's declared comparison: its measure, the latent size the others are tested against, and
    those others."""
    comparison = load_profile("study").comparisons["latent_size"]
    return comparison.measure, latent_size(comparison.reference), tuple(map(latent_size, comparison.against))


def latent_size(setting: str) -> int:
    """'latent_dim=20' as 20."""
    return int(setting.split("=", 1)[1])


def latent_size_tests(study: RunView) -> dict | None:
    """Every declared latent size's measure against the reference size's, by the procedure of
    helpers.report.stats, with the lowest mean and the table's rows; None without the reference size's runs."""
    measure, reference, against = declared_sizes()
    losses = latent_size_values(study, measure)
    if reference not in losses:
        return None
    others = {size: losses[size].values for size in losses if size in against}
    tests = dict(zip(others, stats.compare_groups(measure, losses[reference].values, others)))
    counts = sorted({loss.n for loss in losses.values()})
    sizes = {"reference": reference, "loss": losses[reference], "losses": losses, "tests": tests,
             "lowest": min(losses, key=lambda size: losses[size].mean), "epochs": study_epochs(study),
             "seeds": counts[0], "seeds_per_size": alternatives({counts[0], counts[-1]}, "seed", "to"),  # 3 to 5 seeds
             "tested": any(t.call is not stats.Call.DESCRIPTIVE for t in tests.values()), "idle": idle_units(study)}
    return sizes | {"rows": latent_size_rows(study, sizes)}


# The writeup's VAEs over the study's seeds: the losses, and the active units on the test images (a record from
# before the study counted them there lacks them: '–')
OVER_SEEDS = ("validation_loss", "nll", "nll_published_k", "test_active_units")


def writeup_sizes_over_seeds(runs: list[dict] | None) -> dict[int, dict[str, tuple[int, float, float, float]]]:
    """For the writeup's latent sizes (2 and 20), each measure over the study's seeds scored on every test image:
    (seeds, mean, interval low, high); {} unless both sizes have such runs (a study record without per-run rows,
    or without the full test set, gives none: the report's table, the claims and README set the two side by side)."""
    found: dict[int, dict[str, tuple[int, float, float, float]]] = {}
    for latent in WRITEUP_VAE_LOSS:
        chosen = [run for run in runs or [] if run["latent_dim"] == latent and run.get("nll_images") == TEST_SIZE]
        if len(chosen) >= 2:
            found[latent] = {key: (len(chosen), *stats.mean_interval([run[key] for run in chosen]))
                             for key in OVER_SEEDS if all(run.get(key) is not None for run in chosen)}
    return found if len(found) == len(WRITEUP_VAE_LOSS) else {}


SEED_HEADERS = ["latent size", "seeds", "validation loss", "IS-NLL, K = 5,000", "IS-NLL, K = 500",
                "active units, test images", "K = 500, minus the published"]


def seed_rows(seeds: dict[int, dict[str, tuple[int, float, float, float]]], published: dict[int, float]
              ) -> list[list[str]]:
    """Per latent size (writeup_sizes_over_seeds): seeds, each measure's mean and interval, and the K = 500 mean and
    interval less the published figure at that K and latent size (published: latent size -> NLL)."""
    return [[str(latent), str(by_key["nll"][0]),
             *(f"{fmt(by_key[key][1])} ({fmt(by_key[key][2])}–{fmt(by_key[key][3])})" if key in by_key else MISSING
               for key in OVER_SEEDS),
             published_gap(by_key["nll_published_k"], published.get(latent))]
            for latent, by_key in seeds.items()]


def published_gap(ours: tuple[int, float, float, float], theirs: float | None) -> str:
    """Our mean over seeds less a published figure, with the interval shifted alike: '+2.30 (+1.90 to +2.70)'."""
    if theirs is None:
        return MISSING
    _, mean, low, high = ours
    return f"{mean - theirs:+.2f} ({low - theirs:+.2f} to {high - theirs:+.2f})"


# What the latent-size study's test lets a sentence say of one size, and of several named together
SIZE_GROUP_WORDS = {stats.Call.HIGHER: ("{sizes} ends higher than {reference}", "{sizes} end higher than {reference}"),
                    stats.Call.LOWER: ("{sizes} ends lower than {reference}", "{sizes} end lower than {reference}"),
                    stats.Call.CANNOT_TELL: ("the runs cannot tell {sizes} from {reference}",) * 2,
                    stats.Call.DESCRIPTIVE: ("{sizes} has too few seeds for the test",
                                             "{sizes} have too few seeds for the test")}


def size_verdicts(sizes: dict) -> list[str]:
    """Each call of the latent-size study's tests (latent_size_tests) with the sizes it fell to, one clause per
    call in the order the calls are declared: 'latent sizes 2 and 3 end higher than 20'."""
    clauses = []
    for call, (one, many) in SIZE_GROUP_WORDS.items():
        group = sorted(size for size, test in sizes["tests"].items() if test.call is call)
        if group:
            clauses.append(agreed(len(group), one, many).format(sizes=listed(group, "latent size"),
                                                                 reference=sizes["reference"]))
    return clauses


def writeup_size_test(sizes: dict) -> tuple[int, int, stats.Comparison] | None:
    """The writeup's smaller latent size against its larger one, where the study's reference is the larger:
    (smaller, larger, the test); None otherwise."""
    smaller, larger = sorted(WRITEUP_VAE_LOSS)
    test = sizes["tests"].get(smaller)
    return (smaller, larger, test) if sizes["reference"] == larger and test else None


def study_epochs(study: RunView) -> int | None:
    """The epochs of the study's runs (its table's)."""
    rows = study.metrics.get("study", [])
    return rows[0]["epochs"] if rows else None


def percent(value: float | None, digits: int = 1) -> str | None:
    """0.873 as '87.3%' (with digits decimals); None stays None."""
    return None if value is None else f"{100 * value:.{digits}f}%"


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


def best_before_end(*runs: RunView) -> list[RunView]:
    """The monitored runs whose lowest-FD epoch came before their last epoch: their best and final samples differ."""
    return [run for run in runs if (c := coverage(run)) and c["best_epoch"] < (run.epochs_run or 0)]


def drawn(runs: list[RunView], names: Iterable[str]) -> list[str]:
    """The figure names of which at least one of the runs saved a picture, in the order given."""
    return [name for name in names if any(run.image_uri(name) for run in runs)]


def samples_of(runs: list[RunView]) -> list[dict]:
    """The scored samples of each run that has them."""
    return [run.metrics["samples"] for run in runs if run.metrics.get("samples")]


SIMILAR_BY = "frechet_distance"  # "appear similar" is tested on the 10,000-sample FD, declared here once


def similarity(plain: list[RunView], other: list[RunView]) -> stats.Comparison | None:
    """The writeup's "appear similar": the other GAN's FD against the plain GAN's over their seeds, by the procedure
    of helpers.report.stats (one comparison); None without scores."""
    a, b = samples_of(plain), samples_of(other)
    if not a or not b:
        return None
    return stats.compare_groups(SIMILAR_BY, [s[SIMILAR_BY] for s in a], {"other": [s[SIMILAR_BY] for s in b]})[0]


def digit_share_rows(views: dict[str, RunView]) -> list[list]:
    """Per model with scored samples: the percentage of its samples the classifier names as each digit, and the
    digits covered."""
    return [[model.label or gan_label(view), *(f"{100 * share:.0f}" for share in samples["digit_distribution"]),
             samples.get("digits_covered")]
            for name, model in MODELS.items() if (view := views.get(name))
            and (samples := view.metrics.get("samples") or {}) and samples.get("digit_distribution")]


def gan_train_test_rows(samples: dict) -> list[list]:
    """GAN-train, GAN-test and the real classifier: what each trains and tests on, and its accuracy."""
    return [["GAN-train", "generated digits", "real test images", percent(samples["gan_train_accuracy"])],
            ["GAN-test", "real training images", "generated digits", percent(samples["gan_test_accuracy"])],
            ["real classifier", "real training images", "real test images",
             percent(samples["real_classifier_accuracy"])]]


def larger_code_is_better(z2_loss: float, z20_loss: float) -> bool:
    """Whether latent size 20 ended below latent size 2, the writeup's ordering."""
    return z20_loss < z2_loss


# ---- the VAE's two loss terms over training -----------------------------------------------------------------------

TERMS = ("validation_reconstruction", "validation_kl")  # the history keys of the negative ELBO's two terms


def term_epochs(epochs: int, points: int = 4) -> list[int]:
    """The epochs a table of the loss terms shows: the first, then evenly spaced up to the last."""
    return sorted({1, epochs, *(epochs * k // points for k in range(1, points))} - {0})


def loss_term_rows(*runs: RunView) -> list[list]:
    """Per shown epoch, each run's validation reconstruction term and KL term (nats per image); [] when a run has
    no such history."""
    histories = [{row["epoch"]: row for row in run.metrics.get("history") or [] if all(k in row for k in TERMS)}
                 for run in runs]
    if not all(histories):
        return []
    shown = term_epochs(min(max(h) for h in histories))
    return [[epoch, *(h[epoch][key] if epoch in h else None for h in histories for key in TERMS)] for epoch in shown]
