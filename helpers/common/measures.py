"""The measures of a model's results, each declared once: its key in the results record, where a run's metrics.json
holds it, its header and format in every table, the sample it is computed on, and which tables show it.

The records (helpers.report.results), the report's results table, README's table and the notebooks' score tables
iterate MEASURES; adding a measure is one entry here plus its computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MISSING = "–"


def number(digits: int = 2) -> Callable[[Any], str]:
    """A format: a float with digits decimals, a whole number as it is, each with thousands separators; anything
    else as text."""
    def text(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.{digits}f}"
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

    return text


def percent(value: float) -> str:
    """A format: 0.873 as '87.3%'."""
    return f"{100 * value:.1f}%"


@dataclass(frozen=True)
class Allowance:
    """How far another build's value of a measure may lie from the record's when the two machines differ: the
    standard deviation of the difference of two single runs, from the spread over seeds that a study measured
    (training differs between machines about as much as between seeds) and, for a sampled estimate, the standard
    errors of both estimates, times the Student t quantile that a difference exceeds with probability RATE when
    that spread comes from n seeds (n - 1 degrees of freedom: few seeds, a wide allowance). On one machine (same
    CPU, flags, threads, torch and precision) builds agree exactly."""

    seeds: str = ""  # the measure whose spread over seeds bounds it, as a study records it ('validation_loss')
    stderr: str = ""  # the record's key of this estimate's standard error ('nll_stderr'); '' when it has none
    words: str = ""  # where the allowance comes from, in words

    RATE = 0.0027  # the chance that one number of a reproducing machine lies outside (that of 3 normal sds)

    @classmethod
    def multiplier(cls, seeds: int) -> float:
        """The sds of the difference a reproduction may lie out, when the spread comes from this many seeds."""
        from scipy import stats

        return float(stats.t.ppf(1 - cls.RATE / 2, seeds - 1))


@dataclass(frozen=True)
class Measure:
    """One number of a model's results."""

    key: str  # its key in the results record (results/<profile>.json "models")
    source: str = ""  # where a run's metrics.json holds it ('test.loss'); '' when the record computes it
    header: str = ""  # its column header in every table (the key where it has none)
    fmt: Callable[[Any], str] = number()
    samples: str = ""  # what it is computed on, in words
    tables: tuple[str, ...] = ()  # the results tables that show it: 'report', 'readme'
    cell: Callable[[dict[str, Any]], Any] | None = None  # a table cell built from several keys of the record
    recorded: bool = True  # the results record keeps it (else only a run's own notebook shows it)
    allowance: Allowance | None = None  # how far another machine's build may differ (None: only exactly compared)

    def value(self, metrics: dict[str, Any]) -> Any:
        """The measure as a run's metrics.json holds it (None where the run has none)."""
        section, _, name = self.source.partition(".")
        return (metrics.get(section) or {}).get(name) if name else metrics.get(section)

    def text(self, record: dict[str, Any]) -> str | None:
        """The measure's table cell for one row of the record (None where the row has none)."""
        value = self.cell(record) if self.cell else record.get(self.key)
        return None if value is None else self.fmt(value)


def nll_cell(record: dict[str, Any]) -> str | None:
    """'88.12 ± 0.31': the IS-NLL with its standard error over images (the mean alone where the row has no error)."""
    if record.get("nll") is None:
        return None
    error = record.get("nll_stderr")
    return f"{record['nll']:.2f}" + (f" ± {error:.2f}" if error is not None else "")


def units_cell(record: dict[str, Any]) -> str | None:
    """'17 of 20': the active latent units of the latent size."""
    return None if record.get("active_units") is None else f"{record['active_units']} of {record['latent_dim']}"


