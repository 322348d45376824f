"""helpers.optim is equal to torch.optim: trajectories, state dicts, schedulers, validation."""

import copy
import functools
import inspect
import math
import re

import pytest
import torch

from helpers import optim

NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adamax", "Adadelta"]
STEPS = 200
#: Agreement with torch after STEPS steps, fitted to the dtype: each step() is written as the
#: book writes its formula, not in torch's order of operations, so they agree to rounding.
TOLERANCE = {
    torch.float32: dict(rtol=1e-5, atol=1e-7),
    torch.float64: dict(rtol=1e-12, atol=1e-14),
}

# For each optimizer: option sets for the first param group, each option on by itself (the
# base set has them all off), plus everything on together. The second param group always
# overrides some settings (SECOND_GROUP), so every run also checks per-group options.
CONFIGS = {
    "SGD": {
        "plain": dict(lr=0.05),
        "momentum": dict(lr=0.05, momentum=0.9),
        "dampening": dict(lr=0.05, momentum=0.9, dampening=0.5),
        "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
        "weight_decay": dict(lr=0.05, weight_decay=0.1),
        "maximize": dict(lr=0.05, maximize=True),
        "all": dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True),
    },
    "Adagrad": {
        "plain": dict(lr=0.1),
        "lr_decay": dict(lr=0.1, lr_decay=0.05),
        "initial_accumulator_value": dict(lr=0.1, initial_accumulator_value=0.3),
        "weight_decay": dict(lr=0.1, weight_decay=0.1),
        "eps": dict(lr=0.1, eps=1e-3),
        "maximize": dict(lr=0.1, maximize=True),
        "all": dict(
            lr=0.1,
            lr_decay=0.05,
            initial_accumulator_value=0.3,
            weight_decay=0.1,
            eps=1e-3,
            maximize=True,
        ),
    },
    "RMSprop": {
        "plain": dict(lr=0.01),
        "alpha": dict(lr=0.01, alpha=0.9),
        "eps": dict(lr=0.01, eps=1e-3),
        "momentum": dict(lr=0.01, momentum=0.9),
        "centered": dict(lr=0.01, centered=True),
        "weight_decay": dict(lr=0.01, weight_decay=0.1),
        "maximize": dict(lr=0.01, maximize=True),
        "all": dict(
            lr=0.01,
            alpha=0.9,
            eps=1e-3,
            momentum=0.9,
            centered=True,
            weight_decay=0.1,
            maximize=True,
        ),
    },
    "Adam": {
        "plain": dict(lr=0.01),
        "betas": dict(lr=0.01, betas=(0.8, 0.95)),
        "eps": dict(lr=0.01, eps=1e-3),
        "weight_decay": dict(lr=0.01, weight_decay=0.1),
        "decoupled_weight_decay": dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
        "amsgrad": dict(lr=0.01, amsgrad=True),
        "maximize": dict(lr=0.01, maximize=True),
        "all": dict(
            lr=0.01,
            betas=(0.8, 0.95),
            eps=1e-3,
            weight_decay=0.1,
            decoupled_weight_decay=True,
            amsgrad=True,
            maximize=True,
        ),
    },
    "AdamW": {
        "plain": dict(lr=0.01),
        "no_weight_decay": dict(lr=0.01, weight_decay=0),
        "betas": dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3),
        "amsgrad": dict(lr=0.01, amsgrad=True),
        "maximize": dict(lr=0.01, maximize=True),
        "all": dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1, amsgrad=True),
    },
    "NAdam": {
        "plain": dict(lr=0.01),
        "betas": dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3),
        "momentum_decay": dict(lr=0.01, momentum_decay=0.05),
        "weight_decay": dict(lr=0.01, weight_decay=0.1),
        "decoupled_weight_decay": dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
        "maximize": dict(lr=0.01, maximize=True),
        "all": dict(
            lr=0.01,
            betas=(0.8, 0.95),
            eps=1e-3,
            momentum_decay=0.05,
            weight_decay=0.1,
            decoupled_weight_decay=True,
            maximize=True,
        ),
    },
    "Adamax": {
        "plain": dict(lr=0.01),
        "betas": dict(lr=0.01, betas=(0.8, 0.95)),
        "eps": dict(lr=0.01, eps=1e-3),
        "weight_decay": dict(lr=0.01, weight_decay=0.1),
        "maximize": dict(lr=0.01, maximize=True),
        "all": dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1, maximize=True),
    },
    "Adadelta": {
        "plain": dict(),
        "lr": dict(lr=0.5),
        "rho": dict(rho=0.5),
        "eps": dict(eps=1e-3),
        "weight_decay": dict(weight_decay=0.1),
        "maximize": dict(maximize=True),
        "all": dict(lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1, maximize=True),
    },
}

