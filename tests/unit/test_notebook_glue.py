"""helpers.notebook: glue stores plain Python numbers; source listings trim docstrings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.notebook import glue


@pytest.mark.parametrize(
    ("value", "expected"),
    [(np.float64(0.25), 0.25), (np.int64(44), 44), (torch.tensor(1.5), 1.5), (3, 3), ("x", "x")],
)
def test_glue_returns_a_plain_python_value(value, expected):
    out = glue("value", value)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize("value", [np.zeros(3), torch.ones(2), [1, 2], None, True])
def test_glue_refuses_what_is_not_one_number(value):
    with pytest.raises((TypeError, ValueError), match="glue takes"):
        glue("value", value)


@pytest.mark.parametrize("name", ["", "two words", "1st", 3])
def test_glue_names_must_be_identifiers(name):
    with pytest.raises(ValueError, match="glue name"):
        glue(name, 1.0)


def test_glue_displays_what_myst_nb_glue_displays(monkeypatch):
    # The book build reads the glued value back with myst-nb: the outputs must be the same.
    import IPython
    import IPython.display
    from IPython.testing.globalipapp import start_ipython
    from myst_nb.ext import glue as myst_glue

    start_ipython()
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    monkeypatch.setattr(myst_glue, "ipy_display", lambda *a, **k: shown.append((a, k)))
    glue("best_lr", np.float64(0.25))
    myst_glue.glue("best_lr", 0.25, display=False)
    assert len(shown) == 2 and shown[0] == shown[1]


@pytest.mark.parametrize(
    ("x", "digits", "up", "down"),
    [
        (0.0550, 1, 0.06, 0.05),
        (3.66, 2, 3.7, 3.6),
        (1.24e-9, 1, 2e-9, 1e-9),
        (-0.464, 1, -0.4, -0.5),
        (83.16, 3, 83.2, 83.1),
        (0.0, 2, 0.0, 0.0),
    ],
)
def test_bounds_are_rounded_in_their_safe_direction(x, digits, up, down):
    from helpers.notebook import round_down, round_up

    assert round_up(x, digits) == pytest.approx(up) and round_up(x, digits) >= x
    assert round_down(x, digits) == pytest.approx(down) and round_down(x, digits) <= x


@pytest.mark.parametrize(
    ("x", "digits"), [(float("nan"), 2), (float("inf"), 1), (1.0, 0), (1.0, 1.5)]
)
def test_rounding_refuses_what_it_cannot_round(x, digits):
    from helpers.notebook import round_up

    with pytest.raises(ValueError, match=r"Invalid (x|digits)"):
        round_up(x, digits)


SOURCE_WITH_DOCSTRING = '''def step(p, g, lr):
    """One step down the gradient,
    scaled by lr.

    Parameters
    ----------
    lr : float
    """
    return p - lr * g
'''


@pytest.mark.parametrize(
    ("keep_summary", "expected"),
    [
        (False, "def step(p, g, lr):\n    return p - lr * g"),
        (
            True,
            'def step(p, g, lr):\n    """One step down the gradient,\n    scaled by lr.\n'
            '    """\n    return p - lr * g',
        ),
    ],
)
def test_source_listings_leave_out_the_docstring_or_all_but_its_summary(keep_summary, expected):
    from helpers.notebook import _without_docstring

    assert _without_docstring(SOURCE_WITH_DOCSTRING, keep_summary).strip() == expected
    one_line = SOURCE_WITH_DOCSTRING.replace("gradient,\n    scaled by lr.", "gradient.")
    kept = _without_docstring(one_line, keep_summary=True)
    assert kept.splitlines()[1] == '    """One step down the gradient."""'
    compile(kept, "listing", "exec")
