"""The optimizers of the chapter *Optimizers of the last five years* against their references.

- ``Lion`` against ``lion_pytorch.Lion``; ``ScheduleFreeAdamW`` against
  ``schedulefree.AdamWScheduleFree`` (both its code paths), including its ``train()`` /
  ``eval()`` switch; ``Muon`` and ``Adafactor`` against ``torch.optim`` (the optim_db settings
  are in ``test_optim_db.py``; here 200 steps, two param groups).
- ``SAM`` against ``pytorch_optimizer.SAM``, which follows the paper's formula but computes the
  gradient norm in float32 whatever the parameters' dtype: in float64 the two agree to about
  1e-7 only. So float64 is checked at 1e-12 against a quadratic whose SAM path is known in
  closed form.
- The ``torch.optim.Optimizer`` contract: state dicts, param groups, lr schedulers, and a
  ``ValueError`` that names the hyperparameter.
"""

import copy
import inspect
import math
import re

import lion_pytorch
import numpy as np
import pytest
import pytorch_optimizer
import schedulefree
import torch
from torch.optim._muon import _zeropower_via_newtonschulz

from helpers import optim
from helpers.models import mlp
from helpers.objectives import parabola
from helpers.optim.muon import newton_schulz
from helpers.optim.sam import sharpness
from helpers.training import fit, run_optimizer

STEPS = 200
DTYPES = [torch.float32, torch.float64]
TOLERANCE = {
    torch.float32: dict(rtol=1e-5, atol=1e-6),
    torch.float64: dict(rtol=1e-12, atol=1e-14),
}

# ---------------------------------------------------------------------------------------------
# Each class, its reference, and settings to run both on
# ---------------------------------------------------------------------------------------------


def _sam_reference(params, **options):
    return pytorch_optimizer.SAM(params, foreach=False, **options)


REFERENCES = {
    "Lion": lion_pytorch.Lion,
    "ScheduleFreeAdamW": lambda params, **o: schedulefree.AdamWScheduleFree(
        params, foreach=False, **o
    ),
    "ScheduleFreeAdamW-foreach": lambda params, **o: schedulefree.AdamWScheduleFree(
        params, foreach=True, **o
    ),
    "Muon": torch.optim.Muon,
    "Adafactor": lambda params, **o: torch.optim.Adafactor(params, foreach=False, **o),
    "SAM": _sam_reference,
}
OURS = {
    "Lion": optim.Lion,
    "ScheduleFreeAdamW": optim.ScheduleFreeAdamW,
    "ScheduleFreeAdamW-foreach": optim.ScheduleFreeAdamW,
    "Muon": optim.Muon,
    "Adafactor": optim.Adafactor,
    "SAM": optim.SAM,
}
CONFIGS = {
    "Lion": {
        "plain": dict(lr=1e-3),
        "betas": dict(lr=1e-3, betas=(0.8, 0.95)),
        "weight_decay": dict(lr=1e-3, weight_decay=0.5),
        "decoupled": dict(lr=1e-3, weight_decay=1e-3, decoupled_weight_decay=True),
    },
    "ScheduleFreeAdamW": {
        "plain": dict(lr=0.01),
        "weight_decay": dict(lr=0.01, weight_decay=0.1),
        "warmup": dict(lr=0.01, warmup_steps=30),
        "r": dict(lr=0.01, r=1.0, warmup_steps=10, weight_lr_power=1.0),
        "betas": dict(lr=0.01, betas=(0.5, 0.99), eps=1e-6),
    },
    "Muon": {
        "plain": dict(lr=0.02),
        "no_nesterov": dict(lr=0.02, nesterov=False, momentum=0.9),
        "match_rms_adamw": dict(lr=0.01, adjust_lr_fn="match_rms_adamw", weight_decay=0.0),
        "ns": dict(lr=0.02, ns_steps=3, ns_coefficients=(1.5, -0.5, 0.0)),
    },
    "Adafactor": {
        "plain": dict(),
        "weight_decay": dict(lr=0.02, weight_decay=0.1),
        "maximize": dict(maximize=True),
        "eps": dict(eps=(1e-3, 1e-2), d=1.5, beta2_decay=-0.5),
    },
    "SAM": {
        "sgd": dict(base_optimizer=torch.optim.SGD, lr=0.05, momentum=0.9),
        "adam": dict(base_optimizer=torch.optim.Adam, lr=0.01, rho=0.1),
        "adaptive": dict(base_optimizer=torch.optim.SGD, lr=0.05, adaptive=True, rho=0.5),
    },
}
CONFIGS["ScheduleFreeAdamW-foreach"] = CONFIGS["ScheduleFreeAdamW"]
#: Settings of the second param group (checks per-group hyperparameters).
SECOND_GROUP = {
    "Lion": dict(lr=3e-4, betas=(0.95, 0.98)),
    "ScheduleFreeAdamW": dict(lr=0.005, weight_decay=0.01),
    "ScheduleFreeAdamW-foreach": dict(lr=0.005, weight_decay=0.01),
    "Muon": dict(lr=0.01, momentum=0.8),
    "Adafactor": dict(lr=0.005, d=2.0),
    "SAM": dict(lr=0.02, rho=0.02),
}
GRID = [(name, config) for name in CONFIGS for config in CONFIGS[name]]


