"""Sphinx extension with the course website's fixes: offline MathJax, clean pages.

1. **MathJax served by the site itself**, so formulas render offline, without a CDN.
   The MathJax 3.2.2 files come from the pinned PyPI package ``sphinx-mathjax-offline``.
   That package's own Sphinx extension copies all 24 MB of MathJax into every build,
   which alone would break the course's 25 MB site budget, so this extension copies
   only what ``tex-chtml.js`` loads (about 2.5 MB):

   - ``tex-chtml.js``: TeX input (base, ams, newcommand, ...), CommonHTML output, the
     menu and assistive MathML for screen readers, in one file;
   - ``input/tex/extensions/``: the TeX packages that ``autoload`` fetches on demand
     (``\\boldsymbol``, ``\\cancel``, ...);
   - ``output/chtml/fonts/woff-v2/``: the math fonts;
   - ``ui/``: the menu's lazily loaded parts.

   Left out: the other combined files, the SVG output, and the speech-rule engine
   (``sre``, 4 MB) with the ``a11y`` explorer that needs it. MathJax's default
   settings never load them; screen readers get the assistive MathML that
   ``tex-chtml.js`` includes.

2. **Each inline script once.** With Sphinx 7.4, an inline script that an extension
   adds after the builder started (sphinx-thebe's ``const THEBE_JS_URL = ...``,
   sphinx-togglebutton's selector) is emitted twice, and the second ``const`` is a
   console error on every page. Duplicates are dropped from each page's scripts.

3. **No stylesheet from a CDN in animations.** Matplotlib's JavaScript animation
   player (``to_jshtml``, used through ``helpers.plotting.animation_html``) links
   Font Awesome 4 from maxcdn.bootstrapcdn.com for its button icons. The theme
   ships Font Awesome, which draws the same icons, so the link is removed from the
   pages (the notebooks keep it).

4. **Reference lists that assistive technology understands.** Docutils marks each
   entry of a reference list with the DPub role ``doc-biblioentry`` inside a
   ``role="list"``; that role is deprecated (DPub-ARIA 1.1) and is not a list item,
   so screen readers see a list without items (axe-core: aria-required-children,
   critical). Entries are marked ``listitem``.

5. **Exercise notebooks that read well in Jupyter and on the site.** In the notebooks, an
   exercise is a Markdown cell tagged ``exercise-task`` (its first line a heading such as
   ``## q1: An AdaGrad step``, its metadata ``"exercise": "q1"``), the stub cell, and the
   cell that calls ``q1.check(...)``. No directive fences, and no cell that prints the
   solution: a learner who runs the notebook top to bottom sees tasks, stubs and feedback,
   and a solution only by calling ``q1.solution()``. As the site reads the notebook,
   :func:`exercise_cells_for_site` wraps each exercise in sphinx-exercise's gated
   directives and adds, after it, a folded solution whose content is the output of
   ``q1.solution()``: the same code that the tests check.

6. **Downloads for running the notebooks anywhere.** The build puts into ``downloads/`` the
   wheel of the course's ``helpers`` distribution (built from this checkout), and a "whole
   course" archive: every chapter and exercise notebook, the wheel, a ``requirements.txt``
   with the course's pins of the packages a learner needs, and ``archive/README.md``. The
   page "Run the notebooks" links both.

7. **One setting for the public repository.** Setting ``repository.url`` in ``_config.yml``
   turns on the repository and issue buttons and, on notebook pages, the launch buttons
   (Binder, Colab; where they launch is set under ``launch_buttons``). Left empty, none of
   them is shown (the theme fails on repository and launch buttons without a URL).

8. **Lighter icons.** The theme draws its icons with Font Awesome's 1.5 MB JavaScript, which
   turns each icon into an SVG; the stylesheet and the solid web font that the theme also
   loads draw the same icons. The script (and the preloads of the brands and regular fonts,
   which no page uses) are dropped from every page, and the script from the site.

9. **A favicon** (``_static/favicon.svg``, set as ``html_favicon``), and ``favicon.ico`` at
   the site's root, where browsers look for one.

10. **Small behaviours** (``_static/course.js``, on every page): wide equations and tables
    that scroll sideways on a phone get a keyboard stop; search results show formulas as
    text instead of raw TeX.

11. **Titles on the execution-statistics page** instead of document paths.

12. **Helpers' names link to the API page.** In the prose, an inline literal that names a
    helper in full (``helpers.training.fit``, with or without ``()``) becomes a link
    to its entry on the API page (``book/api.md``); a name the API page does not document is
    a warning, so a renamed or removed helper cannot leave a stale name behind. In code
    cells, ``sphinx-codeautolink`` links every use of an imported helper the same way.
    (sphinx-exercise wraps an exercise's content in sections without a title, which
    sphinx-codeautolink 0.20 does not expect: it pops a title for every section it leaves.
    It is made to pop only for the sections that have one.)

13. **The whole book as one PDF**, ``pdf/optimization-for-neural-networks.pdf``, printed by
    the system's Chromium (Playwright drives it) from the built pages in reading order:
    one document, every chapter on a new page, links between chapters kept as links inside
    the PDF, solutions shown, the first frame of each animation, page numbers, and a PDF
    outline from the headings. Run after the HTML build (``make pdf``, or
    ``python book/_ext/course_site.py pdf``); the intro's ``{{ pdf_link }}`` links it.

Configure in ``_config.yml``::

    sphinx:
      local_extensions:
        course_site: book/_ext
      config:
        mathjax_path: mathjax/tex-chtml.js
"""