# Settings of the second param group. (Not initial_accumulator_value for Adagrad:
# torch.optim.Adagrad fills its state from the constructor's value, ignoring a group's own.)
SECOND_GROUP = {
    "SGD": dict(lr=0.02, momentum=0.5, weight_decay=0.01),
    "Adagrad": dict(lr=0.05, lr_decay=0.01, eps=1e-6),
    "RMSprop": dict(lr=0.005, alpha=0.95, momentum=0.5, centered=True),
    "Adam": dict(lr=0.005, betas=(0.85, 0.99), amsgrad=True, weight_decay=0.01),
    "AdamW": dict(lr=0.005, weight_decay=0.05, amsgrad=True),
    "NAdam": dict(lr=0.005, momentum_decay=0.01, weight_decay=0.01),
    "Adamax": dict(lr=0.005, betas=(0.85, 0.99), weight_decay=0.01),
    "Adadelta": dict(lr=0.5, rho=0.8, weight_decay=0.01),
}

GRID = [
    (name, config) for name in NAMES for config in CONFIGS[name]
]  # 54 (optimizer, option set) pairs

# ---------------------------------------------------------------------------------------------
# A deterministic problem: gradients g_t(p) = c * (p - target) + noise_t, fed identically.
# ---------------------------------------------------------------------------------------------

SHAPES = {"weight": (4, 3), "bias": (3,), "frozen": (2,), "other": (5,)}


def start_params(dtype):
    """Fresh leaf tensors, the same for every call; 'frozen' never gets a gradient."""
    gen = torch.Generator().manual_seed(0)
    return {
        name: torch.randn(shape, generator=gen, dtype=dtype).requires_grad_()
        for name, shape in SHAPES.items()
    }


def param_groups(params, second_group):
    return [
        {"params": [params["weight"], params["bias"], params["frozen"]]},
        {"params": [params["other"]], **second_group},
    ]


@functools.cache
def gradients(dtype, steps=STEPS):
    """Shared, read-only: every run with this dtype sees the same gradient sequence."""
    return Gradients(dtype, steps)


class Gradients:
    """Noisy quadratic gradients, precomputed so every optimizer sees the same sequence."""

    def __init__(self, dtype, steps=STEPS):
        gen = torch.Generator().manual_seed(1)
        trained = [n for n in SHAPES if n != "frozen"]
        self.curvature = {
            n: torch.rand(SHAPES[n], generator=gen, dtype=dtype) + 0.1 for n in trained
        }
        self.target = {n: torch.randn(SHAPES[n], generator=gen, dtype=dtype) for n in trained}
        self.noise = [
            {n: 0.3 * torch.randn(SHAPES[n], generator=gen, dtype=dtype) for n in trained}
            for _ in range(steps)
        ]

    def set(self, params, t):
        for n, noise in self.noise[t].items():
            p = params[n]
            p.grad = self.curvature[n] * (p.detach() - self.target[n]) + noise


def make(module, name, params, options, second_group):
    """An optimizer of `module` (helpers.optim or torch.optim) on two param groups."""
    extra = {"foreach": False} if module is torch.optim else {}
    return getattr(module, name)(param_groups(params, second_group), **options, **extra)


def run(opt, params, grads, steps):
    for t in steps:
        grads.set(params, t)
        opt.step()


def assert_params_close(ours, theirs, dtype, **tolerance):
    for n in SHAPES:
        torch.testing.assert_close(ours[n], theirs[n], **(tolerance or TOLERANCE[dtype]), msg=n)


# ---------------------------------------------------------------------------------------------
# Equality with torch.optim
# ---------------------------------------------------------------------------------------------


def tolerance(name: str, dtype: torch.dtype) -> dict:
    """The tolerance for ``name`` on parameters of ``dtype``.

    torch keeps NAdam's product of momentum coefficients in a tensor of the *default* dtype:
    with float64 parameters and a float32 default, torch itself is only float32-accurate.
    """
    return TOLERANCE[torch.get_default_dtype() if name == "NAdam" else dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("name", "config"), GRID, ids=[f"{n}-{c}" for n, c in GRID])
