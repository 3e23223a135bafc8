"""The GAN's collapse: runs named by what they change, compared at one epoch, and said in the report."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.common.files import METRICS, WEIGHTS
from helpers.config import CollapseConfig, GANConfig, ParameterError
from helpers.evaluation import collapse
from helpers.report import collapse as collapse_findings
from helpers.report import readme
from helpers.report import results as reproduction


def fake_gan_run(folder: Path, changes: dict, seed: int = 0, epochs: int = 20, rise: float = 2.0,
                 d_real_end: float = 0.8, digits_end: int = 6) -> Path:
    """A finished GAN run whose FD is lowest (100) at epoch 10 and then rises to rise x 100 at epoch 20."""
    folder.mkdir(parents=True)
    history = []
    for epoch in range(1, epochs + 1):
        late = max(0, min(epoch, 20) - 10) / 10  # 0 up to epoch 10, then up to 1 at epoch 20
        row = {"epoch": epoch, "d_real": 0.6 + (d_real_end - 0.6) * late, "d_fake": 0.4 - 0.2 * late}
        if epoch % 5 == 0:
            row |= {"monitor_frechet_distance": 100.0 * (1 + (rise - 1) * late) + 300 * (epoch < 10),
                    "monitor_digits_covered": float(10 - round((10 - digits_end) * late)) - (epoch > 20)}
        history.append(row)
    params = GANConfig(seed=seed, epochs=epochs, output_dir=str(folder), **changes).to_dict()
    params["classifier_dir"] = str(folder.parent / "classifier")  # scored while it trained, as the study needs
    (folder / METRICS).write_text(json.dumps({"kind": "gan", "parameters": params, "history": history}))
    (folder / WEIGHTS).write_bytes(b"")
    return folder


@pytest.fixture
def gan_runs(tmp_path) -> str:
    """The writeup's settings (seeds 0 and 1, 30 epochs) and three runs that change one setting (20 epochs)."""
    folders = [fake_gan_run(tmp_path / "gan", {}, epochs=30),
               fake_gan_run(tmp_path / "seed1", {}, seed=1, epochs=30, rise=2.5, d_real_end=0.85),
               fake_gan_run(tmp_path / "d_steps", {"d_steps": 2}, rise=3.0, d_real_end=0.9, digits_end=4),
               fake_gan_run(tmp_path / "disc_lr", {"disc_learning_rate": 1.25e-4}, rise=1.1, d_real_end=0.65,
                            digits_end=10),
               fake_gan_run(tmp_path / "ac_gan", {"auxiliary": True, "conditional": True}, rise=1.05,
                            d_real_end=0.62, digits_end=10)]
    return ",".join(map(str, folders))


def test_runs_are_named_by_what_they_change_and_the_writeups_come_first(gan_runs):
    runs = collapse.read_runs(gan_runs)
    assert [(run.label, run.seed) for run in runs] == [
        ("the writeup's settings", 0), ("the writeup's settings", 1), ("2 D steps per G step", 0),
        ("AC-GAN", 0), ("D learning rate 0.000125", 0)]
    assert runs[2].changes == {"d_steps": 2}  # epochs, seed and folders are how long and where, not what


def test_runs_are_compared_at_the_last_epoch_all_reached_with_their_fd_rise_over_the_best(gan_runs):
    runs = collapse.read_runs(gan_runs)
    epoch = collapse.common_epoch(runs)
    rows = {(row["label"], row["seed"]): row for row in collapse.summary(runs, epoch)}
    base, stronger = rows[("the writeup's settings", 0)], rows[("2 D steps per G step", 0)]
    assert epoch == 20 and base["at_epoch"] == 20 and base["best_epoch"] == 10
    assert base["frechet_distance"] == pytest.approx(200) and base["frechet_rise"] == pytest.approx(2.0)
    assert stronger["frechet_rise"] == pytest.approx(3.0) and stronger["digits"] == 4
    assert base["d_real"] == pytest.approx(0.8) and base["digits"] == 6 and base["most_digits"] == 10
    assert (base["final_epoch"], base["final_digits"]) == (30, 5)  # the longer run's end is kept too
    assert (base["final_collapse_epoch"], base["final_collapsed"], base["final_d_real"]) == (15, True, 0.8)
    assert base["final_best_epoch"] == 10 and base["final_best_frechet_distance"] == pytest.approx(100)
    assert collapse.common_epoch(runs, 15) == 15 and collapse.summary(runs, 15)[0]["frechet_rise"] == pytest.approx(1.5)


def test_the_collapse_epoch_is_when_the_samples_stop_covering_all_ten_digits_for_good(gan_runs):
    runs = {run.label: run for run in collapse.read_runs(gan_runs)}
    writeup, weaker = runs["the writeup's settings"], runs["D learning rate 0.000125"]
    assert collapse.collapse_time(writeup, 20) == {"collapse_epoch": 15, "collapsed": True}  # 10, 10, then 8, 6
    assert collapse.collapse_time(weaker, 20) == {"collapse_epoch": 20, "collapsed": False}  # a lower bound
    assert collapse.collapse_time(writeup, 10) == {"collapse_epoch": 10, "collapsed": False}  # not yet, at 10
    writeup.history[4]["monitor_digits_covered"] = 9.0  # a digit lost at epoch 5 and regained: not the collapse
    assert collapse.collapse_time(writeup, 20)["collapse_epoch"] == 15


