"""Typical wrong answers to the exercises, written the way a learner would write them.

``WRONG["<chapter module>.<question>"]`` is a list of ``(answers, pattern)``: the arguments
given to ``check`` and a regular expression that the feedback must match, so that the
message names the mistake. Used by ``tests/exercises/test_exercises.py``.
"""

import copy
import math

import numpy as np
import torch

WRONG = {}

# --- ch01: gradient descent ----------------------------------------------------------------

WRONG["ch01_gradient_descent.q1"] = [
    ((-0.3, -0.1), "sign"),
    ((0.15, 0.05), "factor 2"),
    ((1.2, 0.4), "mean"),
    ((0.1, 0.3), "step of `c`"),
]


def gd_uphill(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    path = [x.copy()]
    for _ in range(num_steps):
        x = x + lr * grad(x)
        path.append(x.copy())
    return np.array(path)


def gd_in_place(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(num_steps):
        x -= lr * grad(x)
        path.append(x)
    return np.array(path)


def gd_without_start(grad, x0, lr, num_steps):
    x = np.array(x0, dtype=float)
    path = []
    for _ in range(num_steps):
        x = x - lr * grad(x)
        path.append(x)
    return np.array(path)


WRONG["ch01_gradient_descent.q2"] = [
    ((gd_uphill,), "sign"),
    ((gd_in_place,), "same array|copy"),
    ((gd_without_start,), "first row should be the start"),
]


def fit_line_no_zero_grad(x, y, lr, num_steps):
    w = torch.zeros((), requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    for _ in range(num_steps):
        loss = ((w * x + c - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            c -= lr * c.grad
    return w.item(), c.item()


def fit_line_no_no_grad(x, y, lr, num_steps):
    w = torch.zeros((), requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    for _ in range(num_steps):
        loss = ((w * x + c - y) ** 2).mean()
        loss.backward()
        w -= lr * w.grad
        c -= lr * c.grad
    return w.item(), c.item()


def fit_line_sum(x, y, lr, num_steps):
    w = torch.zeros((), requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    for _ in range(num_steps):
        loss = ((w * x + c - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            c -= lr * c.grad
            w.grad.zero_()
            c.grad.zero_()
    return w.item(), c.item()


def fit_line_no_return(x, y, lr, num_steps):
    w = torch.zeros((), requires_grad=True)
    c = torch.zeros((), requires_grad=True)
    for _ in range(num_steps):
        loss = ((w * x + c - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            c -= lr * c.grad
            w.grad.zero_()
            c.grad.zero_()


WRONG["ch01_gradient_descent.q3"] = [
    ((fit_line_no_zero_grad,), "accumulate"),
    ((fit_line_no_no_grad,), "no_grad"),
    ((fit_line_sum,), r"\.mean\(\)"),
    ((fit_line_no_return,), "forget a `return`"),
]


def gd_until_no_limit(grad, x0, lr, tol, max_steps):
    x = np.array(x0, dtype=float)
    steps = 0
    while np.linalg.norm(grad(x)) >= tol:
        x = x - lr * grad(x)
        steps += 1
    return x, steps


def gd_until_check_after(grad, x0, lr, tol, max_steps):
    x = np.array(x0, dtype=float)
    for step in range(1, max_steps + 1):
        x = x - lr * grad(x)
        if np.linalg.norm(grad(x)) < tol:
            return x, step
    return x, max_steps


def gd_until_max_component(grad, x0, lr, tol, max_steps):
    x = np.array(x0, dtype=float)
    for step in range(max_steps):
        g = grad(x)
        if np.max(np.abs(g)) < tol:
            return x, step
        x = x - lr * g
    return x, max_steps


def gd_until_last_index(grad, x0, lr, tol, max_steps):
    x = np.array(x0, dtype=float)
    for step in range(max_steps):  # noqa: B007 (the learner's bug uses `step` after the loop)
        g = grad(x)
        if np.linalg.norm(g) < tol:
            break
        x = x - lr * g
    return x, step


WRONG["ch01_gradient_descent.q4"] = [
    ((gd_until_no_limit,), "ignores `max_steps`"),
    ((gd_until_check_after,), "before each step"),
    ((gd_until_max_component,), "largest component"),
    ((gd_until_last_index,), "max_steps - 1"),
]

WRONG["ch01_gradient_descent.q5"] = [
    (("a",), "gradient has doubled"),
    (("c",), "larger"),
    (("d",), "diverge"),
]

# --- ch02: learning rate -------------------------------------------------------------------

WRONG["ch02_learning_rate.q1"] = [
    ((0.512,), "negative"),
    ((0.001,), "2x"),
    ((0.64,), "two steps"),
]


def regime_half_curvature(lr, L):
    factor = 1 - lr * L / 2
    if abs(factor) > 1:
        return "diverging"
    if factor == -1:
        return "cycling"
    if factor < 0:
        return "oscillating"
    return "monotone"


def regime_forgets_oscillation(lr, L):
    if lr > 2 / L:
        return "diverging"
    if lr == 2 / L:
        return "cycling"
    return "monotone"


def regime_boundary_diverges(lr, L):
    if lr >= 2 / L:
        return "diverging"
    if lr > 1 / L:
        return "oscillating"
    return "monotone"


def regime_no_return(lr, L):
    factor = 1 - lr * L
    if abs(factor) > 1:
        label = "diverging"
    else:
        label = "monotone"
    print(label)


WRONG["ch02_learning_rate.q2"] = [
    ((regime_half_curvature,), r"1 - ηL \(not 1 - ηL/2\)"),
    ((regime_forgets_oscillation,), "negative"),
    ((regime_boundary_diverges,), "'cycling', not 'diverging'"),
    ((regime_no_return,), "forget a `return`"),
]

WRONG["ch02_learning_rate.q3"] = [
    ((2.0, 2 / 11, 9 / 11), "steep direction"),
    ((0.2, 0.1, 9 / 11), "balances"),
    ((0.2, 2 / 11, 0.9), "rate at η = 1/L"),
    ((0.2, 2 / 11, 2 / 11), "1 minus the rate"),
]

WRONG["ch02_learning_rate.q4"] = [
    ((690,), "round up"),
    ((1375,), "1 - 1/κ"),
    ((690.8,), "whole number"),
]

WRONG["ch02_learning_rate.q5"] = [
    (("a",), "downhill"),
    (("c",), "ratio of the curvatures"),
    (("d",), "exact arithmetic"),
]

# --- ch03: mini-batch SGD ------------------------------------------------------------------

WRONG["ch03_minibatch_sgd.q1"] = [
    ((310,), "leftover"),
    ((312,), "do not run across epochs"),
    ((10000,), "examples processed"),
    ((312.5,), "whole number"),
]


def batches_with_replacement(n, batch_size, rng):
    idx = rng.integers(0, n, size=n)
    return [idx[i : i + batch_size] for i in range(0, n, batch_size)]


def batches_drop_last(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def batches_not_shuffled(n, batch_size, rng):
    order = np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def batches_fixed_seed(n, batch_size, rng):
    order = np.random.default_rng(42).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def batches_global_rng(n, batch_size, rng):
    order = np.random.permutation(n)  # noqa: NPY002 (the learner ignores rng)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def batches_array_split(n, batch_size, rng):
    return np.array_split(rng.permutation(n), n // batch_size)


WRONG["ch03_minibatch_sgd.q2"] = [
    ((batches_with_replacement,), "appear twice"),
    ((batches_drop_last,), "smaller batch .* is missing"),
    ((batches_not_shuffled,), "original order"),
    ((batches_fixed_seed,), "same order"),
    ((batches_global_rng,), "same seed gave different batches"),
    ((batches_array_split,), "batch sizes are|batches, but"),
]

WRONG["ch03_minibatch_sgd.q3"] = [
    ((0.2, 0.2**0.5), "quarter of the variance"),
    ((0.1, 0.1), "square root"),
    ((0.1, 0.4**0.5 / 4), "only halves"),
]


def sgd_epoch_divide_by_n(w, X, y, batches, lr):
    for idx in batches:
        grad = 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(X)
        w = w - lr * grad
    return w


def sgd_epoch_full_gradient(w, X, y, batches, lr):
    for _ in batches:
        grad = 2 * X.T @ (X @ w - y) / len(X)
        w = w - lr * grad
    return w


def sgd_epoch_fixed_batch_size(w, X, y, batches, lr):
    batch_size = len(batches[0])
    for idx in batches:
        grad = 2 * X[idx].T @ (X[idx] @ w - y[idx]) / batch_size
        w = w - lr * grad
    return w


def sgd_epoch_return_in_loop(w, X, y, batches, lr):
    for idx in batches:
        grad = 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
        w = w - lr * grad
        return w


WRONG["ch03_minibatch_sgd.q4"] = [
    ((sgd_epoch_divide_by_n,), "not by the size of the whole data set"),
    ((sgd_epoch_full_gradient,), "uses all the data"),
    ((sgd_epoch_fixed_batch_size,), "last batch can be smaller"),
    ((sgd_epoch_return_in_loop,), "inside the loop"),
]

WRONG["ch03_minibatch_sgd.q5"] = [
    (("a",), "smaller step"),
    (("c",), "validation loss"),
    (("d",), "unbiased"),
]

# --- ch04: momentum ------------------------------------------------------------------------


def momentum_step_ema(p, g, v, lr, beta):
    v = beta * v + (1 - beta) * g
    p = p - lr * v
    return p, v


def momentum_step_old_v(p, g, v, lr, beta):
    p = p - lr * v
    v = beta * v + g
    return p, v


def momentum_step_sutskever(p, g, v, lr, beta):
    v = beta * v - lr * g
    p = p + v
    return p, v


def momentum_step_only_p(p, g, v, lr, beta):
    v = beta * v + g
    return p - lr * v


WRONG["ch04_momentum.q1"] = [
    ((momentum_step_ema,), "EMA form"),
    ((momentum_step_old_v,), "new\\* velocity|new velocity"),
    ((momentum_step_sutskever,), "velocity holds the learning rate"),
    ((momentum_step_only_p,), "tuple of 2 values"),
]

WRONG["ch04_momentum.q2"] = [
    ((1.0, 0.1), "smaller, not larger"),
    ((0.1, 0.1), "must differ"),
    ((0.01, 0.01), "keeps growing"),
]


def nesterov_plain(p, g, v, lr, beta):
    v = beta * v + g
    return p - lr * v, v


def nesterov_old_v(p, g, v, lr, beta):
    p = p - lr * (g + beta * v)
    v = beta * v + g
    return p, v


def nesterov_uphill(p, g, v, lr, beta):
    v = beta * v + g
    return p + lr * (g + beta * v), v


def nesterov_ema(p, g, v, lr, beta):
    v = beta * v + (1 - beta) * g
    p = p - lr * (g + beta * v)
    return p, v


WRONG["ch04_momentum.q3"] = [
    ((nesterov_plain,), "plain heavy-ball"),
    ((nesterov_old_v,), "plain heavy-ball"),
    ((nesterov_ema,), "without the factor 1 - β"),
    ((nesterov_uphill,), "sign"),
]

WRONG["ch04_momentum.q4"] = [
    ((0.99, 9 / 11), "η = 1/L"),
    ((99 / 101, 99 / 101), "√κ"),
    ((99 / 101, 0.9), "exact optimal rate"),
]

WRONG["ch04_momentum.q5"] = [
    (("a",), "flip sign are damped"),
    (("c",), "Newton"),
    (("d",), "line search"),
]

# --- ch05: adaptive methods ----------------------------------------------------------------


def adagrad_no_sqrt(p, g, state_sum, lr, eps):
    state_sum = state_sum + g**2
    return p - lr * g / (state_sum + eps), state_sum


def adagrad_eps_inside(p, g, state_sum, lr, eps):
    state_sum = state_sum + g**2
    return p - lr * g / torch.sqrt(state_sum + eps), state_sum


def adagrad_old_sum(p, g, state_sum, lr, eps):
    p = p - lr * g / (torch.sqrt(state_sum) + eps)
    state_sum = state_sum + g**2
    return p, state_sum


WRONG["ch05_adaptive_methods.q1"] = [
    ((adagrad_no_sqrt,), "square root"),
    ((adagrad_eps_inside,), r"sqrt\(v \+ eps\)"),
    ((adagrad_old_sum,), "new squared gradient to the sum first"),
]


def rmsprop_seed_formula(grad, x0, lr, alpha, eps, num_steps):
    # The source notebook's formula: theta -= alpha * g / sqrt(v + eps)
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(num_steps):
        g = grad(x)
        v = alpha * v + (1 - alpha) * g**2
        x = x - lr * g / np.sqrt(v + eps)
        path.append(x.copy())
    return np.array(path)


def rmsprop_no_one_minus_alpha(grad, x0, lr, alpha, eps, num_steps):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(num_steps):
        g = grad(x)
        v = alpha * v + g**2
        x = x - lr * g / (np.sqrt(v) + eps)
        path.append(x.copy())
    return np.array(path)


def rmsprop_uphill(grad, x0, lr, alpha, eps, num_steps):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(num_steps):
        g = grad(x)
        v = alpha * v + (1 - alpha) * g**2
        x = x + lr * g / (np.sqrt(v) + eps)
        path.append(x.copy())
    return np.array(path)


def rmsprop_adagrad_sum(grad, x0, lr, alpha, eps, num_steps):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(num_steps):
        g = grad(x)
        v += g**2
        x = x - lr * g / (np.sqrt(v) + eps)
        path.append(x.copy())
    return np.array(path)


def rmsprop_last_point_only(grad, x0, lr, alpha, eps, num_steps):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    for _ in range(num_steps):
        g = grad(x)
        v = alpha * v + (1 - alpha) * g**2
        x = x - lr * g / (np.sqrt(v) + eps)
    return x


WRONG["ch05_adaptive_methods.q2"] = [
    ((rmsprop_seed_formula,), r"sqrt\(v\) \+ eps"),
    ((rmsprop_no_one_minus_alpha,), "1 - alpha"),
    ((rmsprop_uphill,), "sign"),
    ((rmsprop_adagrad_sum,), "AdaGrad's sum"),
    ((rmsprop_last_point_only,), "shape"),
]

WRONG["ch05_adaptive_methods.q3"] = [
    ((0.001, 0.1), "square root"),
    ((0.5, 0.1), "plain gradient descent"),
    ((0.01, 0.01), "forgets old gradients"),
]


def adadelta_like_rmsprop(p, g, square_avg, acc_delta, lr, rho, eps):
    square_avg = rho * square_avg + (1 - rho) * g**2
    delta = g / torch.sqrt(square_avg + eps)
    acc_delta = rho * acc_delta + (1 - rho) * delta**2
    return p - lr * delta, square_avg, acc_delta


def adadelta_accumulates_grad(p, g, square_avg, acc_delta, lr, rho, eps):
    square_avg = rho * square_avg + (1 - rho) * g**2
    delta = torch.sqrt(acc_delta + eps) / torch.sqrt(square_avg + eps) * g
    acc_delta = rho * acc_delta + (1 - rho) * g**2
    return p - lr * delta, square_avg, acc_delta


def adadelta_no_lr(p, g, square_avg, acc_delta, lr, rho, eps):
    square_avg = rho * square_avg + (1 - rho) * g**2
    delta = torch.sqrt(acc_delta + eps) / torch.sqrt(square_avg + eps) * g
    acc_delta = rho * acc_delta + (1 - rho) * delta**2
    return p - delta, square_avg, acc_delta


WRONG["ch05_adaptive_methods.q4"] = [
    ((adadelta_like_rmsprop,), "RMSprop step"),
    ((adadelta_accumulates_grad,), "squared \\*updates\\*|squared updates"),
    ((adadelta_no_lr,), "by lr as well"),
]

WRONG["ch05_adaptive_methods.q5"] = [
    (("b",), "no momentum"),
    (("c",), "every step shrink"),
    (("d",), "keeps the sign"),
]

# --- ch06: Adam ----------------------------------------------------------------------------


def adam_no_bias_correction(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return p - lr * m / (torch.sqrt(v) + eps), m, v


def adam_t_minus_one(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1 ** (t - 1))
    v_hat = v / (1 - beta2 ** (t - 1))
    return p - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def adam_eps_inside(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / torch.sqrt(v_hat + eps), m, v


def adam_returns_corrected(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m = m / (1 - beta1**t)
    v = v / (1 - beta2**t)
    return p - lr * m / (torch.sqrt(v) + eps), m, v


def adam_swapped_betas(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta2 * m + (1 - beta2) * g
    v = beta1 * v + (1 - beta1) * g**2
    m_hat = m / (1 - beta2**t)
    v_hat = v / (1 - beta1**t)
    return p - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


WRONG["ch06_adam.q1"] = [
    ((adam_no_bias_correction,), "bias correction is missing"),
    ((adam_t_minus_one,), "off by one"),
    ((adam_eps_inside,), r"sqrt\(v_hat\) \+ eps"),
    ((adam_returns_corrected,), "uncorrected"),
    ((adam_swapped_betas,), "beta1 belongs to m"),
]

WRONG["ch06_adam.q2"] = [
    ((0.002, 0.00316), "normalises"),
    ((0.001, 0.001), "corrected step"),
    ((0.001, 0.05), "square root"),
]


def adamw_as_l2(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def adamw_decay_without_lr(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    p = p - weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def adamw_no_bias_correction(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    p = p * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return p - lr * m / (torch.sqrt(v) + eps), m, v


WRONG["ch06_adam.q3"] = [
    ((adamw_as_l2,), "L2 penalty"),
    ((adamw_decay_without_lr,), "multiplies the decay by the learning rate"),
    ((adamw_no_bias_correction,), "bias correction"),
]

WRONG["ch06_adam.q4"] = [
    ((12_000_000, 4_000_000), "weights themselves"),
    ((2_000_000, 1_000_000), "4 bytes"),
    ((8_000_000, 0), "with momentum"),
]

WRONG["ch06_adam.q5"] = [
    (("a",), "rescaled"),
    (("c",), "same update"),
    (("d",), "learning rate you give"),
]

# --- ch07: learning-rate schedules ---------------------------------------------------------


def warmup_from_zero(t, lr0, warmup_steps, total_steps, lr_min, start_factor):
    if t < warmup_steps:
        return lr0 * t / warmup_steps
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def warmup_one_step_early(t, lr0, warmup_steps, total_steps, lr_min, start_factor):
    if t < warmup_steps:
        return lr0 * (start_factor + (1 - start_factor) * (t + 1) / warmup_steps)
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def cosine_over_total(t, lr0, warmup_steps, total_steps, lr_min, start_factor):
    if t < warmup_steps:
        return lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total_steps)) / 2


def cosine_without_half(t, lr0, warmup_steps, total_steps, lr_min, start_factor):
    if t < warmup_steps:
        return lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress))


def cosine_to_zero(t, lr0, warmup_steps, total_steps, lr_min, start_factor):
    if t < warmup_steps:
        return lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    return lr0 * (1 + math.cos(math.pi * progress)) / 2


WRONG["ch07_lr_schedules.q1"] = [
    ((warmup_from_zero,), "starts at 0"),
    ((warmup_one_step_early,), "one step early"),
    ((cosine_over_total,), "starts after the warmup"),
    ((cosine_without_half,), "Halve"),
    ((cosine_to_zero,), "ends at lr_min"),
]

WRONG["ch07_lr_schedules.q2"] = [
    ((0.0001, 0.1 * 0.95**10), "twice, not three times"),
    ((0.01, 0.1 * 0.95**10), "again at epoch 60"),
    ((0.001, 0.1 * 0.95**9), "10 times"),
]


def _finder(model, loss_fn, batches, start_lr, end_lr, num_steps, *, spacing, stop, restore):
    saved = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=start_lr)
    if spacing == "linear":
        schedule = np.linspace(start_lr, end_lr, num_steps)
    else:
        schedule = np.geomspace(start_lr, end_lr, num_steps)
    lrs, losses = [], []
    for i, lr in enumerate(schedule):
        optimizer.param_groups[0]["lr"] = lr
        X, y = batches[i % len(batches)]
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        lrs.append(lr)
        losses.append(loss.item())
        if stop and losses[-1] > 4 * min(losses):
            break
    if restore:
        model.load_state_dict(saved)
    return lrs, losses


def finder_linear(model, loss_fn, batches, start_lr, end_lr, num_steps):
    return _finder(
        model,
        loss_fn,
        batches,
        start_lr,
        end_lr,
        num_steps,
        spacing="linear",
        stop=True,
        restore=True,
    )


def finder_never_stops(model, loss_fn, batches, start_lr, end_lr, num_steps):
    return _finder(
        model,
        loss_fn,
        batches,
        start_lr,
        end_lr,
        num_steps,
        spacing="geom",
        stop=False,
        restore=True,
    )


def finder_no_restore(model, loss_fn, batches, start_lr, end_lr, num_steps):
    return _finder(
        model,
        loss_fn,
        batches,
        start_lr,
        end_lr,
        num_steps,
        spacing="geom",
        stop=True,
        restore=False,
    )


def finder_fixed_lr(model, loss_fn, batches, start_lr, end_lr, num_steps):
    optimizer = torch.optim.SGD(model.parameters(), lr=start_lr)
    lrs, losses = [], []
    for i in range(num_steps):
        lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
        X, y = batches[i % len(batches)]
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        lrs.append(lr)
        losses.append(loss.item())
        if losses[-1] > 4 * min(losses):
            break
    return lrs, losses


WRONG["ch07_lr_schedules.q3"] = [
    ((finder_linear,), "exponentially"),
    ((finder_never_stops,), "stop as soon as"),
    ((finder_no_restore,), "load_state_dict"),
    ((finder_fixed_lr,), "never changes"),
]


def pick_at_minimum(lrs, losses):
    return lrs[int(np.nanargmin(losses))]


def pick_with_argmin(lrs, losses):
    return lrs[int(np.argmin(losses))] / 10


def pick_index(lrs, losses):
    return int(np.nanargmin(losses))


WRONG["ch07_lr_schedules.q4"] = [
    ((pick_at_minimum,), "a tenth"),
    ((pick_with_argmin,), "position of a NaN"),
    ((pick_index,), "not its index"),
]

WRONG["ch07_lr_schedules.q5"] = [
    ((17.27,), "lowest loss"),
    ((0.3486,), "steepest-slope"),
    ((1.0,), "range the exercise gives"),
]

# --- ch08: regularization ------------------------------------------------------------------

WRONG["ch08_regularization.q1"] = [
    ((1.4, 1.4, 1.4, 1.4), "sign\\(gradient\\)"),
    ((1.5, 1.4, 1.5, 1.4), "adds λw"),
    ((1.4, 1.4, 1.5, 1.3), "multiplies the decay by the learning rate"),
    ((1.4, 1.4, 1.5, 1.425), "before the Adam step"),
]

WRONG["ch08_regularization.q2"] = [
    ((7, 5, 6), "starts again from zero"),
    ((8, 3, 6), "new best"),
    ((8, 5, 8), "does not count as an improvement"),
]


class StopperWithTies:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.bad, self.epoch = float("inf"), None, 0, 0

    def step(self, val_loss):
        self.epoch += 1
        if val_loss <= self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
        else:
            self.bad += 1
        return self.bad >= self.patience


class StopperOffByOne:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.bad, self.epoch = float("inf"), None, 0, 0

    def step(self, val_loss):
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
        else:
            self.bad += 1
        return self.bad > self.patience


class StopperIgnoresDelta:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.best_loss, self.best_epoch, self.bad, self.epoch = float("inf"), None, 0, 0

    def step(self, val_loss):
        self.epoch += 1
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
        else:
            self.bad += 1
        return self.bad >= self.patience


class StopperPreviousEpoch:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.last, self.best_epoch, self.bad, self.epoch = float("inf"), None, 0, 0

    def step(self, val_loss):
        self.epoch += 1
        if val_loss < self.last - self.min_delta:
            self.best_epoch, self.bad = self.epoch, 0
        else:
            self.bad += 1
        self.last = val_loss
        return self.bad >= self.patience


class StopperNoReturn:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.bad = float("inf"), None, 0

    def step(self, val_loss):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.bad = val_loss, 0
        else:
            self.bad += 1
        self.stop = self.bad >= self.patience


WRONG["ch08_regularization.q3"] = [
    ((StopperWithTies,), "not `<=`"),
    ((StopperOffByOne,), "reaches\\* the patience|reaches the patience"),
    ((StopperIgnoresDelta,), "by more than `min_delta`"),
    ((StopperPreviousEpoch,), "not with the previous epoch"),
    ((StopperNoReturn,), "forget to `return`"),
]

WRONG["ch08_regularization.q4"] = [
    (("a",), "Cost is not the reason"),
    (("c",), "generalisation"),
    (("d",), "wrong reason"),
]

# --- ch09: comparing optimizers ------------------------------------------------------------


def mean_std_wrong_axis(losses):
    losses = np.array(losses)
    return losses.mean(axis=1), losses.std(axis=1, ddof=1)


def mean_std_population(losses):
    losses = np.array(losses)
    return losses.mean(axis=0), losses.std(axis=0)


def mean_std_torch(losses):
    losses = torch.tensor(losses, dtype=torch.float64)
    return losses.mean(dim=0), losses.std(dim=0) / len(losses) ** 0.5


WRONG["ch09_comparing_optimizers.q1"] = [
    ((mean_std_wrong_axis,), "axis 0"),
    ((mean_std_population,), "ddof=1"),
    ((mean_std_torch,), "standard error"),
]


def best_lr_argmin(lrs, final_losses):
    return lrs[np.argmin(np.mean(final_losses, axis=1))]


def best_lr_nanmean(lrs, final_losses):
    return lrs[np.nanargmin(np.nanmean(final_losses, axis=1))]


def best_lr_best_run(lrs, final_losses):
    losses = np.array(final_losses)
    losses[np.isnan(losses).any(axis=1)] = np.inf
    return lrs[np.argmin(losses.min(axis=1))]


def best_lr_median_argmin(lrs, final_losses):
    return lrs[np.argmin(np.median(final_losses, axis=1))]


def best_lr_nanmedian(lrs, final_losses):
    return lrs[np.nanargmin(np.nanmedian(final_losses, axis=1))]


WRONG["ch09_comparing_optimizers.q2"] = [
    ((best_lr_argmin,), "first NaN"),
    ((best_lr_nanmean,), "ignores the diverged seeds"),
    ((best_lr_best_run,), "lucky seed"),
    ((best_lr_median_argmin,), "first NaN"),
    ((best_lr_nanmedian,), "ignores the diverged seeds"),
]

WRONG["ch09_comparing_optimizers.q3"] = [
    (
        ((0.02**2 + 0.03**2) ** 0.5, 0.015 / (0.02**2 + 0.03**2) ** 0.5),
        "divide each variance by 5",
    ),
    ((0.05 / 5**0.5, 0.015 / (0.05 / 5**0.5)), "not the standard deviations"),
    ((0.0161, 0.015), "too small"),
]

WRONG["ch09_comparing_optimizers.q4"] = [
    (("a",), "unfair"),
    (("c",), "badly chosen learning rate"),
    (("d",), "Not even"),
]

# --- ch10: beyond first order --------------------------------------------------------------


def newton_multiply(x, grad, hess):
    x = np.asarray(x, dtype=float)
    return x - hess(x) @ grad(x)


def newton_diagonal(x, grad, hess):
    x = np.asarray(x, dtype=float)
    return x - grad(x) / np.diag(hess(x))


def newton_uphill(x, grad, hess):
    x = np.asarray(x, dtype=float)
    return x + np.linalg.inv(hess(x)) @ grad(x)


WRONG["ch10_beyond_first_order.q1"] = [
    ((newton_multiply,), "divides"),
    ((newton_diagonal,), "off-diagonal"),
    ((newton_uphill,), "sign"),
]

WRONG["ch10_beyond_first_order.q2"] = [
    ((0.0, 0.0), "not quadratic"),
    ((1 / 9, 1 / 3), "x/3 is the step"),
    ((4 / 9, 0.0), "f''\\(0\\) = 0"),
]

WRONG["ch10_beyond_first_order.q3"] = [
    ((4_000_000, 80_000_000), "n² entries"),
    ((4 * 10**12, 40_000_000), "two vectors per pair"),
    ((10**12, 20_000_000), "4 bytes"),
]


def lbfgs_no_scaling(grad, s_list, y_list):
    q = np.array(grad, dtype=float)
    alphas = []
    for s, y in reversed(list(zip(s_list, y_list, strict=False))):
        alpha = (s @ q) / (y @ s)
        q = q - alpha * y
        alphas.append(alpha)
    for (s, y), alpha in zip(zip(s_list, y_list, strict=False), reversed(alphas), strict=False):
        beta = (y @ q) / (y @ s)
        q = q + (alpha - beta) * s
    return -q


def lbfgs_same_order(grad, s_list, y_list):
    q = np.array(grad, dtype=float)
    alphas = []
    for s, y in reversed(list(zip(s_list, y_list, strict=False))):
        alpha = (s @ q) / (y @ s)
        q = q - alpha * y
        alphas.append(alpha)
    if s_list:
        q = q * (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1])
    for (s, y), alpha in zip(
        reversed(list(zip(s_list, y_list, strict=False))), alphas, strict=False
    ):
        beta = (y @ q) / (y @ s)
        q = q + (alpha - beta) * s
    return -q


def lbfgs_plus(grad, s_list, y_list):
    q = np.array(grad, dtype=float)
    alphas = []
    for s, y in reversed(list(zip(s_list, y_list, strict=False))):
        alpha = (s @ q) / (y @ s)
        q = q - alpha * y
        alphas.append(alpha)
    if s_list:
        q = q * (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1])
    for (s, y), alpha in zip(zip(s_list, y_list, strict=False), reversed(alphas), strict=False):
        beta = (y @ q) / (y @ s)
        q = q + (alpha - beta) * s
    return q


WRONG["ch10_beyond_first_order.q4"] = [
    ((lbfgs_no_scaling,), "initial scaling"),
    ((lbfgs_same_order,), "oldest pair to the newest"),
    ((lbfgs_plus,), "-Hg"),
]

WRONG["ch10_beyond_first_order.q5"] = [
    (("a",), "never the Hessian"),
    (("c",), "torch.optim.LBFGS"),
    (("d",), "far fewer steps"),
]

# --- ch14: benchmarking optimizers ---------------------------------------------------------


def ttt_last_crossing(steps, metrics, target):
    below = [s for s, m in zip(steps, metrics, strict=True) if m <= target]
    return below[-1] if below else math.inf


def ttt_strict(steps, metrics, target):
    for s, m in zip(steps, metrics, strict=True):
        if m < target:
            return s
    return math.inf


def ttt_index(steps, metrics, target):
    for i, m in enumerate(metrics):
        if m <= target:
            return i
    return math.inf


def ttt_minus_one(steps, metrics, target):
    for s, m in zip(steps, metrics, strict=True):
        if m <= target:
            return s
    return -1


WRONG["ch14_benchmarking.q1"] = [
    ((ttt_last_crossing,), "first"),
    ((ttt_strict,), "<="),
    ((ttt_index,), "not its position"),
    ((ttt_minus_one,), "math.inf"),
]


def pwt_min_of_medians(times):
    return min(np.median(study) for study in times)


def pwt_fastest_of_all(times):
    return np.min(times)


def pwt_mean(times):
    return np.mean([min(study) for study in times])


WRONG["ch14_benchmarking.q2"] = [
    ((pwt_min_of_medians,), "within"),
    ((pwt_fastest_of_all,), "lucky"),
    ((pwt_mean,), "median"),
]

WRONG["ch14_benchmarking.q3"] = [
    ((0.75, 0.5), "all 5 workloads"),
    ((0.8, 0.4), "tau = 2"),
    ((0.6, 0.2), "at most tau"),
]

WRONG["ch14_benchmarking.q4"] = [
    ((1.7, 1.78), "Divide the area by 4 - 1 = 3"),
    ((2.8333 / 4, 2.9667 / 4), "all 5 workloads"),
]

WRONG["ch14_benchmarking.q5"] = [
    (("a",), "only 3 values"),
    (("c",), "3 learning rates"),
    (("d",), "not to cluster"),
]

# --- ch13: scaling out -------------------------------------------------------------------------


def accumulate_without_dividing(model, loss_fn, X, y, k):
    model.zero_grad()
    for X_j, y_j in zip(X.chunk(k), y.chunk(k), strict=True):
        loss_fn(model(X_j), y_j).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def accumulate_without_zeroing(model, loss_fn, X, y, k):
    for X_j, y_j in zip(X.chunk(k), y.chunk(k), strict=True):
        (loss_fn(model(X_j), y_j) / k).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def accumulate_zeroing_each_time(model, loss_fn, X, y, k):
    for X_j, y_j in zip(X.chunk(k), y.chunk(k), strict=True):
        model.zero_grad()
        (loss_fn(model(X_j), y_j) / k).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


WRONG["ch13_scaling_out.q1"] = [
    ((accumulate_without_dividing,), "k times too large"),
    ((accumulate_without_zeroing,), "old gradient"),
    ((accumulate_zeroing_each_time,), "Only the last micro-batch"),
]


def lars_without_decay(w, g, trust_coefficient, weight_decay):
    if w.norm() == 0 or g.norm() == 0:
        return 1.0
    return (trust_coefficient * w.norm() / g.norm()).item()


def lars_upside_down(w, g, trust_coefficient, weight_decay):
    denominator = g.norm() + weight_decay * w.norm()
    if w.norm() == 0 or denominator == 0:
        return 1.0
    return (trust_coefficient * denominator / w.norm()).item()


def lars_without_eta(w, g, trust_coefficient, weight_decay):
    denominator = g.norm() + weight_decay * w.norm()
    if w.norm() == 0 or denominator == 0:
        return 1.0
    return (w.norm() / denominator).item()


WRONG["ch13_scaling_out.q2"] = [
    ((lars_without_decay,), "denominator"),
    ((lars_upside_down,), "upside down"),
    ((lars_without_eta,), "trust coefficient"),
]


def step_with_the_sum(params, worker_grads, lr):
    return [p - lr * sum(grads[i] for grads in worker_grads) for i, p in enumerate(params)]


def step_without_communication(params, worker_grads, lr):
    return [p - lr * g for p, g in zip(params, worker_grads[0], strict=True)]


def step_divided_by_parameters(params, worker_grads, lr):
    return [
        p - lr * sum(grads[i] for grads in worker_grads) / len(params)
        for i, p in enumerate(params)
    ]


WRONG["ch13_scaling_out.q3"] = [
    ((step_with_the_sum,), "number of workers"),
    ((step_without_communication,), "its own gradient only"),
    ((step_divided_by_parameters,), "not the number of parameters"),
]


def lr_square_root(t, base_lr, base_batch_size, batch_size, warmup_steps):
    peak = base_lr * (batch_size / base_batch_size) ** 0.5
    if t < warmup_steps:
        return base_lr + (peak - base_lr) * t / warmup_steps
    return peak


def lr_warmup_from_zero(t, base_lr, base_batch_size, batch_size, warmup_steps):
    peak = base_lr * batch_size / base_batch_size
    if t < warmup_steps:
        return peak * t / warmup_steps
    return peak


def lr_without_warmup(t, base_lr, base_batch_size, batch_size, warmup_steps):
    return base_lr * batch_size / base_batch_size


WRONG["ch13_scaling_out.q4"] = [
    ((lr_square_root,), "square-root rule"),
    ((lr_warmup_from_zero,), "not from 0"),
    ((lr_without_warmup,), "climb to the peak"),
]

WRONG["ch13_scaling_out.q5"] = [
    (("a",), "break"),
    (("c",), "accumulation"),
    (("d",), "curvature"),
]

# --- ch12: optimizers of the last five years -----------------------------------------------


def lion_sign_of_momentum(w, m, grad, lr, beta1, beta2, weight_decay):
    m = beta2 * m + (1 - beta2) * grad
    w = w - lr * (np.sign(m) + weight_decay * w)
    return w, m


def lion_without_sign(w, m, grad, lr, beta1, beta2, weight_decay):
    c = beta1 * m + (1 - beta1) * grad
    w = w - lr * (c + weight_decay * w)
    m = beta2 * m + (1 - beta2) * grad
    return w, m


def lion_decay_without_lr(w, m, grad, lr, beta1, beta2, weight_decay):
    c = beta1 * m + (1 - beta1) * grad
    w = w - lr * np.sign(c) - weight_decay * w
    m = beta2 * m + (1 - beta2) * grad
    return w, m


WRONG["ch12_modern_optimizers.q1"] = [
    ((lion_sign_of_momentum,), "interpolation"),
    ((lion_without_sign,), r"\*sign\*"),
    ((lion_decay_without_lr,), "multiplied by the learning rate"),
]


def newton_schulz_elementwise(G, steps, a, b, c):
    X = G / np.linalg.norm(G)
    for _ in range(steps):
        A = X * X
        X = a * X + (b * A + c * A * A) * X
    return X


def newton_schulz_unnormalized(G, steps, a, b, c):
    X = G
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X


WRONG["ch12_modern_optimizers.q2"] = [
    ((newton_schulz_elementwise,), "matrix products"),
    ((newton_schulz_unnormalized,), "Frobenius norm"),
]


def factored_without_division(V):
    return V.mean(axis=1, keepdims=True) @ V.mean(axis=0, keepdims=True)


def factored_root(V):
    R, C = V.mean(axis=1, keepdims=True), V.mean(axis=0, keepdims=True)
    return np.sqrt(R @ C / R.mean())


WRONG["ch12_modern_optimizers.q3"] = [
    ((factored_without_division,), "scale\\s+twice"),
    ((factored_root,), "root"),
]


def sam_norm_per_tensor(g_weight, g_bias, rho):
    return rho * g_weight / np.linalg.norm(g_weight), rho * g_bias / np.linalg.norm(g_bias)


def sam_downhill(g_weight, g_bias, rho):
    norm = np.sqrt(np.sum(g_weight**2) + np.sum(g_bias**2))
    return -rho * g_weight / norm, -rho * g_bias / norm


WRONG["ch12_modern_optimizers.q4"] = [
    ((sam_norm_per_tensor,), "all the parameters at once"),
    ((sam_downhill,), "worst"),
]

WRONG["ch12_modern_optimizers.q5"] = [
    (("a",), "halves the state"),
    (("c",), "no memory is\\s+saved"),
    (("d",), "base optimizer keeps"),
]

# --- ch11: stable training ----------------------------------------------------------------


def clip_always_rescale(grads, max_norm):
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    return [g * max_norm / total_norm for g in grads], total_norm


def clip_each_tensor(grads, max_norm):
    clipped = []
    for g in grads:
        norm = np.linalg.norm(g)
        clipped.append(g * min(max_norm / (norm + 1e-6), 1.0))
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    return clipped, total_norm


def clip_norm_after(grads, max_norm):
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    clipped = [g * min(max_norm / (total_norm + 1e-6), 1.0) for g in grads]
    return clipped, math.sqrt(sum(float(np.sum(g**2)) for g in clipped))


def clip_sum_of_norms(grads, max_norm):
    total_norm = sum(np.linalg.norm(g) for g in grads)
    return [g * min(max_norm / (total_norm + 1e-6), 1.0) for g in grads], total_norm


WRONG["ch11_stable_training.q1"] = [
    ((clip_always_rescale,), "never larger than 1"),
    ((clip_each_tensor,), "all\\* gradients"),
    ((clip_norm_after,), "before"),
    ((clip_sum_of_norms,), "not the sum"),
]

WRONG["ch11_stable_training.q2"] = [
    ((2 / 512, math.sqrt(2 / 768)), "variance"),
    ((math.sqrt(1 / 512), math.sqrt(2 / 768)), "twice the variance"),
    ((math.sqrt(2 / 512), math.sqrt(6 / 768)), "xavier_uniform_"),
    ((math.sqrt(2 / 512), math.sqrt(2 / 512)), "He's formula"),
]


def warmup_from_zero(t, lr0, warmup_steps, start_factor):
    if t >= warmup_steps:
        return lr0
    return lr0 * t / warmup_steps


def warmup_off_by_one(t, lr0, warmup_steps, start_factor):
    if t >= warmup_steps:
        return lr0
    return lr0 * (start_factor + (1 - start_factor) * (t + 1) / warmup_steps)


def warmup_no_cap(t, lr0, warmup_steps, start_factor):
    return lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)


WRONG["ch11_stable_training.q3"] = [
    ((warmup_from_zero,), "not 0"),
    ((warmup_off_by_one,), "\\(t \\+ 1\\)"),
    ((warmup_no_cap,), "keep growing"),
]

WRONG["ch11_stable_training.q4"] = [
    (("a",), "last to show it"),
    (("c",), "far above"),
    (("d",), "Depth does not revive"),
]

WRONG["ch11_stable_training.q5"] = [
    ((1000.0 - 2 * 100 * 0.999**100 / (1 - 0.999**100), 0.2), "not 1 / \\(1 - β₂\\)"),
    ((1999.0, 0.2), "the limit"),
    ((1999 - 2 * 100 * 0.999**100 / (1 - 0.999**100), 0.0464), "square root"),
]
