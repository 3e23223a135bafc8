"""Each measure is declared once (helpers.common.measures): the records keep exactly the declared ones, and every
table's column comes from its declaration."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from helpers.common import measures
from helpers.report import readme
from helpers.report import results as record

RUN_FIELDS = ["run", "model", "status", "latent_dim"]  # what names a model's row, before its measures


@pytest.mark.parametrize("profile", ["quick", "full", "collapse", "study"])
def test_each_committed_record_keeps_exactly_the_declared_measures_in_their_order(profile):
    models = json.loads((ROOT / "results" / f"{profile}.json").read_text())["models"]
    assert models and all(list(m) == RUN_FIELDS + [m.key for m in measures.RECORDED] for m in models)


def test_the_readme_and_report_tables_take_their_headers_and_cells_from_the_declarations():
    full = json.loads((ROOT / "results" / "full.json").read_text())
    assert readme.table(full).splitlines()[0] == "| " + " | ".join(["model", *measures.headers("readme")]) + " |"
    topics = [key for keys in record.TOPICS.values() for key in keys]
    assert set(topics) | set(record.ELSEWHERE) == {m.key for m in measures.shown("report")}  # each shown somewhere
    for topic, keys in record.TOPICS.items():
        assert record.results_columns(topic) == ["model", *(measures.BY_KEY[key].header for key in keys), "notes"]
    vae = full["models"][1]
    nll = f"{vae['nll']:.2f} ± {vae['nll_stderr']:.2f}"
    assert measures.cells(vae, "readme")[:2] == [f"{vae['neg_elbo']:,.2f}", nll]


def test_a_measure_a_row_lacks_is_an_empty_cell_and_a_notebook_table_reads_its_section():
    assert measures.cells({"model": "x"}, "readme") == [None] * len(measures.shown("readme"))
    headers, rows = measures.score_table({"inception_score": 6.5, "samples": 10_000}, "samples",
                                         ("scored_samples", "inception_score", "conditional_accuracy"))
    assert headers == ["samples", "IS", "conditional accuracy"] and rows == [["10,000", "6.50", None]]
