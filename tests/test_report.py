"""The report: fast tests of the document on run folders written here, then tiny runs of the real notebooks
stitched into a self-contained HTML and a PDF (end to end)."""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from PIL import Image

from conftest import CHROMIUM, CHROMIUM_ARGS, canvas_pixels, press
from helpers.common.files import FIGURES, METRICS, RECORD, read_json
from helpers.common.paths import ROOT
from helpers.common.reference import WRITEUP_VAE_LOSS
from helpers.report import cli, document, export, findings, readme, settings
from helpers.report import results as reproduction
from helpers.report.document import Document, DocumentError
from helpers.report.found import found_once, study_records
from helpers.report.precision import comparison_of, precision_comparisons
from helpers.report.runview import RunView
from helpers.report.stats import Call
from helpers.runs.profile import PLACEHOLDER, declared, load_profile

TINY = {"epochs": 1, "train_size": 1000, "channels": 4, "nll_samples": 20, "nll_images": 200,
        "score_samples": 200}  # applied to every run whose notebook declares the name
TINY_RUNS = ("classifier", "vae_z2", "vae_z20", "gan", "aux_gan", "explore", "collapse")
SECTIONS = ["1 Introduction", "2 Problem description", "3 Models and algorithms", "3.1 Variational autoencoder",
            "3.2 Generative adversarial networks", "4 How we evaluate", "5 Experiments", "5.1 Variational autoencoder",
            "5.2 Generative adversarial networks", "5.3 Results over all models", "6 Conclusion", "References",
            "Appendix: reproducibility"]
VAE_FIGURES = ("loss_curves", "latent_space", "latent_grid", "prior_samples", "interpolation")
GAN_FIGURES = ("samples", "interpolation", "losses")
META = [("Built", "now"), ("Commit", "abc"), ("Profile", "tiny (test)"), ("Device", "cpu")]
SENTENCE_WORDS = 45  # no sentence a template writes is longer
MEAN_SENTENCE_WORDS = 22  # and they average fewer words than this
UNRUN_STUDY_WORDS = 60  # a study the build did not run gets a sentence and the command that runs it, not its text


# ---- fast tests of the document: run folders written by the test itself -------------------------------------

def write_run(build: Path, name: str, status: str = "ok", losses: list[float] | None = None, error: str = "",
              figures: tuple[str, ...] = (), final: dict | None = None, params: dict | None = None) -> Path:
    """A run folder as a finished (or failed) run leaves it: run.json, metrics.json, figures with PNGs."""
    folder = build / name
    folder.mkdir(parents=True)
    (folder / RECORD).write_text(json.dumps({"name": name, "notebook": f"notebooks/{name}.ipynb", "status": status,
                                             "minutes": 0.5, "error": error, "key": "k" + name, "params": {}}))
    if status == "failed":
        return folder
    history = [{"epoch": i + 1, "validation_loss": v, "train_loss": v + 1} for i, v in enumerate(losses or [])]
    metrics = {"parameters": {"epochs": len(history) or 1, "hidden_dim": 500, "learning_rate": 0.01,
                              "batch_size": 100, "grid_limit": 2.0, "noise_dim": 64, "d_steps": 1} | (params or {}),
               "history": history, "epochs_run": len(history) or 1,
               "final": (history[-1] if history else {}) | (final or {}),
               "environment": {"device": "cpu", "threads": 1}}
    (folder / METRICS).write_text(json.dumps(metrics))
    for k, figure in enumerate(figures):
        Image.new("L", (4, 4), 40 * k).save(folder / f"{figure}.png")
    (folder / FIGURES).write_text(json.dumps([{"name": f, "file": f"{f}.png", "caption": f"caption of {f}"}
                                              for f in figures]))
    return folder


def write_build(build: Path, z2_losses: list[float], z20_losses: list[float], skip: tuple[str, ...] = (),
                failed: dict[str, str] | None = None) -> dict[str, RunView]:
    """The four runs of the writeup's sections (those in skip never ran; failed ones record an error)."""
    failed = failed or {}
    gan_final = {"d_real": 0.55, "d_fake": 0.45, "d_loss": 1.3, "g_loss": 0.8}
    specs = {"vae_z2": (z2_losses, VAE_FIGURES, {}, {"latent_dim": 2}),
             "vae_z20": (z20_losses, VAE_FIGURES, {}, {"latent_dim": 20}),
             "gan": ([], GAN_FIGURES, gan_final, {}),
             "aux_gan": ([], GAN_FIGURES, gan_final | {"val_accuracy": 0.9}, {"conditional": True})}
    for name, (losses, figures, final, params) in specs.items():
        if name not in skip:
            write_run(build, name, "failed" if name in failed else "ok", losses, failed.get(name, ""), figures,
                      final, params)
    return {name: RunView.read(build, name) for name in specs}


def text_of(nb) -> str:
    """The rendered notebook as one string: markdown sources and HTML outputs in order."""
    return "\n".join(c.source if c.cell_type == "markdown" else c.outputs[0]["data"]["text/html"] for c in nb.cells)


def rendered(views: dict[str, RunView]) -> str:
    """The document of these runs, as text with every run of white space made one space."""
    return " ".join(text_of(document.render(views, "tiny", META, found_once(views))).split())


def laid_out(views: dict[str, RunView]) -> Document:
    """The document of these runs once its text is laid out (what it placed, numbered and cited)."""
    doc = Document()
    doc.cells(doc.env.get_template(document.MAIN).render(document.context(doc, views, "tiny", META,
                                                                          found_once(views))))
    return doc


def prose(text: str) -> str:
    """What a reader reads as sentences: the text without headings, tables, explorers, run blocks, math and markup."""
    text = re.sub(r"^#{1,4} .*$", " ", text, flags=re.M)
    for pattern in (r"<table.*?</table>", r"<script.*?</script>", r"<[^>]+>"):
        text = re.sub(pattern, " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " . ", text, flags=re.S)  # a displayed equation ends what leads up to it
    return html.unescape(re.sub(r"\$[^$]*\$", " x ", text))


def written(nb) -> str:
    """The sentences a report's templates wrote: its Markdown and the captions of its figures and tables (not the
    explorers' controls or the parameter blocks)."""
    return "\n\n".join(c.source if c.cell_type == "markdown" else "\n".join(re.findall(
        r'<(?:figcaption|div class="table-caption")>(.*?)</(?:figcaption|div)>', c.outputs[0]["data"]["text/html"],
        re.S)) for c in nb.cells)


def sentences(text: str) -> list[str]:
    """The sentences of prose: split after . ! ? before a capital, and at list items."""
    text = " ".join(re.sub(r"(^|\n)\s*- ", "\n.\n", text).split())
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z“(*])", text) if len(s.split()) > 1]


def test_finished_runs_give_every_section_numbered_figures_and_resolved_references(tmp_path):
    views = write_build(tmp_path, [200.0, 190.0], [150.0, 140.0])
    page = text_of(document.render(views, "tiny", META, found_once(views)))
    headings = re.findall(r"^#{2,3} (.+)$", page, re.M)
    assert all(section in headings for section in SECTIONS), headings
    numbers = re.findall(r"<b>Figure (\d+)\.</b>", page)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)] and len(numbers) >= 7
    assert "⟦" not in page and 'href="#vae-losses">Figure 1</a>' in page and 'href="#claims">Table 1</a>' in page
    assert re.search(r'href="#vae-results">Table \d+</a>', page) and 'href="#4-How-we-evaluate">Section 4</a>' in page
    assert 'class="failure"' not in page and "190.00" in page and "157.18" in page


def test_a_failed_run_shows_its_escaped_error_in_its_section(tmp_path):
    views = write_build(tmp_path, [200.0, 190.0], [150.0, 140.0], failed={"vae_z20": "ValueError: <b>lr</b> < 0"})
    page = rendered(views)
    section = page[page.index("5.1 Variational"):page.index("5.2 Generative")]
    assert 'class="failure"' in section and "ValueError: &lt;b&gt;lr&lt;/b&gt; &lt; 0" in section
    assert "<b>lr</b>" not in page
    assert "Run vae_z20 gave no results in this build; its section says why" in page


def test_a_run_never_run_says_so_and_the_rest_still_builds(tmp_path):
    page = rendered(write_build(tmp_path, [200.0, 190.0], [150.0, 140.0], skip=("gan",)))
    section = page[page.index("5.2 Generative"):page.index("6 Conclusion")]
    assert "Run gan not run." in section and "has not been executed in this build folder yet" in section
    assert "The plain GAN gave no final numbers (not run)." in section
    assert "Figure “samples” of run gan is missing" in section
    assert "Run gan gave no results in this build" in page and "not part of this build's profile" not in page


def test_a_run_the_profile_does_not_plan_is_named_as_outside_it_not_as_failed(tmp_path):
    views = write_build(tmp_path, [200.0, 190.0], [150.0, 140.0], skip=("gan",))
    views["gan"] = RunView.read(tmp_path, "gan", planned=False)
    page = rendered(views)
    assert "Run gan is not part of this build's profile" in page and "gave no results in this build" not in page


def test_ending_above_the_writeup_while_still_falling_says_more_epochs_help(tmp_path):
    above = WRITEUP_VAE_LOSS[2][1] + 40
    page = rendered(write_build(tmp_path, [above + 5, above], [150.0, 140.0]))
    assert "40.00 above the writeup's 157.18" in page
    assert "still falling at the last epoch" in page and "For latent size 2 and latent size 20" in page
    assert "Ending below the writeup is expected" not in page


