"""Exercises for the chapters *Optimizers of the last five years* and *Sharpness-aware
minimization*: Lion, Muon, Adafactor, SAM.

Questions: ``q1`` a Lion step, ``q2`` a Newton–Schulz orthogonalization, ``q3`` Adafactor's
factored second moment, ``q4`` SAM's perturbation, ``q5`` which optimizer for a situation.
"""

import numpy as np
import torch

from helpers import optim
from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: a Lion step
# ---------------------------------------------------------------------------------------------


def lion_step(w, m, grad, lr, beta1, beta2, weight_decay):
    c = beta1 * m + (1 - beta1) * grad  # the interpolation whose sign is taken
    w = w - lr * (np.sign(c) + weight_decay * w)
    m = beta2 * m + (1 - beta2) * grad  # the momentum that is kept
    return w, m


def _lion_torch(w, m, grad, lr, beta1, beta2, weight_decay):
    """The ground truth: one step of helpers.optim.Lion (equal to lion-pytorch's Lion)."""
    p = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    opt = optim.Lion([p], lr=lr, betas=(beta1, beta2), weight_decay=weight_decay)
    opt.state[p]["exp_avg"] = torch.tensor(m, dtype=torch.float64)
    p.grad = torch.tensor(grad, dtype=torch.float64)
    opt.step()
    return p.detach().numpy(), opt.state[p]["exp_avg"].numpy()


def _lion_sign_of_m(w, m, grad, lr, beta1, beta2, weight_decay):
    m = beta2 * m + (1 - beta2) * grad
    return w - lr * (np.sign(m) + weight_decay * w), m


def _lion_new_m_first(w, m, grad, lr, beta1, beta2, weight_decay):
    m = beta2 * m + (1 - beta2) * grad
    c = beta1 * m + (1 - beta1) * grad
    return w - lr * (np.sign(c) + weight_decay * w), m


def _lion_swapped(w, m, grad, lr, beta1, beta2, weight_decay):
    return lion_step(w, m, grad, lr, beta2, beta1, weight_decay)


def _lion_no_sign(w, m, grad, lr, beta1, beta2, weight_decay):
    c = beta1 * m + (1 - beta1) * grad
    return w - lr * (c + weight_decay * w), beta2 * m + (1 - beta2) * grad


def _lion_decay_without_lr(w, m, grad, lr, beta1, beta2, weight_decay):
    c = beta1 * m + (1 - beta1) * grad
    return w - lr * np.sign(c) - weight_decay * w, beta2 * m + (1 - beta2) * grad


def _lion_uphill(w, m, grad, lr, beta1, beta2, weight_decay):
    c = beta1 * m + (1 - beta1) * grad
    return w + lr * (np.sign(c) - weight_decay * w), beta2 * m + (1 - beta2) * grad


def _lion_cases():
    return [
        Case(
            (
                np.array([1.0, -2.0, 0.5]),
                np.zeros(3),
                np.array([0.3, -1e-4, 2.0]),
                1e-3,
                0.9,
                0.99,
                0.0,
            ),
            label="For the first step (m = 0), lr = 1e-3, no weight decay",
        ),
        Case(
            (
                np.array([0.4, -0.7, 1.5, 2.0, 0.3]),
                np.array([0.5, -0.2, 0.05, 0.0, 1.0]),
                np.array([-0.1, -0.6, -1.0, 0.2, -8.5]),
                0.01,
                0.9,
                0.99,
                0.1,
            ),
            label="For a step with a momentum m whose sign some gradients oppose, "
            "lr = 0.01, weight_decay = 0.1",
        ),
        Case(
            (
                np.array([1.0, 1.0]),
                np.array([1.0, -1.0]),
                np.array([-0.5, 0.5]),
                0.1,
                0.5,
                0.8,
                0.0,
            ),
            label="For betas = (0.5, 0.8), lr = 0.1",
        ),
    ]


