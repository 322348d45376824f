"""Exercises for the chapter *Adaptive methods*: AdaGrad, RMSprop, Adadelta.

Questions: ``q1`` an AdaGrad step, ``q2`` RMSprop from scratch, ``q3`` per-parameter step
sizes, ``q4`` an Adadelta step, ``q5`` why AdaGrad stalls.
"""

import math

import numpy as np
import torch

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____
from helpers.exercises._torch_reference import torch_path, torch_step
from helpers.optim.functional import adadelta_step, adagrad_step

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: an AdaGrad step
# ---------------------------------------------------------------------------------------------


def _adagrad_torch(p, g, state_sum, lr, eps):
    new_p, state = torch_step(
        torch.optim.Adagrad, p, g, {"sum": state_sum, "step": 0.0}, lr=lr, eps=eps
    )
    return new_p, state["sum"]


def _adagrad_variant(p, g, s, lr, eps, *, root=True, eps_inside=False, old=False, sign=-1.0):
    new_s = s + g**2
    used = s if old else new_s
    if not root:
        denominator = used + eps
    elif eps_inside:
        denominator = torch.sqrt(used + eps)
    else:
        denominator = torch.sqrt(used) + eps
    return p + sign * lr * g / denominator, new_s


def _tensor(*values):
    return torch.tensor(values, dtype=torch.float64)


def _adagrad_cases():
    return [
        Case(
            (_tensor(1.0, -1.0, 0.5), _tensor(0.3, -2.0, 0.01), _tensor(0, 0, 0), 0.1, 1e-10),
            label="For a first step (state_sum = 0), lr = 0.1, eps = 1e-10",
        ),
        Case(
            (_tensor(0.2, 0.4), _tensor(0.01, -1.0), _tensor(1e-4, 4.0), 0.5, 0.01),
            label="For a later step with state_sum = [1e-4, 4], lr = 0.5, eps = 0.01",
        ),
    ]


_EPS_NUDGE = (
    "PyTorch adds eps after the square root, sqrt(v) + eps; you computed sqrt(v + eps). "
    "The two differ when the accumulated squares are small compared with eps."
)

q1 = FunctionQuestion(
    "q1",
    reference=adagrad_step,
    expected=_adagrad_torch,
    cases=_adagrad_cases,
    returns=["p", "state_sum"],
    mistakes=[
        (
            lambda *a: _adagrad_variant(*a, root=False),
            "Divide by the square root of the accumulated squares, sqrt(state_sum) + eps.",
        ),
        (lambda *a: _adagrad_variant(*a, eps_inside=True), _EPS_NUDGE),
        (
            lambda *a: _adagrad_variant(*a, old=True),
            "Add the new squared gradient to the sum first, then divide by the new sum.",
        ),
        (
            lambda *a: _adagrad_variant(*a, sign=1.0),
            "Is the sign of the update right? Step against the gradient.",
        ),
    ],
    hints=[
        "First $G \\leftarrow G + g^2$ (elementwise), then "
        "$\\theta \\leftarrow \\theta - \\eta\\, g / (\\sqrt{G} + \\epsilon)$ (`p` holds "
        "$\\theta$, `state_sum` holds $G$).",
        "Tensor arithmetic works elementwise: `g**2`, `state_sum.sqrt()`. Return `p, state_sum`.",
    ],
    explanation=r"""
        This is `torch.optim.Adagrad(params, lr, eps=eps)`. Each coordinate gets its own
        step size $\eta/(\sqrt{G} + \epsilon)$: coordinates with large past gradients take
        small steps and rarely-updated ones take large steps. On the very first step
        $G = g^2$, so every coordinate moves by about $\eta$, whatever its gradient.

        The solution shown is the course's own `helpers.optim.functional.adagrad_step`, the step
        that `helpers.optim.Adagrad` takes for every parameter. It updates the tensors in place
        (`mul_`, `add_`, ... write into the tensor itself) and returns them; an answer that returns
        new tensors is just as right.
    """,
    success="your step matches `torch.optim.Adagrad`.",
)

# ---------------------------------------------------------------------------------------------
# q2: RMSprop from scratch
# ---------------------------------------------------------------------------------------------


def rmsprop(grad, x0, lr, alpha, eps, num_steps):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)  # running average of the squared gradients
    path = [x.copy()]
    for _ in range(num_steps):
        g = grad(x)
        v = alpha * v + (1 - alpha) * g**2
        # PyTorch adds eps after the square root
        x = x - lr * g / (np.sqrt(v) + eps)
        path.append(x.copy())
    return np.array(path)


