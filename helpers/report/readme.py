"""README's results table and its reading, and the studies' tables, generated from the records
(results/<profile>.json), never typed.

    python -m helpers.report.readme            rewrite the blocks between the markers in README.md and docs/results.md
    python -m helpers.report.readme --check    exit 1 when those files and the results files disagree

The table comes from results/full.json; the reading under it (report/templates/readme/findings.md.j2) also from
results/collapse.json and results/study.json where those studies have been run, and each study's table in
docs/results.md (`<!-- results:collapse -->`, `<!-- results:study -->`) from its own record.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from helpers.common import measures, tables
from helpers.common.folder import RunFolder
from helpers.common.measures import MISSING
from helpers.common.paths import ROOT, display_path
from helpers.config import MONITOR_SAMPLES
from helpers.report import findings, results, stats
from helpers.report.document import DEFAULTS, WORDING_FILTERS
from helpers.report.findings import fmt, percent
from helpers.report.found import RESULTS, STUDIES, collapse_of, latent_size_record, study_records, study_runs_of
from helpers.runs.provenance import code_problems
from helpers.runs.words import agreed, counted

README = ROOT / "README.md"
RESULTS_DOC = ROOT / "docs" / "results.md"  # the studies' tables, which README's reading cites
FULL_RESULTS = RESULTS / "full.json"
START, END = "<!-- results:full -->", "<!-- /results:full -->"
FINDINGS_START, FINDINGS_END = "<!-- findings:full -->", "<!-- /findings:full -->"
FINDINGS_TEMPLATE = ROOT / "report" / "templates" / "readme" / "findings.md.j2"
WIDTH = 115  # README's line length


def table(data: dict[str, Any]) -> str:
    """The Markdown block: our models, the classifier's reference points, and where the numbers come from."""
    rows = [[m["model"], *(cell or MISSING for cell in measures.cells(m, "readme"))]
            for m in [*data["models"], *data["reference"]]]
    nll = [m for m in data["models"] if m.get("nll") is not None]
    notes = [f"IS-NLL with K = {nll[0]['nll_samples']:,} on {nll[0]['nll_images']:,} test images." if nll else "",
             source_note(data), "Regenerate with `python -m helpers.report.readme`; do not edit by hand."]
    headers = ["model", *measures.headers("readme")]
    return tables.markdown_table(headers, rows) + "\n\n" + " ".join(n for n in notes if n)


def wall_note(wall: dict[str, Any] | None) -> str:
    """'Its N runs took M minutes of wall time on C cores (...)', and how many were stopped and resumed on the way
    (the span holds the stops), or '' where the record has no wall time."""
    if not wall:
        return ""
    resumed = wall.get("resumed")
    stops = (f"; {resumed} of them {agreed(resumed, 'was', 'were')} stopped and resumed from a checkpoint, and the "
             "span holds the stops") if resumed else ""
    return (f"Its {wall['runs']} runs took {wall['wall_minutes']} minutes of wall time on {wall['cores']} cores, "
            f"from the first one's start to the last one's end{stops}.")


STUDY_INTROS = {
    "collapse": "The collapse study (`make report PROFILE=collapse`) below: each setting over its seeds (mean, and "
                "range over the seeds): the collapse epoch, its difference from the writeup's settings with the "
                f"{100 * stats.CONFIDENCE:.0f}% bootstrap interval and the Holm-adjusted p of the exact permutation "
                f"test, the digits a fixed batch of {MONITOR_SAMPLES:,} monitored samples covers and the lowest "
                "Fréchet distance to the validation images.",
    "study": "The latent-size study (`make report PROFILE=study`) below: each latent size over its seeds after the "
             "last epoch (mean, and range over the seeds): the negative ELBO on the validation and training images, "
             "the latent units it uses, and its difference from the reference size by the declared test.",
}


def source_note(data: dict[str, Any]) -> str:
    """Where a record's numbers come from: its file, date, commit, command and device, and its runs' wall time."""
    p = data["provenance"]
    threads = f"; {counted(p['threads_per_run'], 'thread')} per run" if p.get("threads_per_run") else ""
    commits = p.get("run_commits") or []
    same = (", which hold the same code in every file the runs hash (`python -m helpers.report.readme --check` fails "
            "otherwise)") if len(commits) > 1 else ""
    ran = f"Its runs ran commit{'s' * (len(commits) > 1)} {', '.join(commits)}{same}." if commits else ""
    return " ".join(n for n in (
        f"Generated from `results/{data['profile']}.json` ({p['date']}, commit {p['commit']}, `{p['command']}`; "
        f"{p['device']}{threads}).", ran, wall_note(p.get("runs_wall"))) if n)


