"""Shared fixtures: the repository root, and one site build per test run."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


def _run_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["testrunuid"] if workerinput else f"{os.getpid()}"


@pytest.fixture(scope="session")
def built_site(request: pytest.FixtureRequest) -> dict:
    """Build the book once per test run (shared by xdist workers through a file lock).

    Returns a dict with the html folder (``html``), the build's exit code (``returncode``)
    and its combined output (``log``). Set ``SITE_ALREADY_BUILT=1`` to test an existing
    ``_build/html`` without rebuilding.
    """
    html = BUILD_DIR / "html"
    log_file = BUILD_DIR / "build.log"
    if os.environ.get("SITE_ALREADY_BUILT") == "1":
        if not (html / "index.html").exists():
            pytest.fail("SITE_ALREADY_BUILT=1 but _build/html/index.html does not exist")
        return {"html": html, "returncode": 0, "log": ""}

    BUILD_DIR.mkdir(exist_ok=True)
    stamp = BUILD_DIR / "build.stamp"
    run_id = _run_id(request.config)
    with open(BUILD_DIR / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text().split("\n")[0] == run_id):
            result = subprocess.run(
                [JUPYTER_BOOK, "build", str(ROOT), "-W", "-n", "--keep-going"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                env={**os.environ, "MPLBACKEND": "Agg"},
            )
            log_file.write_text(result.stdout + result.stderr)
            stamp.write_text(f"{run_id}\n{result.returncode}\n")
        returncode = int(stamp.read_text().split("\n")[1])
    return {"html": html, "returncode": returncode, "log": log_file.read_text()}
