"""Tests of helpers.training: trajectories, divergence, fit, early stopping, LR finder."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.data import make_loader, two_moons
from helpers.objectives import parabola, quadratic
from helpers.training import EarlyStopping, evaluate, fit, lr_find, run_optimizer


def test_gradient_descent_on_a_parabola_matches_the_closed_form():
    trajectory = run_optimizer(parabola(), [10.0], torch.optim.SGD, num_steps=20, lr=0.1)
    assert trajectory.num_steps == 20
    assert np.allclose(trajectory.points[:, 0], 10 * 0.8 ** np.arange(21))
    assert np.allclose(trajectory.losses, trajectory.points[:, 0] ** 2)
    assert not trajectory.diverged and not trajectory.converged


def test_divergence_is_detected_and_the_run_stopped():
    trajectory = run_optimizer(parabola(), [10.0], torch.optim.SGD, num_steps=500, lr=1.1)
    assert trajectory.diverged
    assert trajectory.num_steps < 500
    assert np.all(np.isfinite(trajectory.losses))


def test_grad_tol_stops_early_as_converged():
    trajectory = run_optimizer(
        quadratic(), [5.0, 1.0], torch.optim.SGD, 1000, grad_tol=1e-6, lr=0.1
    )
    assert trajectory.converged and trajectory.num_steps < 1000
    assert np.linalg.norm(quadratic().gradient(trajectory.final)) < 1e-6


def test_run_optimizer_checks_its_arguments():
    with pytest.raises(ValueError, match="start"):
        run_optimizer(quadratic(), [1.0], torch.optim.SGD, 5, lr=0.1)
    with pytest.raises(ValueError, match="num_steps"):
        run_optimizer(quadratic(), [1.0, 1.0], torch.optim.SGD, -1, lr=0.1)


def _moons_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))


def test_fit_records_a_consistent_history_and_learns():
    data = two_moons(n_samples=300, seed=0)
    model = _moons_model()
    loader = make_loader(data.X_train, data.y_train, batch_size=32, seed=0)
    loss_fn = torch.nn.CrossEntropyLoss()
    initial_loss, _ = evaluate(model, loss_fn, data.X_test, data.y_test)
    history = fit(
        model,
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.5),
        loader,
        15,
        val_data=(data.X_test, data.y_test),
    )
    assert len(history.train_loss) == len(history.val_loss) == len(history.time) == 15
    assert len(history.batch_loss) == 15 * len(loader)
    assert history.val_loss[-1] < 0.6 * initial_loss
    assert history.val_accuracy[-1] > 0.8
    assert history.time == sorted(history.time)
    assert not history.diverged and history.stopped_epoch is None


def test_fit_reports_divergence():
    data = two_moons(n_samples=200, seed=0)
    model = _moons_model()
    loader = make_loader(data.X_train, data.y_train, batch_size=50, seed=0)
    history = fit(
        model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1e6), loader, 20
    )
    assert history.diverged
    assert len(history.train_loss) < 20


def test_fit_steps_the_scheduler_once_per_epoch():
    data = two_moons(n_samples=200, seed=0)
    model = _moons_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    loader = make_loader(data.X_train, data.y_train, batch_size=50, seed=0)
    history = fit(model, torch.nn.CrossEntropyLoss(), optimizer, loader, 6, scheduler=scheduler)
    assert history.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_early_stopping_counts_patience_and_min_delta():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    decisions = [stopper.step(loss) for loss in [1.0, 0.8, 0.75, 0.72, 0.5]]
    # 0.75 and 0.72 improve on 0.8 by less than min_delta: two epochs without improvement.
    assert decisions == [False, False, False, True, False]
    assert stopper.best_epoch == 5 and stopper.best_loss == 0.5


def test_early_stopping_in_fit_restores_the_best_weights():
    torch.manual_seed(0)
    X = torch.randn(40, 5)
    y = X @ torch.randn(5) + 0.5 * torch.randn(40)
    X_val, y_val = torch.randn(200, 5), torch.randn(200)  # unrelated targets: val loss grows
    model = torch.nn.Linear(5, 1)
    loss_fn = lambda out, target: torch.nn.functional.mse_loss(out.squeeze(1), target)  # noqa: E731
    stopper = EarlyStopping(patience=3)
    history = fit(
        model,
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.05),
        [(X, y)],
        200,
        val_data=(X_val, y_val),
        early_stopping=stopper,
    )
    assert history.stopped_epoch is not None and history.stopped_epoch < 200
    assert history.stopped_epoch == history.best_epoch + 3
    restored_loss, _ = evaluate(model, loss_fn, X_val, y_val)
    assert restored_loss == pytest.approx(min(history.val_loss))


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"patience": 0}, "patience"), ({"min_delta": -1.0}, "min_delta")]
)
def test_early_stopping_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EarlyStopping(**kwargs)


def test_lr_find_sweeps_stops_at_divergence_and_restores_the_model():
    data = two_moons(n_samples=400, seed=0)
    model = _moons_model()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = make_loader(data.X_train, data.y_train, batch_size=32, seed=0)
    result = lr_find(
        model,
        torch.nn.CrossEntropyLoss(),
        optimizer,
        loader,
        start_lr=1e-4,
        end_lr=1e3,
        num_steps=120,
    )
    assert len(result.lrs) < 120, "the sweep should stop once the loss blows up"
    assert np.all(np.diff(np.log(result.lrs)) > 0)
    assert result.lrs[0] == pytest.approx(1e-4)
    assert 1e-3 < result.suggestion < 10
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert optimizer.state_dict()["state"] == {}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"start_lr": 0.0}, "start_lr"),
        ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr"),
        ({"num_steps": 1}, "num_steps"),
        ({"smoothing": 1.0}, "smoothing"),
        ({"stop_factor": 1.0}, "stop_factor"),
    ],
)
def test_lr_find_rejects_bad_arguments(kwargs, name):
    model = _moons_model()
    with pytest.raises(ValueError, match=name):
        lr_find(
            model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters()), [], **kwargs
        )


def test_fit_rejects_bad_arguments():
    model = _moons_model()
    optimizer = torch.optim.SGD(model.parameters())
    with pytest.raises(ValueError, match="num_epochs"):
        fit(model, torch.nn.CrossEntropyLoss(), optimizer, [], 0)
    with pytest.raises(ValueError, match="val_data"):
        fit(model, torch.nn.CrossEntropyLoss(), optimizer, [], 1, early_stopping=EarlyStopping())


def test_evaluate_gives_nan_accuracy_for_regression():
    model = torch.nn.Linear(3, 1)
    loss, accuracy = evaluate(
        model, lambda o, t: ((o.squeeze(1) - t) ** 2).mean(), torch.zeros(4, 3), torch.zeros(4)
    )
    assert math.isfinite(loss) and math.isnan(accuracy)


def test_run_steps_follows_the_update_rule_and_returns_the_path():
    from helpers.optim.functional import sgd_step
    from helpers.training import run_steps

    path = run_steps(sgd_step, lambda p: 2 * p, [1.0, -2.0], 3, lr=0.25)
    expected = torch.tensor([[1.0, -2.0], [0.5, -1.0], [0.25, -0.5], [0.125, -0.25]])
    assert path.dtype == torch.float64 and torch.equal(path, expected.double())
    # a step that returns a new point instead of updating p in place is followed too
    new_point = run_steps(lambda p, g, lr: p - lr * g, lambda p: 2 * p, [1.0, -2.0], 3, lr=0.25)
    assert torch.equal(new_point, path)


def test_run_steps_starts_the_state_at_zero_and_counts_the_steps_from_one():
    from helpers.training import run_steps

    def count(p, g, total, t):
        total.add_(t)  # 1, 1 + 2, 1 + 2 + 3
        return p.add_(total), total

    assert run_steps(count, lambda p: p, [0.0], 3)[:, 0].tolist() == [0.0, 1.0, 4.0, 10.0]


def test_run_steps_follows_a_functional_step_as_torch_does():
    from helpers.optim.functional import adam_step
    from helpers.training import run_steps

    curvatures = torch.tensor([1.0, 10.0], dtype=torch.float64)
    ours = run_steps(adam_step, lambda p: curvatures * p, [-1.5, 1.0], 50, lr=0.1)
    theirs = run_optimizer(quadratic(mu=1.0, L=10.0), [-1.5, 1.0], torch.optim.Adam, 50, lr=0.1)
    np.testing.assert_allclose(ours.numpy(), theirs.points, rtol=1e-12)


def test_run_steps_sweeps_a_tensor_of_learning_rates_in_one_run():
    from helpers.optim.functional import adam_step
    from helpers.training import run_steps

    lrs = torch.tensor([0.01, 0.1, 0.3], dtype=torch.float64)
    starts = torch.tensor([[1.0, -2.0]] * 3, dtype=torch.float64)
    sweep = run_steps(adam_step, lambda p: 2 * p + torch.sin(p), starts, 40, lr=lrs[:, None])
    for row, lr in enumerate(lrs.tolist()):
        alone = run_steps(adam_step, lambda p: 2 * p + torch.sin(p), starts[row], 40, lr=lr)
        torch.testing.assert_close(sweep[:, row], alone, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("step", [print, lambda p, g, s: None, lambda p, g, s: p[:1], lambda p: p])
def test_run_steps_names_the_step_that_misbehaves(step):
    from helpers.training import run_steps

    with pytest.raises((TypeError, ValueError), match="Invalid step"):
        run_steps(step, lambda p: p, [1.0, 2.0], 2)


@pytest.mark.parametrize("gradient", [lambda p: p[:1], lambda p: "g", lambda p: 1 / 0])
def test_run_steps_names_the_gradient_that_misbehaves(gradient):
    from helpers.optim.functional import sgd_step
    from helpers.training import run_steps

    with pytest.raises((TypeError, ValueError), match="Invalid gradient"):
        run_steps(sgd_step, gradient, [1.0, 2.0], 2, lr=0.1)