def test_a_flat_loss_above_the_writeup_is_not_called_still_falling(tmp_path):
    page = rendered(write_build(tmp_path, [190.0, 190.0], [140.0, 141.0]))
    assert "still falling" not in page and "the writeup's for 200." in page


def test_ending_below_the_writeup_explains_why_and_orders_latent_sizes_by_no_single_run(tmp_path):
    page = rendered(write_build(tmp_path, [150.0, 140.0], [100.0, 90.0]))
    assert "12.67 below the writeup's 102.67" in page and "the writeup does not say enough to pin" in page
    assert "still falling" not in page and "same ordering" not in page
    assert "one run each: the gaps describe these runs and test nothing" in page


def write_study(build: Path, losses: dict[int, list[float]]) -> RunView:
    """A finished study run whose runs ended at these validation losses (per latent size, per seed)."""
    runs = [{"latent_dim": latent, "seed": seed, "epochs": 2, "validation_loss": loss, "train_loss": loss + 1}
            for latent, values in losses.items() for seed, loss in enumerate(values)]
    rows = [{"latent_dim": d, "seeds": len(v), "epochs": 2, "validation_loss": sum(v) / len(v),
             "validation_loss_std": 0.5, "train_loss": v[0] + 1} | dict.fromkeys(
                 ("active_units", "active_units_min", "active_units_max"), min(d, 9)) for d, v in losses.items()]
    write_run(build, "study", figures=("latent_size_curves", "latent_size_active_units"))
    add_metrics(build / "study", study=rows, runs=runs)
    return RunView.read(build, "study")


def study_section(views: dict, study: RunView) -> str:
    page = rendered(views | {"study": study})
    return page[page.index("Beyond the writeup: latent size"):page.index("Conclusion")]


def test_the_latent_size_study_tests_each_size_against_the_declared_one(tmp_path):
    views = write_build(tmp_path, [200.0, 190.0], [150.0, 140.0])
    reference = [130.0, 131, 132, 133, 134]
    apart = " ".join(study_section(views, write_study(tmp_path / "a", {2: [160.0, 161, 162, 163, 164],
                                                                       20: reference})).split())
    assert "latent size 20 ends at 132.00 (130.00–134.00 over 5 seeds)" in apart and "⟦" not in apart
    assert "Latent size 2: +30.00 nats (higher, adjusted p = 0.008" in apart and "9.0 of 20 (9–9)" in apart
    close_study = write_study(tmp_path / "c", {10: [130.5, 131, 133, 131.5, 134], 20: reference})
    close = " ".join(study_section(views, close_study).split())
    assert "Latent size 10: +0.00 nats (cannot tell apart, adjusted p = 1.000" in close
    record = reproduction.study_record(close_study, findings.latent_size_tests(close_study))["study"]
    assert record["tests"]["10"]["call"] == "cannot tell apart" and record["reference"] == 20
    data = {"profile": "study", "study": record, "provenance": {"date": "d", "commit": "c", "command": "x",
                                                                 "device": "cpu"}}
    block = readme.study_block("study", data)
    assert "| 10 | 132.00 (130.50–134.00 over 5 seeds) |" in block and "(cannot tell apart) |" in block
    assert "| 20 | 132.00 (130.00–134.00 over 5 seeds) |" in block and "| reference |" in block
    assert "Generated from `results/study.json` (d, commit c, `x`; cpu)." in block
    few = " ".join(study_section(views, write_study(tmp_path / "f", {2: [160.0, 161, 162],
                                                                     20: [130.0, 131, 132]})).split())
    assert "With 3 seeds per size no exact test reaches the 5% level" in few and "(descriptive only;" in few
    mixed = rendered(views | {"study": write_study(tmp_path / "m", {2: [160.0, 161, 162, 163, 164], 10: [
        130.5, 131, 133, 131.5, 134], 5: [140.0, 141, 142, 143, 144], 3: [150.0, 151, 152], 20: reference})})
    conclusion = " ".join(mixed[mixed.index("6 Conclusion"):].split())  # the study's verdicts, grouped by call
    assert ("Over the latent-size study's 3 to 5 seeds per size, each size set against latent size 20" in conclusion
            and "latent sizes 2 and 5 end higher than 20; the runs cannot tell latent size 10 from 20; latent size "
            "3 has too few seeds for the test." in conclusion)
    undeclared = write_study(tmp_path / "u", {7: [160.0, 161, 162, 163, 164], 20: reference})
    assert findings.latent_size_tests(undeclared)["tests"] == {}  # only the sizes the profile declared are tested


def test_references_resolve_after_layout_and_unknown_or_repeated_labels_are_refused(tmp_path):
    run = write_run(tmp_path, "r", figures=("a", "b"))
    view = RunView.read(tmp_path, "r")
    doc = Document()
    template = doc.env.from_string(
        "See {{ ref('b') }}.\n{% if show %}{{ fig('a', panel(r, 'a')) }}{% endif %}\n{{ fig('b', panel(r, 'b')) }}")
    context = {"ref": doc.ref, "fig": doc.fig, "panel": document.Panel, "r": view, "show": False}
    cells = doc.cells(template.render(context))
    assert 'href="#b">Figure 1</a>' in cells[0].source  # the conditional figure left out: b is still Figure 1
    with pytest.raises(DocumentError, match="nothing placed"):
        Document().cells(Document().ref("missing"))
    doc = Document()
    doc.fig("a", document.Panel(view, "a"))
    with pytest.raises(DocumentError, match="twice"):
        doc.fig("a", document.Panel(view, "a"))
    assert run.exists()


def test_sections_are_numbered_in_order_and_unnumbered_ones_stay_so():
    text = "## A\n### x\n### y\n## B\n### z\n## References {-}\n#### kept"
    assert document.number_sections(text) == (
        "## 1 A\n### 1.1 x\n### 1.2 y\n## 2 B\n### 2.1 z\n## References\n#### kept", {})
    numbered, labelled = document.number_sections("## A\n## B: b's {@b}\n### c {@c}")
    assert numbered == "## 1 A\n## 2 B: b's\n### 2.1 c" and labelled == {"b": ("2", "2 B: b's"), "c": ("2.1", "2.1 c")}
    assert document.heading_id("2 B: b's") == "2-B:-b's"


def test_join_and_words_a_list_escaping_only_where_the_template_autoescapes():
    report = document.environment().from_string("{{ items | join_and }}")
    assert [report.render(items=items) for items in ([], ["a"], ["a", "b"], ["a", "b<", "c"])] == [
        "", "a", "a and b", "a, b&lt; and c"]
    readme_like = jinja2.Environment()
    readme_like.filters.update(document.WORDING_FILTERS)
    said = readme_like.from_string("{{ items | join_and }}").render(items=["the writeup's", "x"])
    assert said == "the writeup's and x"


def test_names_and_counts_are_worded_with_their_noun_and_verb_agreeing():
    words = '{{ names | listed("Run") }} {{ names | length | agreed("is", "are") }}'
    report = document.environment().from_string(words)
    assert [report.render(names=names) for names in (["gan"], ["gan", "aux_gan<"])] == [
        "Run gan is", "Runs gan and aux_gan&lt; are"]
    readme_like = jinja2.Environment()
    readme_like.filters.update(document.WORDING_FILTERS)
    said = readme_like.from_string('{{ names | listed("latent size") }}, {{ 1 | counted("seed") }}')
    assert said.render(names=[2, 3, "a<b"]) == "latent sizes 2, 3 and a<b, 1 seed"


def add_figure(folder: Path, name: str) -> None:
    """Add a saved figure (PNG and figures.json entry) to a run folder."""
    Image.new("L", (4, 4), 90).save(folder / f"{name}.png")
    figures = read_json(folder / FIGURES, [])
    (folder / FIGURES).write_text(json.dumps([*figures, {"name": name, "file": f"{name}.png",
                                                          "caption": f"caption of {name}"}]))


def test_the_report_renders_once_and_lists_the_figures_no_section_places_where_asked(tmp_path, monkeypatch):
    write_build(tmp_path, [200.0, 190.0], [150.0, 140.0])
    add_figure(tmp_path / "vae_z20", "extra_vae")
    add_figure(tmp_path / "aux_gan", "extra_gan")
    views = {name: RunView.read(tmp_path, name) for name in ("vae_z2", "vae_z20", "gan", "aux_gan")}
    calls, gan_rows = [], findings.gan_rows
    monkeypatch.setattr(findings, "gan_rows", lambda *runs: calls.append(runs) or gan_rows(*runs))
    page = rendered(views)
    assert len(calls) == 1  # the GAN section's table: the sections are rendered once
    vae = page[page.index("5.1 Variational"):page.index("5.2 Generative")]
    gan = page[page.index("5.2 Generative"):page.index("5.3 Results")]
    assert vae.count("Run vae_z20: caption of extra_vae") == 1 and "extra_gan" not in vae
    assert gan.count("Run aux_gan: caption of extra_gan") == 1 and "extra_vae" not in gan
    assert "Run vae_z2: caption of loss_curves" not in page  # placed by name: not listed again
    numbers = re.findall(r"<b>Figure (\d+)\.</b>", page)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]  # numbered in the order they are laid out
    assert "⟦" not in page


