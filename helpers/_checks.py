"""Argument checks at the boundary of ``helpers``: every error names the argument.

The public functions of ``helpers`` call these before doing any work, so that bad input
ends in a ``ValueError`` or ``TypeError`` that says which argument is wrong and what it may
be, never in a traceback from deep inside the course's code (or NumPy's, or PyTorch's).

A wrong *type* raises :class:`ArgumentTypeError`, which is both a ``TypeError`` and a
``ValueError``: ``except ValueError`` keeps catching every bad argument, as it did before
the types were checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

__all__ = [
    "ArgumentTypeError",
    "check_bool",
    "check_callable",
    "check_choice",
    "check_examples",
    "check_instance",
    "check_int",
    "check_mapping",
    "check_real",
    "check_str",
    "check_window",
    "short_repr",
    "to_array",
    "to_real",
]


#: Upper bounds on counts, so that a slip such as ``num_steps=10**12`` is an error, not a
#: computation that would never end (or fill the memory).
MAX_STEPS = 1_000_000
MAX_POINTS = 10_000_000
MAX_GRID = 5_000


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a ``TypeError`` that is also a ``ValueError``)."""


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters (a huge argument must not flood errors)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _fail_type(name: str, value: Any, what: str):
    raise ArgumentTypeError(
        f"Invalid {name}: {short_repr(value)}; {name} must be {what}, not {type(value).__name__}"
    )


def check_int(name: str, value: Any, low: int | None = 0, high: int | None = None) -> int:
    """Return ``value`` if it is an integer (not a bool) in ``[low, high]``; raise otherwise.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
        The argument.
    low, high : int or None
        Bounds (inclusive); None for no bound.

    Returns
    -------
    int
    """
    bounds = " ".join(
        part
        for part in (f">= {low}" if low is not None else "", f"<= {high}" if high else "")
        if part
    )
    what = f"an integer {bounds}".strip()
    if isinstance(value, bool) or not isinstance(value, Integral):
        _fail_type(name, value, what)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"Invalid {name}: {value!r}; {name} must be {what}")
    return int(value)


def _range_text(low, high, low_open, high_open) -> str:
    opening = "(" if low_open or low == -math.inf else "["
    closing = ")" if high_open or high == math.inf else "]"
    return f"in {opening}{low:g}, {high:g}{closing}"


def check_real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    allow_nan: bool = False,
) -> Any:
    """Return ``value`` if it is a real number (not a bool) in the range; NaN always fails.

    Parameters
    ----------
    name : str
    value : object
    low, high : float
        The range; infinite bounds leave that side open.
    low_open, high_open : bool
        Exclude the bound itself.
    allow_nan : bool
        Accept NaN (for losses, where NaN is a legitimate outcome).

    Returns
    -------
    numbers.Real
        ``value`` unchanged.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        _fail_type(name, value, "a real number")
    if allow_nan and math.isnan(value):
        return value
    above = low < value if low_open else low <= value
    below = value < high if high_open else value <= high
    if not (above and below):  # also catches NaN
        text = _range_text(low, high, low_open, high_open)
        raise ValueError(f"Invalid {name}: {value!r}; {name} must be a number {text}")
    return value


def to_real(name: str, value: Any, low: float = -math.inf, high: float = math.inf, **kw) -> float:
    """Like :func:`check_real`, but also accepts a one-element tensor or array; returns a float."""
    if isinstance(value, torch.Tensor | np.ndarray) and _numel(value) == 1:
        if not _real_dtype(value):
            _fail_type(name, value, "a real number")
        value = value.item()
    return float(check_real(name, value, low, high, **kw))


def _numel(value: torch.Tensor | np.ndarray) -> int:
    return value.numel() if isinstance(value, torch.Tensor) else value.size


def _real_dtype(value: torch.Tensor | np.ndarray) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dtype != torch.bool and not value.is_complex()
    return value.dtype.kind in "iuf"


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool if it is ``True`` or ``False`` (NumPy's ``np.bool_`` too)."""
    if not isinstance(value, bool | np.bool_):
        _fail_type(name, value, "True or False")
    return bool(value)


