"""Tests of the chapter *Stable training*'s helpers: RAdam beyond optim_db, gradient clipping
against ``torch.nn.utils``, and the ``TrainingDiagnostics`` callback of ``fit``.

RAdam's settings and invalid inputs from torch's ``optim_db`` are in ``test_optim_db.py``.
"""

from __future__ import annotations

import math

import pytest
import torch

from helpers import optim
from helpers.models import mlp
from helpers.training import TrainingDiagnostics, clip_grad_norm, clip_grad_value, fit

# ---------------------------------------------------------------------------------------------
# RAdam
# ---------------------------------------------------------------------------------------------


def _train(cls, steps, dtype=torch.float64, **kwargs):
    generator = torch.Generator().manual_seed(0)
    w = torch.randn(5, 3, dtype=dtype, generator=generator).requires_grad_()
    opt = cls([w], **kwargs)
    path = []
    for step in range(steps):
        x = torch.randn(7, 3, dtype=dtype, generator=torch.Generator().manual_seed(step))
        opt.zero_grad()
        (x @ w.T).tanh().sub(0.3).pow(2).sum().backward()
        opt.step()
        path.append(w.detach().clone())
    return path, opt


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"betas": (0.5, 0.9)},  # a short average of g^2: rho_t > 5 only from step 6 on
        {"betas": (0.9, 0.99), "weight_decay": 0.05, "decoupled_weight_decay": True},
        {"lr": 0.05, "maximize": True, "weight_decay": 0.01},
    ],
)
def test_radam_follows_torch_step_by_step_for_many_steps(kwargs):
    ours, _ = _train(optim.RAdam, 300, **kwargs)
    theirs, _ = _train(torch.optim.RAdam, 300, **kwargs)
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-12, atol=1e-14)


def test_radam_takes_plain_momentum_steps_until_rho_exceeds_5():
    """With beta2 = 0.999 the first 5 steps are lr * m_hat; Adam's would differ."""
    beta2 = 0.999
    rho_inf = 2 / (1 - beta2) - 1
    rho = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, 8)]
    switch = next(t for t, r in enumerate(rho, start=1) if r > 5)
    assert switch == 6
    w = torch.zeros(3, requires_grad=True)
    opt = optim.RAdam([w], lr=0.1, betas=(0.0, beta2))  # beta1 = 0: m_hat = g
    for _ in range(switch - 1):
        opt.zero_grad()
        w.grad = torch.tensor([1.0, -2.0, 4.0])
        before = w.detach().clone()
        opt.step()
        torch.testing.assert_close(w.detach() - before, -0.1 * torch.tensor([1.0, -2.0, 4.0]))


def test_radam_state_dict_round_trips_with_torch():
    _, ours = _train(optim.RAdam, 10)
    _, theirs = _train(torch.optim.RAdam, 10)
    fresh = optim.RAdam([torch.zeros(5, 3, dtype=torch.float64, requires_grad=True)])
    fresh.load_state_dict(theirs.state_dict())
    state = next(iter(fresh.state.values()))
    assert state["step"] == 10 and set(state) == {"step", "exp_avg", "exp_avg_sq"}
    assert set(next(iter(ours.state.values()))) == set(state)


def test_radam_checks_its_hyperparameters_by_name():
    w = [torch.zeros(2, requires_grad=True)]
    for kwargs, name in (
        ({"lr": -1.0}, "lr"),
        ({"eps": -1e-8}, "eps"),
        ({"betas": (0.9, 1.0)}, "betas"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"lr": math.nan}, "lr"),
    ):
        with pytest.raises(ValueError, match=name):
            optim.RAdam(w, **kwargs)


# ---------------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------------


def _parameters_with_grads(scale: float, seed: int = 0, none_at: int | None = None):
    generator = torch.Generator().manual_seed(seed)
    params = []
    for k, shape in enumerate([(4, 3), (3,), (2, 2, 2)]):
        p = torch.zeros(shape, requires_grad=True)
        if k != none_at:
            p.grad = scale * torch.randn(shape, generator=generator)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 50.0])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 2.0, 1e6])
def test_clip_grad_norm_equals_torch(norm_type, scale, max_norm):
    ours = _parameters_with_grads(scale, none_at=1)
    theirs = _parameters_with_grads(scale, none_at=1)
    total = clip_grad_norm(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=False)
    torch.testing.assert_close(total, expected, rtol=1e-6, atol=0)
    for mine, reference in zip(ours, theirs, strict=True):
        if reference.grad is None:
            assert mine.grad is None
        else:
            torch.testing.assert_close(mine.grad, reference.grad, rtol=1e-6, atol=1e-12)


def test_clip_grad_norm_keeps_the_direction_and_caps_the_norm():
    params = _parameters_with_grads(10.0)
    before = torch.cat([p.grad.flatten() for p in params])
    total = clip_grad_norm(iter(params), 1.0)  # a generator is fine
    after = torch.cat([p.grad.flatten() for p in params])
    assert total.item() == pytest.approx(before.norm().item())
    assert after.norm().item() == pytest.approx(1.0, rel=1e-5)
    torch.testing.assert_close(after / after.norm(), before / before.norm())


@pytest.mark.parametrize("clip_value", [0.0, 0.1, 1.0, 100.0])
def test_clip_grad_value_equals_torch(clip_value):
    ours = _parameters_with_grads(3.0, none_at=0)
    theirs = _parameters_with_grads(3.0, none_at=0)
    clip_grad_value(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value, foreach=False)
    for mine, reference in zip(ours, theirs, strict=True):
        if reference.grad is not None:
            assert torch.equal(mine.grad, reference.grad)