def every_kind_of_build(root: Path) -> list[dict[str, RunView]]:
    """Builds that take the templates' branches: unscored runs, a failed run, scored runs with every study (the
    collapse study at three seeds a side, the latent-size study, the digit-head reading), and a quick-style one."""
    from test_collapse import fake_gan_run

    full = write_scored_build(root / "full")
    changed = {"writeup": ({}, [5, 6, 5]), "d2": ({"d_steps": 2}, [2, 2, 3]),
               "weak": ({"disc_learning_rate": 1.25e-4}, [10, 10, 10]),
               "ttur": ({"disc_learning_rate": 0.002}, [7, 7, 8])}
    gan_runs = [fake_gan_run(root / "gan_runs" / f"{name}{seed}", changes, seed=seed, digits_end=digits)
                for name, (changes, ends) in changed.items() for seed, digits in enumerate(ends)]
    head = write_run(root / "full", "digit_head_gan", params={"auxiliary": True})
    add_metrics(head, samples=scores(4.0, 4), history=monitor([9, 8, 5, 4]))
    full |= {"collapse": collapse_view(root / "full", gan_runs),
             "digit_head_gan": RunView.read(root / "full", head.name),
             "study": write_study(root / "study", {2: [160.0, 161, 162], 20: [130.0, 131, 132]})}
    quick = write_scored_build(root / "quick") | {"collapse": collapse_view(root / "quick", gan_runs[:1])}
    return [write_build(root / "plain", [200.0, 190.0], [150.0, 140.0]), full, quick,
            write_build(root / "failed", [200.0, 190.0], [150.0, 140.0], failed={"gan": "ValueError: x"})]


def test_every_figure_and_table_is_cited_in_the_text(tmp_path):
    for views in every_kind_of_build(tmp_path):
        doc = laid_out(views)
        assert len(doc.kinds) > 10 and doc.uncited() == [], doc.uncited()


def test_sentences_stay_short(tmp_path):
    lengths = []
    for views in every_kind_of_build(tmp_path):
        nb = document.render(views, "tiny", META, found_once(views))
        said = sentences(prose(written(nb)))
        longest = max(said, key=lambda sentence: len(sentence.split()))
        assert len(longest.split()) <= SENTENCE_WORDS, longest
        lengths += [len(sentence.split()) for sentence in said]
    assert sum(lengths) / len(lengths) < MEAN_SENTENCE_WORDS


def test_a_study_the_build_did_not_run_gets_a_sentence_and_its_command(tmp_path, monkeypatch):
    from test_collapse import setting

    from helpers.report import found

    monkeypatch.setattr(found, "RESULTS", tmp_path / "results")  # no committed records
    page = rendered(write_scored_build(tmp_path))
    study = page[page.index("Beyond the writeup: latent size"):page.index("6 Conclusion")]
    assert "(`make report PROFILE=study`)" in study and len(prose(study).split()) <= UNRUN_STUDY_WORDS
    assert "The collapse: when" not in page  # no collapse run: not even its heading
    claims = page[page.index('id="claims"'):]
    assert "needs the collapse study (<code>make report PROFILE=collapse</code>)" in claims[:claims.index("</table>")]
    rows = setting("the writeup's settings", {}, [100, 110, 95, 120, 105]) + setting(
        "2 D steps per G step", {"d_steps": 2}, [30, 25, 40, 35, 20])
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "collapse.json").write_text(json.dumps({"collapse": {"runs": rows}}))
    claims = rendered(write_scored_build(tmp_path / "b"))
    claims = html.unescape(claims[claims.index('id="claims"'):claims.index("</table>", claims.index('id="claims"'))])
    assert "k = 2 less k = 1: -76 epochs (95% interval" in claims  # from the committed record
    assert "not this build: the committed collapse study, <code>results/collapse.json</code>" in claims
    assert ("with k = 2 the runs collapse sooner by the test; with k = 1 they collapse too, in 5 of 5 seeds at our "
            "β₁ 0.5") in claims  # not "k = 1 holds"
    page = rendered(write_scored_build(tmp_path / "c"))
    assert "committed record of work this build did not run (`results/collapse.json`), it says so" in page
    from test_collapse import fake_gan_run

    quick = write_scored_build(tmp_path / "q")  # a quick-style build: its collapse run compares no k = 2
    quick["collapse"] = collapse_view(tmp_path / "q", [fake_gan_run(tmp_path / "g", {})])
    page = rendered(quick)
    claims = html.unescape(page[page.index('id="claims"'):page.index("</table>", page.index('id="claims"'))])
    assert "k = 2 less k = 1: -76 epochs (95% interval" in claims
    section = html.unescape(page[page.index("The collapse: when"):page.index("5.3 Results")])
    assert "Its committed record (`results/collapse.json`: 5 seeds per setting, compared at" in section
    assert "- *2 D steps per G step* covers all ten digits for fewer epochs." in section  # what Table 1 draws on


def test_a_study_profiles_report_says_in_a_sentence_that_it_trains_none_of_the_writeups_models(tmp_path):
    from test_collapse import fake_gan_run

    build = tmp_path / "b"
    views = {name: RunView.read(build, name, planned=False) for name in ("vae_z2", "vae_z20", "gan", "aux_gan")}
    views["collapse"] = collapse_view(build, [fake_gan_run(tmp_path / "g", {})])
    page = html.unescape(rendered(views))
    assert "Profile `tiny` does not evaluate the writeup's two VAEs here." in page
    assert "Profile `tiny` does not evaluate the writeup's two GANs here: its plain GANs are the collapse" in page
    assert "The collapse: when" in page
    assert "trained none of the writeup's GANs" in page and "no VAE in this profile" not in page
    assert "2 × –" not in page and "Run gan not run" not in page  # no empty settings tables, no failure boxes
    assert "We train on the 50,000 training images" in page  # no run of the profile says otherwise


def test_a_study_profiles_report_gives_the_writeups_vaes_over_its_seeds(tmp_path, monkeypatch):
    from helpers.report import found

    monkeypatch.setattr(found, "RESULTS", tmp_path / "results")  # no committed records
    build = tmp_path / "b"
    views = {name: RunView.read(build, name, planned=False) for name in ("vae_z2", "vae_z20", "gan", "aux_gan")}
    study = write_study(build, {2: [160.0, 161, 162, 163, 164], 20: [130.0, 131, 132, 133, 134]})
    runs = [{"latent_dim": latent, "seed": seed, "nll_images": 10_000, "validation_loss": 100.0 + latent + seed,
             "nll": 95.0 + latent + seed, "nll_published_k": 96.0 + latent + seed, "test_active_units": 2}
            for latent in (2, 20) for seed in range(5)]
    add_metrics(study.folder, runs=runs)
    page = " ".join(html.unescape(rendered(views | {"study": RunView.read(build, "study")})).split())
    results = page[page.index("5.3 Results"):page.index("5.4 Beyond")]
    assert "trained none of the writeup's GANs. Its latent-size study trained the writeup's two VAEs" in results
    conclusion = page[page.index("6 Conclusion"):]  # the study's verdict, though the profile trains no writeup run
    assert "each size set against latent size 20 by the declared test" in conclusion
    assert "latent size 2 ends lower than 20" in conclusion  # by the per-run rows: 104 against 122
    assert 'id="results-seeds"' in results and "their runs may differ from ours in architecture" in results


def test_a_build_without_the_latent_size_study_reads_its_committed_record(tmp_path, monkeypatch):
    from helpers.report import found

    monkeypatch.setattr(found, "RESULTS", tmp_path / "results")
    study = write_study(tmp_path / "s", {2: [160.0, 161, 162, 163, 164], 20: [130.0, 131, 132, 133, 134]})
    (tmp_path / "results").mkdir()
    record = reproduction.study_record(study, findings.latent_size_tests(study))
    (tmp_path / "results" / "study.json").write_text(json.dumps(record))
    page = rendered(write_scored_build(tmp_path / "b"))
    section = page[page.index("Beyond the writeup: latent size"):page.index("6 Conclusion")]
    assert "reads its committed record (`results/study.json`)" in section and "The recorded sweep is short" in section
    assert "did not run (`results/study.json`), it says so" in page
    conclusion = page[page.index("6 Conclusion"):]
    assert ("Over the latent-size study's 5 seeds per size (its committed record), each size set against latent size "
            "20 by the declared test") in conclusion and ": latent size 2 ends higher than 20." in conclusion
    assert ("For the writeup's two sizes the difference in nats, latent size 2 minus 20, is +30.00 (95% interval "
            "+28.20 to +31.80; adjusted p = 0.008).") in conclusion
    assert "Latent size 2: +30.00 nats (higher, adjusted p = 0.008" in section and "9.0 of 20 (9–9)" in section
    assert "<img" not in section and "⟦" not in section  # the record has no figures: none is promised


def bf16_words(entry: dict) -> str:
    """What the sections say of a model's bf16-against-fp32 comparison with this bench record entry."""
    template = document.environment().get_template("bf16.md.j2")
    return " ".join(template.render(comparison=comparison_of("gan", entry), what="the plain GAN").split())


def test_the_bf16_sentence_says_what_the_bench_record_tested_and_no_more(tmp_path):
    def measure(low: float, high: float, seeds: int) -> dict:
        return {"bf16_minus_fp32": (low + high) / 2, "low": low, "high": high, "margin": 1.0,
                "inside_margin": -1.0 < low and high < 1.0, "seeds": seeds}

    early = {"epochs": 300, "summary": {}, "exploratory": {"digits_covered": measure(-0.5, 0.5, 3)},
             "declared_seeds": [3], "runs": [{"seed": 0, "cpu": "Xeon"}, {"seed": 3, "cpu": "EPYC"}]}
    assert "only on the plain GAN, and only in an exploration: 3 seeds a side, trained on Xeon." in bf16_words(early)
    assert "has yet to run on its own seeds" in bf16_words(early)
    assert "bf16 minus fp32: - digits covered +0.00 (95% interval -0.50 to +0.50)." in bf16_words(early)  # no margin
    inside = early | {"summary": {"digits_covered": measure(-0.4, 0.6, 5)}}
    assert "5 seeds a side, trained for 300 epochs on EPYC" in bf16_words(inside)
    assert "agree within the margins" in bf16_words(inside) and "digits covered +0.10 (95% interval -0.40 to +0.60; " \
        "margin ±1)." in bf16_words(inside)
    outside = early | {"summary": {"digits_covered": measure(-0.4, 1.6, 5)}}
    assert "do not show that bf16 ends where fp32 does" in bf16_words(outside) and "agree" not in bf16_words(outside)
    assert "has not been measured" in bf16_words({"epochs": 300})
    record = tmp_path / "results.json"
    record.write_text(json.dumps({"precision_comparison": {"gan": outside, "vae_z20": {"epochs": 200}}}))
    assert list(precision_comparisons(record)) == ["gan"] and not precision_comparisons(record)["gan"].equivalent