def row(label: str, seed: int, final_digits: int, collapse_epoch: int, changes: dict | None = None,
        most_digits: int = 10, final_epoch: int = 300) -> dict:
    """One run's summary as the collapse notebook writes it (a collapse epoch of 300 or more: not collapsed by
    then)."""
    collapsed = collapse_epoch < 300
    return {"label": label, "seed": seed, "changes": changes or {}, "at_epoch": 300, "digits": final_digits,
            "frechet_distance": 300.0, "best_frechet_distance": 200.0, "best_epoch": 40, "frechet_rise": 1.5,
            "d_real": 0.8, "d_fake": 0.2, "most_digits": most_digits, "final_epoch": final_epoch,
            "final_digits": final_digits, "final_frechet_distance": 300.0, "collapse_epoch": min(collapse_epoch, 300),
            "collapsed": collapsed, "final_collapse_epoch": min(collapse_epoch, final_epoch),
            "final_collapsed": collapse_epoch < final_epoch, "final_best_frechet_distance": 150.0,
            "final_best_epoch": 135, "final_d_real": 0.9}


def setting(label: str, changes: dict, epochs: list[int], final_epoch: int = 300) -> list[dict]:
    """One setting's seeds, one collapse epoch each."""
    return [row(label, seed, 10 if e >= 300 else 5, e, changes, final_epoch=final_epoch)
            for seed, e in enumerate(epochs)]


def test_each_setting_is_tested_against_the_writeups_by_the_declared_measure():
    assert collapse_findings.declared_measure() == "collapse_epoch"  # declared in the collapse profile
    rows = (setting(collapse_findings.WRITEUP, {}, [100, 110, 95, 120, 105])
            + setting("weaker", {"disc_learning_rate": 1.25e-4}, [1000] * 5, final_epoch=1000)
            + setting("stronger", {"d_steps": 2}, [30, 25, 40, 35, 20])
            + setting("faster D", {"disc_learning_rate": 0.002}, [90, 130, 100, 115, 125])
            + setting("slower", {"learning_rate": 0.0002}, [150, 200, 170, 180, 290])
            + setting("digit head", {"auxiliary": True}, [120, 140, 150]))
    study = collapse_findings.study_of_rows(rows)
    assert study["compared"] and study["tested"] and study["measured"] and study["seeds"] == 3
    assert {role: str(o) for role, o in study["outcome"].items() if o} == {
        "weaker_d": "keeps its digits", "stronger_d": "collapses sooner", "faster_d": "cannot be told apart",
        "slower": "collapses later", "digit_head": "described only"}
    tests = {s.label: t for s, t in study["tests"].items()}
    assert tests["weaker"].adjusted_p == pytest.approx(4 * 2 / 252)  # Holm: four testable settings, all apart
    table = {r[0]: r for r in study["setting_rows"]}
    assert table["weaker"][2] == "> 300 in all 5 seeds" and table["weaker"][-1] == "keeps its digits"
    assert table["digit head"][4] == "–" and table[collapse_findings.WRITEUP][1] == "0, 1, 2, 3, 4"
    assert [s.label for s in study["longer"]] == ["weaker"] and study["longer"][0].kept_to_the_end == 5


def test_a_longer_settings_collapse_is_dated_over_the_seeds_that_collapsed_only():
    rows = (setting(collapse_findings.WRITEUP, {}, [100, 110, 95, 120, 105])
            + setting("weaker", {"disc_learning_rate": 1.25e-4}, [470, 540, 1000, 1000, 700], final_epoch=1000))
    weaker = collapse_findings.study_of_rows(rows)["longer"][0]
    assert weaker.kept_to_the_end == 2 and weaker.lost_at().text() == "570 (470–700 over 3 seeds)"
    assert weaker.lost_text() == "570 (470–700 over 3 seeds; seed by seed 470, 540 and 700)"  # each seed's epoch


def test_a_collapse_epoch_says_which_seeds_give_only_a_bound_and_which_never_covered_all_ten():
    def text(epochs: list[int], most: list[int] | None = None) -> str:
        rows = [row("s", seed, 5, e, most_digits=(most or [10] * 5)[seed]) for seed, e in enumerate(epochs)]
        return collapse_findings.Setting("s", tuple(rows)).collapse_text()

    assert text([40, 55, 70, 85, 100]) == "70 (40–100 over 5 seeds)"  # a whole mean without '.0'
    assert text([280, 300, 300, 300, 300]) == (  # three seeds still covering: the mean is a lower bound
        "at least 296 (280 to > 300 over 5 seeds; 4 still cover all ten at 300)")
    assert text([300] * 5) == "> 300 in all 5 seeds"
    assert text([1] * 5, most=[9] * 5) == "1 in all 5 seeds: none ever covers all ten"
    assert text([1, 1, 10, 15, 1], most=[9, 9, 10, 10, 8]) == "5.6 (1–15 over 5 seeds; 3 never cover all ten)"


