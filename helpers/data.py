"""Small, seeded data sets that ship with the course's packages (nothing is downloaded).

- :func:`toy_regression`: the four points of the worked example, ``y = 2x``.
- :func:`linear_data`: noisy points around a line, for regression experiments.
- :func:`two_moons`: scikit-learn's two interleaved half-moons, split and as tensors.
- :func:`digits`: scikit-learn's 8x8 handwritten digits (the offline stand-in for MNIST).
- :func:`make_loader`: seeded, shuffled mini-batches of tensors in memory (:class:`Batches`),
  in the order a ``DataLoader`` gives them, without its per-example cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from helpers import _checks as check

__all__ = [
    "Batches",
    "Split",
    "digits",
    "linear_data",
    "make_loader",
    "toy_regression",
    "two_moons",
]


@dataclass
class Split:
    """Training and test tensors of a classification data set.

    Introduced in the chapter *The learning rate*.

    Attributes
    ----------
    X_train : torch.Tensor
        Float32 training features, shape ``(n, num_features)``, standardised with the
        training set's mean and standard deviation.
    X_test : torch.Tensor
        Float32 test features, standardised with the training set's mean and deviation.
    y_train : torch.Tensor
        Int64 class labels of the training set, shape ``(n,)``.
    y_test : torch.Tensor
        Int64 class labels of the test set.
    num_classes : int
    """

    X_train: torch.Tensor
    X_test: torch.Tensor
    y_train: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def num_features(self) -> int:
        """Number of input features."""
        return self.X_train.shape[1]


def toy_regression() -> tuple[torch.Tensor, torch.Tensor]:
    """The worked example's data: ``x = 1, 2, 3, 4`` and ``y = 2x``.

    Introduced in the chapter *Batch, stochastic and mini-batch gradient descent*.

    Returns
    -------
    x, y : torch.Tensor
        Float32, shape ``(4,)``.
    """
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    return x, 2 * x


def linear_data(
    n: int = 200, w: float = 2.0, c: float = 0.5, noise: float = 0.3, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``y = w x + c + noise`` with ``x`` uniform in ``[-1, 1]``.

    Introduced in the chapter *The learning rate*.

    Parameters
    ----------
    n : int
        Number of points.
    w, c : float
        True slope and intercept (``c``, as in the chapter *Batch, stochastic and mini-batch
        gradient descent*, where ``b`` is the batch size).
    noise : float
        Standard deviation of the Gaussian noise (non-negative).
    seed : int
        Seed of the random generator.

    Returns
    -------
    x, y : torch.Tensor
        Float32, shape ``(n,)``.
    """
    check.check_int("n", n, low=1, high=check.MAX_POINTS)
    w = check.to_real("w", w, high_open=True, low_open=True)
    c = check.to_real("c", c, high_open=True, low_open=True)
    noise = check.to_real("noise", noise, 0.0, np.inf, high_open=True)
    _check_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x = 2 * torch.rand(n, generator=generator) - 1
    y = w * x + c + noise * torch.randn(n, generator=generator)
    return x, y


def two_moons(
    n_samples: int = 1000, noise: float = 0.2, test_size: float = 0.25, seed: int = 0
) -> Split:
    """Two interleaved half-moons (scikit-learn's ``make_moons``), split and standardised.

    Introduced in the chapter *The learning rate*.

    Parameters
    ----------
    n_samples : int
        Total number of points.
    noise : float
        Standard deviation of the Gaussian noise added to the points.
    test_size : float
        Fraction held out for testing, in ``(0, 1)``.
    seed : int
        Seed for the points and the split.

    Returns
    -------
    Split
    """
    from sklearn.datasets import make_moons  # imported here: scikit-learn is slow to import

    check.check_int("n_samples", n_samples, low=4, high=check.MAX_POINTS)
    noise = check.to_real("noise", noise, 0.0, np.inf, high_open=True)
    _check_split(test_size, seed)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _split(X, y, test_size, seed, num_classes=2)


def digits(test_size: float = 0.25, seed: int = 0) -> Split:
    """Scikit-learn's handwritten digits: 1797 images of 8x8 pixels, 10 classes.

    Introduced in the chapter *The learning rate*.

    The images are flattened to 64 features. This small set ships with scikit-learn, so
    it works offline; it plays the role MNIST plays in larger courses.

    Parameters
    ----------
    test_size : float
        Fraction held out for testing, in ``(0, 1)``.
    seed : int
        Seed for the (stratified) split.

    Returns
    -------
    Split
    """
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    _check_split(test_size, seed)
    X, y = load_digits(return_X_y=True)
    return _split(X, y, test_size, seed, num_classes=10)


