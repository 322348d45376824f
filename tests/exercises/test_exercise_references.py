"""Independent checks of the exercises' reference solutions and of the numbers in their texts.

The checkers compare learners with ``torch.optim`` or ``helpers.training`` where they can; here
the remaining reference solutions and the claims of the worked answers are checked against a
second computation (PyTorch, a simulation, or a closed form).
"""

import math

import numpy as np
import pytest
import torch

import helpers.exercises.ch01_gradient_descent as ch01
import helpers.exercises.ch02_learning_rate as ch02
import helpers.exercises.ch03_minibatch_sgd as ch03
import helpers.exercises.ch04_momentum as ch04
import helpers.exercises.ch05_adaptive_methods as ch05
import helpers.exercises.ch06_adam as ch06
import helpers.exercises.ch07_lr_schedules as ch07
import helpers.exercises.ch09_comparing_optimizers as ch09
import helpers.exercises.ch10_beyond_first_order as ch10
from helpers.objectives import quadratic
from helpers.training import run_optimizer


def test_first_step_of_the_linear_regression():
    assert ch01.q1.expected == pytest.approx({"w1": 0.3, "c1": 0.1})
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert ch01.fit_line(x, 2 * x, 0.01, 1) == pytest.approx((0.3, 0.1), rel=1e-6)


def test_gradient_descent_matches_torch_sgd():
    f = quadratic(1.0, 10.0)
    trajectory = run_optimizer(f, [1.0, 1.0], torch.optim.SGD, 10, lr=0.05)
    path = ch01.gradient_descent(f.gradient, [1.0, 1.0], 0.05, 10)
    np.testing.assert_allclose(path, trajectory.points, rtol=1e-10)


@pytest.mark.parametrize(
    ("lr", "L"), [(0.1, 2.0), (0.7, 2.0), (1.0, 2.0), (1.1, 2.0), (0.15, 10.0)]
)
def test_regime_matches_a_simulation(lr, L):
    xs = [1.0]
    for _ in range(40):
        xs.append(xs[-1] - lr * L * xs[-1])
    xs = np.array(xs)
    if abs(xs[-1]) > 1:
        seen = "diverging"
    elif np.isclose(abs(xs[-1]), 1):
        seen = "cycling"
    elif (np.sign(xs[1:]) != np.sign(xs[:-1])).any():
        seen = "oscillating"
    else:
        seen = "monotone"
    assert ch02.regime(lr, L) == seen


def test_optimal_step_rate_and_691_steps():
    # The worst case is the error in the flat direction (kappa = 100, optimal lr).
    mu, L = 1.0, 100.0
    lr = 2 / (mu + L)
    x = np.array([1.0, 1.0])
    history = [np.abs(x).max()]
    for _ in range(691):
        x = x - lr * np.array([mu, L]) * x
        history.append(np.abs(x).max())
    assert history[691] <= 1e-6 < history[690]
    assert ch02.q4.expected["num_steps"] == 691
    assert ch02.q3.expected["rate"] == pytest.approx(9 / 11)


def test_sgd_epoch_matches_torch():
    case = ch03._q4_cases()[0]
    w0, X, y, batches, lr = case.fresh()[0]
    w = torch.tensor(w0, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for idx in batches:
        optimizer.zero_grad()
        loss = ((Xt[idx] @ w - yt[idx]) ** 2).mean()
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(ch03.sgd_epoch(*case.fresh()[0]), w.detach().numpy(), rtol=1e-10)


def test_minibatch_noise_scales_like_one_over_b():
    rng = np.random.default_rng(0)
    per_example = rng.normal(size=100_000)
    var_8 = per_example.reshape(-1, 8).mean(axis=1).var()
    var_32 = per_example.reshape(-1, 32).mean(axis=1).var()
    assert var_8 / var_32 == pytest.approx(4, rel=0.1)


def test_momentum_claims():
    # Effective learning rate lr / (1 - beta) under a constant gradient.
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.01, momentum=0.9)
    for _ in range(300):
        before = w.item()
        w.grad = torch.ones(1, dtype=torch.float64)
        optimizer.step()
    assert before - w.item() == pytest.approx(ch04.q2.expected["effective_lr"], rel=1e-6)
    # Optimal heavy ball: the spectral radius of the iteration is (sqrt(k) - 1)/(sqrt(k) + 1).
    mu, L = 1.0, 100.0
    lr = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2
    beta = ((math.sqrt(L / mu) - 1) / (math.sqrt(L / mu) + 1)) ** 2
    radius = max(
        max(abs(np.linalg.eigvals([[1 + beta - lr * lam, -beta], [1.0, 0.0]]))) for lam in (mu, L)
    )
    assert radius == pytest.approx(ch04.q4.expected["rate_momentum"], rel=1e-6)