def test_every_work_cited_has_a_reference(tmp_path):
    views = every_kind_of_build(tmp_path)[1]  # every study, so every work a template may cite
    page = text_of(document.render(views, "tiny", META, found_once(views)))
    body, references = (" ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())
                        for part in page.split("## References"))
    cited = set(re.findall(r"\b([A-Z][\w-]+)(?: et al\.| and [A-Z][\w-]+)?,? \(?((?:19|20)\d\d)\b", body))
    assert {("Shmelkov", "2018"), ("Linder-Norén", "2018"), ("Heusel", "2017")} <= cited
    missing = [(name, year) for name, year in cited if not re.search(rf"{name}, [^()]*\({year}\)", references)]
    assert not missing, missing


def test_the_reference_list_holds_only_the_works_this_build_cites(tmp_path):
    views = write_scored_build(tmp_path)  # no collapse study: the GAN implementations it cites are not listed
    page = text_of(document.render(views, "tiny", META, found_once(views)))
    body, references = page.split("## References")
    listed = re.findall(r"^([A-Z][^,\n]+), [A-Z]\.", references, re.M)
    assert "Heusel" in listed and "Linder-Norén" not in listed and "Zhang" not in listed
    assert all(re.search(rf"\b{re.escape(name)}\b", body) for name in listed)


def test_a_reference_is_kept_only_when_its_surname_and_year_are_cited():
    text = ('Cited: PyTorch-GAN (Linder-Norén, 2018).\n<div class="references">\n\nLin, A. and Yu, M. (2018). HW4.'
            '\n\nLinder-Norén, E. (2018). PyTorch-GAN.\n\n</div>')
    kept = document.cited_references(text)
    assert "Linder-Norén, E." in kept and "Lin, A." not in kept
    text = ('Adam (Kingma and Ba, 2015); the VAE of Kingma and\nWelling (2013).\n<div class="references">\n\n'
            'Kingma, D. P. and Ba, J. (2015). Adam.\n\nKingma, D. P. and Welling, M. (2013). VAE.\n\n'
            'Kingma, D. P. and Dhariwal, P. (2018). Glow.\n\n</div>')
    kept = document.cited_references(text)  # one surname, three works: the years cited decide
    assert "Ba, J. (2015)" in kept and "Welling, M. (2013)" in kept and "Glow" not in kept


def test_the_front_matter_opens_with_the_summary_and_the_claims_and_a_short_build_says_so(tmp_path):
    views = write_scored_build(tmp_path)
    page = rendered(views)
    front = page[:page.index("1 Introduction")]
    assert front.index("<h1>") < front.index("Summary.") < front.index('id="claims"') < front.index("<!--contents-->")
    claims = front[front.index('id="claims"'):]
    rows = re.findall(r"<tr>(.*?)</tr>", claims[:claims.index("</table>")])[1:]
    assert len(rows) == 7 and "not comparable: shorter training" in rows[0] and "not seen in one run" in rows[3]
    assert "blurred by construction" in rows[2] and "can neither confirm nor contradict" in rows[2]  # means blur
    assert "one run: describes only" in rows[4] and "not tested" in rows[5]
    assert "The VAEs trained for 2 of the writeup's 200 epochs (1%)" in front and "test no claim" in front
    longer = {name: view for name, view in views.items()}
    for name in ("vae_z2", "vae_z20"):
        add_metrics(tmp_path / name, epochs_run=200, parameters={**views[name].params, "epochs": 200})
        longer[name] = RunView.read(tmp_path, name)
    front = rendered(longer)
    assert "The VAEs trained" not in front and "one run: describes only" in front[:front.index("1 Introduction")]


def test_settings_tables_resolve_what_zero_and_auto_stood_for(tmp_path):
    views = write_scored_build(tmp_path)
    add_metrics(tmp_path / "gan", parameters={**views["gan"].params, "train_size": 0, "disc_learning_rate": 0.0,
                                               "learning_rate": 5e-4, "precision": "auto"},
                history=[{"epoch": 1, "precision": "bf16"}])
    gan = RunView.read(tmp_path, "gan")
    rows = {row[0]: row[1:] for row in settings.rows(settings.GAN, [gan])}
    assert rows["training images"] == ["not stated", "all 50,000", "left open"]
    assert rows["learning rate"] == ["0.0005 for both", "0.0005 for both", ""]
    assert rows["precision"] == ["not stated", "bf16", "left open"]
    vae = dict((row[0], row[1:]) for row in settings.rows(settings.VAE, [views["vae_z2"], views["vae_z20"]]))
    assert vae["loss minimized"][-1] == "slip corrected" and vae["latent size"] == ["2 and 20", "2 and 20", ""]
    shown = dict(gan.shown_params())
    assert shown["train_size"] == "0 (all 50,000)" and shown["precision"] == "auto (bf16)"
    assert shown["disc_learning_rate"] == "0.0 (the generator's, 0.0005)"


def test_a_figure_whose_panels_coincide_is_not_drawn(tmp_path):
    views = write_scored_build(tmp_path)  # the monitors' lowest FD comes at their last epoch, 20
    for name in ("gan", "aux_gan"):
        add_figure(tmp_path / name, "best_and_final")
    views |= {name: RunView.read(tmp_path, name) for name in ("gan", "aux_gan")}
    page = rendered(views)
    assert 'id="gan-best"' not in page and "each run's best samples are its final ones" in page
    assert "best_and_final" not in page  # nor listed among the figures no section places
    add_metrics(tmp_path / "gan", history=monitor([9, 10, 6, 4])[:3] + [{"epoch": 20, "d_real": 0.6, "d_fake": 0.4,
                                                                         "monitor_digits_covered": 4}], epochs_run=25)
    views["gan"] = RunView.read(tmp_path, "gan")
    page = rendered(views)
    figure = page[page.index('id="gan-best"'):]
    figure = figure[:figure.index("</figure>")]
    assert figure.count('class="panel"') == 1  # the AC-GAN's panels still coincide
    assert 'alt="GAN: caption of best_and_final"' in figure  # the panel's label and its notebook's caption


def test_a_sentence_lives_in_a_markdown_file(tmp_path):
    page = rendered(write_build(tmp_path, [200.0, 190.0], [150.0, 140.0]))
    intro = (document.SECTIONS / "introduction.md.j2").read_text()
    assert "handwritten digits" in intro and "rebuilds a short study" in page


# ---- the measured results: IS-NLL, classifier scores, digit coverage, the reproduction record -----------------

def add_metrics(folder: Path, **extra) -> None:
    """Merge extra keys into a run folder's metrics.json."""
    metrics = read_json(folder / METRICS, {})
    (folder / METRICS).write_text(json.dumps(metrics | extra))


def scores(inception: float, covered: int, accuracy: float | None = None) -> dict:
    """Classifier scores of 10,000 samples as a notebook writes them."""
    return {"inception_score": inception, "frechet_distance": 100.0 / inception, "digits_covered": covered,
            "digit_entropy": 1.5, "digit_distribution": [0.1] * 10, "conditional_accuracy": accuracy,
            "samples": 10_000}


def monitor(covered: list[int]) -> list[dict]:
    """GAN history rows with the classifier monitor's numbers every 5 epochs."""
    return [{"epoch": 5 * (i + 1), "d_real": 0.6, "d_fake": 0.4, "monitor_digits_covered": c,
             "monitor_digit_entropy": 1.0 + c / 10, "monitor_frechet_distance": 50.0 - c - i}
            for i, c in enumerate(covered)]


def write_scored_build(build: Path, classifier: bool = True) -> dict[str, RunView]:
    """The four runs with IS-NLL, active units, sample scores and monitor histories, and the classifier run."""
    write_build(build, [200.0, 190.0], [150.0, 140.0])
    for name, nll, units in (("vae_z2", 150.25, 2), ("vae_z20", 95.5, 13)):
        add_metrics(build / name, test={"loss": 160.0, "nll": nll, "nll_stderr": 0.31, "nll_samples": 5000,
                                        "nll_images": 1000, "nll_elbo": nll + 4, "active_units": units,
                                        "nll_published_k": nll + 0.5, "nll_published_k_stderr": 0.32,
                                        "nll_published_k_samples": 500},
                    samples=scores(7.5, 10))
    add_metrics(build / "gan", samples=scores(4.25, 4), history=monitor([9, 10, 6, 4]))
    shmelkov = {"gan_train_accuracy": 0.951, "gan_test_accuracy": 0.873, "real_classifier_accuracy": 0.9927}
    add_metrics(build / "aux_gan", samples=scores(9.1, 10, 0.873) | shmelkov, history=monitor([8, 10, 10, 10]))
    views = {name: RunView.read(build, name) for name in ("vae_z2", "vae_z20", "gan", "aux_gan")}
    if classifier:
        folder = write_run(build, "classifier")
        add_metrics(folder, test_accuracy=0.9927, reference={
            "real_test": scores(9.8, 10) | {"frechet_distance": 0.0},
            "real_validation": scores(9.79, 10) | {"frechet_distance": 0.42},
            "independent_pixels": scores(1.6, 3) | {"frechet_distance": 321.5}})
        views["classifier"] = RunView.read(build, "classifier")
    return views


