"""Figures the reader drives with sliders, on the static website and in Jupyter.

:func:`slider_figure` runs an optimizer once for every combination of the slider values
(a grid of learning rates, or of learning rates and momenta), draws each run as a path over
the objective and as a loss curve, and returns one piece of HTML: two SVG panels, a slider
per parameter, the precomputed frames as JSON and a small inline script that shows the frame
of the chosen values. It needs no server, no plotting library in the browser and nothing from
a CDN, so it works offline on the course website (myst-nb shows the HTML output) and in
Jupyter. Without JavaScript the figure shows its initial frame, and the sliders stay hidden.

The panels use the page's text colour (``currentColor``) for axes, text and contours, so
they suit both the light and the dark theme; the paths use the course's palette.

Examples
--------
>>> import torch
>>> from helpers.objectives import parabola
>>> from helpers.training import run_optimizer
>>> f = parabola()
>>> figure = slider_figure(
...     f,
...     lambda lr: run_optimizer(f, [5.0], torch.optim.SGD, 10, lr=lr),
...     {"lr": Slider("learning rate η", [0.1, 0.5, 0.9])},
...     alt="Gradient descent on x squared",
... )
>>> len(figure.frames)
3
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.ticker import MaxNLocator

from helpers import _checks as check
from helpers.objectives import Objective
from helpers.training import Trajectory

__all__ = ["Slider", "SliderFigure", "slider_figure"]

#: The most frames one figure may hold (every frame is embedded in the page).
MAX_FRAMES = 400
#: Above this size the figure alone would take a large part of a page's 1.5 MB budget.
MAX_HTML_BYTES = 600_000

# Panel geometry in CSS pixels (the SVGs scale down on narrow screens, and stack there).
WIDTH, HEIGHT = 340, 270
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 28, 44
FONT = 13  # px: tick labels, axis labels and captions (the site's body text is 16 px)
PATH_COLOR = "#D55E00"  # Okabe-Ito vermillion: readable on light and dark pages
LOSS_FLOOR = 1e-15  # the loss axis shows at most 15 decades


@dataclass(frozen=True)
class Slider:
    """One slider of a :func:`slider_figure`: the values it steps through and its label.

    Introduced in the chapter *The learning rate*.

    Parameters
    ----------
    label : str
        What the slider sets, in words a screen reader can say ("learning rate η").
    values : sequence of float
        The values, in slider order (at least 2, finite).
    initial : float, optional
        The value shown first; one of ``values``. Default: the middle value.
    fmt : str
        Format of the values in the display next to the slider (``format(value, fmt)``).
    """

    label: str
    values: Sequence[float]
    initial: float | None = None
    fmt: str = ".3g"
    _values: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check.check_str("label", self.label)
        if not self.label.strip():
            raise ValueError("Invalid label: a slider needs a label (what it sets)")
        values = check.to_array("values", self.values, ndim=1, min_len=2, finite=True)
        object.__setattr__(self, "_values", tuple(float(v) for v in values))
        if self.initial is not None:
            check.check_real("initial", self.initial)
            if not any(math.isclose(self.initial, v, rel_tol=1e-12) for v in self._values):
                raise ValueError(
                    f"Invalid initial: {self.initial!r} is not one of the slider's values"
                )
        check.check_str("fmt", self.fmt)
        try:
            format(1.0, self.fmt)
        except ValueError:
            raise ValueError(f"Invalid fmt: {self.fmt!r} is not a number format") from None

    @property
    def initial_index(self) -> int:
        """Position of the initial value among ``values``."""
        if self.initial is None:
            return (len(self._values) - 1) // 2
        return int(np.argmin([abs(v - self.initial) for v in self._values]))

    def text(self, value: float) -> str:
        """A value as shown next to the slider."""
        return format(value, self.fmt)


@dataclass(frozen=True)
class SliderFigure:
    """The result of :func:`slider_figure`: HTML that Jupyter and the website display.

    Introduced in the chapter *The learning rate*.

    Attributes
    ----------
    html : str
        The whole figure: panels, sliders, frames and script.
    frames : list of dict
        Per combination of slider values (the first slider varies slowest): ``"values"``
        (the parameters), ``"trajectory"`` and ``"caption"``.
    alt : str
        The description of the figure, for readers who cannot see it.
    """

    html: str
    frames: list[dict]
    alt: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<slider figure: {self.alt}>"


# -- axes: data to pixels -------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """A linear or log axis from data ``(low, high)`` to pixels ``(start, end)``."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        low, high = self.low, self.high
        if self.log:
            values = np.log10(np.clip(values, self.low, None))
            low, high = math.log10(low), math.log10(high)
        return self.start + (values - low) / (high - low) * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            decades = range(math.ceil(math.log10(self.low)), math.floor(math.log10(self.high)) + 1)
            every = max(1, math.ceil(len(decades) / 5))
            return [(10.0**d, _power_of_ten(d)) for d in decades if d % every == 0]
        ticks = MaxNLocator(5).tick_values(self.low, self.high)
        inside = [t for t in ticks if self.low - 1e-9 <= t <= self.high + 1e-9]
        return [(t, f"{t:g}".replace("-", "−")) for t in inside]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(exponent: int) -> str:
    return "1" if exponent == 0 else "10" + str(exponent).translate(_SUPERSCRIPT)


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    """Pixel coordinates as an SVG ``points`` attribute (whole pixels: every frame is in the
    page, and a pixel is finer than the lines drawn)."""
    return " ".join(f"{x:.0f},{y:.0f}" for x, y in zip(xs, ys, strict=True))


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _frame_svg(x_axis: _Axis, y_axis: _Axis, xlabel: str, ylabel: str, title: str) -> list[str]:
    """Axes box, ticks, tick labels, axis labels and title of one panel."""
    left, right, top, bottom = x_axis.start, x_axis.end, y_axis.end, y_axis.start
    parts = [
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        'fill="none" stroke="currentColor" stroke-opacity="0.5"/>'
    ]
    for value, label in x_axis.ticks():
        x = float(x_axis(value))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" '
            'stroke="currentColor"/>'
            f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">{label}</text>'
        )
    for value, label in y_axis.ticks():
        y = float(y_axis(value))
        parts.append(
            f'<line x1="{left - 4}" x2="{left}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="currentColor"/>'
            f'<text x="{left - 7}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    middle_x, middle_y = (left + right) / 2, (top + bottom) / 2
    parts.append(
        f'<text x="{middle_x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{_escape(xlabel)}</text>'
        f'<text transform="translate(13 {middle_y:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_escape(ylabel)}</text>'
        f'<text x="{middle_x:.1f}" y="17" text-anchor="middle" font-weight="bold">'
        f"{_escape(title)}</text>"
    )
    return parts


def _svg(parts: list[str], label: str, clip_id: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{_escape(label)}" font-size="{FONT}" fill="currentColor" '
        'style="overflow:visible">'
        f'<defs><clipPath id="{clip_id}"><rect x="{LEFT}" y="{TOP}" '
        f'width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}"/></clipPath>'
        f'<marker id="{clip_id}-dot" viewBox="0 0 6 6" refX="3" refY="3" markerWidth="6" '
        f'markerHeight="6" markerUnits="userSpaceOnUse"><circle cx="3" cy="3" r="2.6" '
        f'fill="{PATH_COLOR}"/></marker></defs>' + "".join(parts) + "</svg>"
    )


def _polyline(css_class: str, clip_id: str, points: str, *, dots: bool) -> str:
    markers = f' marker-start="url(#{clip_id}-dot)" marker-mid="url(#{clip_id}-dot)"' * dots
    return (
        f'<g clip-path="url(#{clip_id})"><polyline class="{css_class}" points="{points}" '
        f'fill="none" stroke="{PATH_COLOR}" stroke-width="1.8"{markers}/></g>'
    )


# -- the two panels -------------------------------------------------------------------------


def _landscape_axes(objective: Objective) -> tuple[_Axis, _Axis]:
    x_axis = _Axis(*objective.xlim, LEFT, WIDTH - RIGHT)
    y_axis = _Axis(*objective.ylim, HEIGHT - BOTTOM, TOP)
    return x_axis, y_axis


def _landscape(objective: Objective, x_axis: _Axis, y_axis: _Axis, levels: int) -> list[str]:
    """The objective's curve (1-D) or contour lines (2-D), and its minima."""
    parts = []
    if objective.dim == 1:
        grid = np.linspace(*objective.xlim, 300)
        parts.append(
            f'<polyline points="{_points(x_axis(grid), y_axis(objective.formula(grid)))}" '
            'fill="none" stroke="currentColor" stroke-opacity="0.6" stroke-width="1.2"/>'
        )
        minima = [(m[0], objective.min_value) for m in objective.minima]
    else:
        import contourpy

        X, Y, Z = objective.grid(120)
        low, high = max(float(Z.min()), 1e-3 * float(Z.max())), float(Z.max())
        if objective.log_levels or high / low > 100:
            values = np.geomspace(low, high, levels + 2)[1:-1]
        else:
            values = np.linspace(low, high, levels + 2)[1:-1]
        generator = contourpy.contour_generator(X, Y, Z)
        for value in values:
            for line in generator.lines(value):
                pixels = _points(x_axis(line[:, 0]), y_axis(line[:, 1]))
                parts.append(
                    f'<polyline points="{pixels}" fill="none" stroke="currentColor" '
                    'stroke-opacity="0.3"/>'
                )
        minima = [tuple(m) for m in objective.minima]
    for mx, my in minima:
        x, y = float(x_axis(mx)), float(y_axis(my))
        parts.append(
            f'<path d="M{x - 5:.1f},{y:.1f}h10M{x:.1f},{y - 5:.1f}v10" stroke="currentColor" '
            'stroke-width="2"/>'
        )
    return parts


def _finite_prefix(values: np.ndarray) -> np.ndarray:
    """``values`` up to (not including) the first row with a NaN or infinite entry."""
    finite = np.isfinite(values) if values.ndim == 1 else np.all(np.isfinite(values), axis=1)
    return values if finite.all() else values[: int(np.argmin(finite))]


def _path_pixels(objective: Objective, trajectory: Trajectory, x_axis, y_axis) -> str:
    """The path in the landscape panel: ``(x, f(x))`` in 1-D, ``(x, y)`` in 2-D."""
    points = _finite_prefix(trajectory.points)
    if objective.dim == 1:
        xs, ys = points[:, 0], objective.formula(points[:, 0])
    else:
        xs, ys = points[:, 0], points[:, 1]
    # far outside the window the path is clipped anyway: keep the numbers short
    return _points(np.clip(x_axis(xs), -1e4, 1e4), np.clip(y_axis(ys), -1e4, 1e4))


def _loss_axis(trajectories: list[Trajectory]) -> _Axis:
    """A log axis from the smallest loss to a little above the largest starting loss."""
    starts = np.array([t.losses[0] for t in trajectories])
    losses = np.concatenate([t.losses for t in trajectories])
    positive = losses[np.isfinite(losses) & (losses > 0)]
    if positive.size == 0:
        positive = np.array([1.0])
    top = min(positive.max(), 1e3 * max(float(np.nanmax(np.abs(starts))), 1e-300))
    high = 10.0 ** math.ceil(math.log10(top))
    low = max(10.0 ** math.floor(math.log10(positive.min())), high * LOSS_FLOOR)
    if low >= high:
        low = high / 10
    return _Axis(low, high, HEIGHT - BOTTOM, TOP, log=True)


def _loss_points(trajectory: Trajectory, x_axis: _Axis, y_axis: _Axis) -> str:
    shown = _finite_prefix(trajectory.losses)
    # zero losses sit on the bottom; losses above the axis run just past its top (clipped)
    ys = np.clip(y_axis(shown), TOP - 8, HEIGHT - BOTTOM)
    return _points(x_axis(np.arange(len(shown))), ys)


def _caption(names: str, trajectory: Trajectory) -> str:
    losses = trajectory.losses
    if trajectory.diverged:
        return f"{names}: diverged, stopped after {trajectory.num_steps} steps"
    steps = trajectory.num_steps
    return f"{names}: loss {losses[0]:.3g} at the start, {losses[-1]:.3g} after {steps} steps"


def _as_trajectory(objective: Objective, result) -> Trajectory:
    if isinstance(result, Trajectory):
        return result
    points = check.to_array("run (its result)", result, ndim=2, last=objective.dim, min_len=1)
    losses = np.asarray(objective(points), dtype=float)
    return Trajectory(points, losses, diverged=not np.all(np.isfinite(losses)))


# -- the figure -----------------------------------------------------------------------------

_SCRIPT = """<script>
(function () {
  function setUp(figure) {
    if (figure.dataset.ready) return;
    figure.dataset.ready = "1";
    var data = JSON.parse(figure.querySelector("script.onn-frames").textContent);
    var inputs = figure.querySelectorAll("input[type=range]");
    function show() {
      var k = 0;
      inputs.forEach(function (input, j) {
        var text = data.values[j][Number(input.value)];
        k = k * data.values[j].length + Number(input.value);
        input.setAttribute("aria-valuetext", text);
        figure.querySelector("output[for='" + input.id + "']").textContent = text;
      });
      var frame = data.frames[k];
      figure.querySelector(".onn-path").setAttribute("points", frame[0]);
      figure.querySelector(".onn-loss").setAttribute("points", frame[1]);
      figure.querySelector(".onn-caption").textContent = frame[2];
    }
    inputs.forEach(function (input) { input.addEventListener("input", show); });
    figure.querySelector(".onn-controls").hidden = false;
    show();
  }
  function setUpAll() {
    document.querySelectorAll(".onn-slider-figure").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
</script>"""

_STYLE = (
    "<style>.onn-slider-figure{margin:0.5em 0 1em}"
    ".onn-slider-figure .onn-panels{display:grid;gap:4px;"
    "grid-template-columns:repeat(auto-fit,minmax(min(100%,280px),1fr));max-width:700px}"
    ".onn-slider-figure svg{width:100%;height:auto;max-width:420px}"
    ".onn-slider-figure .onn-controls{display:flex;flex-wrap:wrap;gap:0.3em 1.5em;"
    "margin:0.4em 0}.onn-slider-figure .onn-controls[hidden]{display:none}"
    ".onn-slider-figure label{margin-right:0.5em}"
    ".onn-slider-figure input[type=range]{width:12em;vertical-align:middle;"
    f"accent-color:{PATH_COLOR}}}"
    ".onn-slider-figure output{display:inline-block;min-width:3.5em;margin-left:0.5em;"
    "font-variant-numeric:tabular-nums}"
    ".onn-slider-figure .onn-caption{margin:0.2em 0}</style>"
)


def _check_sliders(sliders) -> dict[str, Slider]:
    check.check_mapping("sliders", sliders, "a dict of parameter name to Slider")
    if not 1 <= len(sliders) <= 3:
        raise ValueError(f"Invalid sliders: give 1 to 3 sliders, got {len(sliders)}")
    for name, slider in sliders.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Invalid sliders: {name!r} is not a parameter name")
        check.check_instance(f"sliders[{name!r}]", slider, Slider, "a Slider")
    size = math.prod(len(s._values) for s in sliders.values())
    if size > MAX_FRAMES:
        raise ValueError(f"Invalid sliders: {size} combinations; at most {MAX_FRAMES} fit a page")
    return dict(sliders)


def slider_figure(
    objective: Objective,
    run: Callable[..., Trajectory | np.ndarray],
    sliders: Mapping[str, Slider],
    *,
    alt: str,
    title: str | None = None,
    loss_label: str = "loss",
    levels: int = 12,
) -> SliderFigure:
    """A figure the reader drives with sliders: an optimizer's path and its loss curve.

    Introduced in the chapter *The learning rate*. ``run`` is called once for every
    combination of the slider values, with the sliders' names as keyword arguments; each
    result is drawn as a path (over the curve of a 1-D objective, or over the contours of a
    2-D one) and as a loss curve on a log axis shared by all frames, so that the frames
    compare. Moving a slider shows the precomputed frame: nothing is computed in the browser.

    Parameters
    ----------
    objective : Objective
        A 1-D or 2-D objective; its window (``xlim``, ``ylim``) is the landscape panel's.
    run : callable
        ``run(**values)`` returns a :class:`~helpers.training.Trajectory` or an array of
        points of shape ``(num_points, dim)``.
    sliders : mapping of str to Slider
        One to three sliders, by the name of the parameter they set.
    alt : str
        What the figure shows, for readers who cannot see it.
    title : str, optional
        Title of the landscape panel (default: the objective's name).
    loss_label : str
        Label of the loss axis.
    levels : int
        Number of contour lines (2-D objectives).

    Returns
    -------
    SliderFigure
        Displays itself as HTML in Jupyter and on the website.
    """
    check.check_instance("objective", objective, Objective, "an Objective")
    if objective.dim not in (1, 2):
        raise ValueError(f"Invalid objective: it must be 1-D or 2-D, {objective.name} is not")
    check.check_callable("run", run)
    sliders = _check_sliders(sliders)
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("Invalid alt: describe what the figure shows (alt text)")
    check.check_str("title", title, optional=True)
    check.check_str("loss_label", loss_label)
    check.check_int("levels", levels, low=1, high=50)

    names = list(sliders)
    grids = [sliders[n]._values for n in names]
    frames = []
    for values in itertools.product(*grids):
        parameters = dict(zip(names, values, strict=True))
        try:
            result = run(**parameters)
        except TypeError as error:  # most likely a signature that does not fit the sliders
            raise TypeError(f"Invalid run: run(**{parameters}) failed: {error}") from error
        trajectory = _as_trajectory(objective, result)
        shown = ", ".join(
            f"{sliders[n].label} = {sliders[n].text(v)}" for n, v in parameters.items()
        )
        frames.append(
            {
                "values": parameters,
                "trajectory": trajectory,
                "caption": _caption(shown, trajectory),
            }
        )

    x_axis, y_axis = _landscape_axes(objective)
    num_steps = max(f["trajectory"].num_steps for f in frames)
    step_axis = _Axis(0, max(num_steps, 1), LEFT, WIDTH - RIGHT)
    loss_axis = _loss_axis([f["trajectory"] for f in frames])
    encoded = [
        [
            _path_pixels(objective, f["trajectory"], x_axis, y_axis),
            _loss_points(f["trajectory"], step_axis, loss_axis),
            f["caption"],
        ]
        for f in frames
    ]
    shown_values = [[sliders[n].text(v) for v in sliders[n]._values] for n in names]
    payload = json.dumps(
        {"values": shown_values, "frames": encoded}, ensure_ascii=False, separators=(",", ":")
    ).replace("</", "<\\/")  # nothing in the data may close the script element
    key = "onn-" + hashlib.sha1(payload.encode()).hexdigest()[:10]
    initial = 0
    for n in names:
        initial = initial * len(sliders[n]._values) + sliders[n].initial_index
    path0, loss0, caption0 = encoded[initial]

    landscape = [f'<g clip-path="url(#{key}-a)">', *_landscape(objective, x_axis, y_axis, levels)]
    landscape.append("</g>")
    landscape += _frame_svg(
        x_axis,
        y_axis,
        "x",
        "f(x)" if objective.dim == 1 else "y",
        objective.name if title is None else title,
    )
    landscape.append(_polyline("onn-path", f"{key}-a", path0, dots=True))
    loss_panel = _frame_svg(step_axis, loss_axis, "step", loss_label, "Loss of the run")
    loss_panel.append(_polyline("onn-loss", f"{key}-b", loss0, dots=False))

    controls = []
    for j, n in enumerate(names):
        slider, input_id = sliders[n], f"{key}-s{j}"
        current = slider.text(slider._values[slider.initial_index])
        controls.append(
            f'<span><label for="{input_id}">{_escape(slider.label)}</label>'
            f'<input type="range" id="{input_id}" min="0" max="{len(slider._values) - 1}" '
            f'step="1" value="{slider.initial_index}" aria-valuetext="{_escape(current)}">'
            f'<output for="{input_id}">{_escape(current)}</output></span>'
        )
    page = (
        f'<div class="onn-slider-figure" id="{key}">{_STYLE}'
        f'<div class="onn-controls" hidden>{"".join(controls)}</div>'
        f'<div class="onn-panels">{_svg(landscape, alt, f"{key}-a")}'
        f"{_svg(loss_panel, 'Loss of the chosen run against step, log scale', f'{key}-b')}"
        f'</div><p class="onn-caption" aria-live="polite">{_escape(caption0)}</p>'
        f'<script type="application/json" class="onn-frames">{payload}</script>'
        f"{_SCRIPT}</div>"
    )
    if len(page.encode()) > MAX_HTML_BYTES:
        raise ValueError(
            f"Invalid sliders: the figure's HTML would be {len(page) / 1e6:.2f} MB; use fewer "
            "slider values or shorter runs"
        )
    return SliderFigure(page, frames, alt.strip())