def _rmsprop_torch(grad, x0, lr, alpha, eps, num_steps):
    return torch_path(torch.optim.RMSprop, grad, x0, num_steps, lr=lr, alpha=alpha, eps=eps)


def _rmsprop_variant(grad, x0, lr, alpha, eps, num_steps, *, average, denominator, sign=-1.0):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for t in range(1, num_steps + 1):
        g = grad(x)
        v = average(v, g, alpha)
        x = x + sign * lr * g / denominator(v, eps, alpha, t)
        path.append(x.copy())
    return np.array(path)


def _ema(v, g, a):
    return a * v + (1 - a) * g**2


def _torch_denominator(v, eps, a, t):
    return np.sqrt(v) + eps


def _rms(**changes):
    options = {"average": _ema, "denominator": _torch_denominator, **changes}
    return lambda *args: _rmsprop_variant(*args, **options)


def _grad_ravine(x):
    return np.array([1.0, 10.0]) * x  # gradient of (x^2 + 10 y^2) / 2


def _grad_tiny(x):
    return 1e-4 * np.array([1.0, 10.0]) * x  # the same ravine, scaled down 10 000 times


def _grad_scales(x):
    return np.array([1.0, 100.0, 0.01]) * x  # curvatures 1, 100 and 0.01


def _rmsprop_cases():
    return [
        Case(
            (_grad_ravine, [1.0, 1.0], 0.01, 0.99, 1e-8, 30),
            label="For the ravine (x² + 10y²)/2 from [1, 1], lr = 0.01, alpha = 0.99, 30 steps",
        ),
        Case(
            (_grad_tiny, [1.0, 1.0], 0.01, 0.99, 1e-4, 10),
            label="For gradients 10 000 times smaller and eps = 1e-4",
        ),
        Case(
            (_grad_scales, [1.0, -1.0, 2.0], 0.1, 0.9, 1e-8, 20),
            label="For curvatures 1, 100 and 0.01, lr = 0.1, alpha = 0.9, 20 steps",
        ),
    ]


q2 = FunctionQuestion(
    "q2",
    reference=rmsprop,
    expected=_rmsprop_torch,
    cases=_rmsprop_cases,
    mistakes=[
        (
            _rms(denominator=lambda v, eps, a, t: np.sqrt(v + eps)),
            "PyTorch adds eps after the square root, sqrt(v) + eps; you computed "
            "sqrt(v + eps), the formula of some texts (TensorFlow, for one). The two "
            "agree for large gradients but not when v is small compared with eps.",
        ),
        (
            _rms(average=lambda v, g, a: a * v + g**2),
            "The average needs the weight 1 - alpha on the new squared gradient: "
            "v = alpha v + (1 - alpha) g².",
        ),
        (
            _rms(average=lambda v, g, a: (1 - a) * v + a * g**2),
            "alpha is the weight of the *old* average: v = alpha v + (1 - alpha) g².",
        ),
        (
            _rms(average=lambda v, g, a: v + g**2),
            "That is AdaGrad's sum. RMSprop keeps a moving average, "
            "v = alpha v + (1 - alpha) g², so old gradients are forgotten.",
        ),
        (
            _rms(denominator=lambda v, eps, a, t: np.sqrt(v / (1 - a**t)) + eps),
            "RMSprop has no bias correction (that is Adam's): divide by sqrt(v) + eps.",
        ),
        (
            _rms(denominator=lambda v, eps, a, t: v + eps),
            "Divide by the square root of the average, sqrt(v) + eps.",
        ),
        (_rms(sign=1.0), "Your path goes uphill: is the sign of the update right?"),
        (
            _rms(average=lambda v, g, a: a * v + (1 - a) * g),
            "Average the *squared* gradients, g², not the gradients themselves.",
        ),
    ],
    hints=[
        "Keep a running average `v` of the squared gradients, starting at zeros. In each "
        "step: `g = grad(x)`, `v = alpha * v + (1 - alpha) * g**2`, then the update.",
        "The update is `x = x - lr * g / (np.sqrt(v) + eps)`. Store the start and every "
        "new point; return `np.array(path)` of shape `(num_steps + 1, len(x0))`.",
    ],
    explanation=r"""
        RMSprop divides each coordinate's step by the root mean square of its recent
        gradients,

        $$v_t = \beta v_{t-1} + (1 - \beta)\, g_t^2, \qquad
        \theta_{t+1} = \theta_t - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon},$$

        which is `torch.optim.RMSprop(params, lr, alpha, eps)` (without momentum or
        centering). Some texts (TensorFlow, for one) write $\sqrt{v_t + \epsilon}$;
        PyTorch adds $\epsilon$ after the square root. The two agree when
        $v_t \gg \epsilon$, but not for small gradients: in the check's second problem
        (gradients of $10^{-4}$ to $10^{-3}$, $\epsilon = 10^{-4}$),
        $\sqrt{v + \epsilon} \approx \sqrt{\epsilon} = 10^{-2}$ dwarfs the gradients, and
        the formula with $\epsilon$ inside the root takes steps 20 to 90 times shorter
        than PyTorch's. RMSprop is meant to make the step size insensitive to the scale of
        the gradient; a large $\epsilon$ inside the root undoes that.
    """,
    success="your RMSprop follows `torch.optim.RMSprop` step for step.",
)

