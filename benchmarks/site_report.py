"""Report the website's weight and the notebooks' execution times, and check the budgets.

Usage (from the repository root; ``make bench`` runs it)::

    python benchmarks/site_report.py            # build first if the site is missing or stale
    python benchmarks/site_report.py --build    # always rebuild (executes every notebook)
    python benchmarks/site_report.py --no-build # report on the existing _build only

The execution times are the ones the book build measured (``book/_ext/execute_notebooks.py``
executes every notebook in a fresh kernel, one per core, and records each run time, the same
data as the book's execution-statistics page, and the wall time of the whole run). Page
weight = the HTML file plus the local images it shows (images embedded as data URIs are part
of the HTML); the shared theme, scripts and MathJax are counted once, in the size of the
whole site.

Budgets (COURSE.md and the site issue): every page under 1.5 MB and the whole site under
25 MB (facts: also enforced by tests/site/test_site_budgets.py); the PDF of the book, a
download of its own that no page loads, is counted apart from the site, under 40 MB
(tests/site/test_site_pages.py); every notebook under 20 s, and all notebooks, executed one
per core, under 3 minutes, on a quiet 2-core CPU (timings: checked here only, since they
depend on the machine and its load). Prints PASS/FAIL lines and exits
with status 1 if a budget is broken.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
ENV_PICKLE = BUILD_DIR / ".doctrees" / "environment.pickle"
EXECUTION_REPORT = BUILD_DIR / "execution.json"

MB = 1_000_000
PAGE_BUDGET = 1.5 * MB
SITE_BUDGET = 25 * MB
PDF_BUDGET = 40 * MB  # the whole book as one PDF (_build/html/pdf/), apart from the site
NOTEBOOK_BUDGET = 20.0  # seconds, every notebook
TOTAL_BUDGET = 180.0  # seconds, all notebooks together (one per core)

# Folders of _build/html that hold assets, not pages.
NOT_PAGES = ("_static", "_sources", "_images", "_downloads", "pdf")
# The folder of the book's PDF: published with the site, budgeted on its own (PDF_BUDGET).
PDF_FOLDER = "pdf"


@dataclass(frozen=True)
class PageWeight:
    """Bytes a learner downloads for one page, shared assets aside."""

    page: str  # path relative to _build/html, e.g. "book/intro.html"
    html_bytes: int
    image_bytes: int
    num_images: int
    missing_images: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.html_bytes + self.image_bytes


class _ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img" and a.get("src"):
            self.sources.append(a["src"])
        if tag in ("img", "source") and a.get("srcset"):
            self.sources += [part.split()[0] for part in a["srcset"].split(",") if part.strip()]


def is_local(url: str) -> bool:
    """True for a link inside the site (not another host, not mailto:, data:, ...)."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//")


def html_pages(html_dir: Path = HTML_DIR) -> list[str]:
    """Every HTML page of the built site, relative to ``html_dir``, sorted."""
    return sorted(
        p.relative_to(html_dir).as_posix()
        for p in html_dir.rglob("*.html")
        if p.relative_to(html_dir).parts[0] not in NOT_PAGES
    )


def page_weight(html_dir: Path, page: str) -> PageWeight:
    """Weight of ``page``: its HTML plus each distinct local image it references."""
    path = html_dir / page
    parser = _ImageSources()
    parser.feed(path.read_text(errors="replace"))
    images: set[Path] = set()
    missing = []
    for src in parser.sources:
        if not is_local(src):
            continue
        target = (path.parent / unquote(urlsplit(src).path)).resolve()
        if target.is_file():
            images.add(target)
        else:
            missing.append(src)
    return PageWeight(
        page=page,
        html_bytes=path.stat().st_size,
        image_bytes=sum(p.stat().st_size for p in images),
        num_images=len(images),
        missing_images=tuple(missing),
    )


def page_weights(html_dir: Path = HTML_DIR) -> list[PageWeight]:
    return [page_weight(html_dir, page) for page in html_pages(html_dir)]


def site_bytes(html_dir: Path = HTML_DIR) -> int:
    """Size of what a web server publishes for the pages: all files under ``html_dir`` but
    the book's PDF (see :func:`pdf_bytes`)."""
    return sum(
        p.stat().st_size
        for p in html_dir.rglob("*")
        if p.is_file() and p.relative_to(html_dir).parts[0] != PDF_FOLDER
    )


def pdf_bytes(html_dir: Path = HTML_DIR) -> int:
    """Size of the book's PDF (0 if the build printed none)."""
    return sum(p.stat().st_size for p in (html_dir / PDF_FOLDER).glob("*.pdf"))


def execution_times(env_pickle: Path = ENV_PICKLE) -> dict[str, dict]:
    """Per notebook (docname), the execution data recorded by the last book build."""
    with env_pickle.open("rb") as f:
        env = pickle.load(f)
    metadata = getattr(env, "nb_metadata", {}) or {}
    return {
        doc: data["exec_data"]
        for doc, data in sorted(metadata.items())
        if data.get("exec_data") is not None
    }


def execution_wall_time(report_file: Path = EXECUTION_REPORT) -> float | None:
    """Seconds the last build took to execute every notebook (None if some came from the cache).

    ``book/_ext/execute_notebooks.py`` runs the notebooks one per core and writes this.
    """
    if not report_file.is_file():
        return None
    report = json.loads(report_file.read_text())
    return None if report["from_cache"] else report["wall_seconds"]


