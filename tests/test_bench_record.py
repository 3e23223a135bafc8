"""The committed benchmark record and the page that reads it agree, and the record holds what issue 23 asks."""

from __future__ import annotations

from bench import summary
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
