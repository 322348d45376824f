"""Exercises for the chapter *Beyond first order*: Newton's method and L-BFGS.

Questions: ``q1`` a Newton step, ``q2`` Newton's method on x⁴, ``q3`` the cost of a
Hessian, ``q4`` the L-BFGS two-loop recursion, ``q5`` why second-order methods are rare in
deep learning.
"""

import numpy as np

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: a Newton step
# ---------------------------------------------------------------------------------------------


def newton_step(x, grad, hess):
    x = np.asarray(x, dtype=float)
    # solve H d = g rather than inverting H
    return x - np.linalg.solve(hess(x), grad(x))


def _newton_variant(x, grad, hess, *, kind):
    x = np.asarray(x, dtype=float)
    g, H = grad(x), hess(x)
    if kind == "multiply":
        return x - H @ g
    if kind == "ascent":
        return x + np.linalg.solve(H, g)
    if kind == "diagonal":
        return x - g / np.diag(H)
    return x - g  # a gradient step with learning rate 1


def _rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def _rosenbrock_hess(p):
    x, y = p
    return np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])


_A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.5], [0.5, -0.5, 2.0]])  # symmetric positive definite
_b = np.array([1.0, -2.0, 0.5])


def _q1_cases():
    return [
        Case(
            ([3.0, -2.0], lambda p: np.array([1.0, 10.0]) * p, lambda p: np.diag([1.0, 10.0])),
            label="For f(x, y) = (x² + 10y²)/2 from [3, -2]",
        ),
        Case(
            ([-1.2, 1.0], _rosenbrock_grad, _rosenbrock_hess),
            label="For the Rosenbrock function from [-1.2, 1]",
        ),
        Case(
            (np.array([1.0, 1.0, 1.0]), lambda p: _A @ p - _b, lambda p: _A),
            label="For a 3-D quadratic ½xᵀAx - bᵀx with a non-diagonal A",
        ),
    ]


q1 = FunctionQuestion(
    "q1",
    reference=newton_step,
    cases=_q1_cases,
    rtol=1e-9,
    mistakes=[
        (
            lambda *a: _newton_variant(*a, kind="multiply"),
            "Newton's step *divides* by the curvature: solve H d = g (d = H⁻¹g), do not "
            "multiply H by g.",
        ),
        (
            lambda *a: _newton_variant(*a, kind="ascent"),
            "Is the sign right? The Newton step is x - H⁻¹g.",
        ),
        (
            lambda *a: _newton_variant(*a, kind="diagonal"),
            "Dividing by the diagonal of H ignores the off-diagonal curvature; solve the "
            "full system with `np.linalg.solve(H, g)`.",
        ),
        (
            lambda *a: _newton_variant(*a, kind="gradient"),
            "That is a gradient step; Newton's step uses the Hessian: x - H⁻¹g.",
        ),
    ],
    hints=[
        "The Newton step minimises the quadratic model "
        "$f(x) + g^\\top d + \\frac{1}{2} d^\\top H d$: its minimiser solves $H d = -g$.",
        "`np.linalg.solve(hess(x), grad(x))` computes $H^{-1} g$ without forming the inverse.",
    ],
    explanation=r"""
        The step $x - H^{-1}\nabla f(x)$ jumps to the minimum of the local quadratic
        model, so on a quadratic with positive definite Hessian it lands on the minimum in
        one step, whatever the condition number. Solving the linear system costs
        $O(n^3)$ and is more accurate than inverting $H$. On the Rosenbrock function one
        step from $(-1.2, 1)$ does not reach the minimum: the function is not quadratic,
        and a practical Newton method adds a line search or a trust region.
    """,
    success="x - H⁻¹g, computed with a linear solve.",
)

# ---------------------------------------------------------------------------------------------
# q2: Newton's method on x^4
# ---------------------------------------------------------------------------------------------


def _newton_x4(x, steps):
    for _ in range(steps):
        x = x - (4 * x**3) / (12 * x**2)
    return x


q2 = ValueQuestion(
    "q2",
    names=["x2", "rate"],
    expected={"x2": _newton_x4(1.0, 2), "rate": _newton_x4(1.0, 1)},
    solution="""
        x = 1.0
        for _ in range(2):
            x = x - (4 * x**3) / (12 * x**2)  # f'(x) / f''(x) = x / 3
        x2 = x
        rate = 2 / 3  # each step multiplies x by 1 - 1/3
    """,
    mistakes={
        "x2": [
            (0.0, "One Newton step reaches the minimum of a *quadratic*; x⁴ is not quadratic."),
            (1 / 9, "The step is x - f'(x)/f''(x) = x - x/3 = (2/3)x; x/3 is the step itself."),
            (2 / 3, "That is after one step; the question asks for two."),
            ((2 / 3) ** 3, "That is after three steps; the question asks for two."),
        ],
        "rate": [
            (
                0.0,
                "Quadratic convergence needs f''(x*) > 0; here f''(0) = 0, and each step "
                "only multiplies x by the same factor.",
            ),
            (1 / 3, "x/3 is the step; what remains of x after a step is (2/3)x."),
        ],
    },
    hints=[
        "With $f'(x) = 4x^3$ and $f''(x) = 12x^2$, one Newton step is "
        "$x - f'(x)/f''(x)$. Simplify it.",
        "$x - 4x^3/(12x^2) = x - x/3$.",
    ],
    explanation=r"""
        Each Newton step maps $x \mapsto \frac{2}{3}x$, so $x_2 = 4/9 \approx 0.444$, and the
        error shrinks by the constant factor $2/3$: *linear* convergence, far from quadratic
        (still better than gradient descent with a fixed step, which is only sublinear on
        $x^4$). Newton's celebrated quadratic convergence assumes a
        positive definite Hessian at the minimum; here $f''(0) = 0$, the minimum is
        degenerate, and the quadratic model flattens out exactly where it is needed.
    """,
    success="x₂ = 4/9: only linear convergence, because f''(0) = 0.",
)