from __future__ import annotations

import importlib.util
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.fileutil import copy_asset

__all__ = [
    "MATHJAX_KEEP",
    "exercise_cells_for_site",
    "mathjax_source",
    "notebook_for_site",
    "print_pdf",
    "reading_order",
    "setup",
    "toc_docnames",
]

MATHJAX_PATH = "mathjax/tex-chtml.js"
# Paths (relative to MathJax's root) that are copied into _static/mathjax.
MATHJAX_KEEP = (
    "tex-chtml.js",
    "input/tex/extensions/",
    "output/chtml/fonts/woff-v2/",
    "ui/",
)


def mathjax_source() -> Path:
    """Return the MathJax folder shipped by the ``sphinx-mathjax-offline`` package."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise ExtensionError(
            "course_site: the package sphinx-mathjax-offline is not installed "
            "(pip install -r requirements.txt)"
        )
    source = Path(spec.origin).parent / "static" / "mathjax"
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(f"course_site: no MathJax found in {source}")
    return source


def _excluded(path: str) -> bool:
    """Tell ``copy_asset`` to skip ``path`` (relative, / separators) unless kept."""
    path = path.replace("\\", "/")
    for keep in MATHJAX_KEEP:
        if keep.endswith("/"):
            # Keep the folder, its content and the folders above it (to descend).
            if path.startswith(keep) or keep.startswith(path.rstrip("/") + "/"):
                return False
        elif path == keep:
            return False
    return True


def _use_local_mathjax(app: Sphinx, config) -> None:
    # Sphinx's default is a CDN address: use the local copy unless configured.
    if "://" in (config.mathjax_path or ""):
        config.mathjax_path = MATHJAX_PATH


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    copy_asset(mathjax_source(), Path(app.outdir, "_static", "mathjax"), excluded=_excluded)


def _drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (
            getattr(script, "filename", script) or "",  # None and "" both mean inline
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


CDN_FONT_AWESOME = re.compile(
    r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^\"']*\.css[\"'][^>]*>\s*",
    re.IGNORECASE,
)


def _drop_cdn_stylesheets(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for raw in list(doctree.findall(nodes.raw)):
        if "html" not in raw.get("format", "").split():
            continue
        text = raw.astext()
        cleaned = CDN_FONT_AWESOME.sub("", text)
        if cleaned != text:
            raw.clear()
            raw += nodes.Text(cleaned)


def _visit_citation_html(self, node: nodes.citation) -> None:
    # As docutils' HTML5 writer, with role "listitem" instead of "doc-biblioentry".
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _depart_citation_html(self, node: nodes.citation) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


EXERCISE_TASK = "exercise-task"
EXERCISE_FOLDER = "book/exercises/"


def _markdown_cell(cell_id: str, source: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def _solution_cells(question: str, label: str) -> list[dict]:
    """The folded solution of one exercise: the output of ``question.solution()``."""
    show = {
        "cell_type": "code",
        "id": f"{label}-solution",
        "metadata": {"tags": ["remove-input"], "mystnb": {"markdown_format": "myst"}},
        "execution_count": None,
        "outputs": [],
        "source": f"{question}.solution()",
    }
    return [
        _markdown_cell(f"{label}-end", "```{exercise-end}\n```"),
        _markdown_cell(
            f"{label}-solution-start", f"```{{solution-start}} {label}\n:class: dropdown\n```"
        ),
        show,
        _markdown_cell(f"{label}-solution-end", "```{solution-end}\n```"),
    ]


def exercise_cells_for_site(notebook: dict, number: str) -> dict:
    """The exercise notebook as the site shows it (see the module docstring, item 5).

    Parameters
    ----------
    notebook : dict
        The notebook as committed (nbformat 4 JSON).
    number : str
        The chapter's two digits, for the labels ``ex05-q1``, ...

    Returns
    -------
    dict
        A copy of ``notebook`` in which each exercise sits in ``exercise-start`` /
        ``exercise-end`` fences, followed by its solution in a dropdown.
    """
    cells, open_exercise = [], None
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and EXERCISE_TASK in cell["metadata"].get("tags", []):
            if open_exercise:
                raise ExtensionError(f"exercise {open_exercise[0]} has no check cell")
            question = cell["metadata"]["exercise"]
            heading, _, task = source.partition("\n")
            label = f"ex{number}-{question}"
            title = heading.lstrip("#").strip()
            start = f"```{{exercise-start}} {title}\n:label: {label}\n:nonumber:\n```"
            cells += [_markdown_cell(f"{label}-start", start), {**cell, "source": task.lstrip()}]
            open_exercise = (question, label)
            continue
        cells.append(cell)
        if open_exercise and cell["cell_type"] == "code":
            if source.startswith(f"{open_exercise[0]}.check("):
                cells += _solution_cells(*open_exercise)
                open_exercise = None
    if open_exercise:
        raise ExtensionError(f"exercise {open_exercise[0]} has no check cell")
    return {**notebook, "cells": cells}


def notebook_for_site(docname: str, notebook: dict) -> dict:
    """The notebook ``docname`` (e.g. ``book/exercises/05_adaptive_methods``) as the site runs it.

    Exercise notebooks get their exercise fences and solutions
    (:func:`exercise_cells_for_site`); chapters are run as they are.
    """
    if not docname.startswith(EXERCISE_FOLDER):
        return notebook
    return exercise_cells_for_site(notebook, docname.removeprefix(EXERCISE_FOLDER)[:2])


def _exercise_page_source(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname.startswith(EXERCISE_FOLDER) and source[0].lstrip().startswith("{"):
        source[0] = json.dumps(notebook_for_site(docname, json.loads(source[0])))


ROOT = Path(__file__).resolve().parents[2]
DOWNLOADS = "downloads"
ARCHIVE_NAME = "optimization-for-neural-networks"
# The packages a learner needs to run the notebooks, pinned as the course pins them.
LEARNER_PACKAGES = ("torch", "numpy", "matplotlib", "scikit-learn", "ipykernel", "jupyterlab")


def toc_docnames(toc_file: Path = ROOT / "_toc.yml") -> list[str]:
    """The documents of the book in reading order (root first), from ``_toc.yml``."""
    toc = yaml.safe_load(toc_file.read_text())
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("chapters", "sections"):
                walk(entry.get(key, []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [
        str(Path(n).with_suffix("")) if Path(n).suffix in (".md", ".ipynb") else n for n in names
    ]


def wheel_name() -> str:
    """The file name of the helpers wheel, from the distribution's name and version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return f"{project['name'].replace('-', '_')}-{project['version']}-py3-none-any.whl"


