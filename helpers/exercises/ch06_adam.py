"""Exercises for the chapter *Adam and its family*: Adam, bias correction, AdamW, memory.

Questions: ``q1`` an Adam step, ``q2`` the first step with and without bias correction,
``q3`` an AdamW step, ``q4`` optimizer memory, ``q5`` L2 penalty against weight decay in Adam.
"""

import math

import torch

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____
from helpers.exercises._torch_reference import torch_step
from helpers.optim.functional import adam_step, adamw_step

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: an Adam step
# ---------------------------------------------------------------------------------------------


def _adam_torch(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0, decoupled=False):
    optimizer = torch.optim.AdamW if decoupled else torch.optim.Adam
    state = {"step": float(t - 1), "exp_avg": m, "exp_avg_sq": v}
    new_p, new_state = torch_step(
        optimizer, p, g, state, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay
    )
    return new_p, new_state["exp_avg"], new_state["exp_avg_sq"]


def _tensor(*values):
    return torch.tensor(values, dtype=torch.float64)


def _adam_variant(
    p,
    g,
    m,
    v,
    t,
    lr,
    b1,
    b2,
    eps,
    *,
    correct_m=True,
    correct_v=True,
    shift=0,
    eps_inside=False,
    swap=False,
    ema_m=True,
    old_moments=False,
    sign=-1.0,
):
    if swap:
        b1, b2 = b2, b1
    new_m = b1 * m + ((1 - b1) if ema_m else 1.0) * g
    new_v = b2 * v + (1 - b2) * g**2
    um, uv = (m, v) if old_moments else (new_m, new_v)
    step = t + shift
    m_hat = um / (1 - b1**step) if correct_m else um
    v_hat = uv / (1 - b2**step) if correct_v else uv
    denominator = torch.sqrt(v_hat + eps) if eps_inside else torch.sqrt(v_hat) + eps
    return p + sign * lr * m_hat / denominator, new_m, new_v


def _adam_corrected_state(p, g, m, v, t, lr, b1, b2, eps):
    new_p, new_m, new_v = adam_step(p, g, m, v, t, lr, b1, b2, eps)
    return new_p, new_m / (1 - b1**t), new_v / (1 - b2**t)


def _adam(**changes):
    return lambda *args: _adam_variant(*args, **changes)


def _adam_cases():
    return [
        Case(
            (
                _tensor(1.0, -2.0, 0.5),
                _tensor(0.1, -3.0, 0.02),
                torch.zeros(3, dtype=torch.float64),
                torch.zeros(3, dtype=torch.float64),
                1,
                0.01,
                0.9,
                0.999,
                1e-8,
            ),
            label="For the first step (t = 1, zero moments), lr = 0.01",
        ),
        Case(
            (
                _tensor(0.3, 1.2),
                _tensor(0.2, -0.4),
                _tensor(0.05, -0.2),
                _tensor(0.01, 0.05),
                5,
                0.1,
                0.9,
                0.999,
                1e-3,
            ),
            label="For step t = 5 with non-zero moments, lr = 0.1, eps = 1e-3",
        ),
        Case(
            (
                _tensor(2.0, -1.0),
                _tensor(1e-3, 1e-3),
                _tensor(1e-3, 2e-3),
                _tensor(1e-6, 4e-6),
                3,
                0.05,
                0.8,
                0.99,
                1e-4,
            ),
            label="For small gradients at t = 3, betas = (0.8, 0.99), eps = 1e-4",
        ),
    ]


_ADAM_MISTAKES = [
    (
        _adam(correct_m=False, correct_v=False),
        "The bias correction is missing: divide m by `1 - beta1**t` and v by `1 - beta2**t` "
        "(they start at zero and would otherwise be too small in the first steps).",
    ),
    (
        _adam(shift=-1),
        "The step count is off by one: t counts from 1, so the first step uses "
        "`1 - beta1**1` (with t - 1 the first step divides by zero).",
    ),
    (
        _adam(shift=1),
        "The step count is off by one: `t` is already the number of this step (from 1).",
    ),
    (_adam(correct_m=False), "Correct the bias of m as well: `m_hat = m / (1 - beta1**t)`."),
    (_adam(correct_v=False), "Correct the bias of v as well: `v_hat = v / (1 - beta2**t)`."),
    (
        _adam(eps_inside=True),
        "PyTorch adds eps after the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps).",
    ),
    (_adam(swap=True), "beta1 belongs to m (the gradients), beta2 to v (the squared gradients)."),
    (_adam(ema_m=False), "m is an average: m = beta1 m + (1 - beta1) g."),
    (_adam(old_moments=True), "Update m and v first, then step with the new (corrected) ones."),
    (
        _adam_corrected_state,
        "Return the *uncorrected* m and v: they are the state for the next step. The "
        "corrected m_hat and v_hat are only used in the update.",
    ),
    (_adam(sign=1.0), "Is the sign of the update right? Step against m_hat."),
]

