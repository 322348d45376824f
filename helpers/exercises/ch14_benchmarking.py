"""Exercises for the chapter *Benchmarking optimizers*: time to target, studies, profiles.

Questions: ``q1`` time to target from a validation curve, ``q2`` a method's time on a
workload from its studies, ``q3`` a point of a performance profile, ``q4`` the AlgoPerf
score of a small table, ``q5`` grid or quasi-random search.
"""

import math

import numpy as np

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

INF = math.inf

# ---------------------------------------------------------------------------------------------
# q1: time to target from a curve
# ---------------------------------------------------------------------------------------------


def time_to_target(steps, metrics, target):
    steps, metrics = np.asarray(steps, dtype=float), np.asarray(metrics, dtype=float)
    # at or below the target; NaN compares False
    reached = np.flatnonzero(metrics <= target)
    return float(steps[reached[0]]) if len(reached) else math.inf


def _ttt_variant(steps, metrics, target, *, rule="first", strict=False, miss=INF):
    steps, metrics = np.asarray(steps, dtype=float), np.asarray(metrics, dtype=float)
    reached = np.flatnonzero(metrics < target if strict else metrics <= target)
    if not len(reached):
        return miss
    if rule == "last":
        return float(steps[reached[-1]])
    if rule == "index":
        return float(reached[0])
    if rule == "best":
        return float(steps[int(np.nanargmin(metrics))])
    return float(steps[reached[0]])


def _q1_cases():
    steps = [0, 20, 40, 60, 80, 100]
    return [
        Case((steps, [2.3, 0.9, 0.5, 0.62, 0.41, 0.45], 0.5), label="For a curve that dips"),
        Case((steps, [2.3, 1.1, 0.8, 0.7, 0.66, 0.65], 0.5), label="For a run that misses"),
        Case(
            ([0, 10, 20, 30], [3.0, float("nan"), float("nan"), float("nan")], 0.5),
            label="For a diverged run (NaN)",
        ),
        Case(([0, 5, 10, 15, 20], [1.0, 0.7, 0.35, 0.3, 0.2], 0.4), label="For a second curve"),
    ]


q1 = FunctionQuestion(
    "q1",
    reference=time_to_target,
    cases=_q1_cases,
    rtol=1e-12,
    mistakes=[
        (
            lambda *a: _ttt_variant(*a, strict=True),
            "A metric equal to the target has reached it: compare with `<=`.",
        ),
        (
            lambda *a: _ttt_variant(*a, rule="last"),
            "That is the last evaluation at the target. The time to target is the *first* one: "
            "the run could have stopped there.",
        ),
        (
            lambda *a: _ttt_variant(*a, rule="index"),
            "Return the step of that evaluation (from `steps`), not its position in the list.",
        ),
        (
            lambda *a: _ttt_variant(*a, rule="best"),
            "That is the step of the best metric; the time to target is when the target was "
            "first reached.",
        ),
        (
            lambda *a: _ttt_variant(*a, miss=-1.0),
            "A run that never reaches the target must score `math.inf`, so that it loses "
            "to every run that does (and stays lost in a median).",
        ),
        (
            lambda *a: _ttt_variant(*a, miss=float("nan")),
            "A run that never reaches the target must score `math.inf`, not NaN: a NaN "
            "would poison every minimum and median taken later.",
        ),
    ],
    hints=[
        "`np.flatnonzero(metrics <= target)` gives the positions of the evaluations at or "
        "below the target.",
        "The first of them, looked up in `steps`, is the answer; if there is none, return "
        "`math.inf`.",
    ],
    explanation=r"""
        AlgoPerf measures how long a run takes to reach a validation target, not where it
        ends: the time of the first evaluation at or below the target. A run that dips
        below it and comes back up has still reached it. A run that never reaches it
        (or diverges: NaN compares false with everything) gets an infinite time, which
        keeps the later steps (fastest trial, median over studies, ratios) honest.
    """,
    success="the step of the first evaluation at or below the target, inf for a miss.",
)

# ---------------------------------------------------------------------------------------------
# q2: a method's time on a workload from its studies
# ---------------------------------------------------------------------------------------------


def per_workload_time(times):
    # shape (num_studies, trials_per_study)
    times = np.asarray(times, dtype=float)
    # the fastest trial of each study, then the median over the studies
    return float(np.median(times.min(axis=1)))