def test_a_record_without_the_collapse_epoch_is_described_not_tested():
    rows = setting(collapse_findings.WRITEUP, {}, [100] * 5) + setting("stronger", {"d_steps": 2}, [30] * 5)
    for r in rows:
        del r["collapse_epoch"]
    study = collapse_findings.study_of_rows(rows)
    assert not study["measured"] and not study["tests"] and str(study["outcome"]["stronger_d"]) == "described only"


def test_the_record_keeps_each_settings_test_and_the_readme_shows_it():
    rows = (setting(collapse_findings.WRITEUP, {}, [100, 110, 95, 120, 105])
            + setting("D learning rate 0.000125", {"disc_learning_rate": 1.25e-4}, [500, 600, 700, 800, 900],
                      final_epoch=1000))  # keeps its digits to 300, loses them by 1,000
    view = SimpleNamespace(metrics={"collapse": rows, "at_epoch": 300})
    record = reproduction.collapse_record(view, collapse_findings.study_of_rows(rows))["collapse"]
    assert record["fates"]["D learning rate 0.000125"].startswith(  # README's sentence, its numbers on record
        "Run on to epoch 1,000, every seed of D learning rate 0.000125 stops covering all ten digits, for good from "
        "epoch 700 (500–900 over 5 seeds)")
    weaker = record["settings"]["rows"][1]
    assert weaker[2] == "> 300 in all 5 seeds" and weaker[3].startswith("at least +194 (+18") and weaker[4] == "0.008"
    assert record["tests"]["D learning rate 0.000125"]["call"] == "higher" and record["measure"] == "collapse_epoch"
    provenance = {"date": "2026-12-02 14:00 UTC", "commit": "abc", "command": "python -m helpers.report "
                  "--profile collapse", "device": "cpu", "runs_wall": None}
    data = {"profile": "collapse", "collapse": record, "provenance": provenance}
    block = readme.study_block("collapse", json.loads(json.dumps(data)))
    assert "| D learning rate 0.000125 | 0, 1, 2, 3, 4 | > 300 in all 5 seeds |" in block
    assert "Generated from `results/collapse.json` (2026-12-02 14:00 UTC, commit abc" in block
    assert readme.study_block("collapse", None) == "" and reproduction.collapse_record(None, None) == {}
    text = "<!-- results:collapse -->\nold\n<!-- /results:collapse -->\n"
    assert readme.rewrite(f"{readme.START}\n{readme.END}\n" + text, FULL_STUB, {}).endswith(
        "<!-- results:collapse -->\n\n<!-- /results:collapse -->\n")  # no record yet: an empty block


FULL_STUB = {"models": [], "reference": [], "profile": "full",
             "provenance": {"date": "", "commit": "", "command": "", "device": "", "threads_per_run": 1}}


def test_the_figure_has_one_row_per_setting_with_the_writeups_seeds_behind_each(gan_runs):
    runs = collapse.read_runs(gan_runs)
    fig = collapse.figure(runs, 20)
    settings = collapse.by_setting(runs)
    grid = [ax for ax in fig.axes]
    assert len(grid) == 3 * len(settings)
    writeup_seeds = len(settings[collapse.WRITEUP])
    changed_row = grid[3]  # the first changed setting: the writeup's seeds in grey, then its own
    assert len(changed_row.lines) == writeup_seeds + len(list(settings.values())[1]) + 1  # + the dotted epoch
    assert grid[0].get_title(loc="left").startswith(collapse.WRITEUP)


def test_a_run_folder_that_is_not_a_finished_gan_run_is_one_clear_line(gan_runs, tmp_path):
    CollapseConfig(run_dirs=gan_runs)
    assert CollapseConfig(run_dirs=gan_runs, at_epoch=20).at_epoch == 20  # the shortest runs' last epoch
    with pytest.raises(ParameterError, match=r"at_epoch must be <= 20 \(the epochs of the shortest run"):
        CollapseConfig(run_dirs=gan_runs, at_epoch=21)
    vae = tmp_path / "vae"
    vae.mkdir()
    (vae / METRICS).write_text(json.dumps({"kind": "vae", "parameters": {"latent_dim": 2}}))
    (vae / WEIGHTS).write_bytes(b"")
    missing = str(tmp_path / "missing")
    for run_dirs, message in ((str(vae), "run_dirs needs a GAN run"), ("", "run_dirs names no run folder"),
                              (missing, "is not a finished run folder: weights.pt, metrics.json missing")):
        with pytest.raises(ParameterError, match=message):
            CollapseConfig(run_dirs=run_dirs)