# ---------------------------------------------------------------------------------------------
# q3: per-parameter step sizes
# ---------------------------------------------------------------------------------------------

_G, _LR, _T = 5.0, 0.1, 100

q3 = ValueQuestion(
    "q3",
    names=["adagrad_step_100", "rmsprop_step_limit"],
    expected={
        "adagrad_step_100": _LR * _G / math.sqrt(_T * _G**2),
        "rmsprop_step_limit": _LR * _G / math.sqrt(_G**2),
    },
    solution="""
        g, lr, t = 5.0, 0.1, 100
        adagrad_step_100 = lr * g / math.sqrt(t * g**2)  # lr / sqrt(t)
        # v tends to g**2: the step tends to lr
        rmsprop_step_limit = lr * g / math.sqrt(g**2)
    """,
    mistakes={
        "adagrad_step_100": [
            (_LR / _T, "The sum grows like t g², and the step divides by its *square root*."),
            (
                _LR * _G,
                "That is plain gradient descent's step, η g; AdaGrad divides by sqrt(sum).",
            ),
            (
                _LR * _G / math.sqrt(_T * _G),
                "The sum accumulates squared gradients, t g², not t g.",
            ),
            (_LR, "That is the size of the *first* step; after 100 steps the sum is 100 g²."),
        ],
        "rmsprop_step_limit": [
            (_LR * _G, "That is plain gradient descent's step; RMSprop divides by sqrt(v)."),
            (_LR / _G, "The average v tends to g², so the step tends to η g/|g| = η."),
            (
                _LR / math.sqrt(_T),
                "That is AdaGrad's shrinking step; RMSprop's average forgets old gradients.",
            ),
        ],
    },
    hints=[
        "With a constant gradient $g$, after $t$ steps AdaGrad's sum is $t g^2$.",
        "RMSprop's average $v$ tends to the fixed point of $v = \\beta v + (1 - \\beta) g^2$.",
    ],
    explanation=r"""
        AdaGrad: after $t$ equal gradients the sum is $t g^2$, so the step is
        $\eta g / \sqrt{t g^2} = \eta/\sqrt{t}$, here $0.1/10 = 0.01$: the step shrinks like
        $1/\sqrt{t}$ even though nothing has changed. RMSprop: $v \to g^2$, so the step
        tends to $\eta g/|g| = \eta = 0.1$ and stays there. Neither depends on the size of
        $g$ (5 here): both methods are invariant to rescaling a coordinate's gradient.
    """,
    success="AdaGrad's step shrinks like η/√t (0.01), RMSprop's settles at η (0.1).",
)

# ---------------------------------------------------------------------------------------------
# q4: an Adadelta step
# ---------------------------------------------------------------------------------------------


def _adadelta_torch(p, g, square_avg, acc_delta, lr, rho, eps):
    new_p, state = torch_step(
        torch.optim.Adadelta,
        p,
        g,
        {"square_avg": square_avg, "acc_delta": acc_delta, "step": 0.0},
        lr=lr,
        rho=rho,
        eps=eps,
    )
    return new_p, state["square_avg"], state["acc_delta"]


def _adadelta_variant(
    p,
    g,
    sa,
    ad,
    lr,
    rho,
    eps,
    *,
    numerator=True,
    torch_eps=True,
    accumulate="delta",
    use_lr=True,
    sign=-1.0,
    old_square=False,
):
    new_sa = rho * sa + (1 - rho) * g**2
    used_sa = sa if old_square else new_sa
    if torch_eps:
        top, bottom = torch.sqrt(ad + eps), torch.sqrt(used_sa + eps)
    else:
        top, bottom = torch.sqrt(ad) + eps, torch.sqrt(used_sa) + eps
    delta = (top if numerator else 1.0) / bottom * g
    if accumulate == "delta":
        new_ad = rho * ad + (1 - rho) * delta**2
    elif accumulate == "grad":
        new_ad = rho * ad + (1 - rho) * g**2
    else:
        new_ad = ad
    return p + sign * (lr if use_lr else 1.0) * delta, new_sa, new_ad


