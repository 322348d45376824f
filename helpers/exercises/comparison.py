"""Comparing a learner's answer with the expected one, in words that do not give it away.

:func:`compare` accepts numbers, NumPy arrays, PyTorch tensors, lists and tuples of those
(and strings), and says what is wrong: ``None`` (a missing ``return``), a wrong type, length
or shape, NaN or infinite values, or wrong values. Tolerances widen to the precision of the
answer's dtype: a float32 answer is judged at float32 precision. :func:`_direction` says how
a single number misses (the sign, too large or too small, a round factor) without revealing
the right one.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers._checks import short_repr
from helpers.exercises.feedback import _type_name

__all__ = ["compare"]


def _plain(value: Any) -> Any:
    """``value`` with every tensor (also inside lists and tuples) as a detached NumPy array."""
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _to_array(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or None when it is not numeric (str, None, function, ...)."""
    if isinstance(value, bool | np.bool_ | str | bytes) or value is None or callable(value):
        return None
    try:
        value = _plain(value)
        if isinstance(value, np.ndarray) and value.dtype.kind not in "iuf":
            return None
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def _precision(value: Any) -> float:
    """The machine epsilon of ``value``'s least precise floating-point part (float64's if none)."""
    value = _plain(value)
    if isinstance(value, list):
        return max((_precision(v) for v in value), default=_EPS64)
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return float(np.finfo(dtype).eps)
    return _EPS64


_EPS64 = float(np.finfo(np.float64).eps)


def _tolerances(got: Any, rtol: float, atol: float, scale: float) -> tuple[float, float]:
    """``rtol`` and ``atol``, widened to the precision of ``got``'s dtype (never narrowed).

    A float32 answer carries about 7 significant digits, so it is accepted within a few of
    its own rounding errors (8 eps relative, and 8 eps of the largest expected value
    absolute), even when the question asks float64 answers to agree to 9 digits.
    """
    eps = _precision(got)
    if eps <= _EPS64:
        return rtol, atol
    return max(rtol, 8 * eps), max(atol, 8 * eps * scale)


@dataclass
class _Mismatch:
    kind: str  # "none", "type", "length", "shape", "nan", "value"
    message: str


def compare(
    got: Any,
    expected: Any,
    *,
    what: str = "your function's result",
    names: Sequence[str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> _Mismatch | None:
    """Compare a learner's result with the expected one; None when they agree.

    Parameters
    ----------
    got : object
        The learner's result. Numbers, NumPy arrays, PyTorch tensors and lists are all
        accepted for numeric parts.
    expected : number, array, str, or tuple of those
        The right result; a tuple is compared part by part.
    what : str
        How messages name the result ("your function's result").
    names : sequence of str, optional
        The names of a tuple's parts, for messages.
    rtol, atol : float
        Tolerances (numbers >= 0), widened to the precision of ``got``'s dtype.

    Returns
    -------
    _Mismatch or None
        What is wrong (its ``kind``: ``"none"``, ``"type"``, ``"length"``, ``"shape"``,
        ``"nan"`` or ``"value"``, and a ``message`` that does not reveal ``expected``), or
        None when ``got`` agrees with ``expected``.
    """
    _check_tolerances(rtol, atol)
    if got is None and expected is not None:
        return _Mismatch("none", f"{what} is `None`. Did you forget a `return` statement?")
    if isinstance(expected, tuple):
        count = len(expected)
        listing = ", ".join(f"`{n}`" for n in names) if names else f"{count} values"
        if not isinstance(got, tuple | list):
            return _Mismatch(
                "type",
                f"{what} should be a tuple of {count} values ({listing}), but it is "
                f"{_type_name(got)}. Return them as `return {', '.join(names or ['a', 'b'])}`.",
            )
        if len(got) != count:
            return _Mismatch(
                "length",
                f"{what} should be {count} values ({listing}), but it has {len(got)}.",
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            part = f"`{names[i]}`" if names else f"value {i + 1} of {what}"
            mismatch = compare(g, e, what=part, rtol=rtol, atol=atol)
            if mismatch is not None:
                return mismatch
        return None
    if isinstance(expected, str):
        if not isinstance(got, str):
            return _Mismatch("type", f"{what} should be a string, but it is {_type_name(got)}.")
        if got.strip().lower() != expected.lower():
            return _Mismatch(
                "value", f"{what} is {short_repr(got, 60)}, which is not the right answer here."
            )
        return None
    array = _to_array(got)
    want = np.asarray(expected, dtype=float)
    if array is None:
        kind = "a number" if want.ndim == 0 else "an array"
        return _Mismatch("type", f"{what} should be {kind}, but it is {_type_name(got)}.")
    if array.shape != want.shape:
        if array.size == want.size == 1:
            array = array.reshape(want.shape)
        else:
            return _Mismatch(
                "shape",
                f"{what} has shape {array.shape}, but it should have shape {want.shape}.",
            )
    bad = ~np.isfinite(array) & np.isfinite(want)
    if bad.any():
        which = "NaN" if np.isnan(array[bad]).any() else "infinite"
        return _Mismatch(
            "nan",
            f"{what} contains {which} values. Did the iteration blow up, or is something "
            "divided by zero?",
        )
    scale = float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0))
    rtol, atol = _tolerances(got, rtol, atol, scale)
    if not np.allclose(array, want, rtol=rtol, atol=atol, equal_nan=True):
        return _Mismatch("value", f"{what} has the right type and shape but wrong values.")
    return None


def _check_tolerances(rtol: float, atol: float) -> None:
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"Invalid {name}: {value!r}; {name} must be a number >= 0")


def _matches(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    try:
        return compare(got, expected, rtol=rtol, atol=atol) is None
    except Exception:
        return False


def _direction(got: float, want: float, rtol: float, integer: bool) -> str:
    """How ``got`` misses ``want``, in words that do not reveal ``want``."""
    if want != 0 and got != 0 and (got > 0) != (want > 0):
        return "has the wrong sign."
    if got == 0:
        return "is zero, but the answer is not."
    larger = abs(got) > abs(want)
    size = "too large" if larger else "too small"
    if want != 0 and not integer:
        ratio = abs(got / want) if larger else abs(want / got)
        if math.isclose(ratio, 1, rel_tol=20 * rtol):
            return f"is close, but slightly {size}: check the rounding and the last step."
        if any(math.isclose(ratio, factor, rel_tol=1e-3) for factor in _ROUND_FACTORS):
            return (
                f"is {size} by a round factor (such as 2 or 10): is a division, a square "
                "or a unit missing?"
            )
    return f"is {size}."


_ROUND_FACTORS = (2.0, 4.0, 10.0, 100.0, 1000.0)
