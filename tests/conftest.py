"""Shared fixtures: the repository root, and the built website, built once per test run.

``site_build`` builds the book into ``_build/html`` as ``make book`` does
(``book/_ext/execute_notebooks.py`` executes every notebook, one per core, then
``jupyter-book build . -W -n --keep-going`` reads their outputs) and returns a
:class:`SiteBuild`; ``built_site`` returns the ``_build/html`` folder and fails if the build
failed. Tests that need the site use
``built_site``; a test of the build itself can use ``site_build`` to see the log.

The build runs once per test run, even with pytest-xdist, whose workers each set up their own
session fixtures: the first worker takes a file lock on ``_build/.build.lock`` and builds,
the others wait for the lock and then find ``_build/.build.stamp`` stamped with this run's id
(the ``BUILD_ID`` environment variable if set, else xdist's ``testrunuid``, else a fresh id).

Set ``SITE_ALREADY_BUILT=1`` to test an existing ``_build/html`` without rebuilding it
(for example after ``make book``).

Two numerics paths: the notebooks run twice in a test run, and never with the same rounding.
The site build runs them with ``SITE_NUMERICS`` (MKL's AVX2 code path), nbval and the unit
tests with ``CHECK_NUMERICS`` (MKL's conditional-reproducibility path ``COMPATIBLE`` and
PyTorch's scalar kernels). Left unset, MKL picks AVX2 on some CPUs and COMPATIBLE on others, so
a claim that rounding decides would pass on one machine and fail on the next. Pinned to two
paths that differ on every x86 CPU, such a claim fails ``make test`` everywhere.
``tests/unit/test_numerics_paths.py`` checks that the two really round differently.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
LOCK_FILE = BUILD_DIR / ".build.lock"
STAMP_FILE = BUILD_DIR / ".build.stamp"
LOG_FILE = BUILD_DIR / "build.log"
BUILD_TIMEOUT = 30 * 60  # seconds; the notebooks' own budget is 3 minutes in total

# The two numerics paths (see the module docstring). The Makefile's `book` target uses
# SITE_NUMERICS too, so that the published site is the one the tests built.
SITE_NUMERICS = {"MKL_CBWR": "AVX2"}
CHECK_NUMERICS = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"}
# Set before any test module imports torch, and inherited by the kernels that nbval starts.
os.environ.update(CHECK_NUMERICS)


def _load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


# The site's Sphinx extension: how the site reads the toc and the exercise notebooks.
COURSE_SITE = _load_module("course_site", ROOT / "book" / "_ext" / "course_site.py")
toc_docnames = COURSE_SITE.toc_docnames


def site_pages() -> list[str]:
    """Every page of the site (under _build/html): the toc in order, then search.

    There is no general index: the API page (book/api.md) is the index of the helpers.
    """
    return [f"{name}.html" for name in toc_docnames()] + ["search.html"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test that takes ``site_page`` runs once per page of the site.
    if "site_page" in metafunc.fixturenames:
        pages = site_pages()
        metafunc.parametrize("site_page", pages, ids=[p.removesuffix(".html") for p in pages])


@dataclass(frozen=True)
class SiteBuild:
    """The outcome of one book build."""

    html: Path
    returncode: int
    log_file: Path
    seconds: float
    reused: bool  # True if another worker (or SITE_ALREADY_BUILT) did the build

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and (self.html / "index.html").is_file()


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


def pytest_configure(config: pytest.Config) -> None:
    # One id per test run, shared by the xdist workers (they receive the controller's
    # testrunuid); a plain pytest run makes its own.
    config._site_run_id = (
        os.environ.get("BUILD_ID")
        or getattr(config, "workerinput", {}).get("testrunuid")
        or uuid.uuid4().hex
    )


def _jupyter_book() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    return [sys.executable, "-m", "jupyter_book"]


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    # Notebooks import the course's helpers from the repository, and run on the
    # environment's own "python3" kernel (as the Makefile does).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("JUPYTER_PATH", str(Path(sys.prefix, "share", "jupyter")))
    # Kernels must choose their own (inline) backend, or the figures vanish from the pages.
    env.pop("MPLBACKEND", None)
    # The other numerics path: MKL's AVX2 kernels, PyTorch's best vector kernels for the CPU.
    for name in CHECK_NUMERICS:
        env.pop(name, None)
    env.update(SITE_NUMERICS)
    return env


def run_build() -> tuple[int, float]:
    # A fresh build: no page left over from an older toc, every notebook executed (no cache).
    for folder in ("html", ".doctrees", "jupyter_execute", ".jupyter_cache"):
        shutil.rmtree(BUILD_DIR / folder, ignore_errors=True)
    start = time.perf_counter()
    # As make book does: the notebooks run one per core into the cache, then the build reads it.
    steps = [
        [sys.executable, str(ROOT / "book" / "_ext" / "execute_notebooks.py")],
        [*_jupyter_book(), "build", ".", "--all", "-W", "-n", "--keep-going"],
    ]
    returncode = 0
    with LOG_FILE.open("w") as log:
        for command in steps:
            log.flush()
            try:
                proc = subprocess.run(
                    command,
                    cwd=ROOT,
                    env=build_env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=BUILD_TIMEOUT - (time.perf_counter() - start),
                    check=False,
                )
                returncode = proc.returncode
            except subprocess.TimeoutExpired:
                log.write(f"\nBuild timed out after {BUILD_TIMEOUT} s\n")
                returncode = -1
            if returncode:
                break
    return returncode, time.perf_counter() - start


@pytest.fixture(scope="session")
def site_build(request: pytest.FixtureRequest) -> SiteBuild:
    """Build the book once per test run (shared by xdist workers) and describe the result."""
    if os.environ.get("SITE_ALREADY_BUILT") == "1":
        if not (HTML_DIR / "index.html").is_file():
            pytest.fail(
                "SITE_ALREADY_BUILT=1 but there is no _build/html/index.html: run make book"
            )
        # No log: whatever _build/build.log holds may come from an older build.
        return SiteBuild(HTML_DIR, 0, BUILD_DIR / "no-build-log", 0.0, reused=True)

    run_id = request.config._site_run_id
    BUILD_DIR.mkdir(exist_ok=True)
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks while another worker builds
        try:
            stamp = json.loads(STAMP_FILE.read_text()) if STAMP_FILE.exists() else {}
        except ValueError:
            stamp = {}
        if stamp.get("run_id") == run_id:
            return SiteBuild(
                HTML_DIR, stamp["returncode"], LOG_FILE, stamp["seconds"], reused=True
            )
        STAMP_FILE.unlink(missing_ok=True)
        returncode, seconds = run_build()
        STAMP_FILE.write_text(
            json.dumps({"run_id": run_id, "returncode": returncode, "seconds": seconds})
        )
        return SiteBuild(HTML_DIR, returncode, LOG_FILE, seconds, reused=False)


@pytest.fixture(scope="session")
def built_site(site_build: SiteBuild) -> Path:
    """The folder ``_build/html`` of a successful build of the book."""
    if not site_build.ok:
        tail = "\n".join(site_build.log.splitlines()[-40:])
        pytest.fail(
            f"The book build failed (exit code {site_build.returncode}); "
            f"full log in {site_build.log_file}. Last lines:\n{tail}"
        )
    return site_build.html


@pytest.fixture(scope="session")
def toc_pages() -> list[str]:
    """The book's pages in reading order (the order of next/previous navigation)."""
    return [f"{name}.html" for name in toc_docnames()]


@pytest.fixture(scope="session")
def all_pages() -> list[str]:
    """Every page of the site: the toc's pages, then search.html."""
    return site_pages()


@pytest.fixture(scope="session")
def course_site():
    """The site's Sphinx extension, book/_ext/course_site.py (how the site reads exercises)."""
    return COURSE_SITE


@pytest.fixture(scope="session")
def execute_notebooks():
    """The module book/_ext/execute_notebooks.py: how the build runs and caches the notebooks."""
    return _load_module("execute_notebooks", ROOT / "book" / "_ext" / "execute_notebooks.py")


@pytest.fixture(scope="session")
def site_report():
    """The module benchmarks/site_report.py: page weights and the budgets, defined once."""
    return _load_module("site_report", ROOT / "benchmarks" / "site_report.py")
