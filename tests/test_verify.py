"""make verify: every number of a committed record beside a new build's, exact on the same machine, within an
allowance drawn from the spread over seeds on another, and one clear line for each number that is not."""

from __future__ import annotations

import copy

import pytest

from helpers.common.measures import Allowance
from helpers.report import verify
from helpers.report.results import with_derived

MACHINE = {"cpu": ["AMD EPYC"], "cpu_flags": ["avx2"], "cpu_capability": "native", "threads_per_run": 1,
           "torch": ["2.14.1"], "precision": {"vae_z20": "bf16"}, "device": "cpu"}


def record(loss: float = 96.5, nll: float = 91.8, fd: float = 250.0, **machine) -> dict:
    """A record of one VAE (latent 20) as the build writes it."""
    row = {"run": "vae_z20", "model": "VAE, latent 20", "status": "ok", "latent_dim": 20, "neg_elbo": loss,
           "nll": nll, "nll_stderr": 0.25, "frechet_distance": fd, "epochs": 200, "monitor": None}
    return {"profile": "tiny", "models": [row], "reference": [],
            "provenance": MACHINE | machine | {"runs": {"vae_z20": {"minutes": 8.0}}, "runs_wall": {"wall_minutes": 9}}}


STUDY = {"study": {"study": {"rows": [{"latent_dim": 20, "seeds": 3, "validation_loss_std": 0.5}]}}}


def verdicts(lines: list[verify.Line]) -> dict[str, str]:
    return {line.measure: line.verdict for line in lines}


def test_on_the_same_machine_every_number_must_be_equal_and_a_changed_one_is_named():
    assert set(verdicts(verify.compare(record(), record(), STUDY)).values()) == {verify.Verdict.SAME}
    lines = verify.compare(record(loss=96.4), record(), STUDY)
    [bad] = verify.failing(lines)
    assert bad.verdict == verify.Verdict.DIFFERS and bad.sentence().startswith(
        "VAE, latent 20: negative ELBO is 96.5 here against 96.4 on record (DIFFERS")


def test_on_another_machine_a_measure_is_judged_by_the_spread_over_seeds_and_its_standard_errors():
    here = record(loss=97.06, nll=92.43, fd=400.0, cpu=["Intel Xeon"])  # the numbers: another CPU
    lines = {line.measure: line for line in verify.compare(record(loss=96.45, nll=91.77), here, STUDY)}
    assert lines["negative ELBO"].verdict == verify.Verdict.WITHIN
    t = Allowance.multiplier(3)  # three seeds on record: Student's t with 2 degrees of freedom, 0.27% two-sided
    assert t == pytest.approx(19.2, abs=0.05) and Allowance.multiplier(1000) == pytest.approx(3.0, abs=0.01)
    assert lines["negative ELBO"].allowed == pytest.approx(t * (2 * 0.5**2) ** 0.5)
    assert lines["IS-NLL (± s.e.)"].allowed == pytest.approx(t * (2 * 0.5**2 + 2 * 0.25**2) ** 0.5)
    assert lines["FD"].verdict == verify.Verdict.UNJUDGED  # no study measured the spread of a VAE's FD
    assert lines["epochs"].verdict == verify.Verdict.UNJUDGED and not verify.failing(list(lines.values()))
    far = verify.compare(record(loss=96.45), record(loss=120.0, cpu=["Intel Xeon"]), STUDY)
    assert [line.measure for line in verify.failing(far)] == ["negative ELBO"]


def test_a_record_s_own_spreads_come_before_a_study_s_and_a_missing_number_fails():
    spread = {"frechet_distance": 10.0, "seeds": 5, "classifier_seeds": 5}  # allows 6.6 * sqrt(2) * 10 = 94
    recorded = record() | {"spreads": {"vae_z20": spread}}
    lines = {line.measure: line for line in verify.compare(recorded, record(fd=400.0, cpu=["other"]), {})}
    assert lines["FD"].verdict == verify.Verdict.OUTSIDE and lines["negative ELBO"].verdict == verify.Verdict.UNJUDGED
    one_classifier = record() | {"spreads": {"vae_z20": spread | {"classifier_seeds": 1}}}
    lines = {line.measure: line for line in verify.compare(one_classifier, record(fd=300.0, cpu=["other"]), {})}
    assert lines["FD"].verdict == verify.Verdict.UNJUDGED and "classifier retrained" in lines["FD"].basis
    lacking = copy.deepcopy(record())
    del lacking["models"][0]["nll"]
    assert [line.verdict for line in verify.failing(verify.compare(record(), lacking, {}))] == [verify.Verdict.MISSING]


