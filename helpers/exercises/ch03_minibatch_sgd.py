"""Exercises for the chapter *Batch, stochastic and mini-batch gradient descent*.

Questions: ``q1`` updates per training run, ``q2`` the mini-batches of one epoch,
``q3`` gradient noise against batch size, ``q4`` one epoch of mini-batch SGD,
``q5`` why the loss of constant-rate SGD stalls and jitters.
"""

import math

import numpy as np

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____
from helpers.exercises.feedback import CORRECT, INCORRECT, Feedback, _type_name

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: how many updates?
# ---------------------------------------------------------------------------------------------

_N, _B, _EPOCHS = 1000, 32, 10

q1 = ValueQuestion(
    "q1",
    names=["num_updates"],
    expected={"num_updates": _EPOCHS * math.ceil(_N / _B)},
    integer=True,
    solution="""
        n, batch_size, num_epochs = 1000, 32, 10
        # 31 full batches and one of 8
        batches_per_epoch = math.ceil(n / batch_size)
        num_updates = num_epochs * batches_per_epoch
    """,
    mistakes={
        "num_updates": [
            (
                _EPOCHS * (_N // _B),
                "The last batch of each epoch holds the 8 leftover examples, and it is "
                "used too (unless `drop_last=True`).",
            ),
            (
                (_EPOCHS * _N) // _B,
                "Batches do not run across epochs: every epoch ends with its own smaller batch.",
            ),
            (_EPOCHS, "That is the number of epochs; there is one update per mini-batch."),
            (
                _EPOCHS * _N,
                "That is the number of examples processed; there is one update per mini-batch.",
            ),
            (math.ceil(_N / _B), "That is one epoch; the run has 10."),
        ]
    },
    hints=[
        "One update per mini-batch. How many mini-batches does one pass over 1000 "
        "examples make, if the last batch may be smaller?",
        "`math.ceil(1000 / 32)` batches per epoch, times the number of epochs.",
    ],
    explanation=r"""
        Each epoch has $\lceil 1000/32 \rceil = 32$ mini-batches (31 of 32 examples and one
        of 8), hence 32 updates, and 10 epochs make 320 updates. Full-batch gradient
        descent would make only 10 updates in the same 10 epochs: per pass over the data,
        mini-batches give many more (noisier) steps.
    """,
    success="32 updates per epoch (31 full batches and one of 8), 320 in all.",
)

# ---------------------------------------------------------------------------------------------
# q2: the mini-batches of one epoch
# ---------------------------------------------------------------------------------------------


def minibatch_indices(n, batch_size, rng):
    order = rng.permutation(n)  # every example once, in a new random order
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


class _BatchesQuestion(FunctionQuestion):
    """Checks the properties of an epoch's batches (any valid shuffle is accepted)."""

    sizes = ((10, 3), (12, 4), (5, 8), (7, 1))

    def _batches(self, value, n, batch_size):
        """The batches as a list of integer arrays, or a message saying what is wrong."""
        if value is None:
            return "your function returned `None`. Did you forget a `return` statement?"
        if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
            return f"your function should return a list of index arrays, not {_type_name(value)}."
        try:
            parts = [np.asarray(part) for part in value]
        except Exception:
            return "your function should return a list of index arrays."
        for part in parts:
            if part.dtype == bool:
                return "each batch should be an array of indices, not a boolean mask."
            if part.ndim != 1 or part.dtype.kind not in "iu":
                return (
                    "each batch should be a 1-D array of integer indices; one of yours has "
                    f"dtype {part.dtype} and shape {part.shape}."
                )
        count = math.ceil(n / batch_size)
        if len(parts) != count:
            if n % batch_size and len(parts) == n // batch_size:
                return (
                    f"you return {len(parts)} batches, but {count} are needed: the last, "
                    f"smaller batch of {n % batch_size} example(s) is missing."
                )
            return f"you return {len(parts)} batches, but {count} are needed."
        everything = np.concatenate(parts) if parts else np.array([], dtype=int)
        if len(np.unique(everything)) < len(everything) or not np.array_equal(
            np.sort(everything), np.arange(n)
        ):
            return (
                "some examples appear twice and others not at all. In one epoch every "
                "example is used exactly once: shuffle a permutation (without replacement), "
                "for example `rng.permutation(n)`, instead of drawing indices at random."
            )
        sizes = [len(p) for p in parts]
        want = [batch_size] * (count - 1) + [n - batch_size * (count - 1)]
        if sizes != want:
            return (
                f"your batch sizes are {sizes}, but they should be {want}: full batches "
                "first, the rest in the last one."
            )
        if n > 2 and np.array_equal(everything, np.arange(n)):
            return (
                "the examples come in their original order. Shuffle them: use "
                "`rng.permutation(n)`."
            )
        return parts

    def _check(self, *answers, **kwargs):
        function = self._function(answers, kwargs)
        for n, batch_size in self.sizes:
            where = f"For n = {n} and batch_size = {batch_size}"
            rng = np.random.default_rng(0)
            epochs = []
            for _ in range(2):
                parts = self._batches(self.call(function, n, batch_size, rng), n, batch_size)
                if isinstance(parts, str):
                    return Feedback(INCORRECT, f"{where}: {parts}")
                epochs.append(np.concatenate(parts))
            if n > 3 and np.array_equal(*epochs):
                return Feedback(
                    INCORRECT,
                    f"{where}: two calls with the same generator `rng` (two epochs) gave the "
                    "same order. Draw the shuffle from `rng`, so that each epoch gets a new "
                    "order; do not create a generator with a fixed seed inside the function.",
                )
            again = self.call(function, n, batch_size, np.random.default_rng(0))
            again = self._batches(again, n, batch_size)
            if isinstance(again, str) or not np.array_equal(np.concatenate(again), epochs[0]):
                return Feedback(
                    INCORRECT,
                    f"{where}: two generators with the same seed gave different batches. Draw "
                    "the shuffle from the generator `rng` that is passed in (not from "
                    "`np.random` or `random`), so that runs are reproducible.",
                )
        return Feedback(
            CORRECT, "every example once per epoch, in a new reproducible order each epoch."
        )


q2 = _BatchesQuestion(
    "q2",
    reference=minibatch_indices,
    cases=[],
    hints=[
        "`rng.permutation(n)` returns the numbers `0, ..., n - 1` in a random order.",
        "Cut that order into slices `order[i : i + batch_size]` for `i` in "
        "`range(0, n, batch_size)`; the last slice is automatically shorter.",
    ],
    explanation="""
        A permutation uses every example exactly once per epoch; drawing indices with
        replacement would use some examples twice and skip others. Drawing the
        permutation from the generator that is passed in makes the run reproducible (the
        same seed gives the same batches) while each epoch still gets a new order. This is
        what `DataLoader(..., shuffle=True, generator=...)` does.
    """,
)

# ---------------------------------------------------------------------------------------------
# q3: gradient noise against batch size
# ---------------------------------------------------------------------------------------------

_VAR_8 = 0.4

q3 = ValueQuestion(
    "q3",
    names=["var_32", "std_32"],
    expected={"var_32": _VAR_8 * 8 / 32, "std_32": math.sqrt(_VAR_8 * 8 / 32)},
    solution="""
        var_8 = 0.4
        var_32 = var_8 * 8 / 32  # variance of a mean of b independent terms ~ 1/b
        std_32 = math.sqrt(var_32)  # the spread ~ 1/sqrt(b): only halved
    """,
    mistakes={
        "var_32": [
            (
                _VAR_8 / 2,
                "That halves the variance. The variance goes like 1/b (the standard "
                "deviation like 1/√b): 4 times the batch, a quarter of the variance.",
            ),
            (_VAR_8 * 4, "A larger batch averages more examples, so the variance goes down."),
            (_VAR_8 / 16, "The variance goes like 1/b, not 1/b²."),
        ],
        "std_32": [
            (_VAR_8 / 4, "That is the variance; the standard deviation is its square root."),
            (
                math.sqrt(_VAR_8) / 4,
                "The standard deviation goes like 1/√b: 4 times the batch only halves it.",
            ),
            (math.sqrt(_VAR_8), "That is the standard deviation at batch size 8."),
        ],
    },
    hints=[
        "A mini-batch gradient is the mean of $b$ independent per-example gradients. The "
        "variance of a mean of $b$ independent terms is $\\sigma^2 / b$.",
        "Going from $b = 8$ to $b = 32$ divides the variance by 4; the standard deviation "
        "is the square root of the variance.",
    ],
    explanation=r"""
        The variance of a mean of $b$ independent samples is $\sigma^2/b$, so
        $\mathrm{Var}_{32} = 0.4 \cdot 8/32 = 0.1$, and the standard deviation is
        $\sqrt{0.1} \approx 0.316$, half of $\sqrt{0.4} \approx 0.632$. Quadrupling the
        batch (and the cost of each update) only halves the noise. (For batches drawn
        without replacement from $N$ examples the variance is a little smaller, by the
        factor $(N - b)/(N - 1)$.)
    """,
    success="a quarter of the variance, half the standard deviation.",
)

# ---------------------------------------------------------------------------------------------
# q4: one epoch of mini-batch SGD on linear regression
# ---------------------------------------------------------------------------------------------


def sgd_epoch(w, X, y, batches, lr):
    w = np.array(w, dtype=float)
    for idx in batches:
        Xb, yb = X[idx], y[idx]
        # gradient of this batch's mean squared error
        grad = 2 * Xb.T @ (Xb @ w - yb) / len(idx)
        w = w - lr * grad
    return w


def _sgd_variant(w, X, y, batches, lr, *, divide="batch", sign=-1.0, factor=2.0, full=False):
    w = np.array(w, dtype=float)
    for idx in batches:
        Xb, yb = (X, y) if full else (X[idx], y[idx])
        grad = factor * Xb.T @ (Xb @ w - yb)
        if divide == "batch":
            grad = grad / len(Xb)
        elif divide == "n":
            grad = grad / len(X)
        elif divide == "batch_size":
            grad = grad / len(batches[0])
        w = w + sign * lr * grad
    return w


def _sgd_first_batch_only(w, X, y, batches, lr):
    return sgd_epoch(w, X, y, batches[:1], lr)


def _q4_cases():
    rng = np.random.default_rng(3)
    X1 = rng.normal(size=(10, 3))
    y1 = X1 @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=10)
    order = rng.permutation(10)
    batches1 = [order[0:4], order[4:8], order[8:10]]
    X2 = rng.normal(size=(12, 2))
    y2 = X2 @ np.array([-1.0, 3.0])
    order = rng.permutation(12)
    batches2 = [order[i : i + 3] for i in range(0, 12, 3)]
    return [
        Case(
            (np.zeros(3), X1, y1, batches1, 0.05),
            label="For 10 examples in batches of 4, 4 and 2, lr = 0.05",
        ),
        Case(
            (np.ones(2), X2, y2, batches2, 0.1),
            label="For 12 examples in batches of 3, lr = 0.1",
        ),
    ]