def test_200_steps_equal_torch(name, config, dtype):
    options, second = CONFIGS[name][config], SECOND_GROUP[name]
    grads = gradients(dtype)
    ours, theirs = start_params(dtype), start_params(dtype)
    opt_ours = make(optim, name, ours, options, second)
    opt_theirs = make(torch.optim, name, theirs, options, second)
    run(opt_ours, ours, grads, range(STEPS))
    run(opt_theirs, theirs, grads, range(STEPS))

    assert_params_close(ours, theirs, dtype, **tolerance(name, dtype))
    assert not torch.equal(ours["weight"], start_params(dtype)["weight"])  # it did move
    assert torch.equal(ours["frozen"], start_params(dtype)["frozen"])  # grad None: untouched
    assert ours["frozen"] not in opt_ours.state  # ... and no state
    assert [g["lr"] for g in opt_ours.param_groups] == [g["lr"] for g in opt_theirs.param_groups]


def test_nadam_equal_torch_with_float64_default_dtype():
    # torch keeps NAdam's mu_product in a tensor of the default dtype: float64 here, so the
    # float64 tolerance applies.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        test_200_steps_equal_torch("NAdam", "all", torch.float64)
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_mid_run_continues_identically(name):
    options, second, dtype = CONFIGS[name]["all"], SECOND_GROUP[name], torch.float64
    grads = gradients(dtype)

    straight = start_params(dtype)
    run(make(optim, name, straight, options, second), straight, grads, range(STEPS))

    first = start_params(dtype)
    opt = make(optim, name, first, options, second)
    run(opt, first, grads, range(100))
    saved = copy.deepcopy(opt.state_dict())
    resumed = {n: p.detach().clone().requires_grad_() for n, p in first.items()}
    fresh = make(optim, name, resumed, dict(lr=123.0), {})  # settings come from the state dict
    fresh.load_state_dict(saved)
    run(fresh, resumed, grads, range(100, STEPS))

    assert_params_close(resumed, straight, dtype, rtol=0, atol=0)
    assert fresh.state[resumed["weight"]].get("step", STEPS) == STEPS  # SGD keeps no step


@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dicts_are_interchangeable_with_torch(name, direction):
    options, second, dtype = CONFIGS[name]["all"], SECOND_GROUP[name], torch.float32
    grads = gradients(dtype)
    source, target = (torch.optim, optim) if direction == "torch_to_ours" else (optim, torch.optim)

    straight = start_params(dtype)
    run(make(torch.optim, name, straight, options, second), straight, grads, range(STEPS))

    first = start_params(dtype)
    opt = make(source, name, first, options, second)
    run(opt, first, grads, range(100))
    resumed = {n: p.detach().clone().requires_grad_() for n, p in first.items()}
    fresh = make(target, name, resumed, options, second)
    fresh.load_state_dict(copy.deepcopy(opt.state_dict()))
    run(fresh, resumed, grads, range(100, STEPS))

    assert_params_close(resumed, straight, dtype)


@pytest.mark.parametrize("name", NAMES)
def test_closure_and_zero_grad_on_a_small_network(name):
    def train(module):
        torch.manual_seed(0)
        # float64: this test is about closures and zero_grad, not about float32 rounding
        # (ours and torch's round differently, by many float32 ulps on some CPUs)
        net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        net = net.double()
        x, y = torch.randn(16, 3, dtype=torch.float64), torch.randn(16, 1, dtype=torch.float64)
        extra = {"foreach": False} if module is torch.optim else {}
        opt = getattr(module, name)(net.parameters(), lr=0.01, **extra)

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), y)
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(20)]
        opt.zero_grad()
        assert all(p.grad is None for p in net.parameters())
        return losses, [p.detach() for p in net.parameters()]

    losses_ours, params_ours = train(optim)
    losses_theirs, params_theirs = train(torch.optim)
    close = tolerance(name, torch.float64)
    assert losses_ours == pytest.approx(losses_theirs, rel=close["rtol"])
    for a, b in zip(params_ours, params_theirs, strict=True):
        torch.testing.assert_close(a, b, **close)


@pytest.mark.parametrize("name", NAMES)
def test_works_with_torch_lr_schedulers(name):
    dtype = torch.float64
    grads = gradients(dtype, steps=30)
    results = []
    for module in (optim, torch.optim):
        params = start_params(dtype)
        opt = make(module, name, params, CONFIGS[name]["plain"], SECOND_GROUP[name])
        start_lrs = [g["lr"] for g in opt.param_groups]
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        for t in range(30):
            grads.set(params, t)
            opt.step()
            scheduler.step()
        assert [g["lr"] for g in opt.param_groups] == pytest.approx([lr / 8 for lr in start_lrs])
        results.append(params)
    assert_params_close(*results, dtype, **tolerance(name, dtype))


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam"])
def test_one_cycle_lr_cycles_momentum_and_betas_of_ours_as_of_torch(name):
    dtype = torch.float64
    grads = gradients(dtype, steps=50)
    options = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    results = []
    for module in (optim, torch.optim):
        params = start_params(dtype)
        opt = make(module, name, params, options, {})
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=50)
        for t in range(50):
            grads.set(params, t)
            opt.step()
            scheduler.step()
        results.append(params)
    assert_params_close(*results, dtype, **tolerance(name, dtype))