def _q2_cases():
    return [
        Case(([[300, INF, 500], [INF, INF, INF], [200, 800, 900]],), label="For 3 studies"),
        Case(
            ([[120, 90, INF, 400, INF], [INF, 150, 160, INF, 700], [60, INF, INF, INF, INF]],),
            label="For 3 studies of 5 trials",
        ),
        Case(([[40, 50], [30, INF], [INF, INF], [45, 44], [70, 35]],), label="For 5 studies"),
    ]


q2 = FunctionQuestion(
    "q2",
    reference=per_workload_time,
    cases=_q2_cases,
    rtol=1e-12,
    mistakes=[
        (
            lambda t: float(np.min(np.median(np.asarray(t, dtype=float), axis=1))),
            "Take the fastest trial *within* each study first (the tuning picks its best "
            "trial), then the median *over* the studies.",
        ),
        (
            lambda t: float(np.min(np.asarray(t, dtype=float))),
            "That is the fastest trial of all studies together: a lucky draw. Take the "
            "fastest of each study, then the median over the studies.",
        ),
        (
            lambda t: float(np.mean(np.asarray(t, dtype=float).min(axis=1))),
            "Use the median over the studies, as AlgoPerf does: the mean is infinite as soon "
            "as one study misses.",
        ),
        (
            lambda t: float(np.median(np.asarray(t, dtype=float).min(axis=0))),
            "Rows are studies: take the minimum along `axis=1` (over the trials of a study).",
        ),
    ],
    hints=[
        "Rows are studies, columns are trials: `times.min(axis=1)` is the fastest trial of "
        "each study.",
        "Then `np.median` of those; a study that missed counts as `inf` in the median.",
    ],
    explanation=r"""
        Within a study, tuning keeps its best trial: the time of a study is its fastest
        trial. Studies repeat the whole tuning with other points of the search space, so
        their spread shows how much the result depends on luck; the median over studies
        is the per-workload time. A study in which no trial reached the target counts as
        infinite and takes part in the median: one failed study out of three does not make
        the time infinite, two do.
    """,
    success="the median over studies of each study's fastest trial.",
)

# ---------------------------------------------------------------------------------------------
# q3 and q4: a small benchmark table
# ---------------------------------------------------------------------------------------------

#: Steps to target of three methods on five workloads (inf: never reached).
TABLE = {
    "A": [100, 400, 250, INF, 90],
    "B": [200, 100, 300, 500, INF],
    "C": [150, 300, INF, 800, 60],
}


def _ratios(table=TABLE):
    times = np.array(list(table.values()), dtype=float)
    return times / times.min(axis=0)


def _rho(ratios, tau, solved_only=False):
    reached = ratios <= tau
    return float(reached.sum() / (np.isfinite(ratios).sum() if solved_only else len(ratios)))


def _score(ratios, normalise=True, solved_only=False):
    credit = np.where(ratios <= 4, 4 - ratios, 0.0) / (3 if normalise else 1)
    return float(credit.sum() / (np.isfinite(ratios).sum() if solved_only else len(ratios)))


_R = _ratios()
_R_INVERTED = 1 / _R

q3 = ValueQuestion(
    "q3",
    names=["rho_B", "rho_C"],
    expected={"rho_B": _rho(_R[1], 1.5), "rho_C": _rho(_R[2], 1.5)},
    solution="""
        times = np.array(list(TABLE.values()), dtype=float)  # (method, workload)
        ratios = times / times.min(axis=0)  # over the fastest on each workload
        rho_B = np.mean(ratios[1] <= 1.5)  # over all 5 workloads, the misses included
        rho_C = np.mean(ratios[2] <= 1.5)
    """,
    mistakes={
        "rho_B": [
            (_rho(_R[1], 1.5, solved_only=True), "Divide by all 5 workloads, the missed one too."),
            (
                float(np.mean(_R_INVERTED[1] <= 1.5)),
                "Use the ratios time / fastest, each >= 1, and count those at most 1.5.",
            ),
            (_rho(_R[1], 2.0), "That is the profile at tau = 2; the question asks for 1.5."),
        ],
        "rho_C": [
            (_rho(_R[2], 1.5, solved_only=True), "Divide by all 5 workloads, the missed one too."),
            (
                float(np.mean(_R[2] < 1.5)),
                "A ratio of exactly 1.5 is within a factor 1.5: count ratios at most tau (`<=`).",
            ),
            (_rho(_R[2], 2.0), "That is the profile at tau = 2; the question asks for 1.5."),
        ],
    },
    hints=[
        "The fastest time on each workload is the minimum over the three methods: "
        "`times.min(axis=0)`; a method's ratios are its times divided by those.",
        "The profile at 1.5 is the fraction of the 5 workloads where the ratio is at most 1.5 "
        "(an inf ratio never is).",
    ],
    explanation=r"""
        The performance ratio $r_{s,w} = t_{s,w} / \min_{s'} t_{s',w}$ says how many times
        slower method $s$ was than the fastest method on workload $w$ (1 for the fastest,
        $\infty$ for a miss). The profile $\rho_s(\tau)$ is the fraction of **all**
        workloads with $r_{s,w} \le \tau$. B's ratios are 2, 1, 1.2, 1 and $\infty$, so
        $\rho_B(1.5) = 3/5$; C's are 1.5, 3, $\infty$, 1.6 and 1, so $\rho_C(1.5) = 2/5$.
        Dividing by the solved workloads only would hide the misses.
    """,
    success="rho_B(1.5) = 0.6 and rho_C(1.5) = 0.4.",
)

