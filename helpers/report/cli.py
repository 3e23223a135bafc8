"""The command line: run a profile's notebooks, then build the report from their folders.

    python -m helpers.report [--profile quick] [--only vae_z2 ...] [--device cpu] [--set vae.epochs=5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from .. import runs
from ..executor import ClusterError
from ..params import ParameterError, check_device
from ..runs import display_path
from . import document, export
from . import results as reproduction
from .runview import RunView, devices

BUILD = runs.ROOT / "report" / "build"
SECTION_RUNS = ("vae_z2", "vae_z20", "gan", "aux_gan")  # the runs the writeup's sections are made of


def git_commit() -> str:
    """The repository's short commit, marked when the work tree has changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=runs.ROOT, capture_output=True, text=True, timeout=20).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no")
                         else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def read_views(profile: runs.Profile, build: Path) -> dict[str, RunView]:
    """Every run of the profile, and the sections' runs even when the profile lacks them."""
    names = profile.names() + [n for n in SECTION_RUNS if n not in profile.names()]
    return {name: RunView.read(build, name) for name in names}


def build_report(profile: runs.Profile, build: Path, output: Path, pdf: bool = True) -> tuple[Path, Path | None]:
    """Write <build>/report.{ipynb,html,pdf} and copy the HTML and PDF to <output>/report.{html,pdf}."""
    build.mkdir(parents=True, exist_ok=True)
    views = read_views(profile, build)
    meta = [("Built", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), ("Commit", git_commit()),
            ("Profile", f"{profile.name} ({profile.description})"), ("Device", devices(list(views.values())))]
    nb = document.render(views, profile.name, meta)
    nbformat.write(nb, build / "report.ipynb")
    html_path = export.export_html(nb, build / "report.html")
    shutil.copyfile(html_path, output / "report.html")
    print(f"report: wrote {display_path(html_path)} and {display_path(output / 'report.html')}")
    if not pdf:
        return html_path, None
    why = export.print_pdf(html_path, build / "report.pdf")
    if why:
        print(f"report: PDF skipped: {why}", file=sys.stderr)
        return html_path, None
    shutil.copyfile(build / "report.pdf", output / "report.pdf")
    print(f"report: wrote {display_path(build / 'report.pdf')} and {display_path(output / 'report.pdf')}")
    return html_path, build / "report.pdf"


def write_reproduction_record(profile: runs.Profile, build: Path, folder: Path, argv: list[str],
                              threads: int | None) -> Path:
    """Write <folder>/<profile>.json: every number of the results table and the build's provenance."""
    views = read_views(profile, build)
    data = reproduction.record(views, profile.name, reproduction.provenance(views, argv, git_commit(), threads))
    path = reproduction.write_results(data, folder)
    print(f"report: wrote {display_path(path)} (the results and their provenance)")
    from . import readme  # here, not at the top: `python -m helpers.report.readme` imports this package first

    if path == readme.FULL_RESULTS:
        readme.README.write_text(readme.rewrite(readme.README.read_text(), data))
        print(f"report: rewrote the results table of {display_path(readme.README)} from it")
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m helpers.report", description="The report: run a profile's "
                                     "notebooks, then stitch their outputs into one HTML and one PDF.")
    parser.add_argument("--profile", default="quick", help="profile name in report/profiles/ or a YAML path "
                        "(default: quick)")
    parser.add_argument("--only", nargs="+", metavar="RUN", help="execute only these runs (and those they need); "
                        "the report still shows every run of the profile")
    parser.add_argument("--device", help="device for every run that has one: auto, cpu, cuda, cuda:N, mps")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="[RUN.]NAME=VALUE",
                        help="override one parameter, for a run or notebook (vae.epochs=5) or for every run "
                        "that has it (epochs=5); repeatable")
    parser.add_argument("--output", type=Path, default=BUILD, help="build folder (default: report/build)")
    parser.add_argument("--results", type=Path, help="folder of the results file <profile>.json (default: results/ "
                        "at the repository root for the default build folder, else <output>/results)")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds one notebook cell may run "
                        "(default: 4 hours)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per notebook (OMP_NUM_THREADS); "
                        "1, the default, is fastest on a busy or 2-core machine; 0 keeps torch's default")
    parser.add_argument("--workers", type=int, help="Dask worker processes on this machine, one run each "
                        "(default: one per CPU core; 1 runs one after another)")
    parser.add_argument("--scheduler", metavar="ADDR", help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                        "(its workers need this repository, its environment and the data at the same paths)")
    parser.add_argument("--force", action="store_true", help="execute runs even when the cache has them")
    parser.add_argument("--no-run", action="store_true", help="only rebuild the report from existing runs")
    parser.add_argument("--no-pdf", action="store_true", help="build the HTML only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the profile, build the report, print a summary; exit status 1 when a run failed."""
    args = parse_args(argv)
    try:
        if args.device:
            check_device(args.device)  # before any run's old outputs are cleared
        profile = runs.load_profile(args.profile)
        selected = runs.apply_overrides(runs.select(profile, args.only), args.assignments, args.device)
    except (runs.ProfileError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build = args.output / profile.name
    start = time.perf_counter()
    try:
        results = [] if args.no_run else runs.execute_all(selected, build, args.timeout, args.force,
                                                          args.threads or None, args.workers, args.scheduler)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build_report(profile, build, args.output, pdf=not args.no_pdf)
    record_folder = args.results or (reproduction.RESULTS if args.output == BUILD else args.output / "results")
    write_reproduction_record(profile, build, record_folder, sys.argv[1:] if argv is None else argv,
                              args.threads or None)
    if results:
        print("\n" + runs.summary_table(results))
    failed = [r.name for r in results if r.failed]
    print(f"\nbuild {'FAILED (' + ', '.join(failed) + ')' if failed else 'ok'} in "
          f"{(time.perf_counter() - start) / 60:.1f} min wall, {runs.run_minutes(results):.1f} min of runs")
    return 1 if failed else 0