def check_str(name: str, value: Any, *, optional: bool = False) -> Any:
    """Return ``value`` if it is a string (or None, when ``optional``)."""
    if not (isinstance(value, str) or (optional and value is None)):
        _fail_type(name, value, "a string" + (" or None" if optional else ""))
    return value


def check_window(name: str, window: Any) -> None:
    """Check that ``window`` is a pair ``(low, high)`` of finite numbers with ``low < high``."""
    limits = to_array(name, window, ndim=1, finite=True)
    if limits.shape != (2,) or not limits[0] < limits[1]:
        raise ValueError(f"Invalid {name}: {name} must be a pair (low, high) with low < high")


def check_callable(name: str, value: Any) -> Callable:
    """Return ``value`` if it is callable; raise :class:`ArgumentTypeError` otherwise."""
    if not callable(value):
        _fail_type(name, value, "callable")
    return value


def check_instance(name: str, value: Any, types: type | tuple, what: str) -> Any:
    """Return ``value`` if it is an instance of ``types`` (described as ``what``)."""
    if not isinstance(value, types):
        _fail_type(name, value, what)
    return value


def check_mapping(name: str, value: Any, what: str = "a dict") -> Mapping:
    """Return ``value`` if it is a mapping (``{label: ...}``)."""
    return check_instance(name, value, Mapping, what)


def check_choice(name: str, value: Any, choices: Iterable) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    choices = list(choices)
    try:
        ok = value in choices
    except Exception:
        ok = False
    if not ok:
        raise ValueError(
            f"Invalid {name}: {short_repr(value)}; {name} must be one of {sorted(choices)}"
        )
    return value


def check_examples(X: Any, y: Any, x_name: str = "X", y_name: str = "y") -> None:
    """Check that ``X`` and ``y`` are tensors with the same first (example) dimension."""
    for name, value in ((x_name, X), (y_name, y)):
        check_instance(name, value, torch.Tensor, "a torch.Tensor")
        if value.ndim == 0:
            raise ValueError(f"Invalid {name}: it must have a first (example) dimension")
    if len(X) != len(y):
        raise ValueError(
            f"Invalid {y_name}: {x_name} and {y_name} must have the same length, "
            f"got {len(X)} and {len(y)}"
        )


def to_array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    last: int | None = None,
    min_len: int = 0,
    finite: bool = False,
) -> np.ndarray:
    """``value`` as a float64 array, checked; a clear error names ``name`` otherwise.

    Parameters
    ----------
    name : str
    value : array_like
        Numbers, NumPy arrays or tensors (detached); strings and bools are refused.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    last : int, optional
        Required length of the last axis.
    min_len : int
        Minimum length of the first axis.
    finite : bool
        Refuse NaN and infinite entries.

    Returns
    -------
    numpy.ndarray
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes | bool | Mapping) or value is None:
        _fail_type(name, value, "an array of numbers")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        _fail_type(name, value, "an array of numbers")
    if np.asarray(value).dtype.kind == "b":
        _fail_type(name, value, "an array of numbers")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and array.ndim not in allowed:
        raise ValueError(
            f"Invalid {name}: {name} must have {' or '.join(map(str, allowed))} "
            f"dimension(s), got shape {array.shape}"
        )
    if last is not None and (array.ndim == 0 or array.shape[-1] != last):
        raise ValueError(
            f"Invalid {name}: {name} must have {last} coordinate(s) in its last axis, "
            f"got shape {array.shape}"
        )
    if (array.ndim and len(array) < min_len) or (array.ndim == 0 and min_len):
        raise ValueError(f"Invalid {name}: {name} must have at least {min_len} entries")
    if finite and not np.isfinite(array).all():
        raise ValueError(f"Invalid {name}: {name} contains NaN or infinite values")
    return array