# ---------------------------------------------------------------------------------------------
# Gradients that are None, sparse or complex
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_params_without_grad_are_skipped(name):
    a, b = torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)
    opt = getattr(optim, name)([a, b])
    a.grad = torch.full((3,), 0.5)
    for _ in range(3):
        opt.step()
    assert torch.equal(b, torch.ones(2))
    assert b not in opt.state
    assert not torch.equal(a, torch.ones(3))
    opt.zero_grad()
    assert opt.step() is None  # nothing has a gradient: a no-op that still returns the loss


@pytest.mark.parametrize("name", NAMES)
def test_sparse_gradients_raise_a_clear_error(name):
    p = torch.zeros(4, requires_grad=True)
    p.grad = torch.sparse_coo_tensor(
        torch.tensor([[1, 3]]), torch.tensor([1.0, 2.0]), (4,), check_invariants=True
    )
    with pytest.raises(RuntimeError, match=f"{name} does not support sparse gradients"):
        getattr(optim, name)([p]).step()


@pytest.mark.parametrize("name", NAMES)
def test_complex_parameters_raise_a_clear_error(name):
    p = torch.zeros(2, dtype=torch.complex64, requires_grad=True)
    p.grad = torch.ones(2, dtype=torch.complex64)
    with pytest.raises(RuntimeError, match="does not support complex parameters"):
        getattr(optim, name)([p]).step()


# ---------------------------------------------------------------------------------------------
# Invalid hyperparameters
# ---------------------------------------------------------------------------------------------