q1 = FunctionQuestion(
    "q1",
    reference=adam_step,
    expected=_adam_torch,
    cases=_adam_cases,
    returns=["p", "m", "v"],
    mistakes=_ADAM_MISTAKES,
    hints=[
        "Update the moments: `m = beta1 * m + (1 - beta1) * g` and "
        "`v = beta2 * v + (1 - beta2) * g**2`.",
        "Correct them with the step number `t` (from 1): `m_hat = m / (1 - beta1**t)`, "
        "likewise `v_hat`; then `p = p - lr * m_hat / (v_hat.sqrt() + eps)`. Return the "
        "uncorrected `m` and `v`: they are the state for the next step.",
    ],
    explanation=r"""
        This is `torch.optim.Adam(params, lr, betas=(beta1, beta2), eps)`. The state keeps
        the *uncorrected* moments; the correction is applied only when stepping. PyTorch
        computes the same update in a slightly different order,
        `p -= (lr / (1 - beta1**t)) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)`, which is
        algebraically identical.

        The solution shown is the course's own `helpers.optim.functional.adam_step`, the step that
        `helpers.optim.Adam` takes for every parameter. It updates the tensors in place (`mul_`,
        `add_`, ... write into the tensor itself) and returns them; an answer that returns new
        tensors is just as right.
    """,
    success="your step matches `torch.optim.Adam`.",
)

# ---------------------------------------------------------------------------------------------
# q2: the first step, with and without bias correction
# ---------------------------------------------------------------------------------------------


def _first_step(g=2.0, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, correct=True):
    m, v = (1 - b1) * g, (1 - b2) * g**2
    if correct:
        m, v = m / (1 - b1), v / (1 - b2)
    return lr * m / (math.sqrt(v) + eps)


q2 = ValueQuestion(
    "q2",
    names=["step_corrected", "step_uncorrected"],
    expected={
        "step_corrected": _first_step(),
        "step_uncorrected": _first_step(correct=False),
    },
    solution="""
        g, lr, beta1, beta2, eps = 2.0, 1e-3, 0.9, 0.999, 1e-8
        m = (1 - beta1) * g  # 0.2
        v = (1 - beta2) * g**2  # 0.004
        step_corrected = lr * (m / (1 - beta1)) / (math.sqrt(v / (1 - beta2)) + eps)
        step_uncorrected = lr * m / (math.sqrt(v) + eps)
    """,
    mistakes={
        "step_corrected": [
            (1e-3 * 2.0, "Adam normalises the gradient: on the first step m_hat/√v_hat = g/|g|."),
            (1e-3 / 2.0, "On the first step m_hat = g and v_hat = g², so m_hat/√v_hat = 1."),
        ],
        "step_uncorrected": [
            (_first_step(), "That is the corrected step; without correction m = 0.2, v = 0.004."),
            (
                1e-3 * 0.2 / 0.004,
                "Divide by the square root of v: √0.004 ≈ 0.063.",
            ),
            (
                1e-3 * 2.0 / math.sqrt(0.004),
                "Without correction, m after one step is (1 - beta1) g = 0.2, not g.",
            ),
        ],
    },
    hints=[
        "After one step from zero, $m_1 = (1 - \\beta_1) g$ and $v_1 = (1 - \\beta_2) g^2$.",
        "Corrected: $\\hat m_1 = m_1/(1 - \\beta_1) = g$ and $\\hat v_1 = g^2$. The step is "
        "$\\eta\\, m/(\\sqrt{v} + \\epsilon)$ with either pair.",
    ],
    explanation=r"""
        With correction, $\hat m_1 = g$ and $\hat v_1 = g^2$, so the first step is
        $\eta\, g/|g| = \eta = 0.001$ (up to $\epsilon$), whatever the size of $g$. Without
        it, $m_1 = 0.2$ and $\sqrt{v_1} = \sqrt{0.004} \approx 0.0632$, so the step is
        $0.001 \times 0.2/0.0632 \approx 0.00316$: too large by the factor
        $(1 - \beta_1)/\sqrt{1 - \beta_2} \approx 3.16$. Because $v$ starts at zero and
        $\beta_2$ is close to 1, the uncorrected $v$ stays much too small for hundreds of
        steps; bias correction removes that start-up effect.
    """,
    success="corrected, the first step is lr (0.001); uncorrected, 3.16 times larger.",
)

