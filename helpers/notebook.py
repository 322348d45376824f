"""Numbers for the prose: store a computed value so that the page's text can quote it.

A chapter computes a number, passes it to :func:`glue`, and its Markdown quotes it with
myst-nb's role, for example ``{glue:text}`best_lr:.3g```. The prose and the output then come
from the same run, on every machine. Introduced in chapter 2 (the learning rate).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

__all__ = ["glue"]


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


def glue(name: str, value):
    """Store ``value`` under ``name`` for the page's prose, and return it.

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
    Outside a Jupyter Book build (a notebook run on its own, without myst-nb installed) the
    value is only returned; nothing is displayed.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier such as 'best_lr', got {name!r}")
    value = _plain(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return value
    myst_glue(name, value, display=False)
    return value
