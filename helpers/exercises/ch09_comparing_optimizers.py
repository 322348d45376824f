"""Exercises for the chapter *Comparing optimizers*: seeds, spread and fair tuning.

Questions: ``q1`` mean and spread over seeds, ``q2`` pick the learning rate fairly (by the
median over seeds),
``q3`` is a difference real? ``q4`` what one run can tell.
"""

import math

import numpy as np

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4"]

# ---------------------------------------------------------------------------------------------
# q1: mean and spread over seeds
# ---------------------------------------------------------------------------------------------


def mean_and_std(losses):
    # shape (num_seeds, num_epochs)
    losses = np.asarray(losses, dtype=float)
    # across seeds, per epoch
    return losses.mean(axis=0), losses.std(axis=0, ddof=1)


def _mean_std_variant(losses, *, axis=0, ddof=1, scale=1.0):
    losses = np.asarray(losses, dtype=float)
    n = losses.shape[axis] if axis is not None else losses.size
    return losses.mean(axis=axis), losses.std(axis=axis, ddof=ddof) / (
        math.sqrt(n) if scale else 1
    )


def _q1_cases():
    rng = np.random.default_rng(9)
    curve = np.exp(-np.arange(8) / 3.0)
    five = curve * (1 + 0.2 * rng.normal(size=(5, 8)))
    three = [[0.9, 0.5, 0.3, 0.2], [1.0, 0.6, 0.35, 0.25], [0.8, 0.55, 0.4, 0.15]]
    return [
        Case((five,), label="For 5 seeds and 8 epochs"),
        Case((three,), label="For 3 seeds and 4 epochs given as a list of lists"),
    ]


q1 = FunctionQuestion(
    "q1",
    reference=mean_and_std,
    cases=_q1_cases,
    returns=["mean", "std"],
    rtol=1e-9,
    mistakes=[
        (
            lambda x: _mean_std_variant(x, axis=1, scale=0.0),
            "Average across seeds (axis 0, the rows), so that you get one value per epoch.",
        ),
        (
            lambda x: _mean_std_variant(x, ddof=0, scale=0.0),
            "Use the sample standard deviation, `ddof=1`: the seeds are a small sample.",
        ),
        (
            lambda x: _mean_std_variant(x, scale=1.0),
            "That is the standard error of the mean (std/√n); the question asks for the "
            "standard deviation across seeds.",
        ),
        (
            lambda x: _mean_std_variant(x, axis=None, scale=0.0),
            "Keep the epochs apart: average over the seeds only (`axis=0`).",
        ),
    ],
    hints=[
        "Rows are seeds and columns are epochs: reduce along `axis=0`.",
        "`np.std(..., ddof=1)` divides by n - 1, the sample standard deviation.",
    ],
    explanation=r"""
        Each column holds one epoch's losses over the seeds; its mean is the expected
        learning curve and its sample standard deviation ($n - 1$ in the denominator,
        because the mean was estimated from the same few values) shows how much one run
        can differ from another. Plot the mean with a band of one standard deviation, and
        remember that with 5 seeds the standard deviation is itself uncertain. The mean
        and standard deviation are one common summary; the chapter reports the median
        with the range from the lowest to the highest seed instead, which one unusual seed
        moves less and which shows every run's extent.
    """,
    success="one mean and one spread per epoch, across seeds.",
)

# ---------------------------------------------------------------------------------------------
# q2: pick the learning rate fairly
# ---------------------------------------------------------------------------------------------


def best_lr(lrs, final_losses):
    # shape (num_lrs, num_seeds)
    final_losses = np.asarray(final_losses, dtype=float)
    # a NaN or inf on any seed
    diverged = ~np.isfinite(final_losses).all(axis=1)
    # the rule, fixed in advance: the median over seeds
    scores = np.where(diverged, np.inf, np.median(final_losses, axis=1))
    return lrs[int(np.argmin(scores))]


def _best_lr_variant(lrs, final_losses, *, reduce="mean", nan="inf", index=False):
    x = np.asarray(final_losses, dtype=float)
    if reduce == "mean":
        score = np.nanmean(x, axis=1) if nan == "ignore" else x.mean(axis=1)
    elif reduce == "min":
        score = np.nanmin(x, axis=1)
    else:
        score = np.nanmedian(x, axis=1) if nan == "ignore" else np.median(x, axis=1)
    if nan == "inf":
        score = np.where(~np.isfinite(x).all(axis=1), np.inf, score)
    position = int(np.nanargmin(score)) if nan == "ignore" else int(np.argmin(score))
    return position if index else lrs[position]


def _q2_cases():
    nan = float("nan")
    lrs = [1.0, 0.3, 0.1, 0.01, 0.001]
    losses = [
        [nan, nan, nan],  # diverged on every seed
        [0.15, nan, 0.16],  # diverged on one seed
        [0.30, 0.09, 0.33],  # one lucky seed
        [0.20, 0.22, 0.21],  # reliably good
        [0.40, 0.42, 0.41],  # too slow
    ]
    # In both problems the median and the mean pick the same rate, so either rule, fixed in
    # advance, is accepted; the best single run picks a different one.
    lrs2 = [0.5, 0.05, 0.005]
    losses2 = [[0.12, 0.11, 0.13, 0.12], [0.14, 0.06, 0.15, 0.16], [0.5, 0.5, 0.52, 0.49]]
    return [
        Case((lrs, losses), label="For 5 learning rates and 3 seeds, some runs diverged"),
        Case((lrs2, losses2), label="For 3 learning rates and 4 seeds, no divergence"),
    ]


