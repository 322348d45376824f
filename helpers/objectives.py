"""Test functions for optimizers: bowls, ravines, bananas and saddles.

Every objective is an :class:`Objective`: a formula that works on NumPy arrays (for
contour plots) and on PyTorch tensors (for autograd), together with its known minima
and a plotting window that shows the interesting part of the landscape.

Examples
--------
>>> import torch
>>> from helpers.objectives import rosenbrock
>>> f = rosenbrock()
>>> float(f(torch.tensor([1.0, 1.0])))
0.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers import _checks as check

__all__ = [
    "Objective",
    "parabola",
    "quadratic",
    "random_start",
    "rosenbrock",
    "saddle",
]


@dataclass(frozen=True)
class Objective:
    """A function to minimise, with what we know about it.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    name : str
        Human-readable name with the formula, used in plot titles.
    formula : callable
        ``formula(*coords)`` takes one array per coordinate (NumPy arrays or PyTorch
        tensors of the same shape) and returns the function value elementwise.
    dim : int
        Number of coordinates.
    minima : tuple of tuple of float
        The global minimisers, one tuple of coordinates each.
    min_value : float
        The value of the function at its minimisers.
    xlim, ylim : tuple of float
        A plotting window (``ylim`` is the value range for 1-D objectives).
    log_levels : bool
        Whether contour levels should be spaced logarithmically (for steep valleys).
    """

    name: str
    formula: Callable = field(repr=False)
    dim: int
    minima: tuple[tuple[float, ...], ...]
    min_value: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    log_levels: bool = False

    def __post_init__(self):
        check.check_str("name", self.name)
        check.check_callable("formula", self.formula)
        check.check_int("dim", self.dim, low=1)
        if isinstance(self.minima, str) or not isinstance(self.minima, Sequence):
            raise check.ArgumentTypeError("Invalid minima: it must be a tuple of points")
        for point in self.minima:
            check.to_array("minima", point, ndim=1, finite=True)
            if len(point) != self.dim:
                raise ValueError(
                    f"Invalid dim or minima: dim is {self.dim}, but the minimum {point!r} "
                    f"has {len(point)} coordinate(s)"
                )
        check.to_real("min_value", self.min_value, high=np.inf, high_open=True)
        check.check_window("xlim", self.xlim)
        check.to_array("ylim", self.ylim, ndim=1, finite=True)
        if len(self.ylim) != 2 or not self.ylim[0] <= self.ylim[1]:
            raise ValueError("Invalid ylim: ylim must be a pair (low, high) with low <= high")
        check.check_bool("log_levels", self.log_levels)

    def __call__(self, point: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Evaluate at ``point``, whose last axis holds the ``dim`` coordinates.

        Parameters
        ----------
        point : torch.Tensor or numpy.ndarray
            Shape ``(..., dim)``.

        Returns
        -------
        torch.Tensor or numpy.ndarray
            Shape ``(...)``: one value per point.
        """
        if not isinstance(point, torch.Tensor | np.ndarray):
            point = check.to_array("point", point)
        if point.ndim == 0 or point.shape[-1] != self.dim:
            raise ValueError(
                f"point must have {self.dim} coordinate(s) in its last axis, "
                f"got shape {tuple(point.shape)}"
            )
        return self.formula(*(point[..., i] for i in range(self.dim)))

    def gradient(self, point: torch.Tensor | np.ndarray) -> np.ndarray:
        """The gradient at one ``point``, computed with autograd.

        Parameters
        ----------
        point : array_like
            Shape ``(dim,)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(dim,)``, float64.
        """
        point = check.to_array("point", point, ndim=1, last=self.dim)
        x = torch.tensor(point, requires_grad=True)
        (grad,) = torch.autograd.grad(self(x), x)
        return grad.numpy()

    def distance_to_minimum(self, points: np.ndarray) -> np.ndarray:
        """Euclidean distance from each point to the nearest global minimiser.

        Parameters
        ----------
        points : numpy.ndarray
            Shape ``(n, dim)``, or ``(dim,)`` for one point.

        Returns
        -------
        numpy.ndarray
            Shape ``(n,)`` (``()`` for one point). Infinite for an objective without a
            minimum (``minima`` empty, as for :func:`saddle`).
        """
        points = check.to_array("points", points, ndim=(1, 2), last=self.dim)
        if points.ndim == 1:
            return self.distance_to_minimum(points[None, :])[0]
        if not self.minima:
            return np.full(len(points), np.inf)
        minima = np.asarray(self.minima, dtype=np.float64)
        gaps = points[:, None, :] - minima[None, :, :]
        return np.linalg.norm(gaps, axis=-1).min(axis=1)

    def grid(self, num: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values on a regular grid over the plotting window (2-D objectives only).

        Parameters
        ----------
        num : int
            Grid points per axis.

        Returns
        -------
        X, Y, Z : numpy.ndarray
            Each of shape ``(num, num)``, ready for ``plt.contour(X, Y, Z)``.
        """
        check.check_int("num", num, low=2, high=check.MAX_GRID)
        if self.dim != 2:
            raise ValueError(f"grid() needs a 2-D objective, {self.name} has dim={self.dim}")
        X, Y = np.meshgrid(np.linspace(*self.xlim, num), np.linspace(*self.ylim, num))
        return X, Y, self.formula(X, Y)


def parabola(a: float = 1.0) -> Objective:
    """The 1-D parabola :math:`f(x) = a x^2`, minimum 0 at :math:`x = 0`.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    a : float
        Curvature factor, must be positive; the second derivative is ``2 a``.

    Returns
    -------
    Objective
    """
    a = _positive("a", a)
    return Objective(
        name=f"f(x) = {a:g}·x²" if a != 1 else "f(x) = x²",
        formula=lambda x: a * x**2,
        dim=1,
        minima=((0.0,),),
        min_value=0.0,
        xlim=(-10.0, 10.0),
        ylim=(0.0, 100.0 * a),
    )


def quadratic(mu: float = 1.0, L: float = 10.0) -> Objective:
    """The 2-D quadratic bowl :math:`f(x, y) = \\tfrac12(\\mu x^2 + L y^2)`.

    Introduced in the chapter *Gradient descent*.

    Its Hessian is ``diag(mu, L)``, so its condition number is ``kappa = L / mu``.
    ``mu == L`` gives a round bowl; ``L >> mu`` gives a long, narrow ravine along x.

    Parameters
    ----------
    mu : float
        Smallest curvature, must be positive.
    L : float
        Largest curvature, must be at least ``mu``.

    Returns
    -------
    Objective
    """
    mu, L = _positive("mu", mu), _positive("L", L)
    if L < mu:
        raise ValueError(f"L must be >= mu, got L={L} and mu={mu}")
    half_height = 10.0 if L == mu else 4.0
    return Objective(
        name=f"f(x, y) = ({mu:g}·x² + {L:g}·y²) / 2",
        formula=lambda x, y: 0.5 * (mu * x**2 + L * y**2),
        dim=2,
        minima=((0.0, 0.0),),
        min_value=0.0,
        xlim=(-10.0, 10.0),
        ylim=(-half_height, half_height),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    """Rosenbrock's banana valley :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`.

    Introduced in the chapter *Adaptive methods*.

    The minimum 0 lies at :math:`(a, a^2)` at the end of a long, curved, flat valley.

    Parameters
    ----------
    a, b : float
        Shape parameters; ``b`` must be positive.

    Returns
    -------
    Objective
    """
    a, b = check.to_real("a", a), _positive("b", b)
    return Objective(
        name="Rosenbrock",
        formula=lambda x, y: (a - x) ** 2 + b * (y - x**2) ** 2,
        dim=2,
        minima=((a, a**2),),
        min_value=0.0,
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
        log_levels=True,
    )


def saddle() -> Objective:
    """The saddle :math:`f(x, y) = x^2 - y^2`: a stationary point at the origin that is no minimum.

    Introduced in the chapter *Gradient descent*.

    It is unbounded below, so ``minima`` is empty and ``min_value`` is ``-inf``.

    Returns
    -------
    Objective
    """
    return Objective(
        name="f(x, y) = x² − y²",
        formula=lambda x, y: x**2 - y**2,
        dim=2,
        minima=(),
        min_value=float("-inf"),
        xlim=(-2.0, 2.0),
        ylim=(-2.0, 2.0),
    )


def _positive(name: str, value) -> float:
    """``value`` as a float if it is a positive, finite number (a 0-d tensor is fine)."""
    return check.to_real(name, value, 0.0, np.inf, low_open=True, high_open=True)


def random_start(seed: int, center: Sequence[float], width: float = 1.0) -> torch.Tensor:
    """A starting point drawn uniformly from the square ``center ± width/2``, from ``seed``.

    Each seed has its own generator, so the starts do not depend on the global random
    state, and the same seed gives the same start. Introduced in the chapter *Adaptive
    methods*, where optimizers race on Rosenbrock from several starts.

    Parameters
    ----------
    seed : int
        Seed of the start's own generator.
    center : sequence of float
        The centre of the square (or cube).
    width : float
        Its side length.

    Returns
    -------
    torch.Tensor
        float64, the shape of ``center``.
    """
    check.check_int("seed", seed, low=0)
    check.check_real("width", width, low=0.0, low_open=True, high_open=True)
    center = torch.from_numpy(check.to_array("center", center, ndim=1, min_len=1, finite=True))
    offset = torch.rand(
        len(center), generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    return center + width * offset - width / 2