q4 = FunctionQuestion(
    "q4",
    reference=sgd_epoch,
    cases=_q4_cases,
    mistakes=[
        (
            lambda *a: _sgd_variant(*a, sign=1.0),
            "Is the sign of the update right? Step against the gradient.",
        ),
        (
            lambda *a: _sgd_variant(*a, divide="n"),
            "Each update uses the mean over its own batch: divide by the batch's size, "
            "`len(idx)`, not by the size of the whole data set.",
        ),
        (
            lambda *a: _sgd_variant(*a, divide="batch_size"),
            "Divide by the size of *this* batch, `len(idx)`: the last batch can be smaller.",
        ),
        (
            lambda *a: _sgd_variant(*a, full=True),
            "Every update uses all the data: use only the rows of the current batch, "
            "`X[idx]` and `y[idx]`.",
        ),
        (
            lambda *a: _sgd_variant(*a, factor=1.0),
            "The derivative of r² is 2r: is a factor 2 missing from the gradient?",
        ),
        (
            lambda *a: _sgd_variant(*a, divide="none"),
            "The loss is the mean over the batch: divide the summed gradient by `len(idx)`.",
        ),
        (
            _sgd_first_batch_only,
            "Only the first batch was used: is the `return` inside the loop?",
        ),
    ],
    hints=[
        "For a batch with rows `Xb` and targets `yb`, the loss is "
        "$\\frac{1}{|B|}\\lVert X_B w - y_B \\rVert^2$ and its gradient is "
        "$\\frac{2}{|B|} X_B^\\top (X_B w - y_B)$.",
        "Loop `for idx in batches:`, take `Xb, yb = X[idx], y[idx]`, compute the gradient "
        "and update `w`; return `w` after the loop.",
    ],
    explanation=r"""
        Each mini-batch gives an unbiased estimate
        $\frac{2}{|B|} X_B^\top (X_B w - y_B)$ of the full gradient, and each one makes an
        update: one epoch with batches of 4, 4 and 2 makes three updates where full-batch
        gradient descent makes one. Dividing by the size of the current batch keeps the
        step size independent of how the data were split.
    """,
    success="one update per mini-batch, each with its own batch's mean gradient.",
)

# ---------------------------------------------------------------------------------------------
# q5: why does constant-rate SGD stall?
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "A too small learning rate makes progress slow and smooth; a smaller step "
        "would in fact shrink the jitter.",
        "b": "The noise of the mini-batch gradients keeps the iterate moving.",
        "c": "Overfitting shows in the validation loss; here the training loss itself stops "
        "improving.",
        "d": "Shuffling makes each mini-batch an unbiased sample of the data; it is not what "
        "stops progress.",
    },
    explanation=r"""
        At the minimum of the training loss the *full* gradient is zero, but each
        mini-batch gradient is not: it is the full gradient plus noise whose variance
        shrinks like $1/b$. With a constant learning rate $\eta$, every update moves the
        weights by $\eta$ times that noise, so the iterate keeps wandering in a region
        around the minimum whose size grows with $\eta$, and the loss jitters above its
        minimum. Two remedies: decay the learning rate (the *Robbins–Monro* conditions
        $\sum_t \eta_t = \infty$, $\sum_t \eta_t^2 < \infty$ make SGD converge), or use
        larger batches, which reduce the noise at a higher cost per update.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