def test_the_results_table_holds_every_model_the_reference_points_and_the_published_figures(tmp_path):
    page = rendered(write_scored_build(tmp_path))
    tables = {topic: page[page.index(f'id="results-{topic}"'):] for topic in reproduction.TOPICS}
    tables = {topic: table[:table.index("</table>")] for topic, table in tables.items()}
    for expected in ("150.25 ± 0.31", "95.50 ± 0.31", "13 of 20", "135.73", "88.90", "86.76", "157.18", "102.67",
                     "K = 5,000, 1,000 test images", "3,280 epochs"):
        assert expected in tables["likelihood"], expected
    for expected in ("7.50", "4.25", "87.3%", "9.80", "0.42", "321.50", "real test images"):
        assert expected in tables["samples"], expected
    assert "99.27% test accuracy" in page and "Scores under another classifier are not comparable" in page
    assert "the IS-NLL is 95.50 ± 0.31 nats" in page and "99.50 on the same test images" in page
    assert "1,000 test images, K = 5,000" in page  # the IS-NLL's sample, where the measures are defined
    assert "13 of its 20 latent units are active" in page


def test_the_gan_section_gives_digit_coverage_and_weighs_the_writeups_claim(tmp_path):
    page = rendered(write_scored_build(tmp_path))
    section = page[page.index("5.2 Generative"):page.index("5.3 Results")]
    assert "The plain GAN covers 4 digits at its last monitored epoch (20)" in section
    assert "The AC-GAN covers 10 digits at its last monitored epoch (20), having covered as few as 8" in section
    assert "appear similar to the original network" in section
    assert 'With one run of each, the test (<a href="#4-How-we-evaluate">Section 4</a>) cannot decide' in section
    assert "Of its samples, 87.3% are the digit the generator was asked for" in section and "⟦" not in page
    conclusion = page[page.index("6 Conclusion"):]
    assert "In this one run the plain GAN's monitored samples covered 10 digits at epoch 10 and 4 at epoch 20" \
        in conclusion


def test_without_classifier_scores_the_claim_is_left_untested(tmp_path):
    page = rendered(write_build(tmp_path, [200.0, 190.0], [150.0, 140.0]))
    assert "cannot test that claim" in page and "were not monitored by a classifier" in page
    assert 'id="results-likelihood"' in page  # the table is still there, with the published rows


def test_the_reproduction_record_holds_the_tables_numbers_and_provenance(tmp_path):
    views = write_scored_build(tmp_path / "build")
    data = reproduction.record(views, "full", reproduction.provenance(views, ["--profile", "full"], "abc"),
                               found_once(views))
    path = reproduction.write_results(data, tmp_path / "results")
    saved = json.loads(path.read_text())
    assert path.name == "full.json" and [m["model"] for m in saved["models"]] == [
        "VAE, latent 2", "VAE, latent 20", "GAN", "AC-GAN"]
    assert saved["models"][1]["nll"] == 95.5 and saved["models"][3]["conditional_accuracy"] == 0.873
    assert saved["reference"][1]["frechet_distance"] == 0.42 and saved["published"][2]["nll"] == 86.76
    p = saved["provenance"]
    assert p["command"] == "python -m helpers.report --profile full" and p["commit"] == "abc"
    assert p["runs"]["gan"]["minutes"] == 0.5 and p["threads_per_run"] == 1 and p["date"]


def test_the_record_s_arithmetic_is_the_one_its_runs_started_in_not_the_publishing_process_s(tmp_path):
    views = write_scored_build(tmp_path / "build")
    per_run = {name: {"starts": [{"arithmetic": {"cpu": "Xeon", "cpu_flags": ["amx_bf16", "avx2"],
                                                 "cpu_capability": "avx2"}}]} for name in views}
    assert reproduction.arithmetic_of(views, per_run) == {"cpu_flags": ["amx_bf16", "avx2"],
                                                          "cpu_capability": "avx2", "threads_per_run": 1}
    per_run["gan"]["starts"].append({"arithmetic": {"cpu": "Xeon", "cpu_flags": ["avx2"], "cpu_capability": "avx2"}})
    views["gan"].metrics["environment"]["threads"] = 2  # one run resumed elsewhere with other threads: not one machine
    assert reproduction.arithmetic_of(views, per_run) == {"cpu_flags": None, "cpu_capability": "avx2",
                                                          "threads_per_run": None}


def test_the_record_gives_the_runs_wall_time_from_their_own_records(tmp_path):
    for name, finished, minutes in (("a", "2026-12-02 06:22:00", 3.0), ("b", "2026-12-02 07:59:30", 60.5)):
        folder = write_run(tmp_path, name)
        add_record = read_json(folder / RECORD, {}) | {"finished": finished, "minutes": minutes}
        (folder / RECORD).write_text(json.dumps(add_record))
    views = {name: RunView.read(tmp_path, name) for name in ("a", "b")}
    span = reproduction.runs_span(views)  # from a's start (06:19) to b's end (07:59:30)
    assert span["wall_minutes"] == 100.5 and span["first_start"] == "2026-12-02 06:19:00" and span["runs"] == 2
    assert reproduction.provenance(views, [], "abc")["runs_wall"] == span
    assert f"Its 2 runs took 100.5 minutes of wall time on {span['cores']} cores" in readme.wall_note(span)
    assert readme.wall_note(None) == ""  # a record from before the wall time was kept
    record = {"profile": "collapse", "provenance": {"date": "d", "commit": "c", "command": "x", "device": "cpu",
                                                    "run_commits": ["4b53d5f", "6118941"]}}
    assert "Its runs ran commits 4b53d5f, 6118941, which hold the same code" in readme.source_note(record)
    assert span["resumed"] == 0 and "resumed" not in readme.wall_note(span)
    starts = read_json(tmp_path / "b" / RECORD, {}) | {"starts": [{"commit": "abc"}, {"commit": "abc"}]}
    (tmp_path / "b" / RECORD).write_text(json.dumps(starts))  # stopped once, resumed from its checkpoint
    span = reproduction.runs_span({name: RunView.read(tmp_path, name) for name in ("a", "b")})
    assert readme.wall_note(span).endswith("end; 1 of them was stopped and resumed from a checkpoint, and the span "
                                            "holds the stops.")


def test_the_readme_block_is_generated_from_the_record(tmp_path, capsys):
    views = write_scored_build(tmp_path / "build")
    data = reproduction.record(views, "full", reproduction.provenance(views, ["--profile", "full"], "abc"),
                               found_once(views))
    text = f"# x\n\n{readme.START}\nold\n{readme.END}\n\nafter\n"
    new = readme.rewrite(text, data)
    assert "old" not in new and new.endswith("after\n") and readme.rewrite(new, data) == new
    assert "| VAE, latent 20 | 160.00 | 95.50 ± 0.31 | 13 of 20 |" in new and "87.3%" in new
    with pytest.raises(readme.MarkerError, match="no <!-- results:full -->"):
        readme.rewrite("# no markers\n", data)
    results = tmp_path / "results"
    results.mkdir()
    (results / "full.json").write_text(json.dumps(data))
    (tmp_path / "README.md").write_text("# no markers\n")
    args = ["--results", str(results / "full.json"), "--readme", str(tmp_path / "README.md")]
    assert readme.main(args) == 2  # one line naming the file, no traceback
    assert "README.md has no <!-- results:full --> ... <!-- /results:full --> block" in capsys.readouterr().err


def test_the_readme_reading_is_generated_from_the_records_and_compares_settings_only_over_seeds(tmp_path):
    from test_collapse import row

    from helpers.report import collapse

    views = write_scored_build(tmp_path / "build")
    data = reproduction.record(views, "full", reproduction.provenance(views, ["--profile", "full"], "abc"),
                               found_once(views))
    text = f"{readme.START}\n{readme.END}\n{readme.FINDINGS_START}\n{readme.FINDINGS_END}\n"
    alone = " ".join(readme.rewrite(text, data, {}).split())
    assert "validation 190.00 and 140.00" in alone and "95.50 ± 0.31" in alone and "⟦" not in alone
    assert "ours are 150.75 and 96.00, against their 135.73 and 88.90: 7–15 nats above theirs" in alone
    assert "draws the digit asked for 87.3% of the time (GAN-test)" in alone and "95.1% of the real" in alone
    assert "one run of each cannot test it" in alone and "has no results on record yet" in alone
    assert "99.27% test accuracy" in alone
    writeup = [row("the writeup's settings", seed, 4, e) for seed, e in enumerate([100, 110, 95, 120, 105])]
    weaker = [row("D learning rate 0.000125", seed, 4, e, {"disc_learning_rate": 1.25e-4}, final_epoch=1000)
              for seed, e in enumerate([470, 540, 595, 615, 700])]  # keeps its digits to 300, loses them by 1,000
    stronger = [row("2 D steps per G step", seed, 2, 1, {"d_steps": 2}) for seed in range(5)]
    slower = [row("learning rate 0.0002", seed, 4, e, {"learning_rate": 2e-4})
              for seed, e in enumerate([90, 115, 100, 125, 110])]
    runs = writeup + weaker + stronger + slower
    studied = " ".join(readme.rewrite(text, data, {"collapse": {"collapse": {"at_epoch": 300, "runs": runs}}}).split())
    assert ("[docs/results.md](docs/results.md) gives each difference, its 95% interval and adjusted p): *D "
            "learning rate 0.000125* keeps all ten digits in every seed to epoch 300; *2 D steps per G step* covers "
            "all ten digits for fewer epochs; the runs cannot tell *learning rate 0.0002* from the writeup's "
            "settings.") in studied
    assert "stop covering all ten for good at epoch 106 (95–120 over 5 seeds)" in studied
    assert ("Run on to epoch 1,000, every seed of D learning rate 0.000125 stops covering all ten digits, for good "
            "from epoch 584 (470–700 over 5 seeds): within 1,000 epochs it delays the collapse and does not "
            "prevent it.") in studied
    built = readme.rewrite(text, data, {}, collapse.study_of_rows(runs))  # the build's own study
    assert " ".join(built.split()) == studied


