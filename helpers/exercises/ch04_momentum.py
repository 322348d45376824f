"""Exercises for the chapter *Momentum and Nesterov*.

Questions: ``q1`` a heavy-ball step in PyTorch's form, ``q2`` converting between the EMA and
PyTorch forms, ``q3`` a Nesterov step, ``q4`` rates against the condition number,
``q5`` why momentum helps in a ravine.
"""

import math

import torch

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____
from helpers.exercises._torch_reference import torch_step
from helpers.optim.functional import momentum_step, nesterov_step

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]


def _tensor(*values):
    return torch.tensor(values, dtype=torch.float64)


def _step_cases():
    return [
        Case(
            (_tensor(1.0, -2.0), _tensor(0.5, 1.0), torch.zeros(2, dtype=torch.float64), 0.1, 0.9),
            label="For a first step (v = 0), lr = 0.1, beta = 0.9",
        ),
        Case(
            (_tensor(0.3, 1.5, -0.7), _tensor(1.0, 2.0, -3.0), _tensor(0.2, -1.0, 0.4), 0.05, 0.8),
            label="For a later step (v ≠ 0), lr = 0.05, beta = 0.8",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# q1: heavy ball, PyTorch form
# ---------------------------------------------------------------------------------------------


def _torch_momentum(p, g, v, lr, beta, nesterov=False):
    new_p, state = torch_step(
        torch.optim.SGD, p, g, {"momentum_buffer": v}, lr=lr, momentum=beta, nesterov=nesterov
    )
    return new_p, state["momentum_buffer"]


def _momentum_ema(p, g, v, lr, beta):
    v = beta * v + (1 - beta) * g
    return p - lr * v, v


def _momentum_old_velocity(p, g, v, lr, beta):
    return p - lr * v, beta * v + g


def _momentum_ascent(p, g, v, lr, beta):
    v = beta * v + g
    return p + lr * v, v


def _momentum_lr_inside(p, g, v, lr, beta):
    v = beta * v - lr * g
    return p + v, v


def _momentum_beta_on_grad(p, g, v, lr, beta):
    v = v + beta * g
    return p - lr * v, v


q1 = FunctionQuestion(
    "q1",
    reference=momentum_step,
    expected=_torch_momentum,
    cases=_step_cases,
    returns=["p", "v"],
    mistakes=[
        (
            _momentum_ema,
            "That is the EMA form, m = βm + (1 - β)g. This exercise asks for PyTorch's form "
            "v = βv + g (they differ by the factor 1 - β, which the learning rate absorbs).",
        ),
        (
            _momentum_lr_inside,
            "That is the form in which the velocity holds the learning rate "
            "(v = βv - ηg, p = p + v). Here, as in `torch.optim.SGD`, v = βv + g and "
            "p = p - ηv.",
        ),
        (
            _momentum_old_velocity,
            "Update the velocity first, then step with the *new* velocity.",
        ),
        (_momentum_ascent, "Is the sign of the update right? Step against the velocity."),
        (_momentum_beta_on_grad, "β multiplies the old velocity, not the gradient: v = βv + g."),
    ],
    hints=[
        "Two lines: first the new velocity $v \\leftarrow \\beta v + g$, then the step "
        "$\\theta \\leftarrow \\theta - \\eta v$ (`p` holds $\\theta$).",
        "Tensors take the same arithmetic as numbers: `v = beta * v + g`, then "
        "`p = p - lr * v`. Return both: `return p, v`.",
    ],
    explanation=r"""
        This is `torch.optim.SGD(params, lr, momentum=beta)`: the buffer
        $v_t = \beta v_{t-1} + g_t$ is a running sum of past gradients with weights
        $1, \beta, \beta^2, \dots$. (On the first step PyTorch sets $v = g$, which is the
        same as starting from $v = 0$.)

        The solution shown is the course's own `helpers.optim.functional.momentum_step`, the step
        that `helpers.optim.SGD` takes for every parameter. It updates the tensors in place
        (`mul_`, `add_`, ... write into the tensor itself) and returns them; an answer that returns
        new tensors is just as right.
    """,
    success="your step matches `torch.optim.SGD(momentum=beta)`.",
)

# ---------------------------------------------------------------------------------------------
# q2: EMA form <-> PyTorch form
# ---------------------------------------------------------------------------------------------

_BETA, _LR_EMA = 0.9, 0.1

q2 = ValueQuestion(
    "q2",
    names=["lr_torch", "effective_lr"],
    expected={"lr_torch": _LR_EMA * (1 - _BETA), "effective_lr": 0.01 / (1 - _BETA)},
    solution="""
        beta, lr_ema = 0.9, 0.1
        # the EMA velocity is (1 - beta) times PyTorch's velocity, so the
        # same steps need
        lr_torch = lr_ema * (1 - beta)
        # a constant gradient g makes PyTorch's velocity grow to g / (1 - beta)
        effective_lr = 0.01 / (1 - beta)
    """,
    mistakes={
        "lr_torch": [
            (
                _LR_EMA / (1 - _BETA),
                "The PyTorch velocity is the larger one (by 1/(1 - β)): "
                "its learning rate must be smaller, not larger.",
            ),
            (
                _LR_EMA,
                "The two velocities differ by the factor 1 - β, so the learning rates "
                "must differ too.",
            ),
            (_LR_EMA * _BETA, "The factor between the two velocities is 1 - β, not β."),
        ],
        "effective_lr": [
            (
                0.01,
                "With a steady gradient the velocity keeps growing towards g/(1 - β), so the "
                "step is larger than η g.",
            ),
            (
                0.01 * (1 - _BETA),
                "The velocity grows towards g/(1 - β): momentum makes steady "
                "steps longer, not shorter.",
            ),
            (0.01 / _BETA, "The velocity's limit solves v = βv + g, that is v = g/(1 - β)."),
        ],
    },
    hints=[
        "Write the EMA velocity as $m_t = \\beta m_{t-1} + (1-\\beta) g_t$ and PyTorch's as "
        "$v_t = \\beta v_{t-1} + g_t$. Starting from 0, $m_t = (1 - \\beta) v_t$.",
        "For a constant gradient $g$ the velocity $v$ tends to the fixed point of "
        "$v = \\beta v + g$.",
    ],
    explanation=r"""
        From zero, the two velocities stay proportional: $m_t = (1 - \beta) v_t$. The steps
        $\alpha m_t$ and $\eta v_t$ are equal when
        $\eta = (1 - \beta)\, \alpha = 0.01$.

        With a constant gradient, $v$ tends to $g/(1 - \beta)$, so PyTorch's form
        eventually steps $\eta g/(1 - \beta)$: an effective learning rate of
        $0.01/(1 - 0.9) = 0.1$, ten times $\eta$. So on a slope where the gradient keeps
        its direction, momentum 0.9 needs a learning rate about ten times smaller than
        plain SGD to take the same steps; where the gradient flips sign, the velocity
        largely cancels and no such factor applies.
    """,
    success="0.01 gives the same steps; in a steady slope momentum 0.9 multiplies the step by 10.",
)

# ---------------------------------------------------------------------------------------------
# q3: Nesterov, PyTorch form
# ---------------------------------------------------------------------------------------------


def _nesterov_torch(p, g, v, lr, beta):
    return _torch_momentum(p, g, v, lr, beta, nesterov=True)


def _nesterov_ema(p, g, v, lr, beta):
    v = beta * v + (1 - beta) * g
    return p - lr * (g + beta * v), v


def _nesterov_ascent(p, g, v, lr, beta):
    v = beta * v + g
    return p + lr * (g + beta * v), v


q3 = FunctionQuestion(
    "q3",
    reference=nesterov_step,
    expected=_nesterov_torch,
    cases=_step_cases,
    returns=["p", "v"],
    mistakes=[
        (
            momentum_step,
            "That is a plain heavy-ball step (note that g + β·v_old is just the new v). "
            "Nesterov steps along g + βv with the new v.",
        ),
        (_nesterov_ema, "PyTorch's velocity is v = βv + g, without the factor 1 - β."),
        (_nesterov_ascent, "Is the sign of the update right? Step against g + βv."),
    ],
    hints=[
        "The velocity is updated as for heavy ball, $v \\leftarrow \\beta v + g$; only the "
        "step changes.",
        "The step is $\\theta \\leftarrow \\theta - \\eta\\,(g + \\beta v)$ with the new "
        "$v$: `p = p - lr * (g + beta * v)`.",
    ],
    explanation=r"""
        `torch.optim.SGD(..., momentum=beta, nesterov=True)` keeps the same velocity
        $v \leftarrow \beta v + g$ but steps along $g + \beta v$. Unrolled, this is
        Nesterov's method: the gradient is, in effect, taken at the point where the
        momentum is about to carry the weights, which damps the overshooting of heavy
        ball.

        The solution shown is the course's own `helpers.optim.functional.nesterov_step`, the step
        that `helpers.optim.SGD` takes for every parameter. It updates the tensors in place
        (`mul_`, `add_`, ... write into the tensor itself) and returns them; an answer that returns
        new tensors is just as right.
    """,
    success="your step matches `torch.optim.SGD(momentum=beta, nesterov=True)`.",
)

# ---------------------------------------------------------------------------------------------
# q4: rates at kappa = 100
# ---------------------------------------------------------------------------------------------

_K = 100.0

q4 = ValueQuestion(
    "q4",
    names=["rate_gd", "rate_momentum"],
    expected={
        "rate_gd": (_K - 1) / (_K + 1),
        "rate_momentum": (math.sqrt(_K) - 1) / (math.sqrt(_K) + 1),
    },
    solution="""
        kappa = 100
        rate_gd = (kappa - 1) / (kappa + 1)
        rate_momentum = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    """,
    mistakes={
        "rate_gd": [
            (
                1 - 1 / _K,
                "That is the rate at η = 1/L; at the optimal step it is (κ - 1)/(κ + 1).",
            ),
            (
                (math.sqrt(_K) - 1) / (math.sqrt(_K) + 1),
                "That is the heavy-ball rate; gradient descent's is (κ - 1)/(κ + 1).",
            ),
        ],
        "rate_momentum": [
            (
                (_K - 1) / (_K + 1),
                "That is gradient descent's rate; with momentum κ is replaced by √κ.",
            ),
            (1 - 1 / math.sqrt(_K), "Close, but the exact optimal rate is (√κ - 1)/(√κ + 1)."),
            (
                ((math.sqrt(_K) - 1) / (math.sqrt(_K) + 1)) ** 2,
                "That is the optimal β, the square of the rate.",
            ),
        ],
    },
    hints=[
        "Optimally tuned gradient descent on a quadratic with condition number $\\kappa$ "
        "converges at the rate $(\\kappa - 1)/(\\kappa + 1)$: in the worst case the error "
        "shrinks by that factor per step.",
        "Optimally tuned heavy ball replaces $\\kappa$ by $\\sqrt{\\kappa}$.",
    ],
    explanation=r"""
        For $\kappa = 100$: gradient descent at its best step has rate
        $99/101 \approx 0.980$; heavy ball with the optimal $\eta$ and $\beta$ has rate
        $(\sqrt{\kappa} - 1)/(\sqrt{\kappa} + 1) = 9/11 \approx 0.818$. Both are asymptotic
        rates, $\rho = \lim_t \|e_t\|^{1/t}$ in the worst case. For gradient descent the
        error's norm is multiplied by at most $\rho$ at every step; for heavy ball at its
        optimal $\beta$ the iteration has repeated eigenvalues, so the error behaves like
        $(a + bt)\,\rho^t$ and can shrink more slowly than $\rho$ per step for a while.
        To shrink the error a millionfold, the rates alone give about 691 steps against
        about 69 (in the worst case heavy ball needs noticeably more, because of the
        factor $a + bt$): momentum turns the dependence on $\kappa$ into a dependence on
        $\sqrt{\kappa}$.
    """,
    success="0.980 against 0.818: by the rates, about 691 steps against 69 for a millionfold "
    "reduction.",
)

# ---------------------------------------------------------------------------------------------
# q5: why momentum helps in a ravine
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "Only gradients that keep their direction are amplified by 1/(1 - β); gradients "
        "that flip sign are damped. That difference is the point.",
        "b": "The velocity averages the gradients: consistent parts add up, oscillating "
        "parts cancel.",
        "c": "Momentum only uses gradients; rescaling by second derivatives is Newton's method.",
        "d": "That is an exact line search, not momentum.",
    },
    explanation=r"""
        In a ravine the gradient has a small component along the valley, which keeps its
        sign, and a large one across it, which flips sign as gradient descent bounces
        between the walls. The velocity $v_t = \sum_k \beta^k g_{t-k}$ adds the consistent
        component up (towards $g/(1 - \beta)$, ten times larger for $\beta = 0.9$) while the
        alternating component nearly cancels ($g(1 - \beta + \beta^2 - \dots)$, about
        $g/(1 + \beta)$). So momentum speeds up the slow direction and damps the
        oscillation at the same time, which a larger learning rate alone cannot do.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