def test_clip_functions_accept_one_tensor_and_no_gradients():
    p = torch.zeros(3, requires_grad=True)
    assert clip_grad_norm(p, 1.0).item() == 0.0  # no gradient yet
    p.grad = torch.tensor([3.0, 4.0, 0.0])
    assert clip_grad_norm(p, 1.0).item() == pytest.approx(5.0)
    clip_grad_value(p, 0.1)
    assert torch.equal(p.grad, torch.tensor([0.1, 0.1, 0.0]))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: clip_grad_norm("abc", 1.0), "parameters"),
        (lambda: clip_grad_norm([1.0], 1.0), "parameters"),
        (lambda: clip_grad_norm([], -1.0), "max_norm"),
        (lambda: clip_grad_norm([], math.nan), "max_norm"),
        (lambda: clip_grad_norm([], 1.0, 0.0), "norm_type"),
        (lambda: clip_grad_value(None, 1.0), "parameters"),
        (lambda: clip_grad_value([], -0.5), "clip_value"),
    ],
)
def test_clip_functions_name_a_bad_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------------------------
# TrainingDiagnostics, through fit
# ---------------------------------------------------------------------------------------------


def _network(seed=0):
    return mlp([4, 8, 8, 3], seed=seed)


def _batches(seed=0, num_batches=3):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(num_batches * 10, 4, generator=generator)
    y = torch.randint(0, 3, (num_batches * 10,), generator=generator)
    return [(X[k : k + 10], y[k : k + 10]) for k in range(0, len(X), 10)]


def test_diagnostics_record_what_a_manual_loop_measures():
    batches, loss_fn = _batches(), torch.nn.CrossEntropyLoss()
    model = _network()
    diagnostics = TrainingDiagnostics()
    fit(
        model,
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.5),
        batches,
        2,
        callbacks=[diagnostics],
    )

    twin = _network()
    opt = torch.optim.SGD(twin.parameters(), lr=0.5)
    grad_norms, ratios, dead = [], [], []
    for _ in range(2):
        for X, y in batches:
            opt.zero_grad()
            hidden = twin[1](twin[0](X))
            dead.append(1.0 - (hidden > 0).any(dim=0).float().mean().item())
            loss_fn(twin(X), y).backward()
            grad_norms.append(twin[2].weight.grad.norm().item())
            before = twin[2].weight.detach().clone()
            opt.step()
            ratios.append(((twin[2].weight - before).norm() / before.norm()).item())

    assert set(diagnostics.grad_norm) == {"0.weight", "2.weight", "4.weight"}
    assert set(diagnostics.dead_fraction) == {"1", "3"}
    assert diagnostics.grad_norm["2.weight"] == pytest.approx(grad_norms)
    assert diagnostics.update_ratio["2.weight"] == pytest.approx(ratios)
    assert diagnostics.dead_fraction["1"] == pytest.approx(dead)
    assert all(len(v) == 6 for v in diagnostics.update_ratio.values())


def test_diagnostics_remove_their_hooks_and_ignore_evaluation():
    model, batches = _network(), _batches()
    diagnostics = TrainingDiagnostics()
    X, y = batches[0]
    fit(
        model,
        torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        batches,
        1,
        val_data=(X, y),
        callbacks=[diagnostics],
    )
    assert len(diagnostics.dead_fraction["1"]) == 3  # the validation pass is not recorded
    assert all(not m._forward_hooks for m in model.modules())
    model(X)  # after training: nothing recorded
    assert len(diagnostics.dead_fraction["1"]) == 3


def test_a_dead_network_is_reported_dead():
    model = _network()
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every unit of the first ReLU is off
    diagnostics = TrainingDiagnostics()
    fit(
        model,
        torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        _batches(),
        1,
        callbacks=[diagnostics],
    )
    assert diagnostics.dead_fraction["1"] == [1.0, 1.0, 1.0]
    assert diagnostics.grad_norm["0.weight"] == [0.0, 0.0, 0.0]  # no gradient gets through
    assert diagnostics.update_ratio["0.weight"] == [0.0, 0.0, 0.0]


def test_fit_calls_every_callback_method_in_order_and_clipping_works_there():
    calls = []

    class Clip:
        def on_train_begin(self, model):
            calls.append("begin")

        def on_after_backward(self, model):
            calls.append("backward")
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)

        def on_step_end(self, model):
            calls.append("step")

        def on_train_end(self, model):
            calls.append("end")

    model = _network()
    before = [p.detach().clone() for p in model.parameters()]
    fit(
        model,
        torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=1.0),
        _batches(num_batches=1),
        2,
        callbacks=[Clip()],
    )
    assert calls == ["begin", "backward", "step", "backward", "step", "end"]
    moved = torch.cat([(p - b).flatten() for p, b in zip(model.parameters(), before, strict=True)])
    assert moved.norm().item() <= 2 * 1e-3 + 1e-6  # two steps of lr 1, each clipped to 1e-3


@pytest.mark.parametrize("callbacks", [[object()], "abc"], ids=["no method", "a string"])
def test_fit_refuses_callbacks_without_any_method(callbacks):
    model = _network()
    with pytest.raises(TypeError, match="callbacks"):
        fit(
            model,
            torch.nn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1),
            _batches(),
            1,
            callbacks=callbacks,
        )