def download_links() -> dict[str, str]:
    """MyST substitutions for the pages: ``{{ wheel_link }}``, ``{{ archive_link }}``, ...

    The links are relative to a page in ``book/``, as the intro and "Run the notebooks" are.
    """
    wheel = wheel_name()
    return {
        "wheel_name": wheel,
        "wheel_link": f'<a href="../{DOWNLOADS}/{wheel}" download>{wheel}</a>',
        "archive_link": (
            f'<a href="../{DOWNLOADS}/{ARCHIVE_NAME}.zip" download>{ARCHIVE_NAME}.zip</a>'
        ),
    }


def build_wheel(outdir: Path) -> Path:
    """Build the wheel of the ``helpers`` distribution from this checkout into ``outdir``."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp, ROOT],
            capture_output=True,
            text=True,
            check=False,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode or [w.name for w in wheels] != [wheel_name()]:
            raise ExtensionError(f"course_site: building the helpers wheel failed:\n{done.stderr}")
        outdir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], outdir))


def learner_requirements(wheel_name: str) -> str:
    """The archive's requirements.txt: the course's pins of LEARNER_PACKAGES, and the wheel."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name, sep, _ = line.partition("==")
        if sep:
            pins[name.strip().lower()] = line.strip()
    missing = [p for p in LEARNER_PACKAGES if p not in pins]
    if missing:
        raise ExtensionError(f"course_site: requirements.txt pins none of {missing}")
    lines = [pins[p] for p in LEARNER_PACKAGES] + [f"./{wheel_name}"]
    return "# Run: pip install -r requirements.txt (from this folder)\n" + "\n".join(lines) + "\n"