def _split(X: np.ndarray, y: np.ndarray, test_size: float, seed: int, num_classes: int) -> Split:
    from sklearn.model_selection import train_test_split

    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=y
        )
    except ValueError as exc:  # too few points for a stratified split of this size
        raise ValueError(f"Invalid test_size: {test_size!r} with {len(y)} points: {exc}") from None
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    return Split(
        X_train=torch.tensor((X_train - mean) / std, dtype=torch.float32),
        X_test=torch.tensor((X_test - mean) / std, dtype=torch.float32),
        y_train=torch.tensor(y_train, dtype=torch.int64),
        y_test=torch.tensor(y_test, dtype=torch.int64),
        num_classes=num_classes,
    )


def _check_seed(seed) -> None:
    check.check_int("seed", seed, low=0, high=2**32 - 1)


def _check_split(test_size, seed) -> None:
    check.check_real("test_size", test_size, 0.0, 1.0, low_open=True, high_open=True)
    _check_seed(seed)


class Batches:
    """Mini-batches of tensors held in memory, reshuffled on every pass, reproducibly.

    Batch for batch, the same as ``DataLoader(TensorDataset(X, y), batch_size,
    shuffle=shuffle, generator=torch.Generator().manual_seed(seed))`` (a unit test checks it),
    but each batch is one indexing of ``X`` and ``y`` instead of one per example followed by
    a stack, which is what makes a ``DataLoader`` slow for small models. Made by
    :func:`make_loader`. Introduced in the chapter *Batch, stochastic and mini-batch gradient
    descent*.

    Attributes
    ----------
    X : torch.Tensor
        The inputs, one example per row.
    y : torch.Tensor
        The targets, one per example.
    batch_size : int
    shuffle : bool
    generator : torch.Generator
        Seeded once; every pass draws the next order from it.
    """

    def __init__(self, X, y, batch_size: int, shuffle: bool, generator: torch.Generator):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.shuffle, self.generator = shuffle, generator

    def __len__(self) -> int:
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n = len(self.X)
        order = self._next_order(n) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            batch = order[start : start + self.batch_size]
            yield self.X[batch], self.y[batch]

    @staticmethod
    def side_by_side(loaders: Sequence[Batches]):
        """One pass of several loaders over the same ``X`` and ``y`` at once, as stacked batches.

        Yields ``(X[idx], y[idx])`` where row ``k`` of ``idx`` holds the indices of loader
        ``k``'s batch: the batches that iterating each loader would give, stacked along a new
        first axis, with one indexing per step instead of one per loader. Each loader draws its
        order for the pass exactly as iterating it would. Used by
        :func:`helpers.training.fit_copies`.

        Parameters
        ----------
        loaders : sequence of Batches
            Loaders that share ``X``, ``y`` (the same tensors) and ``batch_size``.
        """
        first = loaders[0]
        if not all(first.shares_data(b) for b in loaders):
            raise ValueError("Invalid loaders: they must share X, y and batch_size")
        n = len(first.X)
        orders = torch.stack([b._next_order(n) if b.shuffle else torch.arange(n) for b in loaders])
        for start in range(0, n, first.batch_size):
            idx = orders[:, start : start + first.batch_size]
            yield first.X[idx], first.y[idx]

    def shares_data(self, other) -> bool:
        """Whether ``other`` is a :class:`Batches` over the same tensors, in batches as large."""
        return (
            isinstance(other, Batches)
            and other.X is self.X
            and other.y is self.y
            and other.batch_size == self.batch_size
        )

    def _next_order(self, n: int) -> torch.Tensor:
        # A DataLoader's pass draws a seed for worker processes, then two orders, of which
        # its sampler uses the first: drawing the same keeps the batches equal to its own.
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        order = torch.randperm(n, generator=self.generator)
        torch.randperm(n, generator=self.generator)
        return order


def make_loader(
    X: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = True, seed: int = 0
) -> Batches:
    """Mini-batches of ``(X, y)``, reshuffled on every pass in a reproducible order.

    Introduced in the chapter *Batch, stochastic and mini-batch gradient descent*.

    Parameters
    ----------
    X, y : torch.Tensor
        Inputs and targets with the same first dimension.
    batch_size : int
        Examples per mini-batch; the last batch may be smaller.
    shuffle : bool
        Reshuffle the examples at the start of every pass.
    seed : int
        Seed of the loader's own random generator.

    Returns
    -------
    Batches
        Iterable again and again, like a ``DataLoader``, with the same batches as
        ``DataLoader(TensorDataset(X, y), batch_size, shuffle, generator=...)``.
    """
    check.check_examples(X, y)
    check.check_int("batch_size", batch_size, low=1)
    check.check_instance("shuffle", shuffle, bool | np.bool_, "True or False")
    _check_seed(seed)
    return Batches(X, y, batch_size, bool(shuffle), torch.Generator().manual_seed(seed))