# ---------------------------------------------------------------------------------------------
# q3: the cost of a Hessian
# ---------------------------------------------------------------------------------------------

_N, _M, _BYTES = 1_000_000, 10, 4

q3 = ValueQuestion(
    "q3",
    names=["hessian_bytes", "lbfgs_bytes"],
    expected={"hessian_bytes": _N**2 * _BYTES, "lbfgs_bytes": 2 * _M * _N * _BYTES},
    integer=True,
    solution="""
        n, m, bytes_per_float = 1_000_000, 10, 4
        hessian_bytes = n * n * bytes_per_float  # 4 TB
        lbfgs_bytes = 2 * m * n * bytes_per_float  # m pairs (s, y): 80 MB
    """,
    mistakes={
        "hessian_bytes": [
            (_N * _BYTES, "The Hessian has one entry per *pair* of weights: n² entries."),
            (_N**2, "Count bytes: each float32 entry takes 4 bytes."),
            (
                _N**2 * _BYTES // 2,
                "Symmetry could halve it, but the question asks for the full matrix.",
            ),
        ],
        "lbfgs_bytes": [
            (_M * _N * _BYTES, "L-BFGS keeps two vectors per pair: s and y."),
            (2 * _N * _BYTES, "It keeps m = 10 pairs, not one."),
            (2 * _M * _N, "Count bytes: each float32 takes 4 bytes."),
        ],
    },
    hints=[
        "The Hessian of a function of $n$ variables is an $n \\times n$ matrix.",
        "L-BFGS stores the last $m$ pairs $(s_k, y_k)$ of vectors of length $n$.",
    ],
    explanation=r"""
        The Hessian of a million-weight model has $10^{12}$ entries: 4 TB in float32, more
        than any GPU holds, and solving with it would cost about $10^{18}$ operations.
        L-BFGS keeps 10 pairs of vectors, 80 MB, and applies its inverse-Hessian
        approximation in $O(mn)$ operations. Small models are another matter: for a few
        thousand weights the Hessian fits easily.
    """,
    success="4 TB for the Hessian against 80 MB for L-BFGS's ten pairs.",
)

# ---------------------------------------------------------------------------------------------
# q4: the L-BFGS two-loop recursion
# ---------------------------------------------------------------------------------------------


def lbfgs_direction(grad, s_list, y_list):
    q = np.array(grad, dtype=float)
    rhos = [1.0 / (y @ s) for s, y in zip(s_list, y_list, strict=True)]
    pairs = list(zip(s_list, y_list, rhos, strict=True))
    alphas = []
    for s, y, rho in reversed(pairs):  # first loop: newest pair first
        alpha = rho * (s @ q)
        q = q - alpha * y
        alphas.append(alpha)
    # initial approximation H0 = gamma * I, gamma from the newest pair
    if pairs:
        s, y, _ = pairs[-1]
        q = q * (s @ y) / (y @ y)
    # second loop: oldest pair first, each with its own alpha
    for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
        correction = rho * (y @ q)
        q = q + (alpha - correction) * s
    return -q  # the search direction -H g


def _bfgs_matrix_direction(grad, s_list, y_list, *, scaling="newest", sign=-1.0):
    """The same direction from the explicit BFGS update of an inverse-Hessian matrix."""
    n = len(grad)
    eye = np.eye(n)
    if s_list and scaling != "none":
        s, y = (s_list[-1], y_list[-1]) if scaling == "newest" else (s_list[0], y_list[0])
        H = (s @ y) / (y @ y) * eye
    else:
        H = eye
    for s, y in zip(s_list, y_list, strict=True):  # oldest first
        rho = 1.0 / (y @ s)
        V = eye - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return sign * H @ np.asarray(grad, dtype=float)