def build_archive(wheel: Path, outdir: Path) -> Path:
    """Zip every notebook, the wheel, requirements.txt and the README into ``outdir``."""
    path = outdir / f"{ARCHIVE_NAME}.zip"
    book = ROOT / "book"
    notebooks = sorted(book.glob("[0-9][0-9]_*.ipynb")) + sorted(
        (book / "exercises").glob("[0-9][0-9]_*.ipynb")
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for notebook in notebooks:
            archive.write(notebook, f"{ARCHIVE_NAME}/{notebook.relative_to(book)}")
        archive.write(wheel, f"{ARCHIVE_NAME}/{wheel.name}")
        archive.writestr(f"{ARCHIVE_NAME}/requirements.txt", learner_requirements(wheel.name))
        archive.write(
            Path(__file__).with_name("archive") / "README.md", f"{ARCHIVE_NAME}/README.md"
        )
    return path


def _write_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir, DOWNLOADS)
    shutil.rmtree(outdir, ignore_errors=True)
    build_archive(build_wheel(outdir), outdir)


def pdf_enabled() -> bool:
    """True if the build prints the PDF: Chromium and Playwright are there, COURSE_PDF != 0."""
    import os

    if os.environ.get("COURSE_PDF") == "0":
        return False
    return find_chromium() is not None and importlib.util.find_spec("playwright") is not None


def pdf_link() -> str:
    """The intro's ``{{ pdf_link }}``: a link to the PDF, or a note if this build has none."""
    if not pdf_enabled():
        return "a PDF (not made by this build of the site: <code>make pdf</code>)"
    return f'<a href="../{PDF_FOLDER}/{PDF_NAME}" download>{PDF_NAME}</a>'


def _download_substitutions(app: Sphinx, config) -> None:
    links = {**download_links(), "pdf_link": pdf_link()}
    config.myst_substitutions = {**links, **(config.myst_substitutions or {})}


