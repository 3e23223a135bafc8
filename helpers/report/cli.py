"""The command line: run a profile's notebooks, then build the report from their folders.

    python -m helpers.report [--profile quick] [--only vae_z2 ...] [--device cpu] [--set vae.epochs=5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat

from helpers.common.files import DiskFullError, atomic_path, write_json, write_text
from helpers.common.folder import RunFolder
from helpers.common.paths import ROOT, display_path
from helpers.config import ParameterError, check_device
from helpers.config.registry import MODELS, SECTION_RUNS
from helpers.report import document, export, readme, verify
from helpers.report import results as reproduction
from helpers.report.found import RESULTS, Found, found_once, study_records
from helpers.report.runview import RunView, devices
from helpers.runs.executor import ClusterError, Executor
from helpers.runs.lock import BuildLockedError, build_lock
from helpers.runs.profile import (
    Profile,
    ProfileError,
    Run,
    apply_overrides,
    check_parameters,
    load_profile,
    minutes_of_runs,
    run_folder,
    seed_replicas,
    select,
    summary_table,
)
from helpers.runs.provenance import short_commit

BUILD = ROOT / "report" / "build"
DEFAULT_PROFILE = "quick"  # what a build makes when no profile is named: minutes, every section of the writeup


def read_views(profile: Profile, build: Path, extra: list[str] = ()) -> dict[str, RunView]:
    """Every run of the profile, the sections' runs even when the profile lacks them (marked not planned: their
    sections then say so in a sentence), and the build's other runs (its seed replicas), each folder read once."""
    planned = {*profile.names(), *extra}
    names = dict.fromkeys([*profile.names(), *SECTION_RUNS, *extra])
    return {name: RunView.read(build, name, name in planned) for name in names}


def build_report(profile: Profile, views: dict[str, RunView], found: Found, build: Path, output: Path,
                 pdf: bool = True) -> tuple[Path, Path | None]:
    """Write <build>/report.{ipynb,html,pdf} from the build's runs and findings, and copy the HTML and PDF to
    <output>/report.{html,pdf}.

    Every file is written to a unique temporary name and renamed, so a reader or a crash never sees half a
    report; HTML and PDF are of one build: a PDF that is not printed this time is removed, not left from before.
    """
    build.mkdir(parents=True, exist_ok=True)
    meta = [("Built", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), ("Commit", short_commit()),
            ("Profile", f"{profile.name}: {profile.description}"), ("Device", devices(list(views.values())))]
    nb = document.render(views, profile.name, meta, found, home=output)  # captions link from output/report.html
    with atomic_path(build / "report.ipynb") as partial:
        nbformat.write(nb, partial)
    html_path = export.export_html(nb, build / "report.html")
    copy_atomically(html_path, output / "report.html")
    print(f"report: wrote {display_path(html_path)} and {display_path(output / 'report.html')}")
    why = "--no-pdf" if not pdf else export.print_pdf(html_path, build / "report.pdf")
    if why:
        stale = [path for path in (build / "report.pdf", output / "report.pdf") if path.exists()]
        for path in stale:
            path.unlink()
        removed = f"; removed the older {' and '.join(display_path(p) for p in stale)}" if stale else ""
        if stale or pdf:
            print(f"report: no PDF this time ({why}){removed}, so that HTML and PDF are of one build", file=sys.stderr)
        return html_path, None
    copy_atomically(build / "report.pdf", output / "report.pdf")
    print(f"report: wrote {display_path(build / 'report.pdf')} and {display_path(output / 'report.pdf')}")
    return html_path, build / "report.pdf"


def copy_atomically(source: Path, target: Path) -> None:
    """Copy a file under a temporary name beside the target, then rename it into place."""
    if source.resolve() == target.resolve():
        return
    with atomic_path(target) as partial:
        shutil.copyfile(source, partial)


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option as one line (and exit status 2) instead of the usage and the error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print one line and exit 2."""
        self.exit(2, f"error: {message} (see --help)\n")


def whole_number(minimum: int):  # noqa: ANN201 - an argparse type
    """An argparse type: a whole number >= minimum."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, got {text!r}")
    return value


