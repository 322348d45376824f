"""helpers.optim.LARS and LAMB against the reference package pytorch_optimizer (test-only).

Each class follows its paper (You et al. 2017, 2020). The reference departs from the papers in
a few documented details, so the two are compared in the settings where they agree (a constant
learning rate and matrices only for LARS; ``weight_decouple=False``, ``adam_debias=True``,
``eps=0`` and no weight decay, or no averaging, for LAMB), and the differences are tested too.
"""

from __future__ import annotations

import copy

import pytest
import torch
from pytorch_optimizer import LARS as ReferenceLARS
from pytorch_optimizer import Lamb as ReferenceLamb

from helpers.optim import LAMB, LARS

STEPS = 50
TOLERANCE = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.float64: {"rtol": 1e-12, "atol": 1e-14},
}
DTYPES = [torch.float32, torch.float64]


def _network(dtype, bias=False, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8, bias=bias),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 3, bias=bias),
    ).to(dtype)


def _data(dtype, seed=1):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 5, generator=generator, dtype=dtype)
    Y = torch.randn(32, 3, generator=generator, dtype=dtype)
    return X, Y


def _train(model, optimizer, steps=STEPS, lrs=None, maximize=False):
    X, Y = _data(next(model.parameters()).dtype)
    for t in range(steps):
        if lrs is not None:
            for group in optimizer.param_groups:
                group["lr"] = lrs[t]
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), Y)
        (-loss if maximize else loss).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def _assert_close(ours, theirs, dtype):
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **TOLERANCE[dtype])


def _differ(ours, theirs, dtype):
    return any(
        not torch.allclose(a, b, **TOLERANCE[dtype]) for a, b in zip(ours, theirs, strict=True)
    )


