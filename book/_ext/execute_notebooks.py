"""Execute the book's notebooks on all the machine's cores, before the book build reads them.

Usage (from the repository root; ``make book`` and the tests' site build run it)::

    python book/_ext/execute_notebooks.py            # one notebook per core (at most 4)
    python book/_ext/execute_notebooks.py --jobs 1   # one at a time

The book build (``jupyter-book build``, with ``execute_notebooks: cache`` in ``_config.yml``)
executes each notebook that is not in its cache, ``_build/.jupyter_cache``, one after the
other, on one core. This script fills that cache first, several notebooks at a time: every
notebook of ``_toc.yml`` whose code is not cached yet is executed in a fresh kernel, exactly
as the build would execute it (same working folder, same timeout, no errors allowed), and its
outputs are stored with their run time. The build then finds every notebook in the cache and
only reads its outputs. A notebook that fails is not cached: the build executes it again and
reports its error in the usual way.

The longest notebooks start first (the chapters, by size, then the exercises), so that the
cores finish together. Each kernel gets one PyTorch thread unless ``OMP_NUM_THREADS`` says
otherwise. The run's wall time and each notebook's time go to ``_build/execution.json``,
which ``benchmarks/site_report.py`` checks against the book's time budget.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml
from course_site import notebook_for_site, toc_docnames
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "_build" / ".jupyter_cache"  # where jupyter-book keeps it (execute.cache unset)
REPORT = ROOT / "_build" / "execution.json"
MAX_JOBS = 4  # each kernel holds a few hundred MB: a laptop's memory, not its cores, limits


def toc_notebooks() -> list[Path]:
    """The notebooks of the book, in the order of its table of contents."""
    paths = [ROOT / f"{name}.ipynb" for name in toc_docnames()]
    return [path for path in paths if path.is_file()]


def longest_first(notebooks: list[Path]) -> list[Path]:
    """Chapters before exercises, each group largest file first: a guess at the run times."""
    return sorted(notebooks, key=lambda p: (p.parent.name == "exercises", -p.stat().st_size))


def execution_timeout(config_file: Path = ROOT / "_config.yml") -> int:
    """The per-cell timeout of the book build, in seconds (``execute.timeout``)."""
    config = yaml.safe_load(config_file.read_text())
    return int(config.get("execute", {}).get("timeout", 30))


def site_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` as the book build reads it (exercises with their solutions)."""
    docname = path.relative_to(ROOT).with_suffix("").as_posix()
    notebook = notebook_for_site(docname, json.loads(path.read_text()))
    return nbformat.reads(json.dumps(notebook), as_version=4)


def execute(path: Path, timeout: int) -> tuple[nbformat.NotebookNode, float, str | None]:
    """Run one notebook in a fresh kernel, in its own folder; its outputs, seconds and error."""
    notebook = site_notebook(path)
    result = single_nb_execution(
        notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False, meta_override=True
    )
    return notebook, result.time, result.exc_string if result.err else None


def run(jobs: int) -> None:
    """Execute every notebook that is not in the cache, ``jobs`` at a time, and cache it."""
    cache = get_cache(str(CACHE))
    notebooks = toc_notebooks()
    uncached = [path for path in notebooks if not is_cached(cache, path)]
    from_cache = [path.relative_to(ROOT).as_posix() for path in notebooks if path not in uncached]
    jobs = max(1, min(jobs, len(uncached)))
    if uncached:
        count = f"{len(uncached)} notebook" + ("s" if len(uncached) > 1 else "")
        print(f"executing {count}, {jobs} at a time", flush=True)
    else:
        print("every notebook's outputs are in the cache: nothing to execute")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the kernels
    timeout = execution_timeout()
    seconds = {}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(execute, path, timeout): path for path in longest_first(uncached)}
        for future in as_completed(futures):
            path = futures[future]
            name = path.relative_to(ROOT).as_posix()
            notebook, run_time, error = future.result()
            if error is not None:
                print(f"FAILED    {name} (the book build runs it again and reports)\n{error}")
                continue
            bundle = CacheBundleIn(notebook, str(path), data={"execution_seconds": run_time})
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
            seconds[name] = round(run_time, 2)
            print(f"{run_time:6.1f} s  {name}", flush=True)
    wall = time.perf_counter() - start
    print(f"executed in {wall:.1f} s ({sum(seconds.values()):.1f} s one notebook at a time)")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = {"jobs": jobs, "wall_seconds": round(wall, 2), "notebook_seconds": seconds}
    REPORT.write_text(json.dumps({**report, "from_cache": from_cache}, indent=1) + "\n")


def executed_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` with the outputs of its last run, read from the cache.

    (The copies in ``_build/jupyter_execute`` lack them: myst-nb writes the notebook it read
    there, not the cached outputs it shows.) Raises ``KeyError`` if its code was not run.
    """
    _, notebook = get_cache(str(CACHE)).merge_match_into_notebook(site_notebook(path))
    return notebook


def is_cached(cache, path: Path) -> bool:
    """True if the cache holds the outputs of the notebook's current code."""
    try:
        cache.match_cache_notebook(site_notebook(path))
    except KeyError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(cores or 1, MAX_JOBS),
        help=f"notebooks executed at a time (default: the number of cores, at most {MAX_JOBS})",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"Invalid --jobs: {args.jobs}; it must be at least 1")
    run(args.jobs)
    return 0  # a notebook that failed is the book build's to report


if __name__ == "__main__":
    sys.exit(main())
