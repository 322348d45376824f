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


# -- the recurring figures ------------------------------------------------------------------


def test_theory_and_measured_pairs_colours_lines_and_markers():
    from helpers.plotting import MARKERS, plot_theory_and_measured

    dense = np.linspace(0, 1, 50)
    ax = plot_theory_and_measured(
        {"theory a": (dense, dense**2), "theory b": (dense, dense)},
        {"measured a": ([0.5], [0.25]), "measured b": ([0.5], [0.5])},
        xlog=False,
        ylog=True,
        xlabel="x",
        ylabel="y",
        title="t",
    )
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["theory a"].get_color() == lines["measured a"].get_color() == COLORS[0]
    assert lines["theory b"].get_color() == lines["measured b"].get_color() == COLORS[1]
    assert lines["measured b"].get_linestyle() == "None"
    assert lines["measured b"].get_marker() == MARKERS[1]
    assert lines["theory a"].get_linestyle() == "-"
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    assert ax.get_title() == "t" and ax.get_legend() is not None
    with pytest.raises(ValueError, match="measured"):
        plot_theory_and_measured({}, {"m": ([1, 2], [1])})
    with pytest.raises(TypeError, match="theory"):
        plot_theory_and_measured({"t": [1, 2, 3]}, {})


def test_seed_band_shows_median_or_mean_and_the_spread():
    from helpers.plotting import plot_seed_band

    runs = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [6.0, 6.0, 6.0]])
    ax = plot_seed_band([0, 1, 2], runs, label="a")
    assert np.allclose(ax.get_lines()[0].get_ydata(), [2.0, 4.0, 6.0])  # the median
    band = ax.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].min(), 1.0) and np.isclose(band[:, 1].max(), 6.0)
    ax = plot_seed_band([0, 1, 2], runs, center="mean", band="std")
    assert np.allclose(ax.get_lines()[0].get_ydata(), runs.mean(axis=0))
    band = ax.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].max(), (runs.mean(axis=0) + runs.std(axis=0)).max())
    with pytest.raises(ValueError, match="values"):
        plot_seed_band([0, 1], runs)
    with pytest.raises(ValueError, match="center"):
        plot_seed_band([0, 1, 2], runs, center="mode")


def test_lr_sweep_draws_seeds_median_and_the_chosen_rate():
    from helpers.plotting import plot_lr_sweep

    lrs = [0.01, 0.1, 1.0]
    final = np.array([[1.0, 0.5, 2.0], [1.2, 0.4, 3.0], [0.9, 0.6, 9.0]])
    ax = plot_lr_sweep(lrs, final, seed_labels=["s0", "s1", "s2"], chosen=0.1)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"s0", "s1", "s2", "median of 3 seeds", "chosen learning rate"}
    assert np.allclose(lines["median of 3 seeds"].get_ydata(), [1.0, 0.5, 3.0])
    assert np.allclose(lines["chosen learning rate"].get_xdata(), [0.1, 0.1])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    ax = plot_lr_sweep(lrs, final, ylog=False)  # no seed labels: the range as a band
    assert len(ax.collections) == 1 and ax.get_yscale() == "linear"
    ax = plot_lr_sweep(lrs, final[0], label="one run")
    assert [line.get_label() for line in ax.get_lines()] == ["one run"]
    with pytest.raises(ValueError, match="lrs"):
        plot_lr_sweep([0.0, 0.1, 1.0], final)
    with pytest.raises(ValueError, match="seed_labels"):
        plot_lr_sweep(lrs, final, seed_labels=["s0"])
    with pytest.raises(ValueError, match="chosen"):
        plot_lr_sweep(lrs, final, chosen=-1.0)