def test_readme_gap_words_say_how_far_above_or_below_in_whole_nats():
    assert readme.gap_words([1.97, 2.72]) == "2–3 nats above theirs (+1.97 and +2.72)"
    assert readme.gap_words([2.1, 2.4]) == "about 2 nats above theirs (+2.10 and +2.40)"
    assert readme.gap_words([-1.0, 0.5]) == "ours minus theirs: -1.00 and +0.50 nats"


def test_the_readme_and_the_studies_tables_agree_with_the_committed_results():
    if not readme.FULL_RESULTS.exists():
        pytest.skip("results/full.json does not exist yet: the full profile's build writes it (make report "
                    "PROFILE=full), and the README's table is generated from it")
    files = readme.rewritten(json.loads(readme.FULL_RESULTS.read_text()), study_records())
    assert set(files) == {readme.README, readme.RESULTS_DOC}
    assert "<!-- results:collapse -->" in files[readme.RESULTS_DOC][0]  # the studies' tables live in docs/results.md
    assert all(old == new for old, new in files.values()), (
        "README's or docs/results.md's results blocks differ from results/*.json: run python -m helpers.report.readme")


# ---- end to end: tiny runs of the real notebooks ---------------------------------------------------------------

def tiny_profile(path: Path) -> Path:
    """The quick profile's training runs with tiny settings, limited to the notebooks that exist here."""
    quick = load_profile("quick")
    spec = {"name": "tiny", "description": "tiny test runs", "runs": {}}
    for run in quick.runs:
        if run.name in TINY_RUNS and run.notebook_path.exists():
            params = dict(run.params) | {k: v for k, v in TINY.items() if k in declared(run)}
            params = {k: v for k, v in params.items()  # a folder of a run left out (the classifier): not used
                      if all(name in TINY_RUNS for name in PLACEHOLDER.findall(str(v)))}
            spec["runs"][run.name] = {"notebook": run.notebook, "params": params}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """Build the report once from tiny runs; returns (output folder, exit code, a copy of the HTML and PDF)."""
    root = tmp_path_factory.mktemp("report")
    profile = tiny_profile(root / "tiny.yaml")
    code = cli.main(["--profile", str(profile), "--output", str(root / "build"), "--device", "cpu"])
    kept = root / "kept"
    kept.mkdir()
    for name in ("report.html", "report.pdf"):
        if (root / "build" / name).exists():
            shutil.copy(root / "build" / name, kept / name)
    return root, code, kept


LEFT_OUT = {(run, "digit_distribution") for run in ("vae_z2", "vae_z20", "gan", "aux_gan")} | {  # a table has them
    ("gan", "best_and_final"), ("aux_gan", "best_and_final"),  # one epoch: the best samples are the final ones
    ("collapse", "collapse_curves")}  # one seed per setting: the collapse study is not run, only named


@pytest.mark.slow
def test_build_succeeds_and_writes_both_paths(tiny_build):
    root, code, kept = tiny_build
    assert code == 0
    assert (root / "build" / "tiny" / "report.html").exists() and (kept / "report.html").exists()
    for run in ("vae_z2", "vae_z20"):
        folder = root / "build" / "tiny" / run
        assert {f"{run}.ipynb", "metrics.json", "figures.json", "run.json", "weights.pt"} <= {
            p.name for p in folder.iterdir()}
        assert "1/1 [" in (folder / "log.txt").read_text()  # the epoch bar, as text a terminal can follow
    record = json.loads((root / "build" / "tiny" / "results.json").read_text())  # the build's reproduction record
    assert [m["run"] for m in record["models"]] == ["vae_z2", "vae_z20", "gan", "aux_gan"]
    assert all(m["inception_score"] for m in record["models"]) and record["models"][1]["nll"] > 0
    assert record["models"][3]["conditional_accuracy"] is not None and len(record["reference"]) == 4
    assert record["provenance"]["command"].startswith("python -m helpers.report --profile")


@pytest.mark.slow
def test_verify_rebuilds_from_the_cache_passes_and_names_a_changed_number(tiny_build, capsys):
    root, _, _ = tiny_build
    record = root / "record" / "tiny.json"  # a committed record: the first build's
    record.parent.mkdir(exist_ok=True)
    shutil.copy(root / "build" / "tiny" / "results.json", record)
    profile = str(root / "tiny.yaml")
    again = ["--profile", profile, "--output", str(root / "build"), "--device", "cpu", "--no-pdf"]
    assert cli.main([*again, "--verify", str(record)]) == 0
    checked = json.loads((root / "build" / "tiny" / "verify.json").read_text())
    verdicts = {line["measure"]: line["verdict"] for line in checked["lines"]}
    assert checked["exact"] and checked["failing"] == 0 and set(verdicts.values()) == {"same", "not judged"}
    assert {m for m, v in verdicts.items() if v == "not judged"} == {"training minutes"}  # times are not results
    assert "verify: reproduced" in capsys.readouterr().out
    changed = json.loads(record.read_text())
    changed["models"][1]["neg_elbo"] += 0.01
    record.write_text(json.dumps(changed))
    assert cli.main([*again, "--verify", str(record)]) == 1
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("verify: NOT REPRODUCED")]
    assert "VAE, latent 20: negative ELBO is" in line and "(DIFFERS" in line
    assert "Does this machine reproduce the record?" in (root / "build" / "tiny" / "report.ipynb").read_text()


def test_a_build_leaves_the_committed_records_alone_unless_told_to_record(tmp_path, monkeypatch):
    build = tmp_path / "build" / "tiny"
    write_build(build, [200.0, 190.0], [150.0, 140.0])
    monkeypatch.setattr(export, "export_html", page_without_nbconvert)
    profile, published = tiny_profile(tmp_path / "tiny.yaml"), tmp_path / "published"
    assert cli.main(["--profile", str(profile), "--output", str(tmp_path / "build"), "--no-run", "--no-pdf",
                     "--results", str(published)]) == 0
    assert (build / "results.json").exists() and not published.exists()
    assert cli.main(["--profile", str(profile), "--output", str(tmp_path / "build"), "--no-run", "--no-pdf",
                     "--results", str(published), "--record"]) == 0
    assert json.loads((published / "tiny.json").read_text())["profile"] == "tiny"


@pytest.mark.slow
def test_html_has_every_section_figure_and_the_results_table(tiny_build):
    root, _, kept = tiny_build
    page = (kept / "report.html").read_text()
    headings = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", page, re.S)]
    for section in SECTIONS:
        assert section in headings, section
    build = root / "build" / "tiny"
    expected = [(run.name, f["file"]) for run in load_profile(root / "tiny.yaml").runs
                for f in read_json(build / run.name / "figures.json", []) if (run.name, f["name"]) not in LEFT_OUT]
    assert len(expected) >= 6
    images = re.findall(r'<img[^>]*\bsrc="data:image/png;base64,([^"]+)"', page)
    embedded = {base64.b64decode(data) for data in images}
    for run, file in expected:
        assert (build / run / file).read_bytes() in embedded, f"{run}/{file} is not in the report"
    for run, name in LEFT_OUT:  # drawn as a table, or not drawn at all
        assert (build / run / f"{name}.png").read_bytes() not in embedded, f"{run}/{name} is in the report"
    numbers = re.findall(r"<b>Figure (\d+)\.</b>", page)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
    for writeup in ("157.23", "157.18", "102.69", "102.67"):
        assert writeup in page
    final = json.loads((build / "vae_z20" / "metrics.json").read_text())["final"]["validation_loss"]
    assert f"{final:.2f}" in page  # our number, read from the run's metrics
    assert "profile tiny" in page and "<math" in page and "$$" not in page
    assert 'class="failure"' not in page


@pytest.mark.slow
def test_the_html_opens_with_contents_linking_every_section(tiny_build):
    page = (tiny_build[2] / "report.html").read_text()
    main = page[page.index('<main class="report">'):]
    assert main.index("<h1") < main.index("Summary.") < main.index('id="claims"') < main.index('<nav class="toc"')
    assert main.index('<nav class="toc"') < main.index("<h2")  # after the front matter, before the first section
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    assert {"4-How-we-evaluate", "claims"} <= ids and set(re.findall(r'href="#([^"]+)"', page)) <= ids
    links = re.findall(r'<li class="toc-h[23]"><a href="#([^"]+)">', page)
    sections = re.findall(r'<h[23][^>]*\bid="([^"]+)"', page)
    assert links == sections and len(links) >= len(SECTIONS) - 1  # every section and subsection, in order