LEGACY_INTRO = ("The {study} (`make report PROFILE={profile}`) below, from a record built before the declared test: "
                "each {unit} over its seeds (mean, and range over the seeds), described and not tested (the old "
                "rule's column is left out).")
LEGACY_NAMES = {"collapse": ("collapse study", "setting"), "study": ("latent-size study", "latent size")}


def study_block(name: str, data: dict[str, Any] | None) -> str:
    """A study's settings over their seeds with each test's outcome, and where they come from; '' when
    results/<name>.json does not exist. A record built before the declared test keeps its table without the old
    rule's verdicts."""
    record = (data or {}).get(name, {})
    settings = record.get("settings")
    if not settings:
        return ""
    headers, rows = settings["headers"], settings["rows"]
    intro = STUDY_INTROS[name]
    if "tests" not in record:
        headers, rows = headers[:-1], [row[:-1] for row in rows]
        study, unit = LEGACY_NAMES[name]
        intro = LEGACY_INTRO.format(study=study, profile=name, unit=unit)
    return f"{intro} {source_note(data)}\n\n{tables.markdown_table(headers, rows)}"


class MarkerError(ValueError):
    """README or docs/results.md lacks the markers of a block that the records fill."""


def replace_block(text: str, start: str, end: str, content: str) -> str:
    """text with the block between the markers start and end replaced by content."""
    if start not in text or end not in text:
        raise MarkerError(f"no {start} ... {end} block to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content}\n{end}{tail}"


def rewrite(text: str, data: dict[str, Any], studies: dict[str, dict | None] | None = None,
            collapse_study: dict[str, Any] | None = None) -> str:
    """text with the results table of data, and (where text has its markers) the reading of data and studies;
    collapse_study is the study of the collapse record where the build that wrote that record computed it."""
    text = replace_block(text, START, END, table(data))
    if FINDINGS_START in text:
        text = replace_block(text, FINDINGS_START, FINDINGS_END, reading(data, studies or {}, collapse_study))
    return rewrite_studies(text, studies or {})


def rewrite_studies(text: str, studies: dict[str, dict | None]) -> str:
    """text with each study's table block (where text has its markers) rewritten from its record."""
    for name in STUDIES:
        start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
        if start in text:
            text = replace_block(text, start, end, study_block(name, studies.get(name)))
    return text


def rewritten(data: dict[str, Any], studies: dict[str, dict | None], collapse_study: dict[str, Any] | None = None,
              readme: Path = README, results_doc: Path = RESULTS_DOC) -> dict[Path, tuple[str, str]]:
    """README and docs/results.md, each as (its text now, its text rewritten from the records)."""
    return {readme: filled(readme, lambda text: rewrite(text, data, studies, collapse_study)),
            results_doc: filled(results_doc, lambda text: rewrite_studies(text, studies))}


def filled(path: Path, fill: Callable[[str], str]) -> tuple[str, str]:
    """A file's text now and with its blocks filled; a MarkerError names the file that lacks a block."""
    text = path.read_text()
    try:
        return text, fill(text)
    except MarkerError as exc:
        raise MarkerError(f"{display_path(path)} has {exc}") from None


def provenance_problems(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """A record's runs checked against the code they ran (helpers.runs.provenance): its problems, and its warnings
    (a record built before runs recorded their starts can only be rebuilt)."""
    runs = (data.get("provenance") or {}).get("runs") or {}
    if not any(run.get("starts") for run in runs.values()):
        return [], [f"results/{data['profile']}.json: built before its runs recorded their commits; rebuild it "
                    f"(make report PROFILE={data['profile']} ARGS=--record) to check them"]
    problems: dict[str, list[str]] = {}  # each problem once, with the runs that have it
    for name, run in runs.items():
        if RunFolder.is_finished(run):
            for line in code_problems(name, run.get("starts", [])):
                problems.setdefault(line.removeprefix(f"{name}: "), []).append(name)
    return [f"{names[0] if len(names) == 1 else f'{len(names)} runs ({names[0]}, ...)'}: {problem}"
            for problem, names in problems.items()], []


def check_provenance(folder: Path = RESULTS) -> bool:
    """Print each committed record's provenance problems and warnings; False when any record has a problem."""
    ok = True
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if "provenance" not in data or "profile" not in data:
            continue
        problems, warnings = provenance_problems(data)
        for line in problems:
            print(f"error: results/{path.name}: {line}")
        for line in warnings:
            print(f"warning: {line}")
        ok = ok and not problems
    return ok


def reading(data: dict[str, Any], studies: dict[str, dict | None], collapse_study: dict[str, Any] | None = None
            ) -> str:
    """The bullets under README's table, rendered from the records by findings.md.j2 (the collapse study computed
    from its record unless given)."""
    models = {m["run"]: results.with_derived(m) for m in data["models"]}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(WORDING_FILTERS)
    template = env.from_string(FINDINGS_TEMPLATE.read_text())
    text = template.render(
        vae=lambda latent: models.get(findings.vae_run(latent)), gan=models.get("gan"), acgan=models.get("aux_gan"),
        head=models.get("digit_head_gan"), classifier=data.get("classifier") or {},
        writeup=lambda latent: next(w for w in data["writeup"] if w["model"] == findings.vae_label(latent)),
        davidson=lambda latent: next(p for p in data["published"]
                                     if p["source"].startswith("Davidson") and p["latent_dim"] == latent),
        collapse=collapse_study or collapse_of(studies),
        study=latent_size_record(studies) or None, n=fmt, n0=lambda x: f"{x:,}",
        seeds=findings.writeup_sizes_over_seeds(study_runs_of(studies)),
        side=side, finished=finished, missing=missing, pct=percent,
        gap_words=gap_words, Call=stats.Call, stats=stats, defaults=DEFAULTS,
    )
    bullets = re.split(r"\s*(?=- \*\*)", text.strip())  # every bullet starts "- **", wherever Jinja left it
    return "\n".join(wrapped(bullet) for bullet in bullets if bullet)


def wrapped(bullet: str) -> str:
    """One bullet's words in lines of at most WIDTH characters, continuation lines indented under its text."""
    return textwrap.fill(" ".join(bullet.split()), width=WIDTH, subsequent_indent="  ", break_on_hyphens=False)


def finished(model: dict | None, key: str) -> bool:
    """Whether the record holds this model with the number key (a run that did not finish has it as None)."""
    return bool(model) and model.get(key) is not None


def missing(models: list[dict | None], key: str, names: list[str]) -> str:
    """The names of the models the record lacks key of, joined with 'and'."""
    return " and ".join(name for model, name in zip(models, names) if not finished(model, key))


def gap_words(gaps: list[float]) -> str:
    """Ours minus theirs in words: '2–3 nats above theirs (+1.97 and +2.72)' when all are above, else the gaps."""
    exact = " and ".join(f"{gap:+.2f}" for gap in gaps)
    if min(gaps) < 0 < max(gaps):
        return f"ours minus theirs: {exact} nats"
    low, high = sorted(round(abs(gap)) for gap in (min(gaps), max(gaps)))
    amount = f"{low}–{high}" if low != high else f"about {low}"
    return f"{amount} nats {'above' if min(gaps) > 0 else 'below'} theirs ({exact})"


def side(*gaps: float) -> str:
    """Where ours ends against the writeup's, from ours minus theirs: 'below both', 'above both' or 'on either side'."""
    if max(gaps) < 0:
        return "below both"
    return "above both" if min(gaps) > 0 else "on either side of them"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with --check, compare) README's results block from the results file."""
    parser = argparse.ArgumentParser(prog="python -m helpers.report.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=FULL_RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when they disagree")
    args = parser.parse_args(argv)
    if not args.results.exists():
        print(f"error: {args.results} does not exist: run `make report PROFILE=full` first", file=sys.stderr)
        return 2
    try:
        files = rewritten(json.loads(args.results.read_text()), study_records(args.results.parent), readme=args.readme)
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        agree = all(old == new for old, new in files.values())
        print("README agrees with the results file" if agree else "README differs from the results file")
        code_ok = check_provenance(args.results.parent)
        return 0 if agree and code_ok else 1
    for path, (_, new) in files.items():
        path.write_text(new)
        print(f"rewrote the results blocks of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