def publish_record(data: dict[str, Any], folder: Path, found: Found) -> Path:
    """Write a build's record as <folder>/<profile>.json (--record); README's results blocks follow when the folder
    is the repository's results/."""
    path = reproduction.write_results(data, folder)
    print(f"report: wrote {display_path(path)} (the results and their provenance)")
    if path.parent.resolve() == RESULTS and readme.FULL_RESULTS.exists():  # the repository's records: README too
        full = json.loads(readme.FULL_RESULTS.read_text())
        # when this build wrote the collapse record README reads, the study is this build's, not computed again
        collapse_study = found.collapse if path.resolve() == RESULTS / "collapse.json" else None
        for target, (_, text) in readme.rewritten(full, study_records(), collapse_study).items():
            write_text(target, text)
            print(f"report: rewrote the results blocks of {display_path(target)} from the records")
    return path


def build_record(profile: Profile, views: dict[str, RunView], found: Found, build: Path, args: argparse.Namespace
                 ) -> dict[str, Any]:
    """This build's record (every number of the results table, the studies, the provenance), written as
    <build>/results.json: a build never touches the committed records unless told to (--record)."""
    provenance = reproduction.provenance(views, args.argv, short_commit())
    data = reproduction.record(views, profile.name, provenance, found)
    write_json(build / "results.json", data)
    print(f"report: wrote {display_path(build / 'results.json')} (this build's results and their provenance)")
    return data


def verification(recorded_path: Path, data: dict[str, Any], build: Path) -> dict[str, Any]:
    """Compare the committed record with this build's: verify.json in the build folder, the table printed."""
    recorded = json.loads(recorded_path.read_text())
    lines = verify.compare(recorded, data, study_records(recorded_path.parent))
    checked = verify.summary(recorded, data, lines) | {"record": display_path(recorded_path)}
    write_json(build / "verify.json", checked)
    print("\n" + verify.table_text(checked))
    return checked


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = Parser(prog="python -m helpers.report", description="The report: run a profile's "
                    "notebooks, then stitch their outputs into one HTML and one PDF.")
    parser.add_argument("--profile", help="profile name in helpers/runs/profiles/ or a YAML path (default: quick, "
                        "or with --verify the record's)")
    parser.add_argument("--only", nargs="+", metavar="RUN", help="execute only these runs (and those they need); "
                        "the report still shows every run of the profile")
    parser.add_argument("--device", help="device for every run that has one: auto, cpu, cuda, cuda:N, mps")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="[RUN.]NAME=VALUE",
                        help="override one parameter, for a run or notebook (vae.epochs=5) or for every run "
                        "that has it (epochs=5); repeatable")
    parser.add_argument("--output", type=Path, default=BUILD, help="build folder (default: report/build)")
    parser.add_argument("--record", action="store_true", help="publish this build's record as <results>/<profile>.json "
                        "(and, in the repository's results/, README's results blocks); without it a build writes "
                        "its record only into its build folder")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where --record writes "
                        "(default: results/ at the repository root)")
    parser.add_argument("--verify", type=Path, metavar="RECORD", help="after the build, compare every number of a "
                        "committed record (results/<profile>.json; its profile is built) with this build's; exit "
                        "status 1 when one lies outside its allowance")
    parser.add_argument("--spread", type=whole_number(2), metavar="SEEDS", help="also run each of the writeup's "
                        "models at SEEDS - 1 more seeds, and keep each measure's spread over the seeds in the record "
                        "(make verify's allowances on another machine)")
    parser.add_argument("--timeout", type=seconds, default=4 * 3600, help="seconds one notebook cell may run "
                        "(default: 4 hours)")
    parser.add_argument("--threads", type=whole_number(0), default=1, help="CPU threads per notebook "
                        "(OMP_NUM_THREADS); 1, the default, is fastest on a busy or 2-core machine; 0 keeps "
                        "torch's default")
    parser.add_argument("--workers", type=whole_number(1), help="Dask worker processes on this machine, one run "
                        "each (default: one per CPU core; 1 runs one after another)")
    parser.add_argument("--scheduler", metavar="ADDR", help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                        "(its workers need this repository, its environment and the data at the same paths)")
    parser.add_argument("--force", action="store_true", help="execute runs even when the cache has them")
    parser.add_argument("--no-run", action="store_true", help="only rebuild the report from existing runs")
    parser.add_argument("--no-pdf", action="store_true", help="build the HTML only")
    parser.add_argument("--no-wait", action="store_true", help="refuse, instead of waiting, when another build "
                        "is using the build folder")
    args = parser.parse_args(argv)
    for option, folder in (("--output", args.output), ("--results", args.results)):
        if folder and (why := unusable_folder(folder)):
            parser.error(f"argument {option}: {why}")
    if args.verify:
        args.profile = verified_profile(parser, args.verify, args.profile)
    args.profile = args.profile or DEFAULT_PROFILE
    return args


