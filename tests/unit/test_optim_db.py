"""Every helpers.optim class against its torch.optim peer, on torch's own test inputs.

``torch.testing._internal.common_optimizers.optim_db`` is the table that torch's own optimizer
tests run on: for each optimizer, a list of hyperparameter settings (``optim_inputs_func``) and
a list of invalid inputs with the exception each must raise (``optim_error_inputs_func``). Here
every setting, minus torch's implementation switches (``foreach``, ``fused``, ``capturable``,
``differentiable``), trains the same parameters with both classes, in float32 and float64, and
every invalid input must raise the same exception type (or warning) from both. The messages may
differ: ours name the parameter in the course's words.

A new helpers.optim class with a torch.optim peer is added to ``PEERS``.
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

from helpers import optim

#: helpers.optim class for each torch.optim class of the same name.
PEERS = {
    "Adadelta": optim.Adadelta,
    "Adagrad": optim.Adagrad,
    "Adam": optim.Adam,
    "AdamW": optim.AdamW,
    "Adamax": optim.Adamax,
    "NAdam": optim.NAdam,
    "RAdam": optim.RAdam,
    "RMSprop": optim.RMSprop,
    "SGD": optim.SGD,
    "Muon": optim.Muon,
    "Adafactor": optim.Adafactor,
}

#: Optimizers that update only matrices (2-D parameters).
MATRIX_ONLY = {"Muon"}

SWITCHES = {"foreach", "fused", "capturable", "differentiable"}
STEPS = 50
#: Agreement after STEPS steps, fitted to the dtype: rounding, not bit-identity.
TOLERANCE = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.float64: {"rtol": 1e-12, "atol": 1e-14},
}

INFOS = {info.optim_cls.__name__: info for info in optim_db if info.optim_cls.__name__ in PEERS}


def _settings(name: str) -> list:
    inputs = INFOS[name].optim_inputs_func(device="cpu", dtype=torch.float64)
    return [i for i in inputs if not SWITCHES & set(i.kwargs)]


def _error_inputs(name: str) -> list:
    errors = INFOS[name].optim_error_inputs_func(device="cpu", dtype=torch.float32)
    return [e for e in errors if not SWITCHES & set(e.optimizer_error_input.kwargs)]


CASES = [(name, s.desc) for name in PEERS for s in _settings(name)]
ERROR_CASES = [(name, k) for name in PEERS for k in range(len(_error_inputs(name)))]


def _parameters(name: str, dtype: torch.dtype) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(6, 4, dtype=dtype, generator=generator)
    bias = torch.randn(6, dtype=dtype, generator=generator)
    params = [weight] if name in MATRIX_ONLY else [weight, bias]
    return [p.requires_grad_() for p in params]


def _loss(params: list[torch.Tensor], step: int) -> torch.Tensor:
    """A smooth non-quadratic loss whose inputs change from step to step."""
    generator = torch.Generator().manual_seed(100 + step)
    x = torch.randn(8, 4, dtype=params[0].dtype, generator=generator)
    out = x @ params[0].T
    if len(params) > 1:
        out = out + params[1]
    return (out.tanh() - 0.5).pow(2).sum()


def _train(cls, name: str, kwargs: dict, dtype: torch.dtype) -> list[torch.Tensor]:
    params = _parameters(name, dtype)
    opt = cls(params, **copy.deepcopy(kwargs))
    for step in range(STEPS):
        opt.zero_grad()
        _loss(params, step).backward()
        opt.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "desc"), CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_trains_like_torch_on_optim_db_settings(name, desc, dtype):
    setting = next(s for s in _settings(name) if s.desc == desc)
    kwargs = {
        k: v.to(dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
        for k, v in setting.kwargs.items()
    }
    ours = _train(PEERS[name], name, kwargs, dtype)
    theirs = _train(INFOS[name].optim_cls, name, kwargs, dtype)
    # torch keeps NAdam's product of momentum coefficients in the *default* dtype (float32)
    precision = torch.get_default_dtype() if name == "NAdam" else dtype
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, **TOLERANCE[precision])


def _raises_like_torch(error_input, make) -> None:
    error_type = error_input.error_type
    if issubclass(error_type, Warning):
        with pytest.warns(error_type):
            make()
    else:
        with pytest.raises(error_type):
            make()


@pytest.mark.parametrize(("name", "index"), ERROR_CASES, ids=[f"{n}-{k}" for n, k in ERROR_CASES])
def test_invalid_input_raises_what_torch_raises(name, index):
    error_input = _error_inputs(name)[index]
    given = error_input.optimizer_error_input
    cls = PEERS[name]

    def construct():
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            return cls(copy.copy(given.params), **copy.deepcopy(given.kwargs))

    if error_input.error_on == OptimizerErrorEnum.CONSTRUCTION_ERROR:
        _raises_like_torch(error_input, construct)
    else:
        opt = construct()
        _raises_like_torch(error_input, opt.step)


def test_every_peer_is_in_optim_db():
    assert set(INFOS) == set(PEERS)
