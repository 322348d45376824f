"""Tests of helpers.interactive: the slider figure holds one correct frame per combination."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers.interactive import MAX_FRAMES, Slider, SliderFigure, slider_figure
from helpers.objectives import parabola, quadratic
from helpers.training import run_optimizer

PARABOLA = replace(parabola(), ylim=(0.0, 170.0))
RAVINE = quadratic(2.0, 20.0)


def _gd_on_parabola(lr):
    return run_optimizer(PARABOLA, [5.0], torch.optim.SGD, num_steps=10, lr=lr)


def _heavy_ball(lr, beta, num_steps=20):
    lam, theta, v, path = np.array([2.0, 20.0]), np.array([5.0, 2.0]), np.zeros(2), []
    path.append(theta)
    for _ in range(num_steps):
        v = beta * v + lam * theta
        theta = theta - lr * v
        path.append(theta)
    return np.array(path)


def _frames_json(figure: SliderFigure) -> dict:
    match = re.search(
        r'<script type="application/json" class="onn-frames">(.*?)</script>', figure.html
    )
    return json.loads(match.group(1))


def test_one_frame_per_value_in_slider_order():
    lrs = [0.1, 0.5, 0.9, 1.1]
    figure = slider_figure(
        PARABOLA, _gd_on_parabola, {"lr": Slider("learning rate η", lrs)}, alt="GD on x²"
    )
    assert [f["values"]["lr"] for f in figure.frames] == lrs
    for frame, lr in zip(figure.frames, lrs, strict=True):
        expected = 5.0 * (1 - 2 * lr) ** np.arange(11)
        assert np.allclose(frame["trajectory"].points[:, 0], expected)
    data = _frames_json(figure)
    assert data["values"] == [["0.1", "0.5", "0.9", "1.1"]]
    assert len(data["frames"]) == 4
    # the frames differ: each learning rate draws its own path and loss curve
    assert len({frame[0] for frame in data["frames"]}) == 4
    # ... except the loss curves of 0.1 and 0.9, whose factors 1 - 2η have the same size
    losses = [frame[1] for frame in data["frames"]]
    assert losses[0] == losses[2] and len(set(losses)) == 3


def test_two_sliders_make_the_product_grid_first_slider_slowest():
    lrs, betas = [0.01, 0.02, 0.03], [0.0, 0.5]
    figure = slider_figure(
        RAVINE,
        _heavy_ball,
        {"lr": Slider("learning rate η", lrs), "beta": Slider("momentum β", betas)},
        alt="heavy ball on a ravine",
    )
    assert [tuple(f["values"].values()) for f in figure.frames] == [
        (lr, b) for lr in lrs for b in betas
    ]
    frame = figure.frames[3]  # lr 0.02, beta 0.5
    assert np.allclose(frame["trajectory"].points, _heavy_ball(0.02, 0.5))
    # losses of an array result come from the objective
    assert np.allclose(frame["trajectory"].losses, RAVINE(_heavy_ball(0.02, 0.5)))


def test_initial_frame_is_drawn_without_javascript():
    figure = slider_figure(
        PARABOLA,
        _gd_on_parabola,
        {"lr": Slider("learning rate η", [0.1, 0.5, 0.9], initial=0.9)},
        alt="GD on x²",
    )
    data = _frames_json(figure)
    initial_path, initial_loss, caption = data["frames"][2]
    assert f'class="onn-path" points="{initial_path}"' in figure.html
    assert f'class="onn-loss" points="{initial_loss}"' in figure.html
    assert caption in figure.html and "0.9" in caption
    assert 'value="2"' in figure.html  # the slider starts at 0.9


def test_sliders_are_labelled_and_the_figure_is_self_contained():
    figure = slider_figure(
        RAVINE,
        _heavy_ball,
        {"lr": Slider("learning rate η", [0.01, 0.02]), "beta": Slider("momentum β", [0, 0.9])},
        alt="heavy ball on a ravine",
    )
    html = figure.html
    inputs = re.findall(r'<input type="range" id="([\w-]+)"', html)
    assert len(inputs) == 2
    for input_id in inputs:
        assert f'<label for="{input_id}">' in html
        assert f'<output for="{input_id}">' in html
    assert 'aria-label="heavy ball on a ravine"' in html and 'role="img"' in html
    assert 'aria-live="polite"' in html
    # nothing is loaded from anywhere: no src, no href, no URL
    assert not re.search(r"\bsrc=|\bhref=|https?://", html)
    assert figure._repr_html_() == html and "heavy ball" in repr(figure)


def test_diverging_and_exact_runs_stay_drawable():
    figure = slider_figure(
        PARABOLA,
        lambda lr: run_optimizer(PARABOLA, [5.0], torch.optim.SGD, num_steps=60, lr=lr),
        {"lr": Slider("learning rate η", [0.5, 1.5])},
        alt="GD on x²",
    )
    exact, diverged = figure.frames
    assert exact["trajectory"].losses[1] == 0.0  # drawn on the bottom of the log axis
    assert diverged["trajectory"].diverged and "diverged" in diverged["caption"]
    for path, loss, _ in _frames_json(figure)["frames"]:
        assert path and loss and "nan" not in path + loss and "inf" not in path + loss


def test_the_ids_are_deterministic_and_differ_between_figures():
    def make(lrs):
        return slider_figure(
            PARABOLA, _gd_on_parabola, {"lr": Slider("learning rate η", lrs)}, alt="GD"
        )

    assert make([0.1, 0.2]).html == make([0.1, 0.2]).html
    ids = {
        re.search(r'class="onn-slider-figure" id="([\w-]+)"', make(lrs).html).group(1)
        for lrs in ([0.1, 0.2], [0.3, 0.4])
    }
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"label": "", "values": [1, 2]}, "label"),
        ({"label": "lr", "values": [1]}, "values"),
        ({"label": "lr", "values": [1, np.nan]}, "values"),
        ({"label": "lr", "values": [1, 2], "initial": 3}, "initial"),
        ({"label": "lr", "values": [1, 2], "fmt": "abc"}, "fmt"),
    ],
)
def test_slider_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Slider(**kwargs)


def test_slider_figure_refuses_bad_input():
    slider = {"lr": Slider("learning rate η", [0.1, 0.2])}
    with pytest.raises(ValueError, match="alt"):
        slider_figure(PARABOLA, _gd_on_parabola, slider, alt=" ")
    with pytest.raises(TypeError, match="run"):
        slider_figure(PARABOLA, lambda eta: None, slider, alt="a")
    with pytest.raises(ValueError, match="run"):
        slider_figure(PARABOLA, lambda lr: np.zeros((3, 2)), slider, alt="a")
    with pytest.raises(ValueError, match="sliders"):
        slider_figure(PARABOLA, _gd_on_parabola, {}, alt="a")
    many = {"lr": Slider("lr", np.linspace(0.1, 0.2, MAX_FRAMES + 1))}
    with pytest.raises(ValueError, match="sliders"):
        slider_figure(PARABOLA, _gd_on_parabola, many, alt="a")
    with pytest.raises(TypeError, match="objective"):
        slider_figure(RAVINE.formula, _gd_on_parabola, slider, alt="a")