LARS_SETTINGS = [
    {"lr": 0.5},
    {"lr": 2.0, "momentum": 0.0},
    {"lr": 1.0, "weight_decay": 1e-2},
    {"lr": 1.0, "momentum": 0.8, "dampening": 0.1},
    {"lr": 1.0, "nesterov": True},
    {"lr": 0.05, "trust_coefficient": 0.02, "weight_decay": 5e-3, "momentum": 0.95},
    {"lr": 1.0, "maximize": True},
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("settings", LARS_SETTINGS, ids=str)
def test_lars_equals_the_reference_on_matrices_at_a_constant_lr(settings, dtype):
    model = _network(dtype)
    twin = copy.deepcopy(model)
    maximize = settings.get("maximize", False)
    ours = _train(model, LARS(model.parameters(), **settings), maximize=maximize)
    theirs = _train(twin, ReferenceLARS(twin.parameters(), **settings), maximize=maximize)
    _assert_close(ours, theirs, dtype)
    assert _differ(ours, [p.detach() for p in _network(dtype).parameters()], dtype)  # it moved


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_lars_keeps_the_lr_inside_the_momentum_as_the_paper_does(dtype):
    # With a changing learning rate the paper's v <- m v + lr u and the reference's
    # v <- m v + u, w <- w - lr v part ways; ours follows the paper's Algorithm 1.
    lrs = [1.0 if t < 10 else 0.1 for t in range(20)]
    model = _network(dtype)
    twin, by_hand = copy.deepcopy(model), copy.deepcopy(model)
    ours = _train(model, LARS(model.parameters()), steps=20, lrs=lrs)
    theirs = _train(twin, ReferenceLARS(twin.parameters()), steps=20, lrs=lrs)
    assert _differ(ours, theirs, dtype)

    X, Y = _data(dtype)
    buffers = [torch.zeros_like(p) for p in by_hand.parameters()]
    for lr in lrs:
        by_hand.zero_grad()
        torch.nn.functional.mse_loss(by_hand(X), Y).backward()
        with torch.no_grad():
            for w, v in zip(by_hand.parameters(), buffers, strict=True):
                local_lr = 1e-3 * w.norm() / w.grad.norm()  # eta ||w|| / ||g||, beta = 0
                v.mul_(0.9).add_(lr * local_lr * w.grad)  # v <- m v + gamma lambda g
                w.sub_(v)  # w <- w - v
    _assert_close(ours, [p.detach() for p in by_hand.parameters()], dtype)


def test_lars_gives_biases_a_trust_ratio_too_as_the_paper_does():
    model = _network(torch.float64, bias=True)
    twin = copy.deepcopy(model)
    ours = _train(model, LARS(model.parameters(), lr=1.0))
    theirs = _train(twin, ReferenceLARS(twin.parameters(), lr=1.0))
    biases = [i for i, p in enumerate(model.parameters()) if p.ndim == 1]
    assert all(_differ([ours[i]], [theirs[i]], torch.float64) for i in biases)


LAMB_SETTINGS = [
    {"lr": 1e-2},
    {"lr": 5e-2, "betas": (0.8, 0.99)},
    {"lr": 1e-2, "betas": (0.0, 0.999)},
    {"lr": 1e-2, "betas": (0.0, 0.0), "weight_decay": 0.1},
    {"lr": 1e-2, "maximize": True},
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("settings", LAMB_SETTINGS, ids=str)
def test_lamb_equals_the_reference_where_they_agree(settings, dtype):
    model = _network(dtype, bias=True)
    twin = copy.deepcopy(model)
    maximize = settings.get("maximize", False)
    ours = _train(model, LAMB(model.parameters(), eps=0.0, **settings), maximize=maximize)
    reference = ReferenceLamb(
        twin.parameters(), eps=0.0, weight_decouple=False, adam_debias=True, **settings
    )
    theirs = _train(twin, reference, maximize=maximize)
    _assert_close(ours, theirs, dtype)


@pytest.mark.parametrize(
    ("ours_settings", "reference_settings"),
    [
        ({}, {"weight_decouple": False, "adam_debias": True}),  # eps inside the trust ratio
        ({"eps": 0.0}, {"eps": 0.0, "weight_decouple": False}),  # the step over 1 - beta1^t
        ({"eps": 0.0, "weight_decay": 0.1}, {"eps": 0.0, "adam_debias": True}),  # AdamW decay
    ],
    ids=["eps", "adam_debias", "weight_decouple"],
)
def test_lamb_differs_from_the_reference_where_the_docstring_says(
    ours_settings, reference_settings
):
    model = _network(torch.float64, bias=True)
    twin = copy.deepcopy(model)
    ours = _train(model, LAMB(model.parameters(), lr=1e-2, **ours_settings))
    theirs = _train(
        twin, ReferenceLamb(twin.parameters(), lr=1e-2, **{**ours_settings, **reference_settings})
    )
    assert _differ(ours, theirs, torch.float64)


def test_lamb_first_step_moves_each_layer_by_lr_times_its_norm():
    # At t = 1 with eps = 0, r = g / |g| elementwise: the step is eta ||x|| r / ||r||.
    model = _network(torch.float64, bias=True)
    before = [p.detach().clone() for p in model.parameters()]
    _train(model, LAMB(model.parameters(), lr=0.01, eps=0.0), steps=1)
    for x0, x1 in zip(before, model.parameters(), strict=True):
        moved = (x1.detach() - x0).norm()
        assert torch.isclose(moved, 0.01 * x0.norm().clamp(max=10.0), rtol=1e-12)


@pytest.mark.parametrize(
    ("cls", "settings"),
    [(LARS, {"lr": 1.0, "weight_decay": 1e-3}), (LAMB, {"lr": 1e-2, "weight_decay": 1e-2})],
)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_state_dict_round_trip_mid_run_continues_identically(cls, settings, dtype):
    model = _network(dtype, bias=True)
    optimizer = cls(model.parameters(), **settings)
    _train(model, optimizer, steps=10)
    saved_model, saved_state = copy.deepcopy(model.state_dict()), optimizer.state_dict()

    clone = _network(dtype, bias=True)
    clone.load_state_dict(saved_model)
    restored = cls(clone.parameters(), **settings)
    restored.load_state_dict(copy.deepcopy(saved_state))
    assert restored.state_dict()["param_groups"] == saved_state["param_groups"]

    ours = _train(model, optimizer, steps=10)
    again = _train(clone, restored, steps=10)
    for a, b in zip(ours, again, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("cls", [LARS, LAMB])
def test_step_leaves_the_gradient_alone_and_skips_params_without_one(cls):
    used, unused = torch.nn.Parameter(torch.ones(3, 2)), torch.nn.Parameter(torch.ones(2))
    optimizer = cls([used, unused], lr=0.1)
    (used**2).sum().backward()
    grad = used.grad.clone()
    optimizer.step()
    assert torch.equal(used.grad, grad)
    assert not torch.equal(used.detach(), torch.ones(3, 2))
    assert torch.equal(unused.detach(), torch.ones(2)) and unused not in optimizer.state


@pytest.mark.parametrize("cls", [LARS, LAMB])
def test_a_zero_layer_gets_a_trust_ratio_of_one(cls):
    zero = torch.nn.Parameter(torch.zeros(2, 2))
    optimizer = cls([zero], lr=0.1)
    zero.grad = torch.ones(2, 2)
    optimizer.step()
    assert torch.isfinite(zero).all() and not torch.equal(zero.detach(), torch.zeros(2, 2))


@pytest.mark.parametrize(
    ("cls", "parameter", "value"),
    [
        (LARS, "lr", -0.1),
        (LARS, "weight_decay", -1.0),
        (LARS, "momentum", 1.5),
        (LARS, "dampening", -0.1),
        (LARS, "trust_coefficient", -1e-3),
        (LARS, "nesterov", "yes"),
        (LAMB, "lr", -0.1),
        (LAMB, "betas", (1.0, 0.9)),
        (LAMB, "betas", (0.9,)),
        (LAMB, "weight_decay", float("nan")),
        (LAMB, "eps", -1e-6),
    ],
)
def test_invalid_hyperparameters_raise_a_value_error_naming_them(cls, parameter, value):
    with pytest.raises(ValueError, match=parameter):
        cls([torch.nn.Parameter(torch.ones(2))], **{parameter: value})
    optimizer = cls([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError, match=parameter):
        optimizer.add_param_group(
            {"params": [torch.nn.Parameter(torch.ones(2))], parameter: value}
        )
    assert len(optimizer.param_groups) == 1


@pytest.mark.parametrize(("cls", "reference"), [(LARS, ReferenceLARS), (LAMB, ReferenceLamb)])
def test_defaults_are_the_references(cls, reference):
    import inspect

    ours = inspect.signature(cls).parameters
    theirs = inspect.signature(reference).parameters
    for name, parameter in ours.items():
        assert name in theirs
        assert parameter.default == theirs[name].default, name