q1 = FunctionQuestion(
    "q1",
    reference=lion_step,
    expected=_lion_torch,
    cases=_lion_cases,
    returns=["w", "m"],
    mistakes=[
        (
            _lion_sign_of_m,
            "Take the sign of the interpolation c = beta1 m + (1 - beta1) g, "
            "not of the kept momentum.",
        ),
        (_lion_new_m_first, "Compute c from the *old* m; update m only after the step."),
        (
            _lion_swapped,
            "beta1 weighs the interpolation that is used (c), beta2 the momentum "
            "that is kept (m).",
        ),
        (_lion_no_sign, "Lion steps by the *sign* of c: every coordinate moves by lr."),
        (
            _lion_decay_without_lr,
            "The decoupled weight decay is multiplied by the learning "
            "rate too: w - lr (sign(c) + weight_decay w).",
        ),
        (_lion_uphill, "Is the sign of the update right? Step against sign(c)."),
    ],
    hints=[
        "Three lines: `c = beta1 * m + (1 - beta1) * grad`, then the step with `np.sign(c)`, "
        "then the new `m`.",
        "`w = w - lr * (np.sign(c) + weight_decay * w)` and "
        "`m = beta2 * m + (1 - beta2) * grad`; return `w, m`.",
    ],
    explanation=r"""
        Lion uses two averages of the gradient: the short one $c$ (weight $1 - \beta_1 =
        0.1$ on the new gradient) decides the direction, the long one $m$ ($1 - \beta_2 =
        0.01$) is what is kept. The sign makes every step exactly $\eta$ long in every
        coordinate, which is why Lion wants a learning rate 3 to 10 times smaller than
        AdamW's, and, since the decay is $\eta\lambda w$, a $\lambda$ as many times larger.
        `helpers.optim.Lion` (and `lion_pytorch.Lion`) apply the decay first,
        $w \leftarrow (1 - \eta\lambda) w$, then the sign step: the same numbers.
    """,
    success="your step matches `helpers.optim.Lion` (and so `lion_pytorch.Lion`).",
)

# ---------------------------------------------------------------------------------------------
# q2: a Newton–Schulz orthogonalization
# ---------------------------------------------------------------------------------------------


def newton_schulz(G, steps, a, b, c):
    X = G / np.linalg.norm(G)  # Frobenius norm: every singular value <= 1
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X


def _ns_iterate(X, steps, a, b, c):
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X


def _ns_not_normalized(G, steps, a, b, c):
    return _ns_iterate(G, steps, a, b, c)


def _ns_normalized_by_max(G, steps, a, b, c):
    return _ns_iterate(G / np.abs(G).max(), steps, a, b, c)


def _ns_elementwise(G, steps, a, b, c):
    X = G / np.linalg.norm(G)
    for _ in range(steps):
        A = X * X
        X = a * X + (b * A + c * A * A) * X
    return X


def _ns_cubic_only(G, steps, a, b, c):
    X = G / np.linalg.norm(G)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A) @ X
    return X


def _ns_one_more(G, steps, a, b, c):
    return newton_schulz(G, steps + 1, a, b, c)


def _ns_one_less(G, steps, a, b, c):
    return newton_schulz(G, max(steps - 1, 0), a, b, c)


def _ns_cases():
    generator = np.random.default_rng(0)
    wide, tall = generator.normal(size=(3, 5)), generator.normal(size=(6, 4))
    return [
        Case(
            (wide, 5, 3.4445, -4.7750, 2.0315),
            label="For a 3-by-5 matrix and Muon's coefficients (5 steps)",
        ),
        Case(
            (tall, 5, 3.4445, -4.7750, 2.0315), label="For a 6-by-4 matrix and Muon's coefficients"
        ),
        Case(
            (wide, 30, 1.5, -0.5, 0.0),
            label="For the classic cubic iteration (a, b, c) = "
            "(1.5, -0.5, 0), 30 steps, whose singular values converge to 1",
        ),
    ]


q2 = FunctionQuestion(
    "q2",
    reference=newton_schulz,
    cases=_ns_cases,
    rtol=1e-7,
    atol=1e-10,
    mistakes=[
        (
            _ns_not_normalized,
            "Divide G by its Frobenius norm first, `np.linalg.norm(G)`: the "
            "iteration needs every singular value in [0, 1].",
        ),
        (
            _ns_normalized_by_max,
            "Normalize by the Frobenius norm, `np.linalg.norm(G)`, not "
            "by the largest entry: it bounds every singular value by 1.",
        ),
        (
            _ns_elementwise,
            "These are matrix products (`@`), not elementwise ones (`*`): "
            "the polynomial acts on the singular values only through X X^T X.",
        ),
        (
            _ns_cubic_only,
            "The quintic term is c A A (with A = X X^T), so that each step "
            "applies a s + b s^3 + c s^5.",
        ),
        (_ns_one_more, "Take exactly `steps` iterations."),
        (_ns_one_less, "Take exactly `steps` iterations."),
    ],
    hints=[
        "Start with `X = G / np.linalg.norm(G)`; then, `steps` times, "
        "`A = X @ X.T` and the update of X.",
        "`X = a * X + (b * A + c * A @ A) @ X`. Check your result with "
        "`np.linalg.svd(X, compute_uv=False)`.",
    ],
    explanation=r"""
        With $X = U S V^\top$, $X X^\top X = U S^3 V^\top$ and $(X X^\top)^2 X = U S^5
        V^\top$: every step maps each singular value $s$ to $a s + b s^3 + c s^5$ and keeps
        $U$ and $V$. The classic coefficients $(1.5, -0.5, 0)$ converge to $s = 1$ (the
        orthogonalization $U V^\top$), slowly for small $s$; Muon's $(3.4445, -4.7750,
        2.0315)$ lift small singular values fast and leave all of them near 1 after 5 steps
        (between about 0.7 and 1.2), without converging. `A = X @ X.T` is the smaller Gram
        matrix when $X$ is wide, which is why torch transposes a tall matrix first; the
        result is the same.
    """,
    success="your iteration matches `newton_schulz`; its singular values show what it does.",
)

