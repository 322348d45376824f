"""Tests of helpers.training.EarlyStopping and of fit(..., early_stopping=...)."""

import math

import pytest
import torch

from helpers.training import EarlyStopping, fit


def _run(es, losses):
    """Feed ``losses`` to ``es`` and return the 1-based epoch at which it says stop (or None)."""
    for epoch, loss in enumerate(losses, start=1):
        if es.step(loss):
            return epoch
    return None


class ScriptedValidation:
    """A loss function whose *validation* value follows a script.

    In training mode (inside fit's loop) it is the real mean squared error, so the weights
    change every epoch; in evaluation mode (inside ``evaluate``) it returns the next scripted
    value and records the weights the model has at that moment.
    """

    def __init__(self, model, script):
        self.model = model
        self.script = list(script)
        self.calls = 0
        self.weights = []  # weights at the end of each epoch, in order

    def __call__(self, output, y):
        if self.model.training:
            return torch.nn.functional.mse_loss(output, y)
        self.weights.append(self.model.weight.detach().clone())
        value = self.script[self.calls % len(self.script)]
        self.calls += 1
        return torch.tensor(value)


def _problem(seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 3, generator=generator)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    return model, X, y


# --- EarlyStopping on its own ----------------------------------------------------------------


def test_stops_after_patience_epochs_without_improvement():
    es = EarlyStopping(patience=3)
    assert _run(es, [1.0, 0.9, 0.95, 0.94, 0.93, 0.5]) == 5
    assert es.best_epoch == 2
    assert es.best_loss == 0.9


def test_improvement_resets_the_counter():
    es = EarlyStopping(patience=2)
    assert _run(es, [1.0, 1.1, 0.8, 0.9, 0.7, 0.75, 0.76]) == 7
    assert es.best_epoch == 5


def test_min_delta_ignores_small_improvements():
    es = EarlyStopping(patience=3, min_delta=0.05)
    assert _run(es, [1.0, 0.99, 0.98, 0.97]) == 4
    assert es.best_epoch == 1
    es = EarlyStopping(patience=3, min_delta=0.0)
    assert _run(es, [1.0, 0.99, 0.98, 0.97]) is None
    assert es.best_epoch == 4


def test_nan_loss_is_never_an_improvement():
    es = EarlyStopping(patience=2)
    assert _run(es, [1.0, math.nan, math.nan]) == 3
    assert es.best_epoch == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"patience": 0}, "patience"),
        ({"patience": 2.5}, "patience"),
        ({"min_delta": -1}, "min_delta"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def test_saved_weights_are_a_copy_and_restore_loads_them():
    model = torch.nn.Linear(2, 1)
    es = EarlyStopping(patience=1)
    es.step(1.0, model)
    saved = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)  # training goes on and changes the weights in place
    assert es.step(2.0, model)
    es.restore(model)
    assert torch.equal(model.weight, saved)


def test_restore_best_false_keeps_current_weights():
    model = torch.nn.Linear(2, 1)
    es = EarlyStopping(patience=1, restore_best=False)
    es.step(1.0, model)
    with torch.no_grad():
        model.weight.add_(1.0)
    current = model.weight.detach().clone()
    es.step(2.0, model)
    es.restore(model)
    assert torch.equal(model.weight, current)


def test_reset_forgets_everything():
    model = torch.nn.Linear(2, 1)
    es = EarlyStopping(patience=2)
    _run(es, [1.0, 2.0])
    es.step(0.5, model)
    es.reset()
    assert es.epoch == 0
    assert es.best_loss == math.inf
    assert es.best_epoch is None
    assert es.best_state is None
    assert es.epochs_without_improvement == 0


# --- fit(..., early_stopping=...) --------------------------------------------------------------


def test_fit_stops_and_restores_the_best_epoch():
    model, X, y = _problem()
    loss_fn = ScriptedValidation(model, [3.0, 2.0, 1.0, 1.5, 1.6, 1.7, 0.1])
    es = EarlyStopping(patience=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, loss_fn, opt, [(X, y)], 7, val_data=(X, y), early_stopping=es)
    assert history.stopped_epoch == 6
    assert len(history.val_loss) == 6
    assert history.best_epoch == 3
    assert history.restored_epoch == 3
    assert torch.equal(model.weight, loss_fn.weights[2])


def test_fit_restores_best_weights_when_epochs_run_out_before_patience():
    model, X, y = _problem()
    loss_fn = ScriptedValidation(model, [3.0, 1.0, 2.0, 2.5])
    es = EarlyStopping(patience=10, restore_best=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, loss_fn, opt, [(X, y)], 4, val_data=(X, y), early_stopping=es)
    assert history.stopped_epoch is None  # patience never ran out
    assert history.restored_epoch == 2
    assert torch.equal(model.weight, loss_fn.weights[1])


def test_fit_without_restore_keeps_last_weights():
    model, X, y = _problem()
    loss_fn = ScriptedValidation(model, [3.0, 1.0, 2.0, 2.5])
    es = EarlyStopping(patience=2, restore_best=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, loss_fn, opt, [(X, y)], 4, val_data=(X, y), early_stopping=es)
    assert history.stopped_epoch == 4
    assert history.restored_epoch is None
    assert torch.equal(model.weight, loss_fn.weights[3])


def test_fit_restored_epoch_respects_min_delta():
    # The lowest loss (epoch 3) beats epoch 1 by less than min_delta, so the weights kept
    # are those of epoch 1; history.best_epoch still reports the plain argmin.
    model, X, y = _problem()
    loss_fn = ScriptedValidation(model, [1.0, 1.2, 0.99, 1.1, 1.3])
    es = EarlyStopping(patience=4, min_delta=0.05)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, loss_fn, opt, [(X, y)], 5, val_data=(X, y), early_stopping=es)
    assert history.stopped_epoch == 5
    assert history.best_epoch == 3
    assert history.restored_epoch == 1
    assert torch.equal(model.weight, loss_fn.weights[0])


def test_fit_resets_a_reused_early_stopping():
    es = EarlyStopping(patience=2)
    for seed in (0, 1):
        model, X, y = _problem(seed)
        loss_fn = ScriptedValidation(model, [5.0 - seed, 4.0 - seed, 4.5, 4.6, 4.7])
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        history = fit(model, loss_fn, opt, [(X, y)], 5, val_data=(X, y), early_stopping=es)
        # Each run must count its own epochs and keep its own model's weights.
        assert history.stopped_epoch == 4
        assert history.restored_epoch == 2
        assert torch.equal(model.weight, loss_fn.weights[1])


def test_fit_restores_best_weights_after_divergence():
    model, X, y = _problem()
    es = EarlyStopping(patience=100)  # patience cannot stop it: the loss overflows first
    opt = torch.optim.SGD(model.parameters(), lr=50.0)
    loss_fn = torch.nn.functional.mse_loss
    history = fit(model, loss_fn, opt, [(X, y)], 100, val_data=(X, y), early_stopping=es)
    assert history.diverged
    assert history.stopped_epoch is None
    assert history.restored_epoch == 1
    with torch.no_grad():
        assert loss_fn(model(X), y).item() == pytest.approx(history.val_loss[0])


def test_fit_without_early_stopping_has_no_restored_epoch():
    model, X, y = _problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, torch.nn.functional.mse_loss, opt, [(X, y)], 3, val_data=(X, y))
    assert history.restored_epoch is None
    assert history.stopped_epoch is None
