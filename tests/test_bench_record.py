"""The committed benchmark record and the page that reads it agree, and the record holds what issue 23 asks."""

from __future__ import annotations

from bench import precision, summary
from bench.loops import MODELS
from bench.speed import RESULTS
from helpers.common.files import read_json


def test_docs_speed_shows_the_committed_bench_record():
    block = summary.BLOCK.search(summary.DOC.read_text())
    assert block, "docs/speed.md lost its generated block"
    assert block.group(0) == block.group(1) + summary.tables(read_json(RESULTS)) + block.group(2), \
        "docs/speed.md is stale: run python -m bench.summary --write"


def test_the_record_has_both_steps_in_both_precisions_for_every_model_and_the_likelihood():
    results = read_json(RESULTS)
    one_thread = {(r["model"], r["step"], r["precision"]) for r in results["rows"] if r["threads"] == 1}
    precisions = ("fp32", "bf16") if results["machine"]["native_bf16"] else ("fp32",)
    assert {(m, s, p) for m in MODELS for s in ("autograd", "explicit") for p in precisions} <= one_thread
    assert [row["precision"] for row in results["likelihood"]["rows"]] == list(precisions)
    assert {"by_hand_seconds_per_epoch", "in_build_seconds_per_epoch"} <= set(results["build"])


def test_bf16_is_tested_on_the_declared_seeds_only_once_all_of_them_ran():
    def run(p: str, seed: int, loss: float) -> dict:
        return {"precision": p, "seed": seed, "validation_loss": loss, "nll": loss - 5}
    early = [run(p, s, 97.0 + s / 10) for p in ("fp32", "bf16") for s in (0, 1, 2)]
    declared = [run(p, s, 97.0 + s / 10) for p in ("fp32", "bf16") for s in precision.DECLARED_SEEDS]
    waiting = precision.summaries(early + declared[:-1], ("validation_loss",))
    assert waiting["summary"] == {} and waiting["exploratory"]["validation_loss"]["seeds"] == 3
    tested = precision.summaries(early + declared, ("validation_loss",))["summary"]["validation_loss"]
    assert tested["seeds"] == len(precision.DECLARED_SEEDS) and tested["inside_margin"]