@pytest.mark.slow
def test_html_needs_no_network(tiny_build):
    _, _, kept = tiny_build
    page = (kept / "report.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)
    assert "<script src" not in page


@pytest.mark.slow
@pytest.mark.browser
def test_pdf_pages_render_to_non_blank_images(tiny_build, tmp_path):
    if not export.find_chromium():
        pytest.skip("no chromium on PATH: the report builds without its PDF (make chromium installs it)")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is missing")
    from PIL import Image
    from pypdf import PdfReader

    pdf = tiny_build[2] / "report.pdf"
    reader = PdfReader(pdf)
    assert 5 <= len(reader.pages) <= 40  # a tiny build plus what it reads from the committed studies; not runaway
    page = (tiny_build[2] / "report.html").read_text()
    sections = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.S)]
    outline = [item.title.replace("¶", "").strip() for item in flatten(reader.outline)]
    assert sections and all(section in outline for section in sections)  # bookmarks: the same sections
    assert min(font_sizes(reader)) >= 7.0  # every text legible in print
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) in ((595, 842), (612, 792))  # A4 or Letter, in points
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(reader.pages)
    for page in pages:
        lo, hi = Image.open(page).convert("L").getextrema()
        assert hi - lo > 100, f"{page.name} is blank"


def font_sizes(reader) -> set[float]:
    """The printed size in points of every run of text in a PDF (the font size times the text and page scales)."""
    found = set()

    def seen(text: str, page_matrix: list, text_matrix: list, font: object, size: float) -> None:
        if text.strip() and size:
            a, b, c, d = text_matrix[:4]
            scale = math.hypot(c * page_matrix[0] + d * page_matrix[2], c * page_matrix[1] + d * page_matrix[3])
            found.add(round(size * scale, 1))

    for page in reader.pages:
        page.extract_text(visitor_text=seen)
    return found


def flatten(outline: list) -> list:
    """A PDF outline's items, nested lists flattened."""
    return [leaf for item in outline for leaf in (flatten(item) if isinstance(item, list) else [item])]


@pytest.mark.slow
def test_failing_run_fails_the_build_and_its_section_shows_the_error(tiny_build, capsys):
    root, _, _ = tiny_build
    folder = root / "build" / "tiny" / "vae_z20"
    finished = {name: (folder / name).read_bytes() for name in ("metrics.json", "weights.pt", "figures.json")}
    refused = cli.main(["--profile", str(root / "tiny.yaml"), "--output", str(root / "build"), "--device", "cpu",
                        "--set", "vae_z20.learning_rate=-1", "--no-pdf"])
    assert refused == 2 and "run vae_z20: learning_rate must be > 0, got -1" in capsys.readouterr().err
    code = cli.main(["--profile", str(root / "tiny.yaml"), "--output", str(root / "build"), "--device", "cpu",
                     "--set", "vae_z20.data_dir=/etc/hostname", "--no-pdf"])  # fails only when the run reads data
    assert code == 1
    out = capsys.readouterr().out
    assert re.search(r"vae_z2: cached", out)  # the other runs were reused, not retrained
    assert re.search(r"vae_z20\s+failed", out) and "the previous finished outputs are kept" in out
    assert {name: (folder / name).read_bytes() for name in finished} == finished  # nothing finished was lost
    page = (root / "build" / "report.html").read_text()
    page = page[page.index("</nav>"):]  # past the contents, which name every section too
    section = page[page.index("5.1 Variational autoencoder"):page.index("5.2 Generative adversarial networks")]
    assert 'class="failure"' in section and "Not a directory" in section
    assert "The outputs of the previous run, which finished on" in section


@pytest.mark.slow
@pytest.mark.browser
def test_the_built_report_explorer_works_from_the_file(tiny_build, tmp_path):
    """Open report.html from disk in Chromium, move the latent sliders and α: the pictures change."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((tiny_build[2] / "report.html").as_uri())
        uid = page.eval_on_selector(".vae-explorer", "element => element.id")
        page.eval_on_selector(f"#{uid}", "element => element.scrollIntoView()")
        before, mix_before = canvas_pixels(page, uid, "image"), canvas_pixels(page, uid, "mix")
        press(page, f"#{uid}-z1", "ArrowRight", 30)
        press(page, f"#{uid}-alpha", "ArrowLeft", 10)
        assert page.input_value(f"#{uid}-z1") == "1.5"
        assert (canvas_pixels(page, uid, "image") != before).any()
        assert (canvas_pixels(page, uid, "mix") != mix_before).any()
        page.screenshot(path=str(tmp_path / "report_explorer.png"))
        browser.close()
    assert not errors, errors
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests


@pytest.mark.slow
def test_every_model_has_an_explorer_and_the_report_stays_small(tiny_build):
    page = (tiny_build[2] / "report.html").read_text()
    for kind in ("vae-explorer", "vae20-explorer", "gan-explorer"):
        assert f'class="explorer-box {kind}"' in page, kind
    assert page.count('class="explorer-box gan-explorer"') == 2
    assert len(page.encode()) < 15_000_000


def vnu_command() -> list[str] | None:
    """The W3C validator (vnu.jar from npm, run by java), or None where it is not installed."""
    if shutil.which("vnu"):
        return ["vnu"]
    dist = "node_modules/vnu-jar/build/dist/vnu.jar"
    candidates = [os.environ.get("VNU_JAR", ""), str(Path.home() / ".cache/vnu" / dist), str(ROOT / dist)]
    jar = next((c for c in candidates if c and Path(c).exists()), None)
    return ["java", "-jar", jar] if jar and shutil.which("java") else None


@pytest.mark.slow
def test_the_built_report_is_valid_html5(tiny_build):
    command = vnu_command()
    if not command:
        pytest.skip("the W3C validator is not installed: needs java (apt-get install default-jre-headless) and "
                    "vnu.jar (npm install vnu-jar into ~/.cache/vnu, or VNU_JAR=path); make vnu installs both")
    done = subprocess.run([*command, "--errors-only", str(tiny_build[2] / "report.html")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr[-3000:]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_an_unavailable_device_is_refused_before_any_run_is_touched(tmp_path, capsys):
    assert cli.main(["--device", "cuda", "--output", str(tmp_path)]) == 2
    assert "CUDA is not available here" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def collapse_view(build: Path, gan_runs: list[Path]) -> RunView:
    """A finished collapse run comparing these GAN run folders at their common epoch."""
    from helpers.evaluation import collapse

    runs_read = collapse.read_runs(",".join(map(str, gan_runs)))
    epoch = collapse.common_epoch(runs_read)
    folder = write_run(build, "collapse", figures=("collapse_curves",))
    metrics = read_json(folder / METRICS, {})
    (folder / METRICS).write_text(json.dumps(metrics | {"collapse": collapse.summary(runs_read, epoch),
                                                        "at_epoch": epoch}))
    return RunView.read(build, "collapse")


def rows_view(build: Path, rows: list[dict]) -> RunView:
    """A finished collapse run whose notebook summarised these rows (at epoch 300), with both its figures."""
    folder = write_run(build, "collapse", figures=("collapse_curves", "collapse_long"))
    metrics = read_json(folder / METRICS, {})
    (folder / METRICS).write_text(json.dumps(metrics | {"collapse": rows, "at_epoch": 300}))
    return RunView.read(build, "collapse")


def test_the_collapse_section_words_each_setting_by_the_test_of_its_collapse_epoch(tmp_path):
    from test_collapse import setting

    views = write_scored_build(tmp_path / "build")
    rows = (setting("the writeup's settings", {}, [100, 110, 95, 120, 105])
            + setting("2 D steps per G step", {"d_steps": 2}, [30, 25, 40, 35, 20])
            + setting("D learning rate 0.000125", {"disc_learning_rate": 1.25e-4}, [1000] * 5, final_epoch=1000)
            + setting("D learning rate 0.002", {"disc_learning_rate": 0.002}, [90, 130, 100, 115, 125]))
    page = rendered(views | {"collapse": rows_view(tmp_path / "build", rows)})
    section = html.unescape(" ".join(page[page.index("The collapse: when"):page.index("5.3 Results")].split()))
    assert "**2 D steps per G step** covers all ten digits for fewer epochs than the writeup's settings." in section
    assert "**D learning rate 0.000125** keeps all ten digits in every seed to the compared epoch" in section
    assert "**D learning rate 0.002** cannot be told apart from the writeup's settings by the collapse epoch" in section
    assert "difference -76 epochs (95% interval" in section and "adjusted p = 0.024" in section  # Holm: 3 x 2/252
    assert ("By the test, D learning rate 0.000125 keeps all ten digits longer, and 2 D steps per G step covers them "
            "for fewer epochs than the writeup's settings.") in section
    assert ("difference at least +194 epochs (95% interval +186 to +201; adjusted p = 0.024; epochs capped at 300)"
            in section)
    assert "**D learning rate 0.000125** ran to epoch 1,000. All 5 of its seeds still cover all ten digits" in section
    assert "At the end the samples cover 10 digits in all 5 seeds, the distance is" in section
    assert "At the writeup's settings the samples cover 5 digits in all 5 seeds at epoch 300" in section
    conclusion = html.unescape(page[page.index("Over 5 seeds per setting, the collapse study"):])
    assert ("later than the writeup's settings lose theirs. Run on to epoch 1,000, every seed of D learning rate "
            "0.000125 still covers all ten digits at the end.") in conclusion
    assert "Zhang et al., 2019" in section and "use the same real minibatch" in section
    bullets = conclusion[:conclusion.index("## References")]  # a bullet per setting, not one run together
    assert ".- " not in bullets and bullets.count(" - ") == 3
    assert 'id="collapse-settings"' in section and 'id="collapse-long"' in section and "⟦" not in page
    assert "the collapse study tests each change against the writeup's settings" in " ".join(page.split())

    quick = rendered(views | {"collapse": rows_view(tmp_path / "quick", rows[:1])})
    not_run = quick[quick.index("The collapse: when"):quick.index("5.3 Results")]
    assert "collapse run follows 1 GAN run over training" in not_run  # the run, named as what it is
    assert "one seed of each it tests nothing" in not_run
    assert "(`make report PROFILE=collapse`), not run here" in not_run
    own = not_run[:not_run.find("Its committed record")]  # then what the committed study found, where there is one
    assert len(prose(own).split()) <= UNRUN_STUDY_WORDS and 'id="collapse-curves"' not in not_run

    survivors = [r for r in rows if r["label"] != "the writeup's settings" or r["seed"] == 0]  # 4 writeup seeds failed
    failed = rendered(views | {"collapse": rows_view(tmp_path / "failed", survivors)})
    failed = " ".join(failed[failed.index("The collapse: when"):failed.index("5.3 Results")].split())
    assert "With 1 finished seed of the writeup's settings this build cannot compare the settings" in failed
    assert "one seed of each" not in failed and "not run here" not in failed

    three = [r for r in rows if r["seed"] < 3]
    described = rendered(views | {"collapse": rows_view(tmp_path / "three", three)})
    described = " ".join(described[described.index("The collapse: when"):described.index("5.3 Results")].split())
    assert "With 3 seeds a side no exact test reaches the 5% level" in described
    assert "has too few seeds for the test" in described and "By the test" not in described


def page_without_nbconvert(nb, path: Path) -> Path:
    """export.export_html's stand-in where the test reads the notebook only: an empty page."""
    path.write_text("<html></html>")
    return path


