"""helpers.optim.functional: each step function follows torch.optim's class for 200 steps, and
a tensor lr runs a sweep, one learning rate per row."""

import pytest
import torch

from helpers.optim import functional as F

STEPS = 200
RTOL = {torch.float64: 1e-12, torch.float32: 1e-5}


def _gradient(p):
    """A smooth gradient with curvatures from 0.5 to 5 and a sine bump, so steps vary."""
    curvature = torch.linspace(0.5, 5.0, p.numel(), dtype=p.dtype).reshape(p.shape)
    return curvature * p + 0.3 * torch.sin(3 * p)


def _start(dtype):
    return torch.linspace(-2.0, 1.5, 12, dtype=dtype).reshape(3, 4)


def _zeros(dtype, count):
    return [torch.zeros(3, 4, dtype=dtype) for _ in range(count)]


def _torch_path(cls, dtype, **hyper):
    p = _start(dtype).requires_grad_()
    optimizer = cls([p], **hyper)
    for _ in range(STEPS):
        p.grad = _gradient(p.detach())
        optimizer.step()
    return p.detach()


def _functional_path(step, dtype, state_count, uses_t, **hyper):
    p, state = _start(dtype), _zeros(dtype, state_count)
    for t in range(1, STEPS + 1):
        g = _gradient(p)
        step(p, g, *state, *([t] if uses_t else []), **hyper)
    return p


# (function, number of state tensors, takes t, its hyperparameters, torch's class and options)
CASES = {
    "sgd": (F.sgd_step, 0, False, {"lr": 0.05}, torch.optim.SGD, {"lr": 0.05}),
    "momentum": (
        F.momentum_step,
        1,
        False,
        {"lr": 0.02, "beta": 0.9},
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.9},
    ),
    "nesterov": (
        F.nesterov_step,
        1,
        False,
        {"lr": 0.02, "beta": 0.9},
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.9, "nesterov": True},
    ),
    "adagrad": (F.adagrad_step, 1, False, {"lr": 0.1}, torch.optim.Adagrad, {"lr": 0.1}),
    "rmsprop": (F.rmsprop_step, 1, False, {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    "adadelta": (F.adadelta_step, 2, False, {}, torch.optim.Adadelta, {}),
    "adam": (F.adam_step, 2, True, {"lr": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    "adamw": (
        F.adamw_step,
        2,
        True,
        {"lr": 0.01, "weight_decay": 0.1},
        torch.optim.AdamW,
        {"lr": 0.01, "weight_decay": 0.1},
    ),
    "adamax": (F.adamax_step, 2, True, {"lr": 0.01}, torch.optim.Adamax, {"lr": 0.01}),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", CASES)
def test_step_follows_torch_for_200_steps(name, dtype):
    step, state_count, uses_t, hyper, cls, options = CASES[name]
    ours = _functional_path(step, dtype, state_count, uses_t, **hyper)
    theirs = _torch_path(cls, dtype, **options)
    torch.testing.assert_close(ours, theirs, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-3)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_amsgrad_and_centered_momentum_rmsprop_follow_torch(dtype):
    p, (m, v, v_max) = _start(dtype), _zeros(dtype, 3)
    q, (w, grad_avg, buffer) = _start(dtype), _zeros(dtype, 3)
    for t in range(1, STEPS + 1):
        F.adam_step(p, _gradient(p), m, v, t, lr=0.01, v_max=v_max)
        F.rmsprop_step(
            q, _gradient(q), w, 0.01, grad_avg=grad_avg, momentum=0.5, momentum_buffer=buffer
        )
    amsgrad = _torch_path(torch.optim.Adam, dtype, lr=0.01, amsgrad=True)
    rmsprop = _torch_path(torch.optim.RMSprop, dtype, lr=0.01, centered=True, momentum=0.5)
    torch.testing.assert_close(p, amsgrad, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-3)
    torch.testing.assert_close(q, rmsprop, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-3)


@pytest.mark.parametrize("name", CASES)
def test_a_tensor_lr_runs_one_learning_rate_per_row(name):
    # each row of the sweep follows the run with its learning rate as a number, to rounding
    step, state_count, uses_t, hyper, _, _ = CASES[name]
    lrs = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64) * hyper.get("lr", 1.0)
    sweep = torch.stack([_start(torch.float64)] * 3)  # one row per learning rate
    state = [torch.zeros_like(sweep) for _ in range(state_count)]
    for t in range(1, STEPS + 1):
        t_arg = [t] if uses_t else []
        g = torch.stack([_gradient(p) for p in sweep])
        step(sweep, g, *state, *t_arg, **hyper | {"lr": lrs[:, None, None]})
    for row, lr in enumerate(lrs.tolist()):
        alone = _functional_path(step, torch.float64, state_count, uses_t, **hyper | {"lr": lr})
        torch.testing.assert_close(sweep[row], alone, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "lr",
    [
        torch.tensor([[0.1], [-0.1]]),
        torch.tensor([[0.1], [float("nan")]]),
        torch.tensor([[1], [2]]),
        torch.ones(2, 1, 1),
        torch.ones(3),
    ],
    ids=["negative", "nan", "integer", "more dimensions than p", "not broadcasting"],
)
def test_a_bad_tensor_lr_raises_an_error_that_names_it(lr):
    p, g = torch.ones(2, 2), torch.ones(2, 2)
    with pytest.raises((ValueError, TypeError), match="Invalid lr"):
        F.sgd_step(p, g, lr=lr)
    assert torch.equal(p, torch.ones(2, 2))  # checked before the step


def test_steps_update_in_place_and_return_their_tensors():
    p, g, m, v = torch.ones(3), torch.full((3,), 0.5), torch.zeros(3), torch.zeros(3)
    out = F.adam_step(p, g, m, v, 1, lr=0.1)
    assert out[0] is p and out[1] is m and out[2] is v
    torch.testing.assert_close(p, torch.full((3,), 0.9))  # first step: lr in each coordinate


def test_without_bias_correction_the_first_step_is_larger():
    p, m, v = (torch.zeros(1, dtype=torch.float64) for _ in range(3))
    g = torch.ones(1, dtype=torch.float64)
    F.adam_step(p, g, m, v, 1, lr=1.0, bias_correction=False)
    assert abs(-p.item() - 0.1 / 0.001**0.5) < 1e-6  # (1 - beta1) / sqrt(1 - beta2)


def test_parameters_that_require_gradients_are_updated_without_a_graph():
    p = torch.ones(2, requires_grad=True)
    F.sgd_step(p, torch.ones(2), lr=0.5)
    assert p.grad_fn is None and torch.equal(p.detach(), torch.full((2,), 0.5))


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: F.sgd_step(torch.ones(2), torch.ones(3), lr=0.1), "g"),
        (lambda: F.sgd_step(torch.ones(2), torch.ones(2), lr=-0.1), "lr"),
        (lambda: F.sgd_step(torch.ones(2), torch.ones(2), lr=torch.ones(3, 1)), "lr"),
        (lambda: F.adam_step(*(torch.ones(2) for _ in range(4)), 0, lr=0.1), "t"),
        (lambda: F.adam_step(*(torch.ones(2) for _ in range(4)), 1, beta2=1.0), "beta2"),
        (lambda: F.momentum_step([1.0], torch.ones(1), torch.ones(1)), "p"),
    ],
)
def test_bad_arguments_raise_errors_that_name_them(call, named):
    with pytest.raises((ValueError, TypeError), match=f"Invalid {named}"):
        call()