def _params(dtype: torch.dtype, name: str) -> list[torch.Tensor]:
    """A matrix and a second tensor (a matrix for Muon, a vector otherwise)."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(6, 4, dtype=dtype, generator=generator)
    other = torch.randn((3, 6) if name == "Muon" else (3,), dtype=dtype, generator=generator)
    return [weight.requires_grad_(), other.requires_grad_()]


def _loss(params: list[torch.Tensor], step: int) -> torch.Tensor:
    """A smooth non-convex loss whose data change from step to step."""
    weight, other = params
    generator = torch.Generator().manual_seed(100 + step)
    x = torch.randn(8, 4, dtype=weight.dtype, generator=generator)
    hidden = (x @ weight.T).tanh()
    out = hidden @ other.T if other.ndim == 2 else hidden[:, :3] * other
    return (out - 0.5).pow(2).mean()


def _make(name: str, params, options: dict, reference: bool):
    groups = [{"params": [params[0]]}, {"params": [params[1]], **SECOND_GROUP[name]}]
    cls = REFERENCES[name] if reference else OURS[name]
    opt = cls(groups, **copy.deepcopy(options))
    if name.startswith("ScheduleFree"):
        opt.train()
    return opt


def _step(opt, params, step: int) -> None:
    def closure():
        opt.zero_grad()
        loss = _loss(params, step)
        loss.backward()
        return loss

    closure()
    if isinstance(opt, optim.SAM | pytorch_optimizer.SAM):
        opt.step(closure)
    else:
        opt.step()


def _run(name, config, dtype, reference, steps=STEPS, evaluate_every=None):
    params = _params(dtype, name)
    opt = _make(name, params, CONFIGS[name][config], reference)
    seen = []
    for step in range(steps):
        _step(opt, params, step)
        if evaluate_every and (step + 1) % evaluate_every == 0:
            opt.eval()  # the parameters hold the average x now
            seen.append([p.detach().clone() for p in params])
            opt.train()
    return [p.detach() for p in params], seen


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize(("name", "config"), GRID, ids=[f"{n}-{c}" for n, c in GRID])
def test_200_steps_equal_the_reference(name, config, dtype):
    if name == "SAM" and dtype == torch.float64:
        pytest.skip("pytorch_optimizer.SAM computes the norm in float32: see the quadratic test")
    ours, _ = _run(name, config, dtype, reference=False)
    theirs, _ = _run(name, config, dtype, reference=True)
    assert any(not torch.equal(p, q) for p, q in zip(ours, _params(dtype, name), strict=True))
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, **TOLERANCE[dtype])


@pytest.mark.parametrize("config", list(CONFIGS["SAM"]))
def test_sam_float64_agrees_with_pytorch_optimizer_to_its_float32_norm(config):
    ours, _ = _run("SAM", config, torch.float64, reference=False)
    theirs, _ = _run("SAM", config, torch.float64, reference=True)
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["ScheduleFreeAdamW", "ScheduleFreeAdamW-foreach"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_schedule_free_eval_moves_to_the_average_like_the_reference(name, dtype):
    ours, ours_seen = _run(name, "warmup", dtype, reference=False, evaluate_every=25)
    theirs, theirs_seen = _run(name, "warmup", dtype, reference=True, evaluate_every=25)
    assert len(ours_seen) == STEPS // 25
    for mine, reference in zip([*ours_seen, ours], [*theirs_seen, theirs], strict=True):
        for p, q in zip(mine, reference, strict=True):
            torch.testing.assert_close(p, q, **TOLERANCE[dtype])


def test_schedule_free_eval_gives_the_average_of_z_with_constant_lr():
    # With constant lr and r = 0, c_{t+1} = 1/t: x_{t+1} is the mean of z_2, ..., z_{t+1}.
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.ScheduleFreeAdamW([p], lr=0.1, betas=(0.9, 0.999))
    opt.train()
    zs = [p.detach().clone()]
    for _ in range(20):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        zs.append(opt.state[p]["z"].clone())
    y = p.detach().clone()
    opt.eval()
    x = p.detach().clone()
    torch.testing.assert_close(x, torch.stack(zs[1:]).mean(0), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(y, 0.1 * zs[-1] + 0.9 * x, rtol=1e-12, atol=1e-14)
    opt.eval()  # a second eval() changes nothing
    torch.testing.assert_close(p.detach(), x, rtol=0, atol=0)


def test_schedule_free_step_outside_train_mode_raises():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match="train"):
        optim.ScheduleFreeAdamW([p]).step()


# ---------------------------------------------------------------------------------------------
# SAM on a quadratic, in closed form
# ---------------------------------------------------------------------------------------------


def test_sam_with_sgd_follows_the_closed_form_path_on_a_quadratic():
    # f(w) = 1/2 w^T A w, started on an eigenvector v of A (eigenvalue lam), w = c v with c > 0:
    # e = rho v, so c <- c - lr lam (c + rho), that is c_t + rho = (1 - lr lam)^t (c_0 + rho).
    A = torch.diag(torch.tensor([4.0, 1.0, 0.5], dtype=torch.float64))
    lam, lr, rho, c0 = 4.0, 0.05, 0.1, 3.0
    w = torch.tensor([c0, 0.0, 0.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SAM([w], torch.optim.SGD, rho=rho, perturb_eps=0.0, lr=lr)

    def closure():
        opt.zero_grad()
        loss = 0.5 * w @ A @ w
        loss.backward()
        return loss

    for t in range(1, 16):
        closure()
        opt.step(closure)
        expected = (1 - lr * lam) ** t * (c0 + rho) - rho
        assert expected > 0
        torch.testing.assert_close(
            w.detach(), torch.tensor([expected, 0.0, 0.0], dtype=torch.float64), rtol=1e-12, atol=0
        )


def test_run_optimizer_gives_sam_its_closure_and_follows_the_closed_form_path():
    # the path above in one dimension, f(w) = 2 w^2 (lam = 4), through run_optimizer
    lam, lr, rho, c0 = 4.0, 0.05, 0.1, 3.0
    path = run_optimizer(
        parabola(lam / 2),
        [c0],
        optim.SAM,
        15,
        base_optimizer=torch.optim.SGD,
        rho=rho,
        perturb_eps=0.0,
        lr=lr,
    )
    expected = (1 - lr * lam) ** np.arange(16) * (c0 + rho) - rho
    np.testing.assert_allclose(path.points[:, 0], expected, rtol=1e-12, atol=0)


def test_fit_gives_sam_its_closure_on_the_same_mini_batch():
    # fit's SAM steps equal a hand-written loop of opt.step(closure) over the same batches
    X, y = torch.randn(40, 3, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 2
    batches = [(X[:20], y[:20]), (X[20:], y[20:])]
    loss_fn = torch.nn.CrossEntropyLoss()

    def sam(net):
        return optim.SAM(net.parameters(), torch.optim.SGD, rho=0.2, lr=0.1, momentum=0.9)

    by_hand, by_fit = mlp((3, 8, 2), seed=0), mlp((3, 8, 2), seed=0)
    opt, losses = sam(by_hand), []
    for _ in range(3):
        for Xb, yb in batches:

            def closure(Xb=Xb, yb=yb):
                opt.zero_grad()
                loss = loss_fn(by_hand(Xb), yb)
                loss.backward()
                return loss

            losses.append(closure().item())
            opt.step(closure)
    history = fit(by_fit, loss_fn, sam(by_fit), batches, num_epochs=3)
    np.testing.assert_allclose(history.batch_loss, losses, rtol=0, atol=0)
    for a, b in zip(by_hand.parameters(), by_fit.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_sam_perturbation_is_rho_times_the_unit_gradient_over_all_groups():
    a = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.0, 4.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SAM([{"params": [a]}, {"params": [b]}], torch.optim.SGD, rho=0.5, lr=0.1)
    a.grad, b.grad = torch.tensor([3.0], dtype=torch.float64), torch.tensor([0.0, 4.0]).double()
    opt.first_step()
    torch.testing.assert_close(a.detach(), torch.tensor([3.3], dtype=torch.float64))
    torch.testing.assert_close(b.detach(), torch.tensor([0.0, 4.4], dtype=torch.float64))
    opt.second_step()  # back to the start, then SGD with the (unchanged) gradient
    torch.testing.assert_close(a.detach(), torch.tensor([2.7], dtype=torch.float64))


def test_sam_step_needs_a_closure():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="closure"):
        optim.SAM([p], torch.optim.SGD, lr=0.1).step()


# ---------------------------------------------------------------------------------------------
# Newton–Schulz and the sharpness
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5)])
def test_newton_schulz_is_torchs_and_orthogonalizes(shape):
    G = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    ours = newton_schulz(G)
    theirs = _zeropower_via_newtonschulz(G, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    assert ours.dtype == torch.bfloat16 and ours.shape == G.shape
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    singular = torch.linalg.svdvals(newton_schulz(G, dtype=torch.float64))
    assert singular.min() > 0.6 and singular.max() < 1.25
    cubic = newton_schulz(G.double(), 60, (1.5, -0.5, 0.0), dtype=torch.float64)
    torch.testing.assert_close(torch.linalg.svdvals(cubic), torch.ones(min(shape)).double())
    U, _, Vh = torch.linalg.svd(G.double(), full_matrices=False)
    torch.testing.assert_close(cubic, U @ Vh)


def test_sharpness_is_the_top_eigenvalue_of_a_quadratic_loss():
    torch.manual_seed(0)
    X, y = torch.randn(20, 3, dtype=torch.float64), torch.randn(20, 1, dtype=torch.float64)
    model = torch.nn.Linear(3, 1, bias=False).double()
    hessian = 2 * X.T @ X / 20  # mean squared error: H = 2 X^T X / n
    top = torch.linalg.eigvalsh(hessian).max().item()
    assert sharpness(model, torch.nn.functional.mse_loss, X, y, num_iters=100) == pytest.approx(
        top, rel=1e-8
    )


# ---------------------------------------------------------------------------------------------
# The Optimizer contract
# ---------------------------------------------------------------------------------------------

CONTRACT = ["Lion", "ScheduleFreeAdamW", "Muon", "Adafactor", "SAM"]


@pytest.mark.parametrize("name", CONTRACT)
def test_state_dict_round_trip_mid_run_continues_identically(name):
    config = next(iter(CONFIGS[name]))
    params = _params(torch.float64, name)
    opt = _make(name, params, CONFIGS[name][config], reference=False)
    for step in range(10):
        _step(opt, params, step)
    saved = copy.deepcopy(opt.state_dict())
    twins = [p.detach().clone().requires_grad_() for p in params]
    twin = _make(name, twins, CONFIGS[name][config], reference=False)
    twin.load_state_dict(saved)
    for step in range(10, 20):
        _step(opt, params, step)
        _step(twin, twins, step)
    for p, q in zip(params, twins, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["Muon", "Adafactor"])
def test_state_dicts_are_interchangeable_with_torch(name):
    params = _params(torch.float64, name)
    config = CONFIGS[name]["plain"]
    theirs = _make(name, params, config, reference=True)
    for step in range(5):
        _step(theirs, params, step)
    twins = [p.detach().clone().requires_grad_() for p in params]
    ours = _make(name, twins, config, reference=False)
    ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
    for step in range(5, 15):
        _step(theirs, params, step)
        _step(ours, twins, step)
    for p, q in zip(params, twins, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("name", CONTRACT)
def test_a_torch_lr_scheduler_drives_it_as_it_drives_the_reference(name):
    config = next(iter(CONFIGS[name]))
    finals, lrs = [], []
    for reference in (False, True):
        params = _params(torch.float64, name)
        opt = _make(name, params, CONFIGS[name][config], reference)
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        for step in range(40):
            _step(opt, params, step)
            scheduler.step()
        finals.append([p.detach() for p in params])
        lrs.append([group["lr"] for group in opt.param_groups])
    assert lrs[0] == lrs[1] and lrs[0][0] == CONFIGS[name][config].get("lr", 1e-2) / 16
    tolerance = dict(rtol=1e-6, atol=1e-8) if name == "SAM" else TOLERANCE[torch.float64]
    for mine, reference in zip(*finals, strict=True):
        torch.testing.assert_close(mine, reference, **tolerance)


@pytest.mark.parametrize("name", CONTRACT)
def test_params_without_grad_are_skipped(name):
    params = _params(torch.float64, name)
    frozen = params[1].detach().clone()
    opt = _make(name, params, next(iter(CONFIGS[name].values())), reference=False)
    _loss(params, 0).backward()
    params[1].grad = None
    if name == "SAM":
        opt.first_step(zero_grad=True)
        _loss(params, 0).backward()
        params[1].grad = None
        opt.second_step()
    else:
        opt.step()
    torch.testing.assert_close(params[1].detach(), frozen, rtol=0, atol=0)
    assert "exp_avg" not in opt.state[params[1]] and "z" not in opt.state[params[1]]


INVALID = [
    ("Lion", dict(lr=0.0), "lr"),
    ("Lion", dict(lr=-1e-3), "lr"),
    ("Lion", dict(betas=(1.5, 0.9)), "betas[0]"),
    ("Lion", dict(betas=(0.9, -0.1)), "betas[1]"),
    ("Lion", dict(betas=0.9), "betas"),
    ("Lion", dict(weight_decay=-1.0), "weight_decay"),
    ("ScheduleFreeAdamW", dict(lr=-1.0), "lr"),
    ("ScheduleFreeAdamW", dict(betas=(1.0, 0.9)), "betas[0]"),
    ("ScheduleFreeAdamW", dict(betas=(0.0, 0.9)), "betas[0]"),
    ("ScheduleFreeAdamW", dict(eps=-1e-8), "eps"),
    ("ScheduleFreeAdamW", dict(weight_decay=-0.1), "weight_decay"),
    ("ScheduleFreeAdamW", dict(warmup_steps=-1), "warmup_steps"),
    ("ScheduleFreeAdamW", dict(r=-1.0), "r"),
    ("ScheduleFreeAdamW", dict(weight_lr_power=-2.0), "weight_lr_power"),
    ("Muon", dict(lr=-1.0), "lr"),
    ("Muon", dict(weight_decay=-0.1), "weight_decay"),
    ("Muon", dict(momentum=1.5), "momentum"),
    ("Muon", dict(ns_coefficients=(1.0, 2.0)), "ns_coefficients"),
    ("Muon", dict(ns_coefficients=(1.0, "b", 2.0)), "ns_coefficients[1]"),
    ("Muon", dict(eps=-1.0), "eps"),
    ("Muon", dict(ns_steps=100), "ns_steps"),
    ("Muon", dict(ns_steps=2.5), "ns_steps"),
    ("Muon", dict(adjust_lr_fn="rms"), "adjust_lr_fn"),
    ("Adafactor", dict(lr=-1.0), "lr"),
    ("Adafactor", dict(beta2_decay=0.5), "beta2_decay"),
    ("Adafactor", dict(eps=1e-3), "eps"),
    ("Adafactor", dict(eps=(-1.0, 1e-3)), "eps[0]"),
    ("Adafactor", dict(eps=(None, -1e-3)), "eps[1]"),
    ("Adafactor", dict(d=0.5), "d"),
    ("Adafactor", dict(weight_decay=-1.0), "weight_decay"),
    ("SAM", dict(base_optimizer=torch.optim.SGD, rho=-0.1, lr=0.1), "rho"),
    ("SAM", dict(base_optimizer=torch.optim.SGD, perturb_eps=-1.0, lr=0.1), "perturb_eps"),
    ("SAM", dict(base_optimizer="SGD", lr=0.1), "base_optimizer"),
]


@pytest.mark.parametrize(
    ("name", "options", "parameter"), INVALID, ids=[f"{n}-{p}-{o}" for n, o, p in INVALID]
)
def test_invalid_hyperparameters_raise_a_value_error_naming_them(name, options, parameter):
    with pytest.raises(ValueError, match=rf"Invalid {re.escape(parameter)}(?!\w)"):
        OURS[name](_params(torch.float32, name), **options)


def test_every_checked_hyperparameter_is_covered():
    for name in CONTRACT:
        source = inspect.getsource(OURS[name]._check_hyperparameters)
        checked = {p.split("[")[0] for n, _, p in INVALID if n == name}
        assert set(re.findall(r'group\["(\w+)"\]', source)) <= checked, name


def test_invalid_group_added_later_is_rejected_and_not_added():
    for name, options in [("Lion", dict(lr=-1.0)), ("Adafactor", dict(d=0.0))]:
        opt = OURS[name]([torch.zeros(2, 2, requires_grad=True)])
        with pytest.raises(ValueError, match="Invalid"):
            opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], **options})
        assert len(opt.param_groups) == 1


def test_muon_takes_matrices_only_also_in_groups_added_later():
    with pytest.raises(ValueError, match="Invalid params: Muon only supports 2D"):
        optim.Muon([torch.zeros(3, requires_grad=True)])
    opt = optim.Muon([torch.zeros(3, 2, requires_grad=True)])
    with pytest.raises(ValueError, match="2D"):
        opt.add_param_group({"params": [torch.zeros(2, 2, 2, requires_grad=True)]})
    assert len(opt.param_groups) == 1


def test_sam_shares_its_groups_and_state_with_the_base_optimizer():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = optim.SAM([a], torch.optim.SGD, lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [b], "rho": 0.2})
    assert opt.param_groups is opt.base_optimizer.param_groups
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["rho"] == 0.2
    with pytest.raises(ValueError, match="Invalid rho"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "rho": -1.0})


SIGNATURES = {
    "Lion": (lion_pytorch.Lion, {"use_triton"}),
    "ScheduleFreeAdamW": (schedulefree.AdamWScheduleFree, {"foreach"}),
    "Muon": (torch.optim.Muon, set()),
    "Adafactor": (torch.optim.Adafactor, {"foreach"}),
    "SAM": (pytorch_optimizer.SAM, {"use_gc", "foreach"}),
}


@pytest.mark.parametrize("name", CONTRACT)
def test_constructor_mirrors_the_reference(name):
    reference, not_offered = SIGNATURES[name]
    ours = inspect.signature(OURS[name]).parameters
    theirs = inspect.signature(reference).parameters
    assert set(theirs) - set(ours) == not_offered
    assert set(ours) <= set(theirs)
    for parameter in ours.values():
        assert parameter.default == theirs[parameter.name].default, parameter.name
    positional = [n for n, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == [n for n in theirs if n in positional]


@pytest.mark.parametrize("name", CONTRACT)
def test_documented(name):
    doc = OURS[name].__doc__
    for section in ("Parameters", "Notes", "References", "Methods"):
        assert section in doc, section
    chapter = (
        "Sharpness-aware minimization" if name == "SAM" else "Optimizers of the last five years"
    )
    assert f"Introduced in the chapter *{chapter}*" in inspect.getmodule(OURS[name]).__doc__


def test_lion_steps_are_plus_or_minus_lr():
    p = torch.randn(50, generator=torch.Generator().manual_seed(0), requires_grad=True)
    start = p.detach().clone()
    opt = optim.Lion([p], lr=0.01)
    (p.sin().sum()).backward()
    opt.step()
    torch.testing.assert_close((p.detach() - start).abs(), torch.full((50,), 0.01))
    assert math.isclose(
        opt.state[p]["exp_avg"].norm().item(), 0.01 * start.cos().norm().item(), rel_tol=1e-5
    )