# ---------------------------------------------------------------------------------------------
# q3: Adafactor's factored second moment
# ---------------------------------------------------------------------------------------------


def factored_second_moment(V):
    R = V.mean(axis=1, keepdims=True)  # row means, shape (n, 1)
    C = V.mean(axis=0, keepdims=True)  # column means, shape (1, m)
    return R @ C / R.mean()


def _factored_torch(V):
    """torch.optim.Adafactor's computation of the estimate (as at its first step, where the
    running averages are the current row and column means), for a gradient G with G**2 = V."""
    G = torch.tensor(np.sqrt(V), dtype=torch.float64)
    R = torch.norm(G, dim=-1, keepdim=True).square_().div_(G.size(-1))
    C = torch.norm(G, dim=-2, keepdim=True).square_().div_(G.size(-2))
    return (R @ C / R.mean(dim=-2, keepdim=True)).numpy()


def _factored_no_division(V):
    return V.mean(axis=1, keepdims=True) @ V.mean(axis=0, keepdims=True)


def _factored_sums_no_division(V):
    return V.sum(axis=1, keepdims=True) @ V.sum(axis=0, keepdims=True)


def _factored_divided_by_sum(V):
    R, C = V.mean(axis=1, keepdims=True), V.mean(axis=0, keepdims=True)
    return R @ C / V.sum()


def _factored_root(V):
    return np.sqrt(factored_second_moment(V))


def _factored_cases():
    generator = np.random.default_rng(1)
    return [
        Case(
            (generator.normal(size=(4, 6)) ** 2,), label="For a 4-by-6 matrix of squared gradients"
        ),
        Case(
            (np.outer([1.0, 2.0, 3.0], [0.5, 4.0]),),
            label="For a rank-one matrix (the estimate is then exact)",
        ),
        Case((generator.normal(size=(5, 3)) ** 2 * 1e-6,), label="For small values (5-by-3)"),
    ]


q3 = FunctionQuestion(
    "q3",
    reference=factored_second_moment,
    expected=_factored_torch,
    cases=_factored_cases,
    mistakes=[
        (
            _factored_no_division,
            "The outer product of the means counts the overall scale "
            "twice: divide by the mean of R (the mean of all of V).",
        ),
        (_factored_sums_no_division, "With sums, divide by the total sum: R C^T / sum(V)."),
        (
            _factored_divided_by_sum,
            "With row and column *means*, divide by the mean of R, not by the sum.",
        ),
        (_factored_root, "Return the estimate of V itself; the root is taken in the update."),
    ],
    hints=[
        "`R = V.mean(axis=1, keepdims=True)` (one number per row), `C` likewise over axis 0.",
        "`R @ C` is the outer product (an n-by-m matrix); divide it by `R.mean()`.",
    ],
    explanation=r"""
        $R C^\top / \operatorname{mean}(R)$ has the same row means and column means as $V$
        and rank one; for a rank-one $V$ it is exact. Shazeer and Stern write it with sums,
        $R_s C_s^\top / (1^\top R_s)$, which is the same matrix. Adafactor stores only $R$
        and $C$ ($n + m$ numbers), as running averages over the steps, and forms this
        estimate at each step.
    """,
    success="your estimate matches Adafactor's, computed as `torch.optim.Adafactor` does.",
)

# ---------------------------------------------------------------------------------------------
# q4: SAM's perturbation
# ---------------------------------------------------------------------------------------------


def sam_perturbation(g_weight, g_bias, rho):
    norm = np.sqrt(np.sum(g_weight**2) + np.sum(g_bias**2))  # over all parameters
    return rho * g_weight / norm, rho * g_bias / norm