def test_adaptive_step_sizes():
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adagrad([w], lr=0.1)
    for _ in range(100):
        before = w.item()
        w.grad = torch.full((1,), 5.0)
        optimizer.step()
    assert before - w.item() == pytest.approx(ch05.q3.expected["adagrad_step_100"], rel=1e-4)
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.RMSprop([w], lr=0.1, alpha=0.99)
    for _ in range(3000):
        before = w.item()
        w.grad = torch.full((1,), 5.0)
        optimizer.step()
    assert before - w.item() == pytest.approx(ch05.q3.expected["rmsprop_step_limit"], rel=1e-4)


def test_rmsprop_eps_placement_matters_for_tiny_gradients():
    # "the source's formula takes steps 20 to 90 times shorter than PyTorch's"
    case = ch05._rmsprop_cases()[1]
    right = ch05.rmsprop(*case.fresh()[0])
    seed_formula = ch05._rms(denominator=lambda v, eps, a, t: np.sqrt(v + eps))(*case.fresh()[0])
    ratio = np.abs(np.diff(right, axis=0)) / np.abs(np.diff(seed_formula, axis=0))
    assert 20 < ratio.min() and ratio.max() < 91


def test_adam_first_step_and_memory():
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=1e-3)
    w.grad = torch.full((1,), 2.0)
    optimizer.step()
    assert -w.item() == pytest.approx(ch06.q2.expected["step_corrected"], rel=1e-6)
    assert ch06.q2.expected["step_uncorrected"] == pytest.approx(1e-3 * 0.1 / math.sqrt(1e-3))
    model = torch.nn.Linear(100, 10)  # 1010 float32 weights
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 100)).sum().backward()
    optimizer.step()
    state_bytes = sum(
        t.numel() * t.element_size()
        for state in optimizer.state.values()
        for k, t in state.items()
        if k != "step"
    )
    assert state_bytes == 2 * 1010 * 4


def test_warmup_cosine_solution_is_the_course_schedule_and_torchs():
    total, warmup, lr0, low, start = 100, 10, 0.1, 0.001, 0.01
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr0)
    scheduler = torch.optim.lr_scheduler.SequentialLR(
        optimizer,
        [
            torch.optim.lr_scheduler.LinearLR(optimizer, start, total_iters=warmup),
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total - warmup, low),
        ],
        [warmup],
    )
    for t in range(total):
        torch_lr = optimizer.param_groups[0]["lr"]
        assert ch07.warmup_cosine_lr(t, lr0, warmup, total, low, start) == pytest.approx(
            torch_lr, rel=1e-9
        )
        assert ch07.q1.expected(t, lr0, warmup, total, low, start) == pytest.approx(
            torch_lr, rel=1e-9
        )
        optimizer.step()
        scheduler.step()


def test_lr_finder_claims():
    model, loss_fn, batches = ch07.make_problem()
    lrs, losses = ch07.lr_finder(model, loss_fn, batches, 1e-3, 100.0, 60)
    assert len(lrs) < 60  # the sweep stopped when the loss exploded
    assert 10 < lrs[int(np.argmin(losses))] < 25  # "falls until about 17"
    assert ch07.q5.expected["chosen_lr"] == pytest.approx(1.73, rel=0.02)


def test_mean_and_std_match_the_statistics_module():
    import statistics

    losses = [[0.9, 0.5, 0.3, 0.2], [1.0, 0.6, 0.35, 0.25], [0.8, 0.55, 0.4, 0.15]]
    mean, std = ch09.mean_and_std(losses)
    for j, column in enumerate(zip(*losses, strict=True)):
        assert mean[j] == pytest.approx(statistics.mean(column))
        assert std[j] == pytest.approx(statistics.stdev(column))
    assert ch09.q3.expected["z"] == pytest.approx(0.93, abs=0.005)


def test_best_lr_accepts_the_median_and_the_mean():
    # A rule fixed in advance is what matters: the chapter's median and the mean both pass.
    def by(summary):
        def best_lr(lrs, final_losses):
            x = np.asarray(final_losses, dtype=float)
            scores = np.where(np.isfinite(x).all(axis=1), summary(x, axis=1), np.inf)
            return lrs[int(np.argmin(scores))]

        return best_lr

    for summary in (np.median, np.mean):
        feedback = ch09.q2.check(by(summary))
        assert feedback.passed, feedback.message


def test_newton_and_lbfgs():
    # One Newton step solves a quadratic exactly.
    x = ch10.newton_step(np.ones(3), lambda p: ch10._A @ p - ch10._b, lambda p: ch10._A)
    np.testing.assert_allclose(x, np.linalg.solve(ch10._A, ch10._b), rtol=1e-12)
    # Newton on x^4: x -> 2x/3.
    assert ch10.q2.expected == pytest.approx({"x2": 4 / 9, "rate": 2 / 3})
    # With no pairs the direction is -g; with pairs it is a descent direction.
    for case in ch10._q4_cases():
        g, s_list, y_list = case.fresh()[0]
        d = ch10.lbfgs_direction(g, s_list, y_list)
        assert d @ g < 0
        if not s_list:
            np.testing.assert_allclose(d, -g)
