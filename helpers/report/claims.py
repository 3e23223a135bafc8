"""The writeup's claims, each with what this build's runs say of it: the numbers and a verdict, never prose
(report/sections/front.md.j2 words them), and how much shorter than the writeup's this build's runs trained.

A verdict has a basis and a direction. The basis says how far the runs can go: not at all (no run of this build
bears on the claim), not comparably (the runs trained fewer epochs than the writeup's), by a picture only, as a
description (one run a side, which the rule of helpers.report.evidence cannot test), or by the rule itself (three
seeds a side). The direction says whether the runs show what the writeup says, where they can tell.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from helpers.common.reference import WRITEUP_GAN_EPOCHS, WRITEUP_VAE_EPOCHS, WRITEUP_VAE_LOSS
from helpers.report import collapse, findings
from helpers.report.evidence import Verdict
from helpers.report.runview import RunView


class Basis(enum.StrEnum):
    """How far this build's runs can speak to a claim."""

    NOT_RUN = "not run"  # no run of this build bears on it
    SHORTER = "shorter"  # the runs trained fewer epochs than the writeup's: their numbers are not comparable
    SHOWN = "shown"  # a figure shows it; no measure decides it
    ONE_RUN = "one run"  # one run a side: the numbers describe these runs and test nothing
    RULE = "rule"  # three seeds a side or more: decided by the rule of helpers.report.evidence


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


def vae_loss(run: RunView, latent: int) -> Claim:
    """The writeup's final validation loss of one latent size against ours."""
    ours, theirs = run.final("validation_loss"), WRITEUP_VAE_LOSS[latent][1]
    numbers = {"latent": latent, "theirs": theirs, "ours": ours, "epochs": run.epochs_run,
               "writeup_epochs": WRITEUP_VAE_EPOCHS, "gap": None if ours is None else ours - theirs}
    if ours is None:
        return Claim("vae_loss", Basis.NOT_RUN, numbers=numbers)
    basis = Basis.SHORTER if (run.epochs_run or 0) < WRITEUP_VAE_EPOCHS else Basis.ONE_RUN
    return Claim("vae_loss", basis, numbers=numbers)


def fuzzy(z20: RunView) -> Claim:
    """The writeup's remark that the latent-20 VAE's samples look fuzzy: shown by its prior samples."""
    return Claim("fuzzy", Basis.SHOWN if z20.image_uri("prior_samples") else Basis.NOT_RUN)


def diverse(gan: RunView) -> Claim:
    """The plain GAN's samples show varied digits: how many of the ten its scored samples cover."""
    samples = gan.metrics.get("samples") or {}
    if samples.get("digits_covered") is None:
        return Claim("diverse", Basis.SHOWN if gan.image_uri("samples") else Basis.NOT_RUN)
    numbers = {"digits": samples["digits_covered"], "coverage": samples.get("coverage"),
               "samples": samples.get("samples")}
    return Claim("diverse", Basis.ONE_RUN, holds=samples["digits_covered"] == 10, numbers=numbers)


def similar(gan: RunView, aux: RunView) -> Claim:
    """The auxiliary GAN's samples "appear similar" to the plain GAN's, by the rule over seeds (helpers.report
    .findings.similarity)."""
    verdict = findings.similarity([gan], [aux])
    numbers = {"plain": gan.metrics.get("samples") or {}, "aux": aux.metrics.get("samples") or {},
               "label": findings.gan_label(aux)}
    if verdict is None:
        return Claim("similar", Basis.NOT_RUN, numbers=numbers)
    if verdict is Verdict.TOO_FEW:
        return Claim("similar", Basis.ONE_RUN, numbers=numbers)
    return Claim("similar", Basis.RULE, holds=not verdict.apart, numbers=numbers)


def leaky() -> Claim:
    """Leaky ReLU keeps the GAN's training stable: no profile trains a GAN with plain ReLU to compare."""
    return Claim("leaky", Basis.NOT_RUN)


def one_step(study: dict[str, Any] | None) -> Claim:
    """One discriminator step per generator step suffices: against two steps, in the collapse study (found by
    helpers.report.collapse.collapse_study), by the rule over three seeds a side."""
    stronger = study["role"]["stronger_d"] if study else None
    if not study or not study["compared"] or stronger is None:
        return Claim("one_step", Basis.NOT_RUN)
    outcome = study["outcome"]["stronger_d"]
    numbers = {"outcome": outcome, "k1_digits": study["writeup"].spread("final_digits"),
               "k2_digits": stronger.spread("final_digits")}
    if outcome is collapse.Outcome.TOO_FEW:
        return Claim("one_step", Basis.ONE_RUN, numbers=numbers)
    return Claim("one_step", Basis.RULE, holds=not outcome.holds_off, numbers=numbers)


def writeup_claims(views: dict[str, RunView], study: dict[str, Any] | None) -> list[Claim]:
    """Every claim of the writeup the report weighs, in the writeup's order (VAE, then GAN)."""
    if not all(name in views for name in ("vae_z2", "vae_z20", "gan", "aux_gan")):
        return []
    return [vae_loss(views["vae_z2"], 2), vae_loss(views["vae_z20"], 20), fuzzy(views["vae_z20"]),
            diverse(views["gan"]), similar(views["gan"], views["aux_gan"]), leaky(), one_step(study)]