def _sam_torch(g_weight, g_bias, rho):
    """The ground truth: helpers.optim.SAM's first_step, with perturb_eps = 0."""
    params = [
        torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in (g_weight, g_bias)
    ]
    opt = optim.SAM(params, torch.optim.SGD, rho=rho, perturb_eps=0.0, lr=0.1)
    for p, g in zip(params, (g_weight, g_bias), strict=True):
        p.grad = torch.tensor(g, dtype=torch.float64)
    opt.first_step()
    return tuple(p.detach().numpy() for p in params)


def _sam_per_tensor(g_weight, g_bias, rho):
    return rho * g_weight / np.linalg.norm(g_weight), rho * g_bias / np.linalg.norm(g_bias)


def _sam_squared_norm(g_weight, g_bias, rho):
    norm2 = np.sum(g_weight**2) + np.sum(g_bias**2)
    return rho * g_weight / norm2, rho * g_bias / norm2


def _sam_downhill(g_weight, g_bias, rho):
    e_weight, e_bias = sam_perturbation(g_weight, g_bias, rho)
    return -e_weight, -e_bias


def _sam_no_rho(g_weight, g_bias, rho):
    return sam_perturbation(g_weight, g_bias, 1.0)


def _sam_cases():
    return [
        Case(
            (np.array([[3.0, 0.0], [0.0, 0.0]]), np.array([4.0, 0.0]), 0.5),
            label="For gradients [[3, 0], [0, 0]] and [4, 0], rho = 0.5",
        ),
        Case(
            (np.array([[0.1, -0.2, 0.3]]), np.array([-1.0]), 0.05),
            label="For a 1-by-3 weight and one bias, rho = 0.05",
        ),
    ]


q4 = FunctionQuestion(
    "q4",
    reference=sam_perturbation,
    expected=_sam_torch,
    cases=_sam_cases,
    returns=["e_weight", "e_bias"],
    mistakes=[
        (
            _sam_per_tensor,
            "The norm runs over all the parameters at once: one norm for the "
            "weight and the bias together.",
        ),
        (
            _sam_squared_norm,
            "Divide by the norm, the square root of the sum of squares, not "
            "by the sum of squares.",
        ),
        (_sam_downhill, "SAM moves to the *worst* nearby point: along +g, uphill."),
        (_sam_no_rho, "Scale the unit vector to the radius rho."),
    ],
    hints=[
        "One norm over everything: `np.sqrt(np.sum(g_weight**2) + np.sum(g_bias**2))`.",
        "`e = rho * g / norm` for each of the two gradients.",
    ],
    explanation=r"""
        $\hat e = \rho\, g / \lVert g \rVert$ maximizes the first-order approximation
        $L(\theta) + g^\top e$ of the loss over the ball $\lVert e \rVert \le
        \rho$: a step of length $\rho$ straight uphill. The ball is one ball in the space of
        all parameters, so the norm runs over all of them; per-tensor norms would give each
        tensor its own ball. SAM then takes the gradient at $\theta + \hat e$ and
        gives it to the base optimizer at $\theta$.
    """,
    success="your perturbation matches `helpers.optim.SAM.first_step`.",
)

# ---------------------------------------------------------------------------------------------
# q5: which optimizer for this situation
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "Lion halves the state, to one full-size buffer per weight; another choice "
        "keeps far less than that.",
        "b": "A row and a column per matrix: m + n numbers instead of 2 m n.",
        "c": "Schedule-Free AdamW keeps two full-size buffers too (z and v): no memory is saved.",
        "d": "SAM keeps everything its base optimizer keeps, plus a copy of the weights "
        "during each step.",
    },
    explanation=r"""
        The situation: a model with billions of weights, mostly in large matrices, whose
        AdamW state (two float32 numbers per weight) does not fit in memory. Worked answer:
        count the state per weight matrix of size $n \times m$. AdamW: $2nm$ numbers. Lion:
        $nm$ (half). Schedule-Free AdamW: $2nm$ ($z$ and $v$). SAM: its base optimizer's
        state, plus a copy of the weights while it is perturbed. Adafactor:
        $n + m$ (a row and a column of second moments, no first moment in PyTorch's
        version): for a $4096 \times 4096$ matrix, 8192 numbers instead of about 33.5
        million. That is why Adafactor was made (for large translation and language
        models) and why it is the answer; Lion is the runner-up, and the two can be
        combined with other savings (lower-precision state, sharding).
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