BOTH = ("report", "readme")
TRAINING = "the spread over seeds of the same setting"
ELBO = Allowance("neg_elbo", words=f"{TRAINING} (negative ELBO)")
MEASURES: tuple[Measure, ...] = (  # in the order the records keep them
    Measure("neg_elbo", "test.loss", "negative ELBO", samples="the 10,000 test images", tables=BOTH, allowance=ELBO),
    Measure("nll_elbo", "test.nll_elbo"),
    Measure("nll", "test.nll", "IS-NLL (± s.e.)", samples="the profile's test images (nll_images), K = nll_samples",
            tables=BOTH, cell=nll_cell,
            allowance=Allowance("neg_elbo", "nll_stderr", f"{TRAINING} (negative ELBO) and the estimates' standard "
                                "errors over images")),
    Measure("nll_stderr", "test.nll_stderr"),
    Measure("elbo_minus_nll"),
    Measure("nll_samples", "test.nll_samples"),
    Measure("nll_images", "test.nll_images"),
    Measure("nll_published_k", "test.nll_published_k",
            allowance=Allowance("neg_elbo", "nll_published_k_stderr", f"{TRAINING} (negative ELBO) and the "
                                "estimates' standard errors over images")),
    Measure("nll_published_k_stderr", "test.nll_published_k_stderr"),
    Measure("nll_published_k_samples", "test.nll_published_k_samples"),
    Measure("active_units", "test.active_units", "active units", samples="the 10,000 test images", tables=BOTH,
            cell=units_cell, allowance=Allowance("active_units", words=f"{TRAINING} (active units)")),
    Measure("inception_score", "samples.inception_score", "IS", samples="10,000 samples", tables=BOTH,
            allowance=Allowance("inception_score", words=f"{TRAINING} (IS)")),
    Measure("frechet_distance", "samples.frechet_distance", "FD", samples="10,000 samples against the test images",
            tables=BOTH, allowance=Allowance("frechet_distance", words=f"{TRAINING} (FD)")),
    Measure("density", "samples.density", "density", samples="10,000 samples", tables=("report",),
            allowance=Allowance("density", words=f"{TRAINING} (density)")),
    Measure("coverage", "samples.coverage", "coverage", samples="10,000 samples", tables=("report",),
            allowance=Allowance("coverage", words=f"{TRAINING} (coverage)")),
    Measure("digits_covered", "samples.digits_covered", "digits covered", samples="10,000 samples"),
    Measure("digit_entropy", "samples.digit_entropy", "digit entropy (nats)", samples="10,000 samples",
            recorded=False),
    Measure("conditional_accuracy", "samples.conditional_accuracy", "conditional accuracy", percent,
            samples="10,000 samples, 1,000 per digit", tables=BOTH,
            allowance=Allowance("conditional_accuracy", words=f"{TRAINING} (conditional accuracy)")),
    Measure("scored_samples", "samples.samples", "samples"),
    Measure("gan_train_accuracy", "samples.gan_train_accuracy", "GAN-train", percent),
    Measure("gan_test_accuracy", "samples.gan_test_accuracy", "GAN-test", percent),
    Measure("real_classifier_accuracy", "samples.real_classifier_accuracy", "real classifier", percent),
    Measure("validation_neg_elbo", allowance=Allowance("validation_neg_elbo", words=f"{TRAINING} (validation "
                                                       "negative ELBO)")),
    Measure("monitor"),
    Measure("game"),
    Measure("epochs", header="epochs", tables=BOTH),
    Measure("minutes", header="training minutes", fmt=number(1), tables=BOTH),
    Measure("device", header="device", tables=("readme",)),
)
BY_KEY = {measure.key: measure for measure in MEASURES}
SAMPLE_SCORES = ("scored_samples", "inception_score", "frechet_distance", "density", "coverage", "digits_covered",
                 "digit_entropy")  # the scores of a model's samples, as its notebook shows them


RECORDED = tuple(m for m in MEASURES if m.recorded)


def shown(where: str) -> list[Measure]:
    """The measures a results table shows: 'readme' or 'report'."""
    return [m for m in MEASURES if where in m.tables]


def headers(where: str) -> list[str]:
    """The headers of a table's measure columns."""
    return [m.header for m in shown(where)]


def cells(record: dict[str, Any], where: str) -> list[str | None]:
    """One row's measure cells in a table (None where the row has no value)."""
    return [m.text(record) for m in shown(where)]


def score_table(scores: dict[str, Any], section: str, keys: Iterable[str]) -> tuple[list[str], list[list[Any]]]:
    """A notebook's score table (headers and its one row) of the measures keys, read from one section of what the
    run writes into metrics.json ('samples': the scores of its samples)."""
    chosen = [BY_KEY[key] for key in keys]
    return [m.header or m.key for m in chosen], [[m.text({m.key: m.value({section: scores})}) for m in chosen]]