q2 = FunctionQuestion(
    "q2",
    reference=best_lr,
    cases=_q2_cases,
    rtol=1e-12,
    mistakes=[
        (
            lambda *a: _best_lr_variant(*a, reduce="median", nan="propagate"),
            "`np.argmin` returns the position of the first NaN, so a diverged learning rate "
            "won. Give rows with a NaN or inf the score `np.inf` first.",
        ),
        (
            lambda *a: _best_lr_variant(*a, reduce="median", nan="ignore"),
            "`np.nanmedian` (like `np.nanmean`) ignores the diverged seeds, so a learning "
            "rate that diverges on some seeds looks good. A rate that diverges on any seed "
            "should not be chosen.",
        ),
        (
            lambda *a: _best_lr_variant(*a, reduce="min"),
            "That picks the single best run, a lucky seed. Score each rate by a summary of "
            "all its seeds, such as the median.",
        ),
        (lambda *a: _best_lr_variant(*a, index=True), "Return the learning rate, not its index."),
    ],
    hints=[
        "Score each learning rate (row) by its median final loss over the seeds "
        "(`np.median(x, axis=1)`), but give the score `np.inf` to any row with a NaN or inf.",
        "`np.isfinite(x).all(axis=1)` tells which rows never diverged; then "
        "`lrs[np.argmin(scores)]`.",
    ],
    explanation=r"""
        A fair comparison gives each optimizer its best learning rate, chosen by the same
        rule and the same budget. What matters is that the rule is fixed in advance, before
        looking at the results: the median over seeds or the mean both serve. The chapter
        uses the lowest *median* final loss over seeds, among the rates that never
        diverged (here the mean picks the same rates, and is accepted too). The best single
        run (0.09 at 0.1) is a lucky seed; `np.nanmedian` or `np.nanmean` would hide that
        0.3 diverged on one seed in three; and `np.argmin` over scores that contain NaN
        returns the NaN itself.
    """,
    success="the lowest median over seeds among the rates that never diverged.",
)

# ---------------------------------------------------------------------------------------------
# q3: is a difference real?
# ---------------------------------------------------------------------------------------------

_DIFF = 0.135 - 0.120
_SE = math.sqrt(0.02**2 / 5 + 0.03**2 / 5)

q3 = ValueQuestion(
    "q3",
    names=["se_diff", "z"],
    expected={"se_diff": _SE, "z": _DIFF / _SE},
    solution="""
        n = 5
        # standard errors of the means
        se_a, se_b = 0.02 / math.sqrt(n), 0.03 / math.sqrt(n)
        se_diff = math.sqrt(se_a**2 + se_b**2)  # independent runs: variances add
        z = (0.135 - 0.120) / se_diff
    """,
    mistakes={
        "se_diff": [
            (
                math.sqrt(0.02**2 + 0.03**2),
                "That is the spread of a single run's difference; the means of 5 runs are "
                "more precise: divide each variance by 5.",
            ),
            ((0.02 + 0.03) / math.sqrt(5), "Add the variances, not the standard deviations."),
            (0.02 + 0.03, "Add the variances (squared standard errors), each divided by 5."),
        ],
        "z": [
            (
                _DIFF / math.sqrt(0.02**2 + 0.03**2),
                "Divide by the standard error of the "
                "difference of the means (each variance divided by 5).",
            ),
            (
                _DIFF / ((0.02 + 0.03) / math.sqrt(5)),
                "Add the variances, not the standard deviations.",
            ),
        ],
    },
    hints=[
        "The standard error of a mean of $n$ runs is $s/\\sqrt{n}$.",
        "For independent runs the variances add: "
        "$\\mathrm{SE}_{A-B} = \\sqrt{s_A^2/n + s_B^2/n}$. Then $z$ is the difference "
        "divided by it.",
    ],
    explanation=r"""
        $\mathrm{SE} = \sqrt{0.02^2/5 + 0.03^2/5} \approx 0.0161$ and
        $z = 0.015/0.0161 \approx 0.93$. A difference smaller than about two standard
        errors is well within what the seed-to-seed noise produces: these 5 seeds do not
        show that A is better than B. More seeds shrink the standard error like
        $1/\sqrt{n}$.
    """,
    success="z ≈ 0.93: less than one standard error apart, not a convincing difference.",
)

# ---------------------------------------------------------------------------------------------
# q4: what one run can tell
# ---------------------------------------------------------------------------------------------

q4 = ChoiceQuestion(
    "q4",
    answer="b",
    why={
        "a": "The comparison is unfair (only one optimizer has a sensible learning rate) and "
        "rests on a single run.",
        "b": "Tune each optimizer's learning rate with the same budget, then compare medians "
        "(or means) over several seeds with their spread.",
        "c": "A badly chosen learning rate makes any optimizer look bad.",
        "d": "Not even this data set's result is established yet, let alone others.",
    },
    explanation=r"""
        Defaults are not tuned settings: Adam's default learning rate (0.001) suits many
        networks, while SGD's best rate depends strongly on the problem, so "defaults
        against a guess" mostly measures the guess. And one run is one sample of a noisy
        process (initialisation, mini-batch order). A fair comparison gives each optimizer
        the same tuning budget (for example a sweep of learning rates), picks each one's
        best rate by the same rule, then compares several seeds per optimizer, reporting
        a summary fixed in advance (the chapter uses the median) and the spread, against
        epochs and against wall-clock time.
    """,
)

QUESTIONS = [q1, q2, q3, q4]