def test_a_build_reads_each_run_folder_once_and_computes_the_collapse_study_once(tmp_path, monkeypatch):
    from test_collapse import fake_gan_run

    from helpers.report import collapse

    build = tmp_path / "build" / "tiny"
    write_build(build, [200.0, 190.0], [150.0, 140.0])
    gan_runs = [fake_gan_run(tmp_path / "gan_runs" / f"{name}{seed}", changes, seed=seed, digits_end=digits)
                for name, changes, ends in (("writeup", {}, [5, 6, 5]), ("d2", {"d_steps": 2}, [2, 2, 3]))
                for seed, digits in enumerate(ends)]
    collapse_view(build, gan_runs)
    reads, studies = [], []
    read, study = RunView.read.__func__, collapse.collapse_study
    monkeypatch.setattr(RunView, "read", classmethod(lambda cls, where, name, planned=True: reads.append(name) or
                                                     read(cls, where, name, planned)))
    monkeypatch.setattr(collapse, "collapse_study", lambda view: studies.append(view) or study(view))
    monkeypatch.setattr(export, "export_html", page_without_nbconvert)
    profile = tiny_profile(tmp_path / "tiny.yaml")
    assert cli.main(["--profile", str(profile), "--output", str(tmp_path / "build"), "--no-run", "--no-pdf"]) == 0
    assert sorted(reads) == sorted(set(reads)) and {"vae_z2", "gan", "collapse"} <= set(reads)  # each once
    assert len(studies) == 1
    record = json.loads((tmp_path / "build" / "tiny" / "results.json").read_text())
    assert record["collapse"]["settings"]["rows"][1][-1] == "described only"  # the record's study is the document's
    report = (build / "report.ipynb").read_text()
    assert "2 D steps per G step" in report and "has too few seeds for the test" in report


def test_appear_similar_is_tested_on_the_fd_over_five_seeds_of_each_model(tmp_path):
    def seeds(name: str, distances: list[float]) -> list[RunView]:
        for seed, distance in enumerate(distances):
            add_metrics(write_run(tmp_path, f"{name}{seed}"), samples=scores(5.0, 6) | {"frechet_distance": distance})
        return [RunView.read(tmp_path, f"{name}{seed}") for seed in range(len(distances))]

    plain = seeds("gan", [300.0, 320, 310, 305, 330])
    assert findings.similarity(plain, seeds("acgan", [20.0, 25, 18, 22, 30])).call is Call.LOWER
    assert findings.similarity(plain, seeds("head", [310.0, 300, 325, 315, 305])).call is Call.CANNOT_TELL
    assert findings.similarity(plain[:1], seeds("one", [30.0])).call is Call.DESCRIPTIVE


def test_both_readings_of_the_auxiliary_gan_get_their_own_verdict(tmp_path):
    views = write_scored_build(tmp_path)
    folder = write_run(tmp_path, "digit_head_gan", params={"auxiliary": True})
    add_metrics(folder, samples=scores(4.0, 4), history=monitor([9, 8, 5, 4]))  # as narrow as the plain GAN
    views["digit_head_gan"] = RunView.read(tmp_path, "digit_head_gan")
    page = rendered(views)
    section = page[page.index("5.2 Generative"):page.index("5.3 Results")]
    assert "cannot decide whether either reading appears similar to the plain GAN" in section  # one run each
    assert section.count("cannot decide") == 1  # said once for both readings
    assert "The digit-head reading's samples cover 4, with an IS of 4.00" in section
    claims = page[page.index('id="claims"'):]
    claims = claims[:claims.index("</table>")]
    assert "digits covered 4, 10 and 4 (GAN, AC-GAN and the digit-head reading; " in claims  # all three readings
    assert "the verdict weighs GAN against AC-GAN" in claims
    table = page[page.index('id="results-samples"'):]
    assert "auxiliary GAN (ours)" in table[:table.index("</table>")]
    assert "the row named “auxiliary GAN” (only the discriminator names the digit)" in table  # the caption says which


def test_the_writeups_vaes_are_also_given_over_the_studys_seeds(tmp_path, monkeypatch):
    from helpers.report import found

    monkeypatch.setattr(found, "RESULTS", tmp_path / "results")  # no committed records
    views = write_scored_build(tmp_path)
    runs = [{"latent_dim": latent, "seed": seed, "nll_images": 10_000, "validation_loss": 100.0 + latent + seed,
             "nll": 95.0 + latent + seed, "nll_published_k": 96.0 + latent + seed,
             "test_active_units": min(latent, 14 + seed)}
            for latent in (2, 20) for seed in range(5)]
    study = write_study(tmp_path / "s", {2: [102.0, 103, 104, 105, 106], 20: [120.0, 121, 122, 123, 124]})
    add_metrics(study.folder, runs=runs)
    page = rendered(views | {"study": RunView.read(tmp_path / "s", "study")})
    section = " ".join(page[page.index("Results over all models"):].split())
    assert 'id="results-seeds"' in section and "<td>20</td><td>5</td><td>122.00 (12" in section
    data = reproduction.record(views, "full", reproduction.provenance(views, ["--profile", "full"], "abc"),
                               found_once(views))
    text = f"{readme.START}\n{readme.END}\n{readme.FINDINGS_START}\n{readme.FINDINGS_END}\n"
    over = " ".join(readme.rewrite(text, data, {"study": {"study": {"runs": runs}}}).split())
    assert "Over the latent-size study's 5 seeds (mean and 95% interval) the validation loss is 104.00 (" in over
    assert ("K = 500 is 100.00 (98.80–101.20) and 118.00 (116.80–119.20) nats, against their 135.73 and 88.90: "
            "ours minus theirs: -35.73 and +29.10 nats on the means, with intervals -36.93 to -34.53 and +27.90 to "
            "+30.30; the report's results table") in over
    assert "At Davidson et al.'s (2018) K = 500 ours are" not in over  # seed 0 alone is not set against theirs
    assert "<td>-35.73 (-36.93 to -34.53)</td>" in section  # the report's table: the same, over the same seeds
    assert "<td>16.00 (14.80–17.20)</td>" in section  # active units on the test images, over the seeds
    assert "are active on the test images; over the study's seeds 16.0 (14.8–17.2)." in over
    claims = " ".join(prose(page[page.index('id="claims"'):page.index("</table>", page.index('id="claims"'))]).split())
    assert "; over the latent-size study's 5 seeds: mean 122.00, 95% interval 120.80–123.20 ( Table" in claims
    assert "committed record of work" not in page  # this build ran the study: nothing drawn from a record


def test_the_runs_table_gives_each_run_its_precision_recorded_or_set(tmp_path):
    trained = RunView("vae", tmp_path, {"status": "ok"}, {"parameters": {"precision": "auto"},
                                                          "history": [{"epoch": 1, "precision": "bf16"}]}, {})
    fixed = RunView("classifier", tmp_path, {"status": "ok"}, {"parameters": {"precision": "fp32"}}, {})
    unknown = RunView("explore", tmp_path, {"status": "ok"}, {"parameters": {"precision": "auto"}}, {})
    rows = reproduction.run_rows({"vae": trained, "classifier": fixed, "explore": unknown})
    assert [row[3] for row in rows] == ["bf16", "fp32", "–"]


def test_the_appendix_sums_the_listed_runs_training_minutes_under_its_own_headers(tmp_path):
    views = write_build(tmp_path, [200.0, 190.0], [150.0, 140.0])
    add_metrics(tmp_path / "vae_z2", train_seconds=90.0)
    add_metrics(tmp_path / "gan", train_seconds=300.0)
    views = {name: RunView.read(tmp_path, name) for name in views}
    page = rendered(views)
    assert "Training took 6.5 minutes of compute in all." in page
    for name, threads in (("vae_z2", 1), ("gan", 2), ("aux_gan", 16)):
        add_metrics(tmp_path / name, environment={"device": "cpu", "threads": threads, "python": "3.11.7"})
    page = " ".join(rendered({name: RunView.read(tmp_path, name) for name in views}).split())
    assert "with 1, 2 or 16 CPU threads per run." in page  # in numeric order
    table = page[page.index('id="runs"'):]
    assert all(header in table[:table.index("</table>")] for header in reproduction.RUN_HEADERS)