def verified_profile(parser: Parser, record: Path, profile: str | None) -> str:
    """The profile a --verify record was built from (it must agree with --profile when both are given)."""
    try:
        name = json.loads(record.read_text())["profile"]
    except (OSError, ValueError, KeyError, TypeError):
        parser.error(f"argument --verify: {record} is not a results record (results/<profile>.json)")
    if profile is None:
        return name
    if Path(profile).stem != name:
        parser.error(f"argument --verify: {record} is the record of profile {name!r}, not {profile!r}")
    return profile


def unusable_folder(folder: Path) -> str:
    """Why a build folder cannot be used ('' when it can): a file, or a place this user cannot write."""
    for path in [folder, *folder.absolute().parents]:
        if path.exists():
            if not path.is_dir():
                return f"{display_path(path)} is a file, not a folder"
            if not os.access(path, os.W_OK | os.X_OK):
                return f"{display_path(path)} is not writable"
            return ""
    return ""


def checked_runs(args: argparse.Namespace) -> tuple[Profile, list[Run]]:
    """The profile and the selected runs with every parameter checked (ProfileError/ParameterError if not)."""
    if args.device:
        check_device(args.device)
    profile = load_profile(args.profile)
    selected = apply_overrides(select(profile, args.only), args.assignments, args.device)
    if args.spread:
        selected += seed_replicas(selected, set(MODELS), args.spread)
    check_parameters(selected, args.output / profile.name)
    return profile, selected


@contextlib.contextmanager
def terminated_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while the build runs, so half-written files are removed on the way out."""
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: list[str] | None = None) -> int:
    """Check everything, run the profile, build the report, print a summary; 1 when a run failed, 2 on bad input."""
    args = parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if not (document.SECTIONS.is_dir() and document.TEMPLATES.is_dir()):
        print(f"error: the report is built from a checkout of the repository (its report/ and notebooks/ folders), "
              f"and there is none at {document.ROOT}: run python -m helpers.report from a clone", file=sys.stderr)
        return 2
    try:
        profile, selected = checked_runs(args)
    except (ProfileError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build = args.output / profile.name
    try:
        with terminated_as_exit(), contextlib.ExitStack() as stack:
            executor = None if args.no_run else stack.enter_context(
                Executor(args.workers, args.scheduler, args.threads or None))
            stack.enter_context(build_lock(build, wait=not args.no_wait))  # after the scheduler answered
            return execute_and_build(args, profile, selected, build, executor)
    except (ClusterError, BuildLockedError, DiskFullError, readme.MarkerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs keep their outputs; the same command resumes from the checkpoints",
              file=sys.stderr)
        return 130


def execute_and_build(args: argparse.Namespace, profile: Profile, selected: list[Run], build: Path,
                      executor: Executor | None) -> int:
    """Execute the runs (holding the build folder's lock), then build the report and print the summary."""
    start = time.perf_counter()
    results = [] if executor is None else executor.execute(selected, build, args.timeout, args.force)
    for name in profile.names():  # a build killed while a run executed: put its finished outputs back
        if run_folder(build, name).is_dir():
            RunFolder(run_folder(build, name), name).recover()
    views = read_views(profile, build, [run.name for run in selected])  # each run folder read once
    found = found_once(views)  # each study computed once, for all that follows
    data = build_record(profile, views, found, build, args)
    checked = verification(args.verify, data, build) if args.verify else None
    build_report(profile, views, replace(found, verification=checked), build, args.output, pdf=not args.no_pdf)
    if args.record:
        publish_record(data, args.results, found)
    if results:
        print("\n" + summary_table(results))
    failed = [r.name for r in results if r.failed]
    print(f"\nbuild {'FAILED (' + ', '.join(failed) + ')' if failed else 'ok'} in "
          f"{(time.perf_counter() - start) / 60:.1f} min wall, {minutes_of_runs(results):.1f} min of runs")
    if checked is not None:
        print(verify.outcome_text(checked))
    return 1 if failed or (checked and checked["failing"]) else 0
