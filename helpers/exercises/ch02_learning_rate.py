"""Exercises for the chapter *The learning rate*: regimes, stability, the optimal step, rates.

Questions: ``q1`` three steps on x², ``q2`` classify the regime of a learning rate,
``q3`` stability limit, optimal step and rate on a quadratic, ``q4`` steps to a tolerance,
``q5`` why ill-conditioning makes gradient descent slow.
"""

import math

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: three steps on f(x) = x^2 with lr = 0.9
# ---------------------------------------------------------------------------------------------


def _iterate(factor, x0=1.0, steps=3):
    return x0 * factor**steps


q1 = ValueQuestion(
    "q1",
    names=["x3"],
    expected={"x3": _iterate(1 - 2 * 0.9)},
    solution="""
        lr, x = 0.9, 1.0
        for _ in range(3):
            x = x - lr * 2 * x  # f'(x) = 2x, so x <- (1 - 2 lr) x = -0.8 x
        x3 = x
    """,
    mistakes={
        "x3": [
            (
                _iterate(0.8),
                "The size is right but not the sign: the factor 1 - 2η = -0.8 is negative, "
                "so x changes sign at every step.",
            ),
            (
                _iterate(1 - 0.9),
                "The derivative of x² is 2x, so each step multiplies x by 1 - 2η.",
            ),
            (_iterate(-0.8, steps=2), "That is after two steps; the question asks for three."),
            (_iterate(-0.8, steps=4), "That is after four steps; the question asks for three."),
            (_iterate(1 + 2 * 0.9), "Step against the gradient: x ← x - η f'(x)."),
        ]
    },
    hints=[
        "With $f'(x) = 2x$ one step is $x \\leftarrow x - 2\\eta x = (1 - 2\\eta)\\,x$.",
        "So $x_3 = (1 - 2\\eta)^3 x_0$ with $1 - 2\\eta = -0.8$.",
    ],
    explanation=r"""
        Each step multiplies $x$ by $1 - 2\eta = -0.8$: the iterate jumps over the minimum
        and lands on the other side, a little closer each time
        ($1 \to -0.8 \to 0.64 \to -0.512$). This is the *oscillating but converging*
        regime, $1/2 < \eta < 1$ for $f(x) = x^2$.
    """,
    success="x jumps from side to side of the minimum while shrinking: 1, -0.8, 0.64, -0.512.",
)

# ---------------------------------------------------------------------------------------------
# q2: which regime?
# ---------------------------------------------------------------------------------------------


def regime(lr, L):
    factor = 1 - lr * L  # each step multiplies x by this
    if abs(factor) > 1:
        return "diverging"
    if factor == -1:
        return "cycling"
    if factor < 0:
        return "oscillating"
    return "monotone"  # 0 <= factor < 1


def _regime_half_curvature(lr, L):
    return regime(lr, L / 2)


def _regime_no_oscillation(lr, L):
    label = regime(lr, L)
    return "monotone" if label == "oscillating" else label


def _regime_no_cycle(lr, L):
    label = regime(lr, L)
    return "diverging" if label == "cycling" else label


def _regime_cycle_as_oscillating(lr, L):
    label = regime(lr, L)
    return "oscillating" if label == "cycling" else label


def _regime_one_over_l_oscillates(lr, L):
    return "oscillating" if lr * L == 1 else regime(lr, L)


def _q2_case(lr, L):
    return Case((lr, L), label=f"For lr = {lr} and L = {L}")


