"""Settings of the site: the repository URL turns the buttons on; the downloads are linked.

``repository.url`` in ``_config.yml`` is the one setting for the public repository: set, the
pages show the repository and issue buttons and, on notebook pages, Binder and Colab buttons;
empty (as committed), none of them. The intro links "Run the notebooks", the helpers wheel and
the whole-course archive, and the files are there.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.conftest import ROOT, build_env

pytestmark = pytest.mark.slow
REPOSITORY = "https://github.com/example/optimization-course"


@pytest.fixture(scope="module")
def site_with_repository(tmp_path_factory):
    """Two pages of the book built (not executed) with ``repository.url`` set."""
    where = tmp_path_factory.mktemp("repository-site")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = REPOSITORY
    config["execute"]["execute_notebooks"] = "off"
    # Paths in a configuration file are relative to that file.
    config["sphinx"]["local_extensions"] = {"course_site": str(ROOT / "book" / "_ext")}
    (where / "_config.yml").write_text(yaml.safe_dump(config))
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "book/run"}]}
    toc["chapters"].append({"file": "book/01_gradient_descent"})
    (where / "_toc.yml").write_text(yaml.safe_dump(toc))
    command = ["build", ".", "--config", str(where / "_config.yml")]
    command += ["--toc", str(where / "_toc.yml"), "--path-output", str(where)]
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "jupyter-book"), *command],
        cwd=ROOT,
        env=build_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return where / "_build" / "html"


def test_repository_url_turns_on_repository_issue_and_launch_buttons(site_with_repository):
    page = (site_with_repository / "book" / "01_gradient_descent.html").read_text()
    links = set(re.findall(r'href="([^"]+)"', page))
    assert REPOSITORY in links, "no repository button"
    assert any(link.startswith(f"{REPOSITORY}/issues/new") for link in links), "no issues button"
    notebook = "book/01_gradient_descent.ipynb"
    assert any("binder" in link and link.endswith(notebook) for link in links), "no Binder"
    assert any("colab" in link and link.endswith(notebook) for link in links), "no Colab"


def test_without_repository_url_no_button_points_anywhere(built_site):
    assert yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"] == ""
    page = (built_site / "book" / "01_gradient_descent.html").read_text()
    assert not re.search(r'href="[^"]*(github\.com|mybinder|colab\.research)', page)


def test_intro_links_the_run_page_the_wheel_and_the_archive(built_site):
    intro = (built_site / "book" / "intro.html").read_text()
    links = set(re.findall(r'href="([^"]+)"', intro))
    assert "run.html" in links, "no link to 'Run the notebooks'"
    downloads = sorted(link for link in links if link.startswith("../downloads/"))
    assert [d.rsplit(".", 1)[-1] for d in downloads] == ["whl", "zip"], downloads
    for link in downloads:
        assert (built_site / "book" / link).resolve().is_file(), link
