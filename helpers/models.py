"""Networks for the chapters' experiments, initialized from a seed of their own.

A chapter that compares optimizers over seeds builds one network per seed. Seeding PyTorch's
global generator for that (``torch.manual_seed(seed)`` before ``nn.Linear``) works, but it
changes every later random draw of the notebook. :func:`mlp` draws the same initial weights
from its own ``torch.Generator`` instead: ``mlp(sizes, seed=s)`` equals the network built
after ``torch.manual_seed(s)``, number for number (``tests/unit/test_models.py``), and leaves
the global random state alone.

Examples
--------
>>> import torch
>>> from helpers.models import mlp
>>> net = mlp([2, 16, 2], torch.nn.Tanh, seed=0)
>>> net
Sequential(
  (0): Linear(in_features=2, out_features=16, bias=True)
  (1): Tanh()
  (2): Linear(in_features=16, out_features=2, bias=True)
)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

from helpers import _checks as check

__all__ = ["mlp"]


def mlp(
    sizes: Sequence[int],
    activation: type[torch.nn.Module] = torch.nn.ReLU,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.nn.Sequential:
    """A fully connected network with PyTorch's default initialization, from its own generator.

    Introduced in the chapter *The learning rate*.

    Layer ``i`` maps ``sizes[i]`` numbers to ``sizes[i + 1]``; an ``activation`` follows every
    layer but the last. Each ``torch.nn.Linear`` is initialized as PyTorch initializes it
    (weights uniform in :math:`\\pm 1/\\sqrt{\\text{fan\\_in}}` through
    ``kaiming_uniform_(a=sqrt(5))``, biases uniform in the same range), layer by layer, weights
    before biases, with the numbers drawn from ``generator``. So ``mlp(sizes, seed=s)`` is the
    network that ``torch.manual_seed(s)`` followed by the same layers would build, and the
    global random state is not touched.

    Parameters
    ----------
    sizes : sequence of int
        Input width, hidden widths, output width: at least two entries, each >= 1.
    activation : type of torch.nn.Module, default torch.nn.ReLU
        The nonlinearity's class, e.g. ``torch.nn.Tanh``.
    seed : int, optional
        Seed of a new generator for the initial weights.
    generator : torch.Generator, optional
        The generator to draw the initial weights from (it advances). Give ``seed`` or
        ``generator``, exactly one of them.

    Returns
    -------
    torch.nn.Sequential
    """
    sizes = _check_sizes(sizes)
    if not (isinstance(activation, type) and issubclass(activation, torch.nn.Module)):
        raise check.ArgumentTypeError(
            f"Invalid activation: {check.short_repr(activation)}; give a torch.nn.Module class, "
            "such as torch.nn.ReLU"
        )
    generator = _generator(seed, generator)
    layers: list[torch.nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [_linear(fan_in, fan_out, generator), activation()]
    return torch.nn.Sequential(*layers[:-1])


def _linear(fan_in: int, fan_out: int, generator: torch.Generator) -> torch.nn.Linear:
    """``torch.nn.Linear(fan_in, fan_out)``, its default initialization drawn from generator."""
    layer = torch.nn.Linear(fan_in, fan_out, device="meta")  # no draws from the global generator
    # new CPU parameters, to initialize below (much cheaper than layer.to_empty(device="cpu"))
    layer.weight = torch.nn.Parameter(torch.empty(fan_out, fan_in))
    layer.bias = torch.nn.Parameter(torch.empty(fan_out))
    torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    bound = 1 / math.sqrt(fan_in)
    torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def _check_sizes(sizes) -> list[int]:
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise check.ArgumentTypeError(
            f"Invalid sizes: {check.short_repr(sizes)}; sizes must be a list of at least two "
            "layer widths"
        )
    return [
        check.check_int(f"sizes[{i}]", width, low=1, high=100_000) for i, width in enumerate(sizes)
    ]


def _generator(seed, generator) -> torch.Generator:
    if (seed is None) == (generator is None):
        raise ValueError("Invalid seed and generator: give exactly one of them")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise check.ArgumentTypeError(
            f"Invalid generator: {check.short_repr(generator)}; generator must be a "
            "torch.Generator"
        )
    if generator is not None:
        return generator
    check.check_int("seed", seed, low=0, high=2**63 - 1)
    return torch.Generator().manual_seed(seed)
