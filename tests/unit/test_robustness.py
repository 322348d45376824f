"""One test per finding of issue 14 in ``helpers`` itself (training, objectives, plotting,
optim): hangs, lost state, silent wrong results and crashes on ordinary input."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from helpers import optim, training
from helpers.objectives import parabola, quadratic, rosenbrock, saddle
from helpers.plotting import animate_paths, plot_contour, plot_path_1d, plot_paths
from helpers.schedules import ReduceOnPlateau
from helpers.training import EarlyStopping, evaluate, fit, lr_find, run_optimizer

pytestmark = pytest.mark.timeout(60)


def _problem(seed: int = 0):
    torch.manual_seed(seed)
    X = torch.randn(64, 2)
    y = (X[:, 0] > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    return model, torch.nn.CrossEntropyLoss(), X, y


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


# --- hangs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loader",
    [
        [],
        DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))),
    ],
    ids=["empty list", "empty dataset"],
)
def test_lr_find_with_an_empty_loader_raises_instead_of_hanging(loader):
    model, loss_fn, _, _ = _problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"train_loader.*no mini-batches"):
        lr_find(model, loss_fn, optimizer, loader, num_steps=5)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_lr_find_with_a_single_use_iterator_raises_instead_of_hanging():
    model, loss_fn, X, y = _problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _weights(model)
    with pytest.raises(ValueError, match="single-use iterator") as info:
        lr_find(model, loss_fn, optimizer, iter([(X, y)]), num_steps=5)
    assert len(info.value.result.lrs) == 1  # the one step it could take
    assert _same(before, _weights(model))
    assert optimizer.param_groups[0]["lr"] == 0.1


# --- lost state ----------------------------------------------------------------------------


class _Boom(Exception):
    pass


def _loss_that_fails_at(step: int):
    calls = [0]

    def loss_fn(output, target):
        calls[0] += 1
        if calls[0] == step:
            raise _Boom
        return torch.nn.functional.cross_entropy(output, target)

    return loss_fn


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
def test_lr_find_restores_weights_lr_and_modes_when_interrupted(error, monkeypatch):
    model, _, X, y = _problem()
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = _weights(model)

    def loss_fn(output, target, calls=[0]):  # noqa: B006 (a call counter)
        calls[0] += 1
        if calls[0] == 4:
            raise error
        return torch.nn.functional.cross_entropy(output, target)

    with torch.no_grad(), pytest.raises(error) as info:
        lr_find(model, loss_fn, optimizer, [(X, y)], num_steps=10)
    assert torch.is_grad_enabled()
    assert _same(before, _weights(model))
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.state_dict()["state"] == {}
    assert not model.training
    assert len(info.value.result.lrs) == 3


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
def test_fit_attaches_the_history_and_restores_the_mode_when_interrupted(error):
    model, _, X, y = _problem()
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def loss_fn(output, target, calls=[0]):  # noqa: B006
        calls[0] += 1
        if calls[0] == 5:  # during epoch 3 (two batches per epoch)
            raise error
        return torch.nn.functional.cross_entropy(output, target)

    with pytest.raises(error) as info:
        fit(model, loss_fn, optimizer, [(X[:32], y[:32]), (X[32:], y[32:])], 10)
    history = info.value.history
    assert len(history.train_loss) == 2 and len(history.batch_loss) == 4
    assert not model.training
    assert torch.is_grad_enabled()


def test_fit_and_lr_find_work_inside_no_grad():
    model, loss_fn, X, y = _problem()
    with torch.no_grad():
        history = fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), [(X, y)], 2)
        assert not torch.is_grad_enabled()
    assert len(history.train_loss) == 2


def test_evaluate_restores_the_mode():
    model, loss_fn, X, y = _problem()
    model.eval()
    evaluate(model, loss_fn, X, y)
    assert not model.training
    model.train()
    evaluate(model, loss_fn, X, y)
    assert model.training


def test_fit_survives_all_nan_validation_losses():
    model, loss_fn, X, y = _problem()
    empty = (X[:0], y[:0])
    history = fit(
        model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), [(X, y)], 3, val_data=empty
    )
    assert len(history.val_loss) == 3 and all(math.isnan(v) for v in history.val_loss)
    assert history.best_epoch is None


# --- silent wrong results ------------------------------------------------------------------


def test_divergence_threshold_works_for_zero_and_negative_losses():
    threshold = training.divergence_threshold
    assert threshold(2.0, 1e3) == 2000.0  # unchanged for positive losses
    assert threshold(-10.0, 1e3) == pytest.approx(-10 + 999 * 10)
    assert threshold(0.0, 4.0) == 3.0


def test_fit_and_lr_find_handle_a_negative_loss():
    model, _, X, y = _problem()

    def shifted(output, target):
        return torch.nn.functional.cross_entropy(output, target) - 10

    history = fit(model, shifted, torch.optim.SGD(model.parameters(), lr=0.1), [(X, y)], 5)
    assert not history.diverged and len(history.train_loss) == 5
    result = lr_find(
        model,
        shifted,
        torch.optim.SGD(model.parameters(), lr=0.1),
        [(X, y)],
        start_lr=1e-4,
        end_lr=1e-2,
        num_steps=10,
    )
    assert len(result.lrs) == 10


def test_fit_with_no_batches_is_an_error_not_a_divergence():
    model, loss_fn, _, _ = _problem()
    with pytest.raises(ValueError, match="train_loader"):
        fit(model, loss_fn, torch.optim.SGD(model.parameters()), [], 3)


def test_fit_with_a_single_use_iterator_says_so():
    model, loss_fn, X, y = _problem()
    with pytest.raises(ValueError, match="single-use iterator") as info:
        fit(model, loss_fn, torch.optim.SGD(model.parameters()), iter([(X, y)]), 3)
    assert len(info.value.history.train_loss) == 1


def test_run_optimizer_rejects_a_string_start():
    with pytest.raises(TypeError, match="start"):
        run_optimizer(quadratic(), "12", torch.optim.SGD, 5, lr=0.1)


@pytest.mark.parametrize("value", [math.nan, 0.0, -1.0, "big"])
def test_run_optimizer_rejects_a_bad_diverge_at(value):
    with pytest.raises(ValueError, match="diverge_at"):
        run_optimizer(quadratic(), [1.0, 1.0], torch.optim.SGD, 5, diverge_at=value, lr=0.1)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.int32, torch.int64])
def test_accuracy_with_integer_labels_of_any_dtype(dtype):
    model, _, X, y = _problem()
    expected = (model(X).argmax(dim=1) == y).float().mean().item()
    _, accuracy = evaluate(model, lambda o, t: o.sum() * 0, X, y.to(dtype))
    assert accuracy == pytest.approx(expected)


# --- crashes on ordinary input -------------------------------------------------------------


def test_fit_with_the_courses_reduce_on_plateau():
    model, loss_fn, X, y = _problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    plateau = ReduceOnPlateau(0.1, patience=0, threshold=10.0)  # every epoch is a plateau
    history = fit(model, loss_fn, optimizer, [(X, y)], 3, scheduler=plateau)
    assert history.lr == pytest.approx([0.1, 0.01, 0.001])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)


@pytest.mark.parametrize("shape", ["(n,)", "(n, 1)"])
def test_evaluate_with_binary_logits(shape):
    torch.manual_seed(0)
    X = torch.randn(50, 3)
    y = (X[:, 0] > 0).long()
    linear = torch.nn.Linear(3, 1)
    model = torch.nn.Sequential(linear, torch.nn.Flatten(0)) if shape == "(n,)" else linear
    _, accuracy = evaluate(model, lambda o, t: o.sum() * 0, X, y)
    logits = linear(X).reshape(-1)
    assert accuracy == pytest.approx(((logits > 0).long() == y).float().mean().item())


def test_plot_contour_zoomed_in_near_a_minimum():
    ax = plot_contour(rosenbrock(), xlim=(0.999, 1.001), ylim=(0.999, 1.001))
    assert ax.get_xlim() == (0.999, 1.001)
    plt.close("all")


def test_plot_paths_and_plot_path_1d_with_empty_paths():
    plot_paths(quadratic(), {"empty": np.zeros((0, 2)), "one": np.array([[1.0, 1.0]])})
    plot_paths(quadratic(), {"empty": np.zeros((0, 2))})
    plot_path_1d(parabola(), [])
    plt.close("all")


def test_animate_paths_with_no_path_is_a_clear_error_and_leaks_no_figure():
    before = plt.get_fignums()
    with pytest.raises(ValueError, match="paths"):
        animate_paths(quadratic(), {})
    assert plt.get_fignums() == before


def test_saddle_distance_to_minimum_is_infinite():
    distances = saddle().distance_to_minimum(np.zeros((3, 2)))
    assert distances.shape == (3,) and np.all(np.isinf(distances))


def test_parabola_accepts_a_zero_dimensional_tensor():
    f = parabola(torch.tensor(2.0))
    assert f.name == "f(x) = 2·x²"
    assert float(f(torch.tensor([3.0]))) == 18.0
    values = f(np.array([[3.0]]))  # NumPy in, NumPy out (for plots)
    assert isinstance(values, np.ndarray) and values.tolist() == [18.0]
    assert f.ylim == (0.0, 200.0) and isinstance(f.ylim[1], float)


def test_add_param_group_with_a_list_has_torchs_message():
    p = torch.zeros(1, requires_grad=True)
    for cls in (torch.optim.SGD, optim.SGD):
        with pytest.raises(TypeError, match="param_group must be a dict"):
            cls([torch.zeros(1, requires_grad=True)], lr=0.1).add_param_group([p])


def test_early_stopping_rejects_garbage_with_the_argument_named():
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta="0.1")
    with pytest.raises(ValueError, match="val_loss"):
        EarlyStopping().step("low")
