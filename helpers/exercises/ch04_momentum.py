"""Exercises for the chapter *Momentum and Nesterov*.

Questions: ``q1`` a heavy-ball step in PyTorch's form, ``q2`` converting between the EMA and
PyTorch forms, ``q3`` a Nesterov step, ``q4`` rates against the condition number,
``q5`` why momentum helps in a ravine.
"""

import math

import numpy as np
import torch

from helpers.exercises._torch_reference import torch_step
from helpers.exercises.core import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]


def _step_cases():
    return [
        Case(
            (np.array([1.0, -2.0]), np.zeros(2), np.array([0.5, 1.0]), 0.1, 0.9),
            label="For a first step (v = 0), lr = 0.1, beta = 0.9",
        ),
        Case(
            (
                np.array([0.3, 1.5, -0.7]),
                np.array([0.2, -1.0, 0.4]),
                np.array([1.0, 2.0, -3.0]),
                0.05,
                0.8,
            ),
            label="For a later step (v ≠ 0), lr = 0.05, beta = 0.8",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# q1: heavy ball, PyTorch form
# ---------------------------------------------------------------------------------------------


def momentum_step(w, v, grad, lr, beta):
    v = beta * v + grad  # the velocity accumulates gradients
    w = w - lr * v  # step along the velocity
    return w, v


def _torch_momentum(w, v, grad, lr, beta, nesterov=False):
    new_w, state = torch_step(
        torch.optim.SGD, w, grad, {"momentum_buffer": v}, lr=lr, momentum=beta, nesterov=nesterov
    )
    return new_w, state["momentum_buffer"]


def _momentum_ema(w, v, grad, lr, beta):
    v = beta * v + (1 - beta) * grad
    return w - lr * v, v


def _momentum_old_velocity(w, v, grad, lr, beta):
    return w - lr * v, beta * v + grad


def _momentum_ascent(w, v, grad, lr, beta):
    v = beta * v + grad
    return w + lr * v, v


def _momentum_lr_inside(w, v, grad, lr, beta):
    v = beta * v - lr * grad
    return w + v, v


def _momentum_beta_on_grad(w, v, grad, lr, beta):
    v = v + beta * grad
    return w - lr * v, v


q1 = FunctionQuestion(
    "q1",
    reference=momentum_step,
    expected=_torch_momentum,
    cases=_step_cases,
    returns=["w", "v"],
    mistakes=[
        (
            _momentum_ema,
            "That is the EMA form, v = βv + (1 - β)g. This exercise asks for PyTorch's form "
            "v = βv + g (they differ by the factor 1 - β, which the learning rate absorbs).",
        ),
        (
            _momentum_lr_inside,
            "That is the form in which the velocity holds the learning rate "
            "(v = βv - ηg, w = w + v). Here, as in `torch.optim.SGD`, v = βv + g and "
            "w = w - ηv.",
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
        "$w \\leftarrow w - \\eta v$.",
        "Return both: `return w, v`.",
    ],
    explanation=r"""
        This is `torch.optim.SGD(params, lr, momentum=beta)`: the buffer
        $v_t = \beta v_{t-1} + g_t$ is a running sum of past gradients with weights
        $1, \beta, \beta^2, \dots$. (On the first step PyTorch sets $v = g$, which is the
        same as starting from $v = 0$.)
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
        "Write the EMA velocity as $u_t = \\beta u_{t-1} + (1-\\beta) g_t$ and PyTorch's as "
        "$v_t = \\beta v_{t-1} + g_t$. Starting from 0, $u_t = (1 - \\beta) v_t$.",
        "For a constant gradient $g$ the velocity $v$ tends to the fixed point of "
        "$v = \\beta v + g$.",
    ],
    explanation=r"""
        From zero, the two velocities stay proportional: $u_t = (1 - \beta) v_t$. The steps
        $\eta_{\text{EMA}} u_t$ and $\eta_{\text{torch}} v_t$ are equal when
        $\eta_{\text{torch}} = (1 - \beta)\, \eta_{\text{EMA}} = 0.01$.

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


def nesterov_step(w, v, grad, lr, beta):
    v = beta * v + grad  # the same velocity as heavy ball
    # look ahead: the gradient plus the next velocity step
    w = w - lr * (grad + beta * v)
    return w, v


def _nesterov_torch(w, v, grad, lr, beta):
    return _torch_momentum(w, v, grad, lr, beta, nesterov=True)


def _nesterov_ema(w, v, grad, lr, beta):
    v = beta * v + (1 - beta) * grad
    return w - lr * (grad + beta * v), v


def _nesterov_ascent(w, v, grad, lr, beta):
    v = beta * v + grad
    return w + lr * (grad + beta * v), v


q3 = FunctionQuestion(
    "q3",
    reference=nesterov_step,
    expected=_nesterov_torch,
    cases=_step_cases,
    returns=["w", "v"],
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
        "The step is $w \\leftarrow w - \\eta\\,(g + \\beta v)$ with the new $v$.",
    ],
    explanation=r"""
        `torch.optim.SGD(..., momentum=beta, nesterov=True)` keeps the same velocity
        $v \leftarrow \beta v + g$ but steps along $g + \beta v$. Unrolled, this is
        Nesterov's method: the gradient is, in effect, taken at the point where the
        momentum is about to carry the weights, which damps the overshooting of heavy
        ball.
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
    choices={
        "a": "It multiplies the learning rate by 1/(1 - β) in every direction alike.",
        "b": "Along the valley floor the gradients point the same way at every step and add "
        "up in the velocity, while across the valley they flip sign and largely cancel.",
        "c": "It uses second derivatives to rescale the steps.",
        "d": "It makes every step go exactly to the lowest point along the gradient.",
    },
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
