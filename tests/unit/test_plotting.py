"""Tests of helpers.plotting: every helper draws what it is given and returns its Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers.objectives import parabola, rosenbrock
from helpers.plotting import (
    COLORS,
    animate_paths,
    plot_contour,
    plot_losses,
    plot_path_1d,
    plot_paths,
    set_style,
)
from helpers.training import run_optimizer


@pytest.fixture(autouse=True)
def _close_figures():
    set_style()
    yield
    plt.close("all")


def test_palette_is_applied():
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == COLORS


def test_plot_paths_draws_each_path_and_labels_axes():
    f = rosenbrock()
    path = run_optimizer(f, [-1.5, 2.0], torch.optim.SGD, 20, lr=1e-3)
    ax = plot_paths(f, {"SGD": path, "by hand": path.points[:5]})
    labels = [line.get_label() for line in ax.get_lines()]
    assert "SGD" in labels and "by hand" in labels and "start" in labels
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    sgd_line = next(line for line in ax.get_lines() if line.get_label() == "SGD")
    assert np.allclose(sgd_line.get_xydata(), path.points)


def test_plot_losses_uses_log_scale_and_custom_x():
    ax = plot_losses(
        {"a": [1.0, 0.1, 0.01], "b": [1.0, 0.5, 0.2]}, x={"a": [0, 2, 4], "b": [0, 1, 2]}
    )
    assert ax.get_yscale() == "log"
    assert ax.get_lines()[0].get_xdata().tolist() == [0, 2, 4]
    assert ax.get_legend() is not None


def test_plot_contour_accepts_a_custom_window():
    ax = plot_contour(rosenbrock(), xlim=(0.0, 1.5), ylim=(0.0, 2.0))
    assert ax.get_xlim() == (0.0, 1.5) and ax.get_ylim() == (0.0, 2.0)


def test_plot_path_1d_needs_a_1d_objective():
    ax = plot_path_1d(parabola(), [4.0, 2.0, 1.0])
    assert ax.get_xlabel() == "$x$"
    with pytest.raises(ValueError, match="1-D"):
        plot_path_1d(rosenbrock(), [1.0])


def test_animation_renders_to_self_contained_html():
    f = rosenbrock()
    path = run_optimizer(f, [-1.5, 2.0], torch.optim.SGD, 10, lr=1e-3)
    animation = animate_paths(f, {"SGD": path}, num_frames=3)
    html = animation.to_jshtml()
    assert "<script" in html and "data:image/png;base64" in html