def _two_loop_variant(grad, s_list, y_list, *, second_order="oldest", own_alphas=True):
    q = np.array(grad, dtype=float)
    pairs = [(s, y, 1.0 / (y @ s)) for s, y in zip(s_list, y_list, strict=True)]
    alphas = {}
    for i in reversed(range(len(pairs))):
        s, y, rho = pairs[i]
        alphas[i] = rho * (s @ q)
        q = q - alphas[i] * y
    if pairs:
        s, y, _ = pairs[-1]
        q = q * (s @ y) / (y @ y)
    order = list(range(len(pairs)))
    if second_order == "newest":
        order.reverse()
    stored = list(alphas.values())  # in the order the first loop computed them: newest first
    for position, i in enumerate(order):
        s, y, rho = pairs[i]
        alpha = alphas[i] if own_alphas else stored[position]
        q = q + (alpha - rho * (y @ q)) * s
    return -q


def _q4_cases():
    rng = np.random.default_rng(4)
    M = rng.normal(size=(4, 4))
    A = M @ M.T + 4 * np.eye(4)  # a positive definite Hessian: y = A s has s·y > 0
    s_all = [rng.normal(size=4) for _ in range(3)]
    y_all = [A @ s for s in s_all]
    g = rng.normal(size=4)
    return [
        Case((g, [], []), label="With no stored pairs"),
        Case((g, s_all[:1], y_all[:1]), label="With one pair (s, y)"),
        Case((g, s_all[:2], y_all[:2]), label="With two pairs"),
        Case((g, s_all, y_all), label="With three pairs"),
    ]


q4 = FunctionQuestion(
    "q4",
    reference=lbfgs_direction,
    expected=_bfgs_matrix_direction,
    cases=_q4_cases,
    rtol=1e-8,
    atol=1e-10,
    mistakes=[
        (
            lambda *a: _bfgs_matrix_direction(*a, scaling="none"),
            "The initial scaling is missing: between the loops multiply by "
            "γ = (s·y)/(y·y) of the newest pair.",
        ),
        (
            lambda *a: _bfgs_matrix_direction(*a, scaling="oldest"),
            "Take γ = (s·y)/(y·y) from the *newest* pair (the last in the lists).",
        ),
        (
            lambda *a: _bfgs_matrix_direction(*a, sign=1.0),
            "Return the search direction -Hg (downhill), not Hg.",
        ),
        (
            lambda *a: _two_loop_variant(*a, second_order="newest"),
            "The second loop runs from the oldest pair to the newest, the opposite order of "
            "the first.",
        ),
        (
            lambda *a: _two_loop_variant(*a, own_alphas=False),
            "In the second loop, use each pair's own α: the first loop stored them newest "
            "first, so reverse the list.",
        ),
    ],
    hints=[
        "First loop, newest pair to oldest: $\\alpha_i = \\rho_i\\, s_i^\\top q$, "
        "$q \\leftarrow q - \\alpha_i y_i$, with $\\rho_i = 1/(y_i^\\top s_i)$ and $q = g$ at "
        "the start.",
        "Then $q \\leftarrow \\gamma q$ with $\\gamma = s^\\top y / y^\\top y$ of the newest "
        "pair. Second loop, oldest to newest: "
        "$q \\leftarrow q + (\\alpha_i - \\rho_i\\, y_i^\\top q)\\, s_i$. Return $-q$.",
    ],
    explanation=r"""
        The two-loop recursion (Nocedal and Wright, 2006, algorithm 7.4) applies the BFGS
        inverse-Hessian approximation, built from the stored pairs
        $s_k = x_{k+1} - x_k$ and $y_k = \nabla f(x_{k+1}) - \nabla f(x_k)$, to the gradient
        without ever forming a matrix: $O(mn)$ operations and memory. The check compares
        your direction with the explicit matrix update
        $H \leftarrow (I - \rho s y^\top) H (I - \rho y s^\top) + \rho s s^\top$ started
        from $H_0 = \gamma I$; the two agree to rounding error.
    """,
    success="your two loops give the BFGS direction without forming a matrix.",
)

# ---------------------------------------------------------------------------------------------
# q5: why second-order methods are rare in deep learning
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "L-BFGS stores only m pairs of vectors, never the Hessian.",
        "b": "Noise and cost are the main obstacles; L-BFGS's 2m stored vectors matter too, "
        "but they are far from the Hessian's n².",
        "c": "PyTorch even ships it: `torch.optim.LBFGS` takes a closure that recomputes the "
        "loss with autograd.",
        "d": "On smooth deterministic problems it usually converges in far fewer steps.",
    },
    explanation=r"""
        L-BFGS estimates curvature from differences of gradients, $y = \nabla f(x_{k+1}) -
        \nabla f(x_k)$, and uses line searches that compare loss values. Both need the
        *same* function at every step. With mini-batches each gradient has its own noise,
        so $y$ mixes curvature with noise of comparable size, the approximation becomes
        unreliable, and line searches misfire. Computing full-batch gradients instead
        removes the noise but makes each step cost a pass over the data. So L-BFGS shines
        on small, deterministic problems (and full-batch fine-tuning), while SGD-type
        methods with momentum or adaptive scaling dominate large-scale training.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