def _adadelta_cases():
    return [
        Case(
            (_tensor(1.0, -2.0), _tensor(0.5, -3.0), _tensor(0, 0), _tensor(0, 0), 1.0, 0.9, 1e-6),
            label="For a first step (zero state), lr = 1.0, rho = 0.9, eps = 1e-6",
        ),
        Case(
            (
                _tensor(0.5, 1.5, -1.0),
                _tensor(0.4, -1.0, 0.2),
                _tensor(0.2, 1.0, 0.01),
                _tensor(1e-3, 4e-3, 1e-4),
                0.5,
                0.95,
                1e-3,
            ),
            label="For a later step, lr = 0.5, rho = 0.95, eps = 1e-3",
        ),
    ]


def _ada(**changes):
    return lambda *args: _adadelta_variant(*args, **changes)


q4 = FunctionQuestion(
    "q4",
    reference=adadelta_step,
    expected=_adadelta_torch,
    cases=_adadelta_cases,
    returns=["p", "square_avg", "acc_delta"],
    mistakes=[
        (
            _ada(numerator=False),
            "That is an RMSprop step. Adadelta multiplies by sqrt(acc_delta + eps), the RMS "
            "of the recent updates, which gives the step the units of the parameters.",
        ),
        (
            _ada(torch_eps=False),
            "Adadelta (in the paper and in PyTorch) puts eps inside both square roots: "
            "sqrt(acc_delta + eps) / sqrt(square_avg + eps).",
        ),
        (
            _ada(accumulate="grad"),
            "acc_delta averages the squared *updates*, delta², not the squared gradients.",
        ),
        (
            _ada(accumulate="none"),
            "Update acc_delta too, after computing delta: "
            "acc_delta = rho acc_delta + (1 - rho) delta².",
        ),
        (
            _ada(old_square=True),
            "Update square_avg with the new gradient first, then use it in the denominator.",
        ),
        (_ada(use_lr=False), "PyTorch scales the step by lr as well: p = p - lr * delta."),
        (_ada(sign=1.0), "Is the sign of the update right? Step against the gradient."),
    ],
    hints=[
        "Three running quantities: `square_avg` (like RMSprop's v), the step `delta`, and "
        "`acc_delta`, the running average of `delta**2`.",
        "In order: update `square_avg`; compute "
        "`delta = (acc_delta + eps).sqrt() / (square_avg + eps).sqrt() * g`; update "
        "`acc_delta` with `delta**2`; then `p = p - lr * delta`.",
    ],
    explanation=r"""
        Adadelta (Zeiler, 2012) replaces RMSprop's learning rate by the RMS of the
        recent updates:

        $$\Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \beta u_{t-1} + (1 - \beta)\, \Delta_t^2 ,$$

        so the ratio has the units of the weights (the paper's "unit correction") and the
        method needs no learning rate; PyTorch still multiplies by `lr` (default 1.0).
        Note the convention: Adadelta puts $\epsilon$ *inside* the square roots, where
        PyTorch's RMSprop and Adam add it outside.

        The solution shown is the course's own `helpers.optim.functional.adadelta_step`, the step
        that `helpers.optim.Adadelta` takes for every parameter. It updates the tensors in place
        (`mul_`, `add_`, ... write into the tensor itself) and returns them; an answer that returns
        new tensors is just as right.
    """,
    success="your step matches `torch.optim.Adadelta`.",
)

# ---------------------------------------------------------------------------------------------
# q5: why AdaGrad stalls
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="a",
    why={
        "a": "The accumulated sum never forgets, so the effective learning rate decays "
        "whether or not progress has been made.",
        "b": "Plain AdaGrad has no momentum.",
        "c": "A coordinate with small gradients does get relatively large steps, but the "
        "growing sum makes every step shrink over time.",
        "d": "The update is -η g/(√G + ε), which keeps the sign of g.",
    },
    explanation=r"""
        AdaGrad's denominator $\sqrt{\sum_{k \le t} g_k^2}$ grows without bound: with
        gradients of steady size the steps fall like $\eta/\sqrt{t}$. That schedule is
        ideal for convex problems with sparse features, for which AdaGrad was designed
        (Duchi et al., 2011), but a neural network's loss changes character during training,
        and after many steps AdaGrad takes steps too small to make progress. RMSprop
        (Tieleman and Hinton, 2012) and Adam replace the sum by an exponential moving average,
        which forgets old gradients, so the step size tracks the *recent* gradient scale.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
