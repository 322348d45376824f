"""Exercises for the chapter *Gradient descent*: by hand, in NumPy, with autograd, stopping.

Questions: ``q1`` first step of linear regression by hand, ``q2`` gradient descent in NumPy,
``q3`` the same with PyTorch autograd, ``q4`` stopping when the gradient is small,
``q5`` sum or mean of the loss.
"""

import numpy as np
import torch

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: one step by hand on the 4-point linear regression
# ---------------------------------------------------------------------------------------------

_X = np.array([1.0, 2.0, 3.0, 4.0])
_Y = 2 * _X


def _first_step(lr=0.01, factor=2.0, reduce=np.mean, sign=-1.0):
    residual = 0.0 * _X + 0.0 - _Y
    grad_w = reduce(factor * residual * _X)
    grad_c = reduce(factor * residual)
    return sign * lr * grad_w, sign * lr * grad_c


_W1, _C1 = _first_step()

q1 = ValueQuestion(
    "q1",
    names=["w1", "c1"],
    expected={"w1": _W1, "c1": _C1},
    solution="""
        x = np.array([1.0, 2.0, 3.0, 4.0])
        y = 2 * x
        w, c, lr = 0.0, 0.0, 0.01
        residual = w * x + c - y  # prediction minus target: [-2, -4, -6, -8]
        grad_w = np.mean(2 * residual * x)  # dL/dw = -30
        grad_c = np.mean(2 * residual)  # dL/dc = -10
        w1 = w - lr * grad_w
        c1 = c - lr * grad_c
    """,
    mistakes={
        "w1": [
            (
                _first_step(sign=1.0)[0],
                "Is the sign of the update right? Step against the gradient.",
            ),
            (_first_step(factor=1.0)[0], "The derivative of r² is 2r: is a factor 2 missing?"),
            (
                _first_step(reduce=np.sum)[0],
                "The loss is the mean of the squared errors, not their sum.",
            ),
            (
                _first_step(factor=1.0, reduce=np.sum)[0],
                "The loss is the mean of the squared errors, and the derivative of r² is 2r.",
            ),
            (
                _C1,
                "That is the step of `c`: the gradient with respect to `w` has an extra factor x.",
            ),
        ],
        "c1": [
            (
                _first_step(sign=1.0)[1],
                "Is the sign of the update right? Step against the gradient.",
            ),
            (_first_step(factor=1.0)[1], "The derivative of r² is 2r: is a factor 2 missing?"),
            (
                _first_step(reduce=np.sum)[1],
                "The loss is the mean of the squared errors, not their sum.",
            ),
            (_W1, "That is the step of `w`: the gradient with respect to `c` has no factor x."),
        ],
    },
    hints=[
        "With $r_i = w x_i + c - y_i$, the loss is $L = \\frac{1}{4}\\sum_i r_i^2$, so "
        "$\\partial L/\\partial w = \\frac{1}{4}\\sum_i 2 r_i x_i$ and "
        "$\\partial L/\\partial c = \\frac{1}{4}\\sum_i 2 r_i$.",
        "At $w = c = 0$ the residuals are $r = -y = (-2, -4, -6, -8)$. Then "
        "$w_1 = w_0 - \\eta\\, \\partial L/\\partial w$.",
    ],
    explanation="""
        The gradient is $(\\partial L/\\partial w, \\partial L/\\partial c) = (-30, -10)$:
        the loss falls when $w$ and $c$ grow, so the step $-\\eta \\nabla L$ increases both.
        After one step the line $0.3x + 0.1$ is still far below $y = 2x$; it takes many
        such steps to get there.
    """,
    success="one step moves (w, c) from (0, 0) to (0.3, 0.1).",
)

# ---------------------------------------------------------------------------------------------
# q2: gradient descent in NumPy
# ---------------------------------------------------------------------------------------------


