"""The writeup's claims, each with what this build's runs say of it: the numbers and a verdict, never prose
(report/sections/front.md.j2 words them), and how much shorter than the writeup's this build's runs trained.

A verdict has a basis and a direction. The basis says how far the runs can go: not at all (no run of this build
bears on the claim), not comparably (the runs trained fewer epochs than the writeup's), by a picture only, as a
description (too few seeds for the test of helpers.report.stats), or by the test itself (five seeds a side or
more). The direction says whether the runs show what the writeup says, where they can tell.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from helpers.common.reference import WRITEUP_GAN_EPOCHS, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.config import GANConfig
from helpers.report import findings, stats
from helpers.report.runview import RunView


class Basis(enum.StrEnum):
    """How far this build's runs can speak to a claim."""

    NOT_RUN = "not run"  # no run of this build bears on it
    SHORTER = "shorter"  # the runs trained fewer epochs than the writeup's: their numbers are not comparable
    SHOWN = "shown"  # a figure shows it; no measure decides it
    NEITHER_WAY = "neither way"  # what the runs show can neither confirm nor contradict it
    ONE_RUN = "one run"  # too few seeds a side for the test: the numbers describe these runs and test nothing
    TEST = "test"  # enough seeds a side: decided by the test of helpers.report.stats


@dataclass(frozen=True)
class Claim:
    """One claim of the writeup and what this build's runs say of it."""

    key: str  # which claim: 'vae_loss', 'fuzzy', 'diverse', 'similar', 'leaky', 'one_step'
    basis: Basis
    holds: bool | None = None  # whether the runs show what the writeup says (None: they cannot tell)
    numbers: dict[str, Any] = field(default_factory=dict)  # what the evidence column quotes


@dataclass(frozen=True)
class Shorter:
    """A kind of model this build trained for fewer epochs than the writeup did."""

    model: str  # 'VAE' or 'GAN'
    ours: int  # the most epochs any of its runs trained
    theirs: int

    @property
    def percent(self) -> float:
        """Ours as a percentage of theirs."""
        return 100 * self.ours / self.theirs


def shorter(views: dict[str, RunView]) -> list[Shorter]:
    """The kinds of model whose runs in this build trained for fewer epochs than the writeup's (by parameters)."""
    found = []
    for model, names, theirs in (("VAE", ("vae_z2", "vae_z20"), WRITEUP_VAE_EPOCHS),
                                 ("GAN", ("gan", "aux_gan"), WRITEUP_GAN_EPOCHS)):
        epochs = [views[name].params.get("epochs") for name in names if name in views]
        ours = max((e for e in epochs if e), default=None)
        if ours is not None and ours < theirs:
            found.append(Shorter(model, ours, theirs))
    return found


def vae_loss(run: RunView, latent: int, over_seeds: tuple[int, float, float, float] | None = None) -> Claim:
    """The writeup's final validation loss of one latent size against ours, and against the latent-size study's
    seeds where they are given (findings.writeup_sizes_over_seeds: seeds, mean, interval)."""
    ours, theirs = run.final("validation_loss"), WRITEUP_VAE_LOSS[latent][1]
    numbers = {"latent": latent, "theirs": theirs, "ours": ours, "epochs": run.epochs_run,
               "writeup_epochs": WRITEUP_VAE_EPOCHS, "gap": None if ours is None else ours - theirs,
               "over_seeds": over_seeds}
    if ours is None:  # no run of the writeup's: the study's seeds, where there are any, describe
        return Claim("vae_loss", Basis.ONE_RUN if over_seeds else Basis.NOT_RUN, numbers=numbers)
    basis = Basis.SHORTER if (run.epochs_run or 0) < WRITEUP_VAE_EPOCHS else Basis.ONE_RUN
    return Claim("vae_loss", basis, numbers=numbers)


def fuzzy(z20: RunView) -> Claim:
    """The writeup's remark that the latent-20 VAE's samples look fuzzy: our prior samples are decoder means, pixel
    probabilities blurred by construction, so they bear on it neither way."""
    return Claim("fuzzy", Basis.NEITHER_WAY if z20.image_uri("prior_samples") else Basis.NOT_RUN)