q2 = FunctionQuestion(
    "q2",
    reference=regime,
    cases=[
        _q2_case(0.1, 2.0),
        _q2_case(0.7, 2.0),
        _q2_case(1.0, 2.0),
        _q2_case(1.1, 2.0),
        _q2_case(0.5, 2.0),
        _q2_case(0.05, 10.0),
        _q2_case(0.15, 10.0),
        _q2_case(0.5, 4.0),
        _q2_case(0.25, 10.0),
        _q2_case(0.0625, 16.0),
    ],
    mistakes=[
        (
            _regime_half_curvature,
            "The second derivative of (L/2)x² is L, so each step multiplies x by 1 - ηL "
            "(not 1 - ηL/2).",
        ),
        (
            _regime_no_oscillation,
            "Between η = 1/L and η = 2/L the factor 1 - ηL is negative: x changes sign at "
            "every step while it shrinks. That is 'oscillating'.",
        ),
        (
            _regime_no_cycle,
            "At exactly η = 2/L the factor is -1: x flips sign forever without growing. "
            "That is 'cycling', not 'diverging'.",
        ),
        (
            _regime_cycle_as_oscillating,
            "At exactly η = 2/L the factor is -1: |x| never shrinks, so it does not converge. "
            "That is 'cycling'.",
        ),
        (
            _regime_one_over_l_oscillates,
            "At η = 1/L the factor 1 - ηL is 0: one step lands exactly on the minimum. "
            "Nothing oscillates: that counts as 'monotone'.",
        ),
    ],
    hints=[
        "One step on $f(x) = \\frac{L}{2}x^2$ is $x \\leftarrow (1 - \\eta L)\\,x$. "
        "Classify by the factor $r = 1 - \\eta L$.",
        "$0 \\le r < 1$: monotone; $-1 < r < 0$: oscillating; $r = -1$: cycling; "
        "$|r| > 1$: diverging.",
    ],
    explanation=r"""
        On $f(x) = \frac{L}{2}x^2$ gradient descent is the linear recursion
        $x_{t+1} = (1 - \eta L)\, x_t$, so $x_t = (1 - \eta L)^t x_0$. Everything follows
        from the factor: it shrinks $x$ when $|1 - \eta L| < 1$, that is $0 < \eta < 2/L$,
        and it flips the sign of $x$ when it is negative, $\eta > 1/L$. The fastest choice
        is $\eta = 1/L$, where one step reaches the minimum.
    """,
    success="you read the regime off the factor 1 - ηL.",
)

# ---------------------------------------------------------------------------------------------
# q3: stability limit, optimal step and rate on (mu x^2 + L y^2) / 2
# ---------------------------------------------------------------------------------------------

_MU, _L = 1.0, 10.0
_KAPPA = _L / _MU

q3 = ValueQuestion(
    "q3",
    names=["lr_max", "lr_best", "rate"],
    expected={
        "lr_max": 2 / _L,
        "lr_best": 2 / (_MU + _L),
        "rate": max(abs(1 - 2 / (_MU + _L) * _MU), abs(1 - 2 / (_MU + _L) * _L)),
    },
    solution="""
        mu, L = 1.0, 10.0
        lr_max = 2 / L  # beyond this the steep y-direction diverges
        lr_best = 2 / (mu + L)  # makes |1 - lr mu| = |1 - lr L|
        rate = (L / mu - 1) / (L / mu + 1)  # (kappa - 1) / (kappa + 1)
    """,
    mistakes={
        "lr_max": [
            (2 / _MU, "The steep direction (curvature L) sets the limit, not the flat one."),
            (
                1 / _L,
                "At 1/L the steep direction converges in one step; it stays stable up to 2/L.",
            ),
            (4 / _L, "The curvature of (L/2)y² is L, so the limit is 2/L."),
        ],
        "lr_best": [
            (
                1 / _L,
                "At 1/L the y-direction converges in one step, but x only shrinks by "
                "1 - μ/L = 0.9 per step. The best step balances the two factors.",
            ),
            (
                2 / _L,
                "2/L is the stability limit: there the y-direction does not converge at all.",
            ),
            (1 / _MU, "At 1/μ the steep direction diverges (its factor is 1 - L/μ = -9)."),
            (1 / (_MU + _L), "Balance the factors: 1 - ημ = -(1 - ηL) gives η = 2/(μ + L)."),
        ],
        "rate": [
            (1 - 1 / _KAPPA, "That is the rate at η = 1/L; the optimal step does better."),
            (
                1 - (_KAPPA - 1) / (_KAPPA + 1),
                "That is 1 minus the rate: the rate is the factor by which the error "
                "shrinks per step, (κ - 1)/(κ + 1).",
            ),
            ((_KAPPA - 1) / _KAPPA, "The rate at the optimal step is (κ - 1)/(κ + 1)."),
        ],
    },
    hints=[
        "In each coordinate gradient descent multiplies the error by its own factor: "
        "$1 - \\eta\\mu$ for $x$ and $1 - \\eta L$ for $y$. Stability needs both in $(-1, 1)$.",
        "The optimal step makes the two factors equal in size, $1 - \\eta\\mu = -(1 - \\eta L)$; "
        "the rate is then their common size.",
    ],
    explanation=r"""
        The error in $x$ shrinks by $|1 - \eta\mu|$ per step and the error in $y$ by
        $|1 - \eta L|$. Stability needs $\eta < 2/L = 0.2$. The slowest direction decides
        the speed, so the best step minimises $\max(|1 - \eta\mu|, |1 - \eta L|)$: the
        two are equal at $\eta^* = 2/(\mu + L) = 2/11 \approx 0.182$, where both are
        $(\kappa - 1)/(\kappa + 1) = 9/11 \approx 0.818$ with $\kappa = L/\mu = 10$.
    """,
    success="η < 2/L = 0.2, η* = 2/(μ + L) ≈ 0.182 and rate (κ - 1)/(κ + 1) ≈ 0.818.",
)

