"""Tests of helpers.models.mlp: the initialization PyTorch gives, from a generator of its own."""

from __future__ import annotations

import itertools

import pytest
import torch

from helpers.models import mlp


def seeded_torch_mlp(sizes, activation, seed):
    """The network a chapter used to build: seed the global generator, then the layers."""
    torch.manual_seed(seed)
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(fan_in, fan_out), activation()]
    return torch.nn.Sequential(*layers[:-1])


@pytest.mark.parametrize("seed", [0, 1, 12345])
@pytest.mark.parametrize(
    ("sizes", "activation"),
    [([2, 16, 16, 2], torch.nn.Tanh), ([64, 32, 10], torch.nn.ReLU), ([1, 1], torch.nn.ReLU)],
)
def test_mlp_equals_the_network_built_after_manual_seed(sizes, activation, seed):
    ours = mlp(sizes, activation, seed=seed)
    theirs = seeded_torch_mlp(sizes, activation, seed)
    assert str(ours) == str(theirs)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert torch.equal(p, q), name
        assert p.requires_grad


def test_mlp_leaves_the_global_random_state_alone():
    state = torch.random.get_rng_state()
    first, second = mlp([3, 4, 2], seed=5), mlp([3, 4, 2], seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(
        torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True)
    )


def test_a_generator_advances_so_two_networks_from_it_differ():
    generator = torch.Generator().manual_seed(0)
    first, second = mlp([3, 4], generator=generator), mlp([3, 4], generator=generator)
    assert not torch.equal(first[0].weight, second[0].weight)
    assert torch.equal(first[0].weight, mlp([3, 4], seed=0)[0].weight)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sizes": [3]}, "sizes"),
        ({"sizes": "34"}, "sizes"),
        ({"sizes": [3, 0]}, r"sizes\[1\]"),
        ({"sizes": [3, 2.5]}, r"sizes\[1\]"),
        ({"sizes": [3, 2], "activation": torch.tanh}, "activation"),
        ({"sizes": [3, 2], "seed": -1}, "seed"),
        ({"sizes": [3, 2], "generator": 3}, "generator"),
        ({"sizes": [3, 2], "seed": 0, "generator": torch.Generator()}, "seed and generator"),
        ({"sizes": [3, 2]}, "seed and generator"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp(**kwargs)