q4 = ValueQuestion(
    "q4",
    names=["score_A", "score_C"],
    expected={"score_A": _score(_R[0]), "score_C": _score(_R[2])},
    solution="""
        times = np.array(list(TABLE.values()), dtype=float)
        ratios = times / times.min(axis=0)
        credit = np.where(ratios <= 4, (4 - ratios) / 3, 0.0)  # per workload, in [0, 1]
        score_A, score_C = credit[0].mean(), credit[2].mean()
    """,
    mistakes={
        "score_A": [
            (
                _score(_R[0], normalise=False),
                "Divide the area by 4 - 1 = 3, the width of the "
                "interval of tau, so that a score is at most 1.",
            ),
            (
                _score(_R[0], solved_only=True),
                "Average over all 5 workloads: a missed workload "
                "adds 0, it does not leave the average.",
            ),
        ],
        "score_C": [
            (
                _score(_R[2], normalise=False),
                "Divide the area by 4 - 1 = 3, the width of the "
                "interval of tau, so that a score is at most 1.",
            ),
            (
                _score(_R[2], solved_only=True),
                "Average over all 5 workloads: a missed workload "
                "adds 0, it does not leave the average.",
            ),
        ],
    },
    hints=[
        "A workload with ratio $r \\le 4$ adds the area $4 - r$ under the step of the "
        "profile, divided by 5 workloads; a ratio above 4 (or inf) adds nothing.",
        "The score divides the whole area by $4 - 1 = 3$: "
        "`np.where(ratios <= 4, (4 - ratios) / 3, 0).mean(axis=1)`.",
    ],
    explanation=r"""
        The AlgoPerf score is $B_s = \frac{1}{3}\int_1^4 \rho_s(\tau)\,d\tau$. The profile is
        a staircase: workload $w$ counts from $\tau = r_{s,w}$ on, so it adds
        $(4 - r_{s,w})/3$ to the area, divided by the number of workloads. A's ratios are
        1, 4, 1, $\infty$, 1.5: credits 1, 0, 1, 0 and 5/6, mean 0.567. C's are 1.5, 3,
        $\infty$, 1.6, 1: mean 0.593. C beats A although A was fastest on two workloads:
        the score rewards being close to the best everywhere.
    """,
    success="score_A ≈ 0.567 and score_C ≈ 0.593.",
)

# ---------------------------------------------------------------------------------------------
# q5: grid or quasi-random search
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "Even in the square, but each axis sees only 3 values: if the learning rate "
        "matters most, 6 of the 9 trials repeat a learning rate already tried.",
        "b": "Sobol points are spread evenly over each axis as well as over the square.",
        "c": "They cost the same, but the grid tries 3 learning rates and Sobol 9.",
        "d": "Sobol points are built not to cluster: the first 8 put one point in each eighth "
        "of each axis (for any power of 2, exactly so), and the ninth adds a ninth value.",
    },
    explanation=r"""
        With 9 trials over the learning rate and $\beta_1$, a $3\times 3$ grid tries only
        three learning rates, each three times with another $\beta_1$. When one
        hyperparameter matters far more than the other (the learning rate usually does),
        the grid has spent 9 trials on a 3-point search. Quasi-random (Sobol) points fill
        the square evenly *and* give each axis 9 distinct values, and any prefix of the
        sequence is still spread out, so a study can stop early. This is why the tuning
        playbook and AlgoPerf use quasi-random search. With so few trials the playbook
        also advises tuning only the learning rate.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