# ---------------------------------------------------------------------------------------------
# q4: steps to shrink the error a millionfold at kappa = 100
# ---------------------------------------------------------------------------------------------


def _steps_to(rate, factor=1e-6):
    return math.ceil(math.log(factor) / math.log(rate))


_RATE_100 = (100 - 1) / (100 + 1)

q4 = ValueQuestion(
    "q4",
    names=["num_steps"],
    expected={"num_steps": _steps_to(_RATE_100)},
    integer=True,
    solution="""
        kappa = 100
        rate = (kappa - 1) / (kappa + 1)  # error factor per step at the optimal lr
        # smallest t with rate**t <= 1e-6
        num_steps = math.ceil(math.log(1e-6) / math.log(rate))
    """,
    mistakes={
        "num_steps": [
            (
                _steps_to(_RATE_100) - 1,
                "Round up: after that many steps the error is still a little above 1e-6.",
            ),
            (
                _steps_to(1 - 1 / 100),
                "That uses the rate 1 - 1/κ of η = 1/L; at the optimal step the rate is "
                "(κ - 1)/(κ + 1).",
            ),
            (
                _steps_to(1 - 1 / 100) - 1,
                "That uses the rate 1 - 1/κ of η = 1/L; at the optimal step the rate is "
                "(κ - 1)/(κ + 1).",
            ),
        ]
    },
    hints=[
        "After $t$ steps the error is at most $r^t$ times the initial error, with "
        "$r = (\\kappa - 1)/(\\kappa + 1)$.",
        "Solve $r^t \\le 10^{-6}$: $t \\ge \\ln(10^{-6}) / \\ln r$ (both logarithms are "
        "negative), and round up.",
    ],
    explanation=r"""
        With $\kappa = 100$ the rate is $r = 99/101 \approx 0.980$, and
        $t = \lceil \ln 10^{-6} / \ln r \rceil = 691$ steps. A useful approximation:
        $\ln r \approx -2/\kappa$, so $t \approx \frac{\kappa}{2} \ln 10^{6} \approx 691$:
        the number of steps grows *linearly* with the condition number.
    """,
    success="691 steps: the count grows linearly with κ (about (κ/2) ln 10⁶).",
)

# ---------------------------------------------------------------------------------------------
# q5: why is gradient descent slow in a ravine?
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "The negative gradient always points downhill. It does not point at the "
        "minimum, but that alone does not make the method slow.",
        "b": "One learning rate serves both directions, and the steep one caps it.",
        "c": "Steps shrink near any minimum, yet on a well-conditioned bowl gradient descent "
        "converges in a few steps. What matters is the ratio of the curvatures.",
        "d": "Rounding errors are tiny here; the slowness is in exact arithmetic too.",
    },
    explanation=r"""
        Gradient descent uses one learning rate for every direction. On
        $f(x, y) = (x^2 + 100 y^2)/2$ the steep $y$-direction diverges unless
        $\eta < 2/100$. With such a step the flat $x$-direction shrinks by the factor
        $1 - \eta \cdot 1 > 1 - 2/100 = 0.98$ per step, so hundreds of steps are needed.
        The condition number $\kappa = L/\mu = 100$ measures this conflict, and the best
        rate $(\kappa - 1)/(\kappa + 1)$ is close to 1 when $\kappa$ is large. Momentum,
        adaptive methods and Newton's method attack exactly this problem.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