def _write_pdf(app: Sphinx, exception: Exception | None) -> None:
    # In a process of its own: Playwright's sync API refuses to run inside an event loop,
    # and the notebooks' execution may have left one behind.
    if exception is not None or app.builder.format != "html" or not pdf_enabled():
        return
    done = subprocess.run(
        [sys.executable, __file__, "pdf", str(app.outdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise ExtensionError(f"course_site: printing the PDF failed:\n{done.stderr[-3000:]}")


def _repository_buttons(app: Sphinx, config) -> None:
    options = config.html_theme_options
    if options.get("repository_url"):
        options["use_repository_button"] = True
        options["use_issues_button"] = True
    else:
        # Launch buttons open the repository's notebook: without one, the theme would fail.
        options["launch_buttons"] = {}


HELPER_NAME = re.compile(r"helpers(\.[A-Za-z_]\w*)+")


class _LinkHelperNames(SphinxTransform):
    """An inline literal naming a helper in full links to its entry on the API page."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        for literal in list(self.document.findall(nodes.literal)):
            name = literal.astext().removesuffix("()")
            if not HELPER_NAME.fullmatch(name) or _left_as_it_is(literal):
                continue
            xref = addnodes.pending_xref(
                "",
                literal.deepcopy(),
                refdomain="py",
                reftype="obj",
                reftarget=name,
                refexplicit=True,
                refwarn=True,
                refdoc=self.env.docname,
            )
            literal.replace_self(xref)


def _codeautolink_tolerates_untitled_sections() -> None:
    from sphinx_codeautolink.extension.block import CodeBlockAnalyser

    pop_title = CodeBlockAnalyser.depart_section

    def depart_section(self, node: nodes.section) -> None:
        if node.children and isinstance(node.children[0], nodes.title):
            pop_title(self, node)

    CodeBlockAnalyser.depart_section = depart_section


#: A literal inside one of these is not linked: a link already, an API entry, a heading.
NOT_LINKED_INSIDE = (nodes.reference, addnodes.pending_xref, addnodes.desc, nodes.title)


def _left_as_it_is(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, NOT_LINKED_INSIDE):
            return True
        parent = parent.parent
    return False


class _ExecutionTableTitles(SphinxPostTransform):
    """The execution-statistics table names each notebook by its title, not its path."""

    default_priority = 9  # after myst-nb builds the table (8), before links are resolved (10)

    def run(self, **kwargs) -> None:
        titles = self.env.titles
        base = posixpath.dirname(self.env.docname)
        for table in self.document.findall(nodes.table):
            for xref in table.findall(addnodes.pending_xref):
                if xref.get("reftype") != "doc":
                    continue
                target = posixpath.normpath(posixpath.join(base, xref["reftarget"]))
                if target in titles and xref.astext() == target:
                    xref.children = [nodes.inline(text=titles[target].astext())]


FONT_AWESOME_JS = re.compile(
    r'\s*<script src="[^"]*_static/vendor/fontawesome/[^"]*/js/all\.min\.js[^"]*"></script>'
)
UNUSED_FONT_PRELOADS = re.compile(
    r'\s*<link rel="preload" as="font"[^>]*fa-(brands|regular)-400\.woff2"\s*/?>'
)


def _slim_font_awesome(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        text = page.read_text()
        slim = UNUSED_FONT_PRELOADS.sub("", FONT_AWESOME_JS.sub("", text))
        if slim != text:
            page.write_text(slim)
    for script in (outdir / "_static" / "vendor" / "fontawesome").glob("*/js"):
        shutil.rmtree(script)


def _favicon_at_the_root(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    shutil.copy2(Path(__file__).parents[1] / "_static" / "favicon.ico", app.outdir)


# -- the PDF ------------------------------------------------------------------------------

PDF_FOLDER = "pdf"
PDF_NAME = f"{ARCHIVE_NAME}.pdf"
# Pages of the site that are not part of the book.
NOT_IN_PDF = ("book/exec_stats",)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")

# Runs in the first page: replaces its article with the articles of all pages, in order.
ASSEMBLE_BOOK_JS = """
async (pages) => {
  const slug = page => page.replace(/\\.html$/, "").replace(/[^A-Za-z0-9]+/g, "-");
  const inBook = new Map(pages.map(p => [new URL(p, document.baseURI).pathname, slug(p)]));
  const root = new URL(document.documentElement.dataset.content_root || ".", location.href);
  const sections = [];
  for (const page of pages) {
    const url = new URL(page, root);
    const doc = new DOMParser().parseFromString(await (await fetch(url)).text(), "text/html");
    const article = doc.querySelector("article.bd-article");
    const id = slug(page);
    // The first frame of each animation (its frames are in the script beside it).
    for (const img of article.querySelectorAll("img[id^=_anim_img]")) {
      const key = img.id.replace("_anim_img", "");
      const script = [...article.querySelectorAll("script")].find(s => s.text.includes(key));
      const frame = script && script.text.match(/frames\\[0\\]\\s*=\\s*"([^"]+)"/);
      if (frame) img.setAttribute("src", frame[1]);
    }
    article.querySelectorAll("script, .anim-controls, .anim-buttons, form")
        .forEach(e => e.remove());
    for (const el of article.querySelectorAll("[src]")) {
      const src = el.getAttribute("src");
      if (!src.startsWith("data:")) el.src = new URL(src, url).href;
    }
    for (const el of article.querySelectorAll("[id]")) el.id = `${id}--${el.id}`;
    for (const a of article.querySelectorAll("a[href]")) {
      const target = new URL(a.getAttribute("href"), url);
      if (target.origin !== location.origin) continue;  // a link to the web stays as it is
      const chapter = inBook.get(target.pathname);
      if (chapter) {
        a.setAttribute("href", "#" + chapter + (target.hash ? `--${target.hash.slice(1)}` : ""));
      } else {
        a.removeAttribute("href");  // a file of the website, which the PDF does not have
      }
    }
    const section = document.createElement("section");
    section.className = "course-pdf-page";
    section.id = id;
    section.append(...article.childNodes);
    sections.push(section);
  }
  document.title = document.querySelector("meta[property='og:site_name']")?.content
      || document.title.split(/ [—–-] /).pop();
  document.documentElement.dataset.theme = "light";
  document.documentElement.dataset.mode = "light";
  const main = document.querySelector("article.bd-article");
  main.replaceChildren(...sections);
  await Promise.all([...main.querySelectorAll("img")].map(img => img.complete ? null :
      new Promise(resolve => { img.onload = img.onerror = resolve; })));
  if (window.MathJax && MathJax.typesetPromise) {
    MathJax.typesetClear();
    await MathJax.typesetPromise([main]);
  }
  await document.fonts.ready;
  return sections.length;
}
"""

PRINT_CSS = """
@page { size: A4; margin: 16mm 13mm 17mm 13mm; }
html { font-size: 15px; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .headerlink, .copybtn, .toggle-button,
.skip-link, #pst-back-to-top, .search-button-field, .sidebar-toggle,
#jb-print-docs-body { display: none !important; }
.bd-container, .bd-container__inner, .bd-page-width, .bd-main, .bd-content,
.bd-main .bd-content .bd-article-container { max-width: none !important; padding: 0 !important;
  margin: 0 !important; width: 100% !important; }
.course-pdf-page + .course-pdf-page { break-before: page; }
.course-pdf-page h1 { display: block !important; }  /* the theme prints its own title instead */
h1, h2, h3 { break-after: avoid; }
.cell_output img, mjx-container[display="true"], .admonition-title, tr { break-inside: avoid; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.toggle-hidden { display: block !important; visibility: visible !important; }
"""

PDF_FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="title"></span> · <span class="pageNumber"></span> / '
    '<span class="totalPages"></span></div>'
)


def find_chromium() -> str | None:
    """The system's Chromium: $CHROMIUM_PATH, /usr/bin/chromium or one on the PATH."""
    import os

    for candidate in (os.environ.get("CHROMIUM_PATH"), *CHROMIUM_CANDIDATES):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def reading_order(html_dir: Path) -> list[str]:
    """The book's pages (relative to ``html_dir``) in reading order: the "next" links."""
    from html.parser import HTMLParser

    class NextLink(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.next: str | None = None

        def handle_starttag(self, tag, attrs) -> None:
            a = dict(attrs)
            if tag == "a" and "right-next" in (a.get("class") or "").split() and not self.next:
                self.next = a.get("href")

    index = (html_dir / "index.html").read_text()
    page = posixpath.normpath(re.search(r'url=([^"\s]+)', index).group(1))
    pages: list[str] = []
    while page and page not in pages:
        pages.append(page)
        parser = NextLink()
        parser.feed((html_dir / page).read_text())
        if parser.next is None:
            break
        nxt = posixpath.normpath(posixpath.join(posixpath.dirname(page), parser.next))
        page = nxt.split("#")[0]
    return [p for p in pages if p.removesuffix(".html") not in NOT_IN_PDF]


def print_pdf(html_dir: Path, out: Path, pages: list[str] | None = None) -> Path:
    """Print the built site's pages (default: the whole book, in order) into one PDF.

    Parameters
    ----------
    html_dir : Path
        The built site (``_build/html``).
    out : Path
        The PDF to write.
    pages : list of str, optional
        Pages relative to ``html_dir``, in order; the first one must show formulas (it hosts
        the others and typesets them). Default: :func:`reading_order`.

    Returns
    -------
    Path
        ``out``.
    """
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise ExtensionError("course_site: no Chromium found to print the PDF (CHROMIUM_PATH)")
    pages = pages or reading_order(html_dir)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_default_timeout(300_000)
            page.goto(base + pages[0], wait_until="networkidle")
            page.add_style_tag(content=PRINT_CSS)
            page.evaluate(ASSEMBLE_BOOK_JS, pages)
            page.emulate_media(media="print")
            page.pdf(
                path=str(out),
                format="A4",
                print_background=True,
                prefer_css_page_size=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=PDF_FOOTER,
                outline=True,
                tagged=True,
            )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def main(argv: list[str] | None = None) -> int:
    """``python book/_ext/course_site.py pdf [HTML_DIR] [--pages PAGE ...]``: print the PDF."""
    import argparse

    parser = argparse.ArgumentParser(description="Print the built book into one PDF.")
    parser.add_argument("command", choices=["pdf"])
    parser.add_argument("html_dir", nargs="?", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--pages", nargs="+", help="pages relative to HTML_DIR (default: all)")
    parser.add_argument("--out", type=Path, help="default: HTML_DIR/pdf/" + PDF_NAME)
    args = parser.parse_args(argv)
    if not (args.html_dir / "index.html").is_file():
        print(f"No built site in {args.html_dir}: run make book first", file=sys.stderr)
        return 2
    out = args.out or args.html_dir / PDF_FOLDER / PDF_NAME
    print_pdf(args.html_dir, out, args.pages)
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def setup(app: Sphinx) -> dict:
    mathjax_source()  # fail early, with a clear message, if the package is missing
    app.connect("config-inited", _use_local_mathjax)
    app.connect("config-inited", _repository_buttons)
    app.connect("config-inited", _download_substitutions)
    app.connect("build-finished", _write_downloads)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _slim_font_awesome)
    app.connect("build-finished", _favicon_at_the_root)
    # Last: the PDF is printed from the finished pages (MathJax and icons in place).
    app.connect("build-finished", _write_pdf, priority=900)
    app.add_js_file("course.js", defer="defer")
    app.add_post_transform(_ExecutionTableTitles)
    app.add_transform(_LinkHelperNames)
    _codeautolink_tolerates_untitled_sections()
    # After the other extensions have added their page scripts (default priority 500).
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.connect("doctree-resolved", _drop_cdn_stylesheets)
    app.connect("source-read", _exercise_page_source)
    app.add_node(
        nodes.citation,
        override=True,
        html=(_visit_citation_html, _depart_citation_html),
    )
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    sys.exit(main())