def gradient_descent(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    path = [x.copy()]  # the start is the first row
    for _ in range(num_steps):
        x = x - lr * grad(x)  # a new array each step
        path.append(x.copy())
    return np.array(path)  # shape (num_steps + 1, len(x0))


def _gd_ascent(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    path = [x.copy()]
    for _ in range(num_steps):
        x = x + lr * grad(x)
        path.append(x.copy())
    return np.array(path)


def _gd_aliased(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(num_steps):
        x -= lr * grad(x)
        path.append(x)
    return np.array(path)


def _gd_no_start(grad, x0, lr, num_steps):
    return gradient_descent(grad, x0, lr, num_steps)[1:]


def _gd_extra_step(grad, x0, lr, num_steps):
    return gradient_descent(grad, x0, lr, num_steps + 1)


def _gd_fixed_gradient(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    g = grad(x)
    path = [x.copy()]
    for _ in range(num_steps):
        x = x - lr * g
        path.append(x.copy())
    return np.array(path)


def _grad_ravine(x):
    return np.array([1.0, 10.0]) * x  # gradient of (x^2 + 10 y^2) / 2


def _grad_bowl(x):
    return x  # gradient of (x^2 + y^2) / 2


def _grad_parabola(x):
    return 2 * x  # gradient of x^2


_Q2_CASES = [
    Case((_grad_parabola, [3.0], 0.1, 5), label="For f(x) = x², x0 = [3], lr = 0.1, 5 steps"),
    Case(
        (_grad_ravine, [1.0, 1.0], 0.05, 10),
        label="For f(x, y) = (x² + 10y²)/2, x0 = [1, 1], lr = 0.05, 10 steps",
    ),
    Case((_grad_ravine, [1.0, -2.0], 0.1, 0), label="With num_steps = 0"),
]

q2 = FunctionQuestion(
    "q2",
    reference=gradient_descent,
    cases=_Q2_CASES,
    mistakes=[
        (_gd_ascent, "Your path goes uphill: is the sign of the update right?"),
        (
            _gd_aliased,
            "All rows of your path are the same point: the list holds the same array object "
            "several times, changed in place by `x -= ...`. Append `x.copy()`, or write "
            "`x = x - lr * grad(x)`, which makes a new array.",
        ),
        (_gd_no_start, "The first row should be the start `x0`, before any step."),
        (_gd_extra_step, "One step too many: `num_steps` steps give `num_steps + 1` rows."),
        (_gd_fixed_gradient, "Evaluate the gradient at the current point in every step."),
    ],
    hints=[
        "Keep a list `path` that starts with a copy of `x0`; in each of the `num_steps` "
        "steps compute `x = x - lr * grad(x)` and append it.",
        "Convert `x0` with `np.array(x0, dtype=float)` so that lists work too, and return "
        "`np.array(path)`.",
    ],
    success="your path matches gradient descent step for step, including the start.",
)

# ---------------------------------------------------------------------------------------------
# q3: the same with autograd
# ---------------------------------------------------------------------------------------------


def fit_line(x, y, lr, num_steps):
    w = torch.zeros((), requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    for _ in range(num_steps):
        loss = ((w * x + c - y) ** 2).mean()
        loss.backward()  # fills w.grad and c.grad
        with torch.no_grad():  # the update is not part of the model
            w -= lr * w.grad
            c -= lr * c.grad
        w.grad.zero_()  # backward() adds to .grad: reset it
        c.grad.zero_()
    return w.item(), c.item()


def _fit_line_variant(x, y, lr, num_steps, *, zero=True, sign=-1.0, reduce="mean"):
    w = torch.zeros((), requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    for _ in range(num_steps):
        squared = (w * x + c - y) ** 2
        loss = squared.mean() if reduce == "mean" else squared.sum()
        loss.backward()
        with torch.no_grad():
            w += sign * lr * w.grad
            c += sign * lr * c.grad
        if zero:
            w.grad.zero_()
            c.grad.zero_()
    return w.item(), c.item()


def _q3_cases():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    x2 = torch.linspace(-1, 1, 9)
    return [
        Case((x, 2 * x, 0.01, 1), label="For the 4-point data, lr = 0.01 and 1 step"),
        Case((x, 2 * x, 0.01, 50), label="For the 4-point data, lr = 0.01 and 50 steps"),
        Case(
            (x2, 0.5 - 3 * x2, 0.2, 30), label="For y = 0.5 - 3x on 9 points, lr = 0.2, 30 steps"
        ),
    ]


q3 = FunctionQuestion(
    "q3",
    reference=fit_line,
    cases=_q3_cases,
    returns=["w", "c"],
    rtol=1e-4,
    atol=1e-6,
    mistakes=[
        (
            lambda x, y, lr, n: _fit_line_variant(x, y, lr, n, zero=False),
            "Right after one step, wrong after several: the gradients accumulate. "
            "`backward()` *adds* to `.grad`, so reset it after each update "
            "(`w.grad.zero_()`), or use an optimizer's `zero_grad()`.",
        ),
        (
            lambda x, y, lr, n: _fit_line_variant(x, y, lr, n, sign=1.0),
            "Is the sign of the update right? Step against the gradient.",
        ),
        (
            lambda x, y, lr, n: _fit_line_variant(x, y, lr, n, reduce="sum"),
            "The loss is the mean squared error: use `.mean()`, not `.sum()`.",
        ),
    ],
    hints=[
        "Create `w` and `c` with `torch.zeros((), requires_grad=True)`. In each step: "
        "compute the loss, call `loss.backward()`, then update.",
        "Update inside `with torch.no_grad():` (`w -= lr * w.grad`), then reset the "
        "gradients with `w.grad.zero_()`; return `w.item(), c.item()`.",
    ],
    success="autograd computes the same gradients as your hand derivation.",
)

# ---------------------------------------------------------------------------------------------
# q4: when to stop
# ---------------------------------------------------------------------------------------------


def gd_until_small_gradient(grad, x0, lr, tol, max_steps):
    x = np.array(x0, dtype=float)
    for step in range(max_steps):
        g = grad(x)
        if np.linalg.norm(g) < tol:  # small enough: stop before stepping
            return x, step
        x = x - lr * g
    return x, max_steps  # gave up: the limit protects against divergence


def _until_variant(grad, x0, lr, tol, max_steps, *, size=np.linalg.norm, offset=0, scale=1.0):
    x = np.array(x0, dtype=float)
    for step in range(max_steps):
        g = grad(x)
        if size(scale * g) < tol:
            return x, step + offset
        x = x - lr * g
    return x, max_steps + offset


def _until_step_first(grad, x0, lr, tol, max_steps):
    x = np.array(x0, dtype=float)
    for step in range(1, max_steps + 1):
        x = x - lr * grad(x)
        if np.linalg.norm(grad(x)) < tol:
            return x, step
    return x, max_steps


def _until_no_limit(grad, x0, lr, tol, max_steps):
    # A learner's `while` loop that ignores max_steps; capped so that the checker always ends.
    x = np.array(x0, dtype=float)
    steps = 0
    while np.linalg.norm(grad(x)) >= tol and steps < 100_000:
        x = x - lr * grad(x)
        steps += 1
    return x, steps


def _until_limit_minus_one(grad, x0, lr, tol, max_steps):
    x, steps = gd_until_small_gradient(grad, x0, lr, tol, max_steps)
    return x, steps - 1 if steps == max_steps else steps


_Q4_CASES = [
    Case(
        (_grad_ravine, [1.0, 1.0], 0.1, 1e-3, 1000),
        label="For f(x, y) = (x² + 10y²)/2 from [1, 1], lr = 0.1, tol = 1e-3",
    ),
    Case(
        (_grad_bowl, [1.0, -1.0], 0.1, 1e-3, 1000),
        label="For f(x, y) = (x² + y²)/2 from [1, -1], lr = 0.1, tol = 1e-3",
    ),
    Case(
        (_grad_ravine, [1e-4, 0.0], 0.1, 1e-3, 1000),
        label="When the start already has a gradient smaller than tol",
    ),
    Case(
        (_grad_parabola, [1.0], 1.2, 1e-6, 30),
        label="For f(x) = x² with lr = 1.2 (which diverges) and max_steps = 30",
    ),
]

q4 = FunctionQuestion(
    "q4",
    reference=gd_until_small_gradient,
    cases=_Q4_CASES,
    returns=["x", "num_steps"],
    mistakes=[
        (
            _until_no_limit,
            "Your loop ignores `max_steps`: on a diverging run it only ended because the "
            "numbers overflowed to NaN. Stop after at most `max_steps` updates.",
        ),
        (
            _until_step_first,
            "Test the gradient before each step: when the start is already good enough, "
            "take 0 steps.",
        ),
        (
            lambda *a: _until_variant(*a, offset=1),
            "Your step count is one too high: count the updates actually made.",
        ),
        (
            _until_limit_minus_one,
            "When the limit is reached, `max_steps` updates have been made: return that "
            "number (`range(max_steps)` ends at `max_steps - 1`).",
        ),
        (
            lambda *a: _until_variant(*a, size=lambda g: np.abs(g).max()),
            "Use the length of the gradient, `np.linalg.norm(g)`, not its largest component.",
        ),
        (
            lambda *a: _until_variant(*a, scale=a[2]),
            "You test the length of the step, `lr * norm(g)`; the exercise asks for the "
            "norm of the gradient itself.",
        ),
    ],
    hints=[
        "Loop `for step in range(max_steps):`; in each pass compute `g = grad(x)` and "
        "return `x, step` as soon as `np.linalg.norm(g) < tol`, otherwise step.",
        "After the loop the limit was reached: return `x, max_steps`. Without this limit "
        "a diverging run would loop forever.",
    ],
    success="you stop on a small gradient and never loop forever.",
)

# ---------------------------------------------------------------------------------------------
# q5: sum or mean?
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "The minimiser is the same, but gradient descent does not jump to it: each step "
        "is proportional to the gradient, and the gradient has doubled.",
        "b": "The gradient of 2L is 2∇L, so each update is twice as long.",
        "c": "A steeper loss means a *larger* gradient, and the step is proportional to it.",
        "d": "Doubling the step speeds up a small learning rate, but it can push a good "
        "one past the stability limit, and then the run diverges.",
    },
    explanation="""
        The update is $w \\leftarrow w - \\eta \\nabla(2L) = w - (2\\eta)\\nabla L$: scaling
        the loss by 2 is the same as scaling the learning rate by 2. The minimiser does
        not change, but the path does. If $\\eta$ was already close to the stability limit
        (on a quadratic, $\\eta < 2/L$ for curvature $L$), the doubled step diverges.

        This is why the *mean* loss is the usual choice: with a sum over $n$ examples the
        effective learning rate grows with the size of the data set (or of the
        mini-batch), and a learning rate tuned for one size is wrong for another.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