def _sources_newer_than(stamp: Path) -> list[Path]:
    """Notebooks, pages, helpers and config files changed since the last build."""
    if not stamp.exists():
        return [stamp]
    built = stamp.stat().st_mtime
    candidates = [ROOT / "_config.yml", ROOT / "_toc.yml"]
    for folder, pattern in (("book", "**/*"), ("helpers", "**/*.py")):
        candidates += [p for p in (ROOT / folder).glob(pattern) if p.is_file()]
    return [p for p in candidates if "_build" not in p.parts and p.stat().st_mtime > built]


def build() -> int:
    """Build the whole book as the tests build it (every notebook executes); the exit code."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import LOG_FILE, run_build

    print("Building the book (executes every notebook) ...", flush=True)
    returncode, _ = run_build()
    if returncode:
        print(f"FAIL  the book build exited with {returncode}: see {LOG_FILE.relative_to(ROOT)}")
    return returncode


def _mb(n: float) -> str:
    return f"{n / MB:7.2f} MB"


def report(html_dir: Path = HTML_DIR, env_pickle: Path = ENV_PICKLE) -> bool:
    """Print the report and the budget checks; return True if every budget holds."""
    ok = True

    def check(passed: bool, text: str) -> None:
        nonlocal ok
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {text}")

    print("\nNotebook execution times (measured by the last book build; other load inflates them)")
    times = execution_times(env_pickle)
    print(f"{'notebook':<48} {'seconds':>8} {'budget':>7}  status")
    for doc, data in times.items():
        runtime = data.get("runtime") or 0.0
        status = "ok" if data.get("succeeded") else f"FAILED ({data.get('error')})"
        print(f"{doc:<48} {runtime:8.1f} {NOTEBOOK_BUDGET:7.0f}  {status}")
    total_time = sum((d.get("runtime") or 0.0) for d in times.values())
    print(f"{'all notebooks, one after the other':<48} {total_time:8.1f}")
    wall_time = execution_wall_time()
    if wall_time is None:
        print(f"{'all notebooks, one per core':<48} (not measured: some came from the cache)")
    else:
        print(f"{'all notebooks, one per core':<48} {wall_time:8.1f} {TOTAL_BUDGET:7.0f}")

    print("\nPage weights (HTML + its images; shared theme files and MathJax counted once below)")
    weights = page_weights(html_dir)
    print(f"{'page':<48} {'html':>10} {'images':>10} {'#img':>5} {'total':>10}")
    for w in sorted(weights, key=lambda w: w.total, reverse=True):
        print(
            f"{w.page:<48} {_mb(w.html_bytes)} {_mb(w.image_bytes)} {w.num_images:5d} "
            f"{_mb(w.total)}"
        )
    total_site = site_bytes(html_dir)
    static = sum(p.stat().st_size for p in (html_dir / "_static").rglob("*") if p.is_file())
    print(f"{'whole site':<48} {_mb(total_site)}   (of which _static: {_mb(static).strip()})")
    total_pdf = pdf_bytes(html_dir)
    print(f"{'the book as a PDF (apart from the site)':<48} {_mb(total_pdf)}")

    print("\nBudgets")
    for doc, data in times.items():
        runtime = data.get("runtime") or 0.0
        check(
            bool(data.get("succeeded")) and runtime < NOTEBOOK_BUDGET,
            f"{doc} executes in {runtime:.1f} s (budget {NOTEBOOK_BUDGET:.0f} s)",
        )
    if times:
        slowest = max(times, key=lambda d: times[d].get("runtime") or 0.0)
        print(f"      slowest notebook: {slowest} ({times[slowest]['runtime']:.1f} s)")
    if wall_time is None:
        print("      the book's time is measured when every notebook runs: make book FORCE=1")
    else:
        check(
            wall_time < TOTAL_BUDGET,
            f"all notebooks execute in {wall_time:.1f} s, one per core (budget 180 s)",
        )
    for w in weights:
        if w.total >= PAGE_BUDGET:
            check(False, f"{w.page} weighs {_mb(w.total).strip()} (budget 1.5 MB)")
    heaviest = max(weights, key=lambda w: w.total)
    check(
        heaviest.total < PAGE_BUDGET,
        f"every page under 1.5 MB (heaviest: {heaviest.page}, {_mb(heaviest.total).strip()})",
    )
    check(total_site < SITE_BUDGET, f"whole site {_mb(total_site).strip()} (budget 25 MB)")
    check(total_pdf < PDF_BUDGET, f"the PDF {_mb(total_pdf).strip()} (budget 40 MB)")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--build", action="store_true", help="always rebuild the book first")
    group.add_argument("--no-build", action="store_true", help="never build; report on _build")
    args = parser.parse_args(argv)

    build_failed = False
    stale = _sources_newer_than(ENV_PICKLE)
    if args.build or (stale and not args.no_build):
        if stale and not args.build:
            names = ", ".join(
                str(p.relative_to(ROOT)) for p in stale[:3] if p.is_relative_to(ROOT)
            )
            print(f"The built site is missing or older than its sources ({names} ...)")
        build_failed = build() != 0
    if not (HTML_DIR / "index.html").is_file() or not ENV_PICKLE.is_file():
        print("No built site in _build: run make book (or drop --no-build).")
        return 2
    return 0 if report() and not build_failed else 1


if __name__ == "__main__":
    sys.exit(main())