INVALID = [
    ("SGD", dict(lr=-0.1), "lr", "[0, inf)"),
    ("SGD", dict(lr=math.nan), "lr", "[0, inf)"),
    ("SGD", dict(momentum=-0.5), "momentum", "[0, 1]"),
    ("SGD", dict(momentum=1.5), "momentum", "[0, 1]"),
    ("SGD", dict(momentum=0.9, dampening=-0.1), "dampening", "[0, 1]"),
    ("SGD", dict(momentum=0.9, dampening=1.1), "dampening", "[0, 1]"),
    ("SGD", dict(weight_decay=-1e-4), "weight_decay", "[0, inf)"),
    ("SGD", dict(nesterov=True), "nesterov", "momentum in (0, 1]"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov", "dampening = 0"),
    ("Adagrad", dict(lr=-1.0), "lr", "[0, inf)"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay", "[0, inf)"),
    ("Adagrad", dict(weight_decay=-0.1), "weight_decay", "[0, inf)"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "initial_accumulator_value", "[0, inf)"),
    ("Adagrad", dict(eps=-1e-10), "eps", "[0, inf)"),
    ("RMSprop", dict(lr=-1.0), "lr", "[0, inf)"),
    ("RMSprop", dict(alpha=-0.1), "alpha", "[0, 1]"),
    ("RMSprop", dict(alpha=1.01), "alpha", "[0, 1]"),
    ("RMSprop", dict(eps=-1.0), "eps", "[0, inf)"),
    ("RMSprop", dict(weight_decay=-1.0), "weight_decay", "[0, inf)"),
    ("RMSprop", dict(momentum=-0.1), "momentum", "[0, 1]"),
    ("RMSprop", dict(momentum=2.0), "momentum", "[0, 1]"),
    ("Adam", dict(lr=-1e-3), "lr", "[0, inf)"),
    ("Adam", dict(betas=(1.0, 0.999)), "betas[0]", "[0, 1)"),
    ("Adam", dict(betas=(-0.1, 0.999)), "betas[0]", "[0, 1)"),
    ("Adam", dict(betas=(0.9, 1.0)), "betas[1]", "[0, 1)"),
    ("Adam", dict(betas=(0.9, -0.5)), "betas[1]", "[0, 1)"),
    ("Adam", dict(betas=(0.9,)), "betas", "pair (beta1, beta2)"),
    ("Adam", dict(betas=0.9), "betas", "pair (beta1, beta2)"),
    ("Adam", dict(eps=-1e-8), "eps", "[0, inf)"),
    ("Adam", dict(weight_decay=-0.01), "weight_decay", "[0, inf)"),
    ("AdamW", dict(lr=-1e-3), "lr", "[0, inf)"),
    ("AdamW", dict(betas=(0.9, 1.5)), "betas[1]", "[0, 1)"),
    ("AdamW", dict(eps=-1.0), "eps", "[0, inf)"),
    ("AdamW", dict(weight_decay=-0.01), "weight_decay", "[0, inf)"),
    ("NAdam", dict(lr=-1e-3), "lr", "[0, inf)"),
    ("NAdam", dict(betas=(1.2, 0.999)), "betas[0]", "[0, 1)"),
    ("NAdam", dict(betas=(0.9, 1.0)), "betas[1]", "[0, 1)"),
    ("NAdam", dict(eps=-1.0), "eps", "[0, inf)"),
    ("NAdam", dict(weight_decay=-1.0), "weight_decay", "[0, inf)"),
    ("NAdam", dict(momentum_decay=-4e-3), "momentum_decay", "[0, inf)"),
    ("Adamax", dict(lr=-1.0), "lr", "[0, inf)"),
    ("Adamax", dict(betas=(1.0, 0.999)), "betas[0]", "[0, 1)"),
    ("Adamax", dict(betas=(0.9, 1.0)), "betas[1]", "[0, 1)"),
    ("Adamax", dict(eps=-1.0), "eps", "[0, inf)"),
    ("Adamax", dict(weight_decay=-1.0), "weight_decay", "[0, inf)"),
    ("Adadelta", dict(lr=-1.0), "lr", "[0, inf)"),
    ("Adadelta", dict(rho=-0.1), "rho", "[0, 1]"),
    ("Adadelta", dict(rho=1.1), "rho", "[0, 1]"),
    ("Adadelta", dict(eps=-1.0), "eps", "[0, inf)"),
    ("Adadelta", dict(weight_decay=-1.0), "weight_decay", "[0, inf)"),
]


@pytest.mark.parametrize(
    ("name", "options", "parameter", "allowed"),
    INVALID,
    ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o, _, _ in INVALID],
)
def test_invalid_hyperparameters_raise_value_error(name, options, parameter, allowed):
    pattern = f"Invalid {re.escape(parameter)}.*{re.escape(allowed)}"
    with pytest.raises(ValueError, match=pattern):
        getattr(optim, name)([torch.zeros(2, requires_grad=True)], **options)
    # The same setting given to one param group only is caught too.
    with pytest.raises(ValueError, match=pattern):
        getattr(optim, name)([{"params": [torch.zeros(2, requires_grad=True)], **options}])


def test_invalid_group_added_later_is_rejected_and_not_added():
    opt = optim.Adam([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=re.escape("Invalid betas[0]: 1.5")):
        opt.add_param_group({"params": [torch.zeros(3, requires_grad=True)], "betas": (1.5, 0.9)})
    assert len(opt.param_groups) == 1


def test_every_invalid_range_is_covered():
    # Each hyperparameter that _check_hyperparameters validates appears in INVALID.
    checked = {(n, p.split("[")[0]) for n, _, p, _ in INVALID}
    for name in NAMES:
        source = inspect.getsource(getattr(optim, name)._check_hyperparameters)
        names = set(re.findall(r'group\["(\w+)"\]', source))  # AdamW: Adam's checks
        assert names <= {p for n, p in checked if n == name}, name


# ---------------------------------------------------------------------------------------------
# Drop-in replacement: same constructor as torch.optim, documented
# ---------------------------------------------------------------------------------------------

TORCH_ONLY = {"foreach", "fused", "capturable", "differentiable"}


@pytest.mark.parametrize("name", NAMES)
def test_constructor_mirrors_torch(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert set(theirs) - set(ours) <= TORCH_ONLY
    assert set(ours) <= set(theirs)
    for parameter in ours.values():
        assert parameter.default == theirs[parameter.name].default, parameter.name
    positional = [n for n, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == [n for n in theirs if n in positional]
    assert positional == list(theirs)[: len(positional)]


def test_public_api_is_documented():
    assert set(NAMES) <= set(optim.__all__)  # and the newer optimizers, tested elsewhere
    for name in optim.__all__:
        doc = getattr(optim, name).__doc__
        for section in ("Parameters", "Notes", "References"):
            assert section in doc, (name, section)
        assert issubclass(getattr(optim, name), torch.optim.Optimizer)
