"""helpers.schedules gives the same learning rates as torch.optim.lr_scheduler."""

import math
import re

import pytest
import torch
from torch.optim import lr_scheduler as torch_schedulers

from helpers import optim, schedules
from helpers.schedules import (
    ReduceOnPlateau,
    as_scheduler,
    cosine_lr,
    exponential_lr,
    inverse_time_lr,
    multistep_lr,
    one_cycle_lr,
    step_lr,
    warmup_cosine_lr,
)

STEPS = 500
LR0 = 0.1
# torch's schedulers mostly update recursively (lr <- lr * factor), which drifts from the closed
# form by a few hundred ulps at most over 500 steps.
CLOSE = dict(rel=1e-12, abs=1e-15)


def torch_sequence(make_scheduler, steps=STEPS, lr=LR0):
    """The lr that a real torch scheduler sets at steps 0, 1, ..., steps - 1."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


def warmup_then_cosine(opt, warmup_steps, total_steps, lr_min, start_factor):
    return torch_schedulers.SequentialLR(
        opt,
        [
            torch_schedulers.LinearLR(opt, start_factor, total_iters=warmup_steps),
            torch_schedulers.CosineAnnealingLR(opt, total_steps - warmup_steps, lr_min),
        ],
        milestones=[warmup_steps],
    )


# (our function, its arguments after lr0, the torch scheduler it mirrors)
CASES = {
    "step": (
        step_lr,
        dict(step_size=30, gamma=0.5),
        lambda o: torch_schedulers.StepLR(o, 30, 0.5),
    ),
    "step-default-gamma": (
        step_lr,
        dict(step_size=100),
        lambda o: torch_schedulers.StepLR(o, 100),
    ),
    "multistep": (
        multistep_lr,
        dict(milestones=[300, 50, 120, 120], gamma=0.3),  # unsorted, one repeated
        lambda o: torch_schedulers.MultiStepLR(o, [300, 50, 120, 120], 0.3),
    ),
    "exponential": (
        exponential_lr,
        dict(gamma=0.99),
        lambda o: torch_schedulers.ExponentialLR(o, 0.99),
    ),
    "inverse-time": (
        inverse_time_lr,
        dict(decay=0.05),
        lambda o: torch_schedulers.LambdaLR(o, lambda t: 1 / (1 + 0.05 * t)),
    ),
    "cosine": (
        cosine_lr,
        dict(total_steps=500),
        lambda o: torch_schedulers.CosineAnnealingLR(o, 500),
    ),
    "cosine-lr-min": (
        cosine_lr,
        dict(total_steps=500, lr_min=1e-3),
        lambda o: torch_schedulers.CosineAnnealingLR(o, 500, 1e-3),
    ),
    "cosine-past-total-steps": (
        cosine_lr,
        dict(total_steps=120, lr_min=1e-3),
        lambda o: torch_schedulers.CosineAnnealingLR(o, 120, 1e-3),
    ),
    "warmup-cosine": (
        warmup_cosine_lr,
        dict(warmup_steps=50, total_steps=500),
        lambda o: warmup_then_cosine(o, 50, 500, 0.0, 0.01),
    ),
    "warmup-cosine-options": (
        warmup_cosine_lr,
        dict(warmup_steps=20, total_steps=300, lr_min=1e-3, start_factor=0.1),
        lambda o: warmup_then_cosine(o, 20, 300, 1e-3, 0.1),
    ),
    "one-cycle": (
        one_cycle_lr,
        dict(total_steps=500),
        lambda o: torch_schedulers.OneCycleLR(o, LR0, 500, cycle_momentum=False),
    ),
    "one-cycle-three-phase-linear": (
        one_cycle_lr,
        dict(total_steps=500, pct_start=0.25, anneal_strategy="linear", three_phase=True),
        lambda o: torch_schedulers.OneCycleLR(
            o,
            LR0,
            500,
            pct_start=0.25,
            anneal_strategy="linear",
            three_phase=True,
            cycle_momentum=False,
        ),
    ),
    "one-cycle-factors": (
        one_cycle_lr,
        dict(total_steps=500, div_factor=10.0, final_div_factor=100.0, three_phase=True),
        lambda o: torch_schedulers.OneCycleLR(
            o,
            LR0,
            500,
            div_factor=10.0,
            final_div_factor=100.0,
            three_phase=True,
            cycle_momentum=False,
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_schedule_equals_torch_scheduler_for_500_steps(case):
    fn, kwargs, make_scheduler = CASES[case]
    ours = [fn(t, LR0, **kwargs) for t in range(STEPS)]
    assert ours == pytest.approx(torch_sequence(make_scheduler), **CLOSE)


def test_schedules_have_the_expected_shape():
    assert step_lr(29, 1.0, 30) == 1.0 and step_lr(30, 1.0, 30) == pytest.approx(0.1)
    assert multistep_lr(10, 1.0, [10, 20], gamma=0.5) == 0.5
    assert inverse_time_lr(20, 1.0, decay=0.05) == 0.5
    assert cosine_lr(0, 1.0, 100) == 1.0 and cosine_lr(50, 1.0, 100) == pytest.approx(0.5)
    assert cosine_lr(100, 1.0, 100, lr_min=0.1) == pytest.approx(0.1)
    assert warmup_cosine_lr(0, 1.0, 10, 110, start_factor=0.5) == 0.5
    assert warmup_cosine_lr(10, 1.0, 10, 110) == 1.0
    assert warmup_cosine_lr(7, 1.0, 0, 110) == cosine_lr(7, 1.0, 110)  # no warmup
    peak = max(range(101), key=lambda t: one_cycle_lr(t, 1.0, 100))
    assert peak == 29 and one_cycle_lr(29, 1.0, 100) == 1.0
    assert one_cycle_lr(0, 1.0, 100) == pytest.approx(1 / 25)
    assert one_cycle_lr(99, 1.0, 100) == pytest.approx(1 / 25 / 1e4)


# ---------------------------------------------------------------------------------------------
# as_scheduler: the functions driving a real optimizer
# ---------------------------------------------------------------------------------------------

AS_SCHEDULER = {
    "step": (step_lr, dict(step_size=40, gamma=0.5)),
    "multistep": (multistep_lr, dict(milestones=[100, 250])),
    "exponential": (exponential_lr, dict(gamma=0.995)),
    "inverse-time": (inverse_time_lr, dict(decay=0.01)),
    "cosine": (cosine_lr, dict(total_steps=STEPS, lr_min=1e-4)),
    "warmup-cosine": (warmup_cosine_lr, dict(warmup_steps=25, total_steps=STEPS, lr_min=1e-4)),
    "one-cycle": (one_cycle_lr, dict(total_steps=STEPS)),
}


@pytest.mark.parametrize("case", list(AS_SCHEDULER))
def test_as_scheduler_sets_each_group_lr_to_the_function(case):
    fn, kwargs = AS_SCHEDULER[case]
    a, b, c = (torch.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.03}, {"params": [c]}])
    opt.param_groups[2]["lr"] = 0.0  # a frozen group stays frozen
    scheduler = as_scheduler(opt, fn, **kwargs)
    assert isinstance(scheduler, torch_schedulers.LambdaLR)
    for t in range(STEPS):
        lrs = [group["lr"] for group in opt.param_groups]
        assert lrs == pytest.approx([fn(t, 0.1, **kwargs), fn(t, 0.03, **kwargs), 0.0], **CLOSE)
        opt.step()
        scheduler.step()


def test_as_scheduler_checks_its_arguments_at_once():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="Invalid total_steps"):
        as_scheduler(opt, cosine_lr, total_steps=0)
    with pytest.raises(TypeError, match=r"torch\.optim\.Optimizer"):
        as_scheduler("not an optimizer", cosine_lr, total_steps=10)


# ---------------------------------------------------------------------------------------------
# ReduceOnPlateau against torch's ReduceLROnPlateau on scripted metrics
# ---------------------------------------------------------------------------------------------


def scripted_metric(mode):
    """500 values: improvement, plateaus, noise, small gains below the threshold, recovery."""
    gen = torch.Generator().manual_seed(3)
    values = []
    for t in range(STEPS):
        trend = 1.0 / (1 + 0.05 * min(t, 80)) + (0.2 if 200 <= t < 230 else 0.0)
        trend -= 1e-6 * t if 300 <= t < 400 else 0.0  # tiny gains, below a 1e-4 threshold
        trend -= 0.3 if t >= 430 else 0.0
        values.append(trend + 0.02 * torch.rand((), generator=gen).item())
    return values if mode == "min" else [1.0 - v for v in values]


PLATEAU = {
    "defaults": dict(),
    "max-mode": dict(mode="max"),
    "patience-cooldown": dict(patience=3, cooldown=5, factor=0.5),
    "abs-threshold": dict(threshold=0.01, threshold_mode="abs", patience=2, factor=0.7),
    "max-abs": dict(mode="max", threshold=0.005, threshold_mode="abs", patience=4),
    "min-lr": dict(patience=0, factor=0.5, min_lr=1e-3),
    "eps": dict(patience=1, factor=0.9, eps=5e-3),
}


@pytest.mark.parametrize("case", list(PLATEAU))
def test_reduce_on_plateau_equals_torch(case):
    kwargs = PLATEAU[case]
    metrics = scripted_metric(kwargs.get("mode", "min"))
    ours = ReduceOnPlateau(LR0, **kwargs)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
    theirs = torch_schedulers.ReduceLROnPlateau(opt, **kwargs)
    ours_lrs, theirs_lrs = [], []
    for metric in metrics:
        ours_lrs.append(ours.step(torch.tensor(metric, dtype=torch.float64)))  # 0-d tensor ok
        opt.step()
        theirs.step(metric)
        theirs_lrs.append(opt.param_groups[0]["lr"])
    assert ours_lrs == theirs_lrs
    assert len(set(ours_lrs)) > 2  # the script really triggers several reductions
    assert ours.lr == ours_lrs[-1]
    assert ours.best == theirs.best
    assert (ours.num_bad_steps, ours.cooldown_counter) == (
        theirs.num_bad_epochs,
        theirs.cooldown_counter,
    )


def test_reduce_on_plateau_drives_an_optimizer():
    plateau = ReduceOnPlateau(0.1, patience=1)
    opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=plateau.lr)
    for loss in [1.0, 0.5, 0.5, 0.5, 0.5]:
        for group in opt.param_groups:
            group["lr"] = plateau.step(loss)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


# ---------------------------------------------------------------------------------------------
# Invalid arguments
# ---------------------------------------------------------------------------------------------

INVALID = [
    (step_lr, (-1, 0.1), dict(step_size=10), "t"),
    (step_lr, (1.5, 0.1), dict(step_size=10), "t"),
    (step_lr, (0, -0.1), dict(step_size=10), "lr0"),
    (step_lr, (0, 0.1), dict(step_size=0), "step_size"),
    (step_lr, (0, 0.1), dict(step_size=10, gamma=-0.5), "gamma"),
    (multistep_lr, (0, 0.1), dict(milestones=[10, -5]), "milestones"),
    (multistep_lr, (0, 0.1), dict(milestones=[10], gamma=-1.0), "gamma"),
    (exponential_lr, (0, 0.1), dict(gamma=-0.9), "gamma"),
    (exponential_lr, (0, "0.1"), dict(gamma=0.9), "lr0"),
    (inverse_time_lr, (0, 0.1), dict(decay=-0.1), "decay"),
    (inverse_time_lr, (True, 0.1), dict(decay=0.1), "t"),
    (cosine_lr, (0, 0.1), dict(total_steps=0), "total_steps"),
    (cosine_lr, (0, 0.1), dict(total_steps=10, lr_min=-1e-3), "lr_min"),
    (cosine_lr, (0, math.nan), dict(total_steps=10), "lr0"),
    (warmup_cosine_lr, (0, 0.1), dict(warmup_steps=-1, total_steps=10), "warmup_steps"),
    (warmup_cosine_lr, (0, 0.1), dict(warmup_steps=10, total_steps=10), "total_steps"),
    (warmup_cosine_lr, (0, 0.1), dict(warmup_steps=5, total_steps=10, lr_min=-1), "lr_min"),
    (
        warmup_cosine_lr,
        (0, 0.1),
        dict(warmup_steps=5, total_steps=10, start_factor=0.0),
        "start_factor",
    ),
    (
        warmup_cosine_lr,
        (0, 0.1),
        dict(warmup_steps=5, total_steps=10, start_factor=1.5),
        "start_factor",
    ),
    (one_cycle_lr, (0, 0.1), dict(total_steps=0), "total_steps"),
    (one_cycle_lr, (11, 0.1), dict(total_steps=10), "t"),
    (one_cycle_lr, (0, -0.1), dict(total_steps=10), "max_lr"),
    (one_cycle_lr, (0, 0.1), dict(total_steps=10, pct_start=1.0), "pct_start"),
    (one_cycle_lr, (0, 0.1), dict(total_steps=10, pct_start=0.05), "pct_start"),
    (one_cycle_lr, (0, 0.1), dict(total_steps=10, anneal_strategy="cosine"), "anneal_strategy"),
    (one_cycle_lr, (0, 0.1), dict(total_steps=10, div_factor=0.0), "div_factor"),
    (one_cycle_lr, (0, 0.1), dict(total_steps=10, final_div_factor=-1.0), "final_div_factor"),
    (ReduceOnPlateau, (-0.1,), dict(), "lr"),
    (ReduceOnPlateau, (0.1,), dict(mode="minimum"), "mode"),
    (ReduceOnPlateau, (0.1,), dict(factor=1.0), "factor"),
    (ReduceOnPlateau, (0.1,), dict(factor=-0.5), "factor"),
    (ReduceOnPlateau, (0.1,), dict(patience=-1), "patience"),
    (ReduceOnPlateau, (0.1,), dict(patience=2.5), "patience"),
    (ReduceOnPlateau, (0.1,), dict(threshold=-1e-4), "threshold"),
    (ReduceOnPlateau, (0.1,), dict(threshold_mode="relative"), "threshold_mode"),
    (ReduceOnPlateau, (0.1,), dict(cooldown=-1), "cooldown"),
    (ReduceOnPlateau, (0.1,), dict(min_lr=-1.0), "min_lr"),
    (ReduceOnPlateau, (0.1,), dict(eps=-1.0), "eps"),
]


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "parameter"),
    INVALID,
    ids=[f"{fn.__name__}-{p}-{i}" for i, (fn, _, _, p) in enumerate(INVALID)],
)
def test_invalid_arguments_raise_value_error_naming_them(fn, args, kwargs, parameter):
    with pytest.raises(ValueError, match=rf"Invalid {re.escape(parameter)}: .*must"):
        fn(*args, **kwargs)


def test_public_api_is_documented():
    for name in schedules.__all__:
        doc = getattr(schedules, name).__doc__
        assert "Parameters" in doc, name
        assert "Returns" in doc or "Attributes" in doc, name
