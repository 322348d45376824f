"""Tests of helpers.objectives: values, minima, gradients and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.objectives import Objective, parabola, quadratic, rosenbrock, saddle

WITH_MINIMA = [
    parabola(),
    parabola(3.0),
    quadratic(),
    quadratic(2.0, 50.0),
    rosenbrock(),
    rosenbrock(2.0, 10.0),
]


@pytest.mark.parametrize("objective", WITH_MINIMA, ids=lambda o: o.name)
def test_minima_have_the_stated_value_and_zero_gradient(objective):
    for minimum in objective.minima:
        point = torch.tensor(minimum, dtype=torch.float64)
        assert objective(point).item() == pytest.approx(objective.min_value, abs=1e-9)
        assert np.allclose(objective.gradient(minimum), 0.0, atol=1e-4)


@pytest.mark.parametrize("objective", WITH_MINIMA, ids=lambda o: o.name)
def test_minima_are_lower_than_random_points_in_the_window(objective):
    rng = np.random.default_rng(0)
    lows = np.array([objective.xlim[0], objective.ylim[0]][: objective.dim])
    highs = np.array([objective.xlim[1], objective.ylim[1]][: objective.dim])
    points = rng.uniform(lows, highs, size=(500, objective.dim))
    assert np.all(objective(points) >= objective.min_value - 1e-9)


def test_numpy_and_torch_evaluations_agree():
    f = rosenbrock()
    points = np.array([[0.0, 0.0], [-1.5, 2.0], [1.0, 1.0]])
    assert np.allclose(f(points), f(torch.tensor(points)).numpy())
    assert f(points).tolist() == [1.0, 2.5**2 + 100 * 0.25**2, 0.0]


def test_gradient_matches_the_formula():
    f = quadratic(mu=1.0, L=10.0)
    assert np.allclose(f.gradient([2.0, -1.0]), [2.0, -10.0])
    assert np.allclose(rosenbrock().gradient([0.0, 0.0]), [-2.0, 0.0])


def test_saddle_has_no_minimum_and_zero_gradient_at_origin():
    f = saddle()
    assert f.minima == () and f.min_value == -np.inf
    assert np.allclose(f.gradient([0.0, 0.0]), 0.0)


def test_grid_covers_the_window():
    X, Y, Z = quadratic().grid(num=11)
    assert X.shape == Y.shape == Z.shape == (11, 11)
    assert (X.min(), X.max()) == quadratic().xlim and (Y.min(), Y.max()) == quadratic().ylim
    with pytest.raises(ValueError, match="2-D"):
        parabola().grid()


def test_distance_to_nearest_minimum():
    two_wells = Objective(
        name="two wells",
        formula=lambda x, y: (x**2 - 9) ** 2 + (y - 2) ** 2,
        dim=2,
        minima=((3.0, 2.0), (-3.0, 2.0)),
        min_value=0.0,
        xlim=(-5.0, 5.0),
        ylim=(-5.0, 5.0),
    )
    distances = two_wells.distance_to_minimum(np.array([[3.0, 2.0], [3.0, 3.0], [-2.0, 2.0]]))
    assert distances == pytest.approx([0.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("factory", "kwargs", "name"),
    [
        (parabola, {"a": 0.0}, "a"),
        (quadratic, {"mu": -1.0}, "mu"),
        (quadratic, {"mu": 2.0, "L": 1.0}, "L"),
        (rosenbrock, {"b": 0.0}, "b"),
    ],
)
def test_invalid_parameters_raise(factory, kwargs, name):
    with pytest.raises(ValueError, match=name):
        factory(**kwargs)


def test_wrong_point_shape_raises():
    with pytest.raises(ValueError, match="2 coordinate"):
        rosenbrock()(torch.zeros(3))


def test_random_start_is_uniform_in_its_square_and_seeded():
    from helpers.objectives import random_start

    starts = torch.stack([random_start(seed, center=[-1.5, -1.0]) for seed in range(200)])
    assert starts.dtype == torch.float64 and starts.shape == (200, 2)
    assert (starts[:, 0] >= -2).all() and (starts[:, 0] <= -1).all()
    assert (starts[:, 1] >= -1.5).all() and (starts[:, 1] <= -0.5).all()
    assert torch.equal(random_start(7, [0.0, 0.0]), random_start(7, [0.0, 0.0]))
    assert not torch.equal(random_start(7, [0.0, 0.0]), random_start(8, [0.0, 0.0]))
    assert random_start(1, [0.0], width=4.0).abs().item() <= 2.0
