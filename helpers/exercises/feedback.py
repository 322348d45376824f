"""Feedback on an answer, and how it is shown: in colour in a notebook, as plain text elsewhere.

A check ends in a :class:`Feedback`: a status (correct, incorrect, not attempted, error) and a
message, with inline code in backticks. In a Jupyter kernel it is shown as HTML (a coloured
bar, an icon, the theme's colours in light and dark mode); anywhere else it is printed.
Hints and solutions are shown as Markdown the same way.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CORRECT", "ERROR", "INCORRECT", "NOT_ATTEMPTED", "Feedback"]

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"

# Colour, icon and label of each kind of feedback. The colours are the site theme's CSS
# variables (light and dark mode), with a fallback for Jupyter; the label mixes the colour with
# the text colour, so it keeps its contrast on either background.
_LOOK = {
    CORRECT: ("var(--pst-color-success, #1a7f37)", "\u2713", "Correct"),
    INCORRECT: ("var(--pst-color-danger, #cf222e)", "\u2717", "Not quite"),
    NOT_ATTEMPTED: ("var(--pst-color-text-muted, #57606a)", "\u25cb", "Not attempted yet"),
    ERROR: ("var(--pst-color-warning, #bc4c00)", "!", "Error"),
}


@dataclass
class Feedback:
    """The outcome of ``check()``.

    Attributes
    ----------
    status : str
        One of ``"correct"``, ``"incorrect"``, ``"not attempted"`` and ``"error"`` (the
        learner's code raised an exception or ran too long).
    message : str
        What was expected, what was got, and a nudge; inline code in backticks.
    """

    status: str
    message: str
    _shown_in: int | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when the answer is correct."""
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{_LOOK[self.status][2]}: {self.message}"

    def _repr_html_(self) -> str:
        colour, icon, label = _LOOK[self.status]
        return (
            f'<div class="checker-feedback" style="border-left: 4px solid {colour}; '
            f"background: color-mix(in srgb, {colour} 10%, transparent); "
            f'padding: 0.45em 0.9em; margin: 0.3em 0; border-radius: 3px; line-height: 1.5">'
            f'<strong style="color: color-mix(in srgb, {colour} 60%, '
            f'var(--pst-color-text-base, currentColor))">{icon} {label}:</strong> '
            f"{_inline_html(self.message)}</div>"
        )

    def _ipython_display_(self) -> None:
        # check() already displayed this feedback in the running cell: do not show it a
        # second time as the cell's value. Displays in later cells show it again.
        if self._shown_in is not None and self._shown_in == _execution_count():
            return
        _display({"text/html": self._repr_html_(), "text/plain": str(self)})


def _inline_html(text: str) -> str:
    """Escape ``text`` and render its `code`, **bold** and *emphasis* spans and line breaks."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1], quote=False)}</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"<em>\1</em>", part)
        out.append(part)
    return "".join(out).replace("\n", "<br>")


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where rich output is shown), False elsewhere."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _execution_count() -> int | None:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


def _display(bundle: dict[str, str]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def _show_feedback(feedback: Feedback) -> None:
    if _in_notebook():
        _display({"text/html": feedback._repr_html_(), "text/plain": str(feedback)})
        feedback._shown_in = _execution_count()
    else:
        print(feedback)


def _show_markdown(text: str) -> None:
    if _in_notebook():
        _display({"text/markdown": text, "text/plain": text})
    else:
        print(text)


# The words of messages: their length, and how they name a checker's findings.

#: Feedback longer than this is cut (a huge answer must not be echoed back in full).
_MAX_MESSAGE = 1500


def _shortened(feedback: Feedback) -> Feedback:
    if len(feedback.message) <= _MAX_MESSAGE:
        return feedback
    return Feedback(feedback.status, feedback.message[: _MAX_MESSAGE - 20] + " … (cut short)")


class _Stop(Exception):
    """Carries a finished :class:`Feedback` out of a checker (error, timeout, ...)."""

    def __init__(self, feedback: Feedback):
        super().__init__(feedback.message)
        self.feedback = feedback


def _type_name(value: Any) -> str:
    """``value``'s type with an article, for messages: "an int", "a numpy.ndarray", "None"."""
    if value is None:
        return "None"
    module = type(value).__module__
    name = type(value).__qualname__
    if module not in ("builtins", "__main__"):
        name = f"{module.split('.')[0]}.{name}"
    return ("an " if name[0].lower() in "aeiou" else "a ") + name


def _format_number(value: float) -> str:
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"