def diverse(gan: RunView) -> Claim:
    """The plain GAN's samples show varied digits: how many of the ten its scored samples cover."""
    samples = gan.metrics.get("samples") or {}
    if samples.get("digits_covered") is None:
        return Claim("diverse", Basis.SHOWN if gan.image_uri("samples") else Basis.NOT_RUN)
    numbers = {"digits": samples["digits_covered"], "coverage": samples.get("coverage"),
               "samples": samples.get("samples")}
    return Claim("diverse", Basis.ONE_RUN, holds=samples["digits_covered"] == 10, numbers=numbers)


def similar(gan: RunView, aux: RunView, head: RunView | None) -> Claim:
    """The auxiliary GAN's samples "appear similar" to the plain GAN's: their FD over seeds by the test of
    helpers.report.stats (findings.similarity); head: the other reading's run (a digit head only), where the
    build has one, quoted beside them (the evidence column's readings: each scored run's name and scores)."""
    comparison = findings.similarity([gan], [aux])
    named = [*findings.labelled_gans(gan, aux), ("the digit-head reading", head)]
    readings = [(label, samples) for label, run in named if run and (samples := run.metrics.get("samples"))]
    numbers = {"readings": readings, "label": named[1][0], "test": comparison}
    if comparison is None:
        return Claim("similar", Basis.NOT_RUN, numbers=numbers)
    if comparison.call is stats.Call.DESCRIPTIVE:
        return Claim("similar", Basis.ONE_RUN, numbers=numbers)
    return Claim("similar", Basis.TEST, holds=False if comparison.call.different else None, numbers=numbers)


def leaky() -> Claim:
    """Leaky ReLU keeps the GAN's training stable: no profile trains a GAN with plain ReLU to compare."""
    return Claim("leaky", Basis.NOT_RUN)


def one_step(study: dict[str, Any] | None) -> Claim:
    """One discriminator step per generator step suffices: two steps against one in the collapse study (found by
    helpers.report.collapse.collapse_study), by the test of its collapse epoch. Two steps collapsing later would
    speak against k = 1; sooner, for it (the verdict then says how many k = 1 seeds collapse as well: "sufficient"
    is only relative); no difference found leaves the claim untested."""
    stronger = study["role"]["stronger_d"] if study and study["compared"] else None
    if stronger is None:  # no study, none with two D steps, or too few seeds of the writeup's settings to compare
        return Claim("one_step", Basis.NOT_RUN)
    test = study["tests"].get(stronger)
    numbers = {"outcome": study["outcome"]["stronger_d"], "test": test, "at_epoch": study["at_epoch"],
               "k1": study["writeup"].spread("digits"), "k2": stronger.spread("digits"),
               "k1_collapsed": sum(row["collapsed"] for row in study["writeup"].rows), "beta1": GANConfig().adam_beta1,
               "from_record": study.get("from_record", False)}
    if test is None or test.call is stats.Call.DESCRIPTIVE:
        return Claim("one_step", Basis.ONE_RUN, numbers=numbers)
    holds = None if test.call is stats.Call.CANNOT_TELL else test.call is stats.Call.LOWER
    return Claim("one_step", Basis.TEST, holds=holds, numbers=numbers)


def writeup_claims(views: dict[str, RunView], study: dict[str, Any] | None,
                   seeds: dict[int, dict[str, tuple[int, float, float, float]]] | None = None) -> list[Claim]:
    """Every claim of the writeup the report weighs, in the writeup's order (VAE, then GAN); seeds: the writeup's
    VAEs over the latent-size study's seeds (findings.writeup_sizes_over_seeds), where there are any."""
    if not all(name in views for name in ("vae_z2", "vae_z20", "gan", "aux_gan")):
        return []
    losses = {latent: by_key["validation_loss"] for latent, by_key in (seeds or {}).items()}
    return [vae_loss(views["vae_z2"], 2, losses.get(2)), vae_loss(views["vae_z20"], 20, losses.get(20)),
            fuzzy(views["vae_z20"]), diverse(views["gan"]),
            similar(views["gan"], views["aux_gan"], views.get("digit_head_gan")), leaky(), one_step(study)]
