"""Numbers for the prose: store a computed value so that the page's text can quote it.

A chapter computes a number, passes it to :func:`glue`, and its Markdown quotes it with
myst-nb's role, for example ``{glue:text}`best_lr:.3g```. The prose and the output then come
from the same run, on every machine. A bound ("at most 6 %", "at least 3.6 times") is glued
rounded in its safe direction, with :func:`round_up` or :func:`round_down`, so that the
rounded number the page shows is still true. Introduced in chapter 2 (the learning rate).
:func:`show_source` shows the code of a helper the page uses, such as an update rule.
"""

from __future__ import annotations

import ast
import inspect
import math
import numbers
import textwrap

import numpy as np
import torch

from helpers._checks import check_callable, check_int, to_real

__all__ = ["glue", "round_down", "round_up", "show_source"]


def _plain(value):
    """``value`` as a plain Python number or string, so that its stored text is ``0.25``."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"glue takes a single number, got a tensor of shape {value.shape}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"glue takes a single number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Number | str):
        raise TypeError(f"glue takes a number or a string, got {type(value).__name__}")
    return value


# myst-nb reads glued values from display outputs with this prefix and metadata; writing
# them here saves importing myst-nb (and docutils) in every chapter's kernel.
_GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value):
    """Store ``value`` under ``name`` for the page's prose, and return it.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    name : str
        The key that the Markdown quotes, as in ``{glue:text}`name:.2f```.
    value : number or str
        A Python, NumPy or one-element torch number, or a string.

    Returns
    -------
    int, float or str
        ``value`` as a plain Python object.

    Notes
    -----
    The value is displayed as ``myst_nb.glue(name, value, display=False)`` displays it: an
    output that shows nothing in Jupyter and that the book build reads. Outside IPython it is
    only returned.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier such as 'best_lr', got {name!r}")
    value = _plain(value)
    try:
        from IPython import get_ipython
        from IPython.core.formatters import format_display_data
        from IPython.display import display
    except ImportError:
        return value
    if get_ipython() is None:
        return value
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": _GLUE_PREFIX}
    display({_GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
    return value


def _round_significant(x, digits, direction) -> float:
    """``x`` rounded with ``direction`` (``math.ceil`` or ``math.floor``) to ``digits``."""
    x = to_real("x", x, low_open=True, high_open=True)  # finite
    digits = check_int("digits", digits, low=1, high=17)
    if x == 0:
        return 0.0
    scale = 10.0 ** (math.floor(math.log10(abs(x))) - digits + 1)
    return direction(x / scale) * scale


def round_up(x: float, digits: int = 2) -> float:
    """``x`` rounded up to ``digits`` significant digits: safe to quote as "at most", "below".

    Introduced in the chapter *The learning rate*.

    Parameters
    ----------
    x : float
        A finite number.
    digits : int
        Significant digits to keep, 1 to 17.

    Returns
    -------
    float
        The smallest number with ``digits`` significant digits that is ``>= x``.
    """
    return _round_significant(x, digits, math.ceil)


def round_down(x: float, digits: int = 2) -> float:
    """``x`` rounded down, as :func:`round_up` rounds up: safe to quote as "at least".

    Introduced in the chapter *The learning rate*.
    """
    return _round_significant(x, digits, math.floor)


def _without_docstring(source: str, keep_summary: bool = False) -> str:
    """``source``, the code of one function, with the lines of its docstring left out.

    With ``keep_summary`` the docstring's first paragraph (its summary) stays.
    """
    try:
        definition = ast.parse(source).body[0]
    except SyntaxError:  # a lambda's source is the line around it
        return source
    body = getattr(definition, "body", None)
    if not body or ast.get_docstring(definition) is None:
        return source
    lines = source.splitlines()
    start, end = body[0].lineno - 1, body[0].end_lineno
    kept = _summary_lines(lines[start:end], body[0].col_offset) if keep_summary else []
    return "\n".join(lines[:start] + kept + lines[end:])


def _summary_lines(docstring: list[str], indent: int) -> list[str]:
    """The source lines of a docstring cut after its first paragraph, closed again."""
    blank = next((k for k, line in enumerate(docstring) if k and not line.strip()), None)
    if blank is None:
        return docstring
    quotes = "'''" if docstring[0].lstrip().lstrip("rRuU").startswith("'''") else '"""'
    if blank == 1:  # a one-line summary: closed on its line
        return [docstring[0].rstrip() + quotes]
    return [*docstring[:blank], " " * indent + quotes]


def show_source(function) -> None:
    """Show the code of ``function``, without its docstring, as a Python listing.

    Introduced in the chapter *Adaptive methods*, which shows the update rules of
    :mod:`helpers.optim.functional` with it: the page shows the very code it runs.

    Parameters
    ----------
    function : callable
        A function written in Python, such as ``helpers.optim.functional.adagrad_step``; for a
        function wrapped with ``functools.wraps``, the code of the function it wraps.

    Notes
    -----
    In IPython (Jupyter, the book build) the listing is displayed as Markdown, a ``python``
    code block; elsewhere it is printed.
    """
    check_callable("function", function)
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        raise ValueError(
            f"Invalid function: the source of {function!r} cannot be read (it must be a "
            "function written in Python, in a file)"
        ) from None
    code = _without_docstring(source).strip()
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(code)
    else:
        display(Markdown(f"```python\n{code}\n```"))