# ---------------------------------------------------------------------------------------------
# q3: an AdamW step
# ---------------------------------------------------------------------------------------------


def _adamw_torch(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return _adam_torch(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled=True)


def _adamw_l2(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_step(p, g + weight_decay * p, m, v, t, lr, beta1, beta2, eps)


def _adamw_no_lr(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_step(p * (1 - weight_decay), g, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_after(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    new_p, new_m, new_v = adam_step(p, g, m, v, t, lr, beta1, beta2, eps)
    return new_p * (1 - lr * weight_decay), new_m, new_v


def _adamw_no_decay(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_step(p, g, m, v, t, lr, beta1, beta2, eps)


def _adamw_growth(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_step(p * (1 + lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps)


def _with_decay(adam_variant):
    """An Adam mistake made inside an otherwise correct AdamW step."""

    def wrong(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
        return adam_variant(p * (1 - lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps)

    return wrong


def _adamw_cases():
    return [
        Case(
            (
                _tensor(1.0, -2.0, 0.5),
                _tensor(0.1, -3.0, 0.02),
                torch.zeros(3, dtype=torch.float64),
                torch.zeros(3, dtype=torch.float64),
                1,
                0.01,
                0.9,
                0.999,
                1e-8,
                0.1,
            ),
            label="For the first step, lr = 0.01, weight_decay = 0.1",
        ),
        Case(
            (
                _tensor(0.3, 1.2),
                _tensor(0.2, -0.4),
                _tensor(0.05, -0.2),
                _tensor(0.01, 0.05),
                5,
                0.1,
                0.9,
                0.999,
                1e-8,
                0.5,
            ),
            label="For step t = 5, lr = 0.1, weight_decay = 0.5",
        ),
    ]


q3 = FunctionQuestion(
    "q3",
    reference=adamw_step,
    expected=_adamw_torch,
    cases=_adamw_cases,
    returns=["p", "m", "v"],
    mistakes=[
        (
            _adamw_l2,
            "That adds weight_decay * p to the gradient: an L2 penalty, which Adam then "
            "rescales like any gradient (that is `torch.optim.Adam(weight_decay=...)`). "
            "AdamW shrinks the weights directly: p = p * (1 - lr * weight_decay).",
        ),
        (
            _adamw_no_lr,
            "PyTorch's AdamW multiplies the decay by the learning rate: "
            "p = p * (1 - lr * weight_decay).",
        ),
        (
            _adamw_decay_after,
            "Apply the decay to the weights *before* the Adam update, as PyTorch does.",
        ),
        (_adamw_no_decay, "The weight decay is missing: p = p * (1 - lr * weight_decay)."),
        (_adamw_growth, "Weight decay shrinks the weights: multiply by 1 - lr * weight_decay."),
        *[(_with_decay(wrong), nudge) for wrong, nudge in _ADAM_MISTAKES],
    ],
    hints=[
        "AdamW is Adam plus one line, before the Adam update: `p = p * (1 - lr * weight_decay)`.",
        "The gradient that goes into m and v is the plain `g`: the decay does not "
        "touch the moments.",
    ],
    explanation=r"""
        `torch.optim.AdamW` first shrinks the weights,
        $\theta \leftarrow (1 - \eta\lambda)\,\theta$, and then takes an ordinary Adam step
        with the data gradient. The decay is
        *decoupled* from the adaptive scaling: every weight shrinks by the same factor,
        however large its gradients have been. With an L2 penalty instead, the term
        $\lambda \theta$ would enter $m$ and $v$ and be divided by $\sqrt{\hat v}$.

        The solution shown is the course's own `helpers.optim.functional.adamw_step`. It updates
        the tensors in place (`mul_`, `add_`, ... write into the tensor itself) and returns them;
        an answer that returns new tensors is just as right.
    """,
    success="your step matches `torch.optim.AdamW`.",
)

# ---------------------------------------------------------------------------------------------
# q4: optimizer memory
# ---------------------------------------------------------------------------------------------

_PARAMS, _BYTES = 1_000_000, 4

q4 = ValueQuestion(
    "q4",
    names=["adam_state_bytes", "momentum_state_bytes"],
    expected={
        "adam_state_bytes": 2 * _PARAMS * _BYTES,
        "momentum_state_bytes": 1 * _PARAMS * _BYTES,
    },
    integer=True,
    solution="""
        num_params, bytes_per_float = 1_000_000, 4  # float32
        # exp_avg and exp_avg_sq
        adam_state_bytes = 2 * num_params * bytes_per_float
        momentum_state_bytes = 1 * num_params * bytes_per_float  # momentum_buffer
    """,
    mistakes={
        "adam_state_bytes": [
            (3 * _PARAMS * _BYTES, "The weights themselves are not optimizer state."),
            (
                4 * _PARAMS * _BYTES,
                "Count only the optimizer's state: not the weights and not the gradients.",
            ),
            (2 * _PARAMS, "Count bytes: a float32 takes 4 bytes."),
            (1 * _PARAMS * _BYTES, "Adam keeps two numbers per weight: m and v."),
        ],
        "momentum_state_bytes": [
            (2 * _PARAMS * _BYTES, "SGD with momentum keeps one buffer per weight, the velocity."),
            (1 * _PARAMS, "Count bytes: a float32 takes 4 bytes."),
            (0, "Plain SGD keeps no state, but with momentum it keeps the velocity."),
        ],
    },
    hints=[
        "Adam's state per parameter tensor: `exp_avg` and `exp_avg_sq`, each the size of "
        "the tensor (and a scalar step count, negligible). SGD with momentum: "
        "`momentum_buffer`.",
        "A float32 number takes 4 bytes.",
    ],
    explanation=r"""
        Adam stores two float32 numbers per weight, $m$ and $v$: 8 MB for a million
        weights, twice the size of the model itself. SGD with momentum stores one, 4 MB;
        plain SGD none. Training with Adam therefore holds about four copies of the model
        in memory (weights, gradients, $m$, $v$), which matters for large models;
        AMSGrad adds a third state tensor (the running maximum of $v$).
    """,
    success="8 MB for Adam (m and v), 4 MB for momentum: per million float32 weights.",
)

# ---------------------------------------------------------------------------------------------
# q5: L2 penalty against weight decay in Adam
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "The penalty's gradient is part of the gradient Adam sees; it is not ignored, "
        "it is rescaled.",
        "b": "In Adam the decay term is rescaled per coordinate; in AdamW it is not.",
        "c": "For plain SGD the two are the same update: w - η(g + λw) = (1 - ηλ)w - ηg.",
        "d": "Both use the learning rate you give them.",
    },
    explanation=r"""
        For SGD, adding $\frac{\lambda}{2}\lVert w \rVert^2$ to the loss gives the update
        $w - \eta(g + \lambda w) = (1 - \eta\lambda) w - \eta g$: exactly weight decay.
        In Adam, the penalty's gradient $\lambda w$ goes into $m$ and $v$ and is divided by
        $\sqrt{\hat v}$. Weights whose gradients have been large have a large $\hat v$, so
        they are barely regularised, while weights with small gradients are decayed
        strongly. Loshchilov and Hutter (2019) proposed AdamW, which applies the decay to
        the weights directly, outside the adaptive scaling, so that every weight shrinks
        by the same factor. Their algorithm subtracts $\eta_t \lambda w$, with $\eta_t$ the
        schedule multiplier and not the learning rate $\alpha$; `torch.optim.AdamW` uses
        $w \leftarrow (1 - \eta\lambda) w$ with its learning rate $\eta$, so its decay
        scales with `lr`. In the paper's image-classification experiments, AdamW
        generalised better than Adam with an L2 penalty, and its best $\lambda$ depended
        less on the learning rate.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