def test_an_older_record_that_does_not_name_its_arithmetic_is_never_compared_exactly():
    older = record()
    del older["provenance"]["cpu_flags"]
    assert not verify.same_machine(older["provenance"], record()["provenance"])
    summary = verify.summary(older, record(), verify.compare(older, record(), STUDY))
    assert summary["exact"] is False and summary["run_minutes"]["vae_z20"] == {"record": 8.0, "here": 8.0}


def test_a_runs_minutes_are_shown_but_never_judged_even_on_the_same_machine():
    recorded, slower = record(), record()
    recorded["models"][0]["minutes"], slower["models"][0]["minutes"] = 2.5, 3.4  # a busier machine, same arithmetic
    lines = {line.measure: line for line in verify.compare(recorded, slower, STUDY)}
    assert lines["training minutes"].verdict == verify.Verdict.UNJUDGED and "a time" in lines["training minutes"].basis
    assert not verify.failing(list(lines.values()))


def test_a_number_derived_from_others_is_recomputed_from_the_record_s_own_numbers():
    recorded, here = record(), record()
    for row in (recorded["models"][0], here["models"][0]):
        row["nll_elbo"] = 95.0
    recorded["models"][0]["elbo_minus_nll"] = 4.7  # stored under an older definition (the ELBO over other images)
    here["models"][0] = with_derived(here["models"][0])  # as this build's model_result writes it
    lines = verify.compare(recorded, here, STUDY)
    derived = next(line for line in lines if line.measure == "elbo_minus_nll")
    assert derived.recorded == pytest.approx(95.0 - 91.8) and derived.verdict == verify.Verdict.SAME
    unjudged = [line for line in lines if line.verdict == verify.Verdict.UNJUDGED]
    checked = verify.summary(recorded, here, lines) | {"record": "results/tiny.json"}
    assert all(f"not judged: {line.basis}" in verify.table_text(checked) for line in unjudged)
    assert not unjudged or "(the table says why)" in verify.outcome_text(checked)


def test_the_cost_line_counts_each_build_s_runs_and_sets_only_shared_runs_side_by_side():
    recorded, here = record(), record()
    recorded["provenance"]["runs"] |= {"gan.seed1": {"minutes": 4.0}}
    cost = verify.cost_text(verify.summary(recorded, here, verify.compare(recorded, here, STUDY)))
    assert "9 min here (1 run), 9 min on record (2 runs)" in cost
    assert cost.endswith("vae_z20 8 / 8")


def test_a_vae_s_active_units_are_judged_by_the_latent_size_study_s_seeds():
    runs = [{"latent_dim": 20, "test_active_units": units} for units in (17, 18, 20, 19, 18)]
    studies = {"study": {"study": {"rows": [], "runs": runs}}}
    recorded, here = record(), record(cpu=["Intel Xeon"])
    recorded["models"][0]["active_units"], here["models"][0]["active_units"] = 17, 19
    line = next(line for line in verify.compare(recorded, here, studies) if line.measure == "active units")
    assert line.verdict == verify.Verdict.WITHIN
    assert line.allowed == pytest.approx(Allowance.multiplier(5) * 2 ** 0.5 * 1.1402, rel=1e-3)
    other_size = {"study": {"study": {"rows": [], "runs": [r | {"latent_dim": 2} for r in runs]}}}
    line = next(line for line in verify.compare(recorded, here, other_size) if line.measure == "active units")
    assert line.verdict == verify.Verdict.UNJUDGED


def test_verify_takes_the_record_s_profile_and_refuses_another_in_any_spelling(tmp_path, capsys):
    from helpers.report import cli

    path = tmp_path / "quick.json"
    path.write_text('{"profile": "quick"}')
    assert cli.parse_args(["--verify", str(path)]).profile == "quick"
    assert cli.parse_args(["--verify", str(path), "--prof", "quick"]).profile == "quick"
    assert cli.parse_args([]).profile == cli.DEFAULT_PROFILE
    with pytest.raises(SystemExit):
        cli.parse_args(["--verify", str(path), "--profile=full"])
    assert "is the record of profile 'quick', not 'full'" in capsys.readouterr().err
