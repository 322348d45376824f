"""One consistent look for every figure of the course.

Call :func:`set_style` once at the top of a notebook. The colours are the Okabe-Ito
palette, which stays distinguishable for the common forms of colour blindness; lines
also differ in marker so that figures survive greyscale printing.
Every function returns the ``Axes`` (or ``Figure``) it drew on.
"""

from __future__ import annotations

import functools
import html
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import Animation, FuncAnimation
from matplotlib.colors import LogNorm

from helpers import _checks as check
from helpers.objectives import Objective
from helpers.training import Trajectory

__all__ = [
    "COLORS",
    "FIGSIZE",
    "MARKERS",
    "animate_paths",
    "animation_html",
    "plot_contour",
    "plot_losses",
    "plot_lr_sweep",
    "plot_path_1d",
    "plot_paths",
    "plot_seed_band",
    "plot_theory_and_measured",
    "set_style",
]

#: Okabe-Ito colour-blind-safe palette (black left out, kept for annotations). Introduced
#: in the chapter *Gradient descent*.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
#: One marker per colour, so that lines stay distinct in greyscale. Introduced in the chapter
#: *Gradient descent*.
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
#: Named figure sizes in inches, made to fit the site's text column (688 px on a desktop). A
#: figure is shown at 100 px per inch, so its text at 100/72 px per point, about the size of body
#: text. Use as in ``plt.subplots(1, 2, figsize=FIGSIZE["wide"])``. Introduced in the chapter
#: *Gradient descent*.
FIGSIZE = {
    "single": (5.6, 3.6),  # one panel
    "wide": (6.8, 3.0),  # two or three panels side by side
    "tall": (6.8, 5.4),  # a 2-by-2 grid, or two rows of panels
}
#: Name of the PNG text field in which a displayed figure records its smallest text size.
SMALLEST_TEXT_KEY = "Smallest text (pt)"


def set_style() -> None:
    """Apply the course's matplotlib style (palette, sizes, grid, high-DPI output).

    Introduced in the chapter *Gradient descent*.

    Text sizes are chosen so that, in a figure of a :data:`FIGSIZE` size shown in the site's
    column, no text is smaller than 80 % of the body text (tick labels and legends 10.5 pt, that
    is 14.6 px at 100 px per figure inch, against 16 px body text). In Jupyter (and so on the
    site) figures are shown as PNGs at twice their resolution, crisp on high-DPI screens, each
    recording its smallest text size in points (``SMALLEST_TEXT_KEY``) for the site's tests.
    """
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "xtick.labelsize": 10.5,
            "ytick.labelsize": 10.5,
            "legend.fontsize": 10.5,
            "legend.title_fontsize": 10.5,
            "legend.framealpha": 0.9,
            "figure.titlesize": 12,
            "figure.figsize": FIGSIZE["single"],
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "savefig.pad_inches": 0.05,
            "figure.constrained_layout.use": True,
            "lines.linewidth": 1.8,
            "lines.markersize": 4,
            "image.cmap": "viridis",
        }
    )
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and hasattr(shell, "display_formatter"):
        if "inline" in mpl.get_backend(auto_select=False):
            # Loading the inline backend sets its own PNG formatter: load it before ours.
            import matplotlib_inline.backend_inline  # noqa: F401
        png = shell.display_formatter.formatters["image/png"]
        png.for_type(mpl.figure.Figure, _png_at_twice_the_resolution)


def _png_at_twice_the_resolution(figure: mpl.figure.Figure):
    """The figure as a PNG at twice its resolution, to be shown at its size (set_style).

    The PNG has 256 colours (lines, text and fills look the same at twice the resolution, and
    the file is about four times smaller) and records its smallest text size.
    """
    import io
    from binascii import b2a_base64

    from IPython.core.pylabtools import retina_figure
    from PIL import Image, PngImagePlugin

    shown = retina_figure(figure)  # drawing the figure also sets its tick labels' texts
    if shown is None:  # an empty figure shows nothing
        return None
    png, size = shown
    sizes = [
        text.get_fontsize()
        for text in figure.findobj(mpl.text.Text)
        if text.get_visible() and text.get_text().strip()
    ]
    image = Image.open(io.BytesIO(png))
    dpi = image.info.get("dpi", (200, 200))
    info = PngImagePlugin.PngInfo()
    if sizes:
        info.add_text(SMALLEST_TEXT_KEY, f"{min(sizes):g}")
    image = image.convert("RGBA")
    if image.getchannel("A").getextrema()[0] == 255:  # opaque (the default white figure)
        image = image.convert("RGB")
    palette = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, "PNG", pnginfo=info, dpi=dpi)
    return b2a_base64(out.getvalue(), newline=False).decode("ascii"), size


def _closes_its_figures_on_error(function):
    """Decorator: figures that ``function`` opened are closed if it raises (no leaked figure)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        before = set(plt.get_fignums())
        try:
            return function(*args, **kwargs)
        except BaseException:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            raise

    return wrapper


def _axes(ax: plt.Axes | None) -> plt.Axes:
    if ax is not None:
        check.check_instance("ax", ax, mpl.axes.Axes, "a matplotlib Axes or None")
        return ax
    return plt.subplots()[1]


def _check_objective(objective: Objective, dim: int) -> None:
    check.check_instance("objective", objective, Objective, "an Objective")
    if objective.dim != dim:
        raise ValueError(
            f"Invalid objective: this plot needs a {dim}-D objective, "
            f"{objective.name} is {objective.dim}-D"
        )


def _log_levels(Z: np.ndarray, levels: int) -> np.ndarray | None:
    """Log-spaced contour levels over ``Z``; None when ``Z`` spans no positive range."""
    high = float(Z.max())
    low = max(float(Z.min()), 1e-3)
    if not low < high:  # zoomed in near a minimum: every value is below 1e-3
        low = max(float(Z.min()), high * 1e-6)
    if not (0 < low < high):
        return None
    return np.geomspace(low, high, levels)


@_closes_its_figures_on_error
def plot_contour(
    objective: Objective,
    ax: plt.Axes | None = None,
    *,
    levels: int = 25,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> plt.Axes:
    """Contour lines of a 2-D objective, with its minima starred.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    objective : Objective
        A 2-D objective.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made if omitted.
    levels : int
        Number of contour levels (log-spaced for objectives with ``log_levels``).
    xlim, ylim : tuple of float, optional
        Override the objective's plotting window.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_objective(objective, 2)
    check.check_int("levels", levels, low=1, high=check.MAX_GRID)
    for name, window in (("xlim", xlim), ("ylim", ylim)):
        if window is not None:
            check.check_window(name, window)
    ax = _axes(ax)
    if xlim is not None or ylim is not None:
        objective = _with_window(objective, xlim, ylim)
    X, Y, Z = objective.grid()
    log_levels = _log_levels(Z, levels) if objective.log_levels else None
    if log_levels is not None:
        ax.contour(
            X,
            Y,
            Z,
            levels=log_levels,
            norm=LogNorm(),
            cmap="Greys_r",
            linewidths=0.7,
            alpha=0.7,
        )
    else:
        ax.contour(X, Y, Z, levels=levels, cmap="Greys_r", linewidths=0.7, alpha=0.7)
    for minimum in objective.minima:
        ax.plot(
            *minimum,
            marker="*",
            markersize=14,
            color="black",
            linestyle="none",
            label="minimum" if minimum == objective.minima[0] else None,
        )
    ax.set_xlim(objective.xlim)
    ax.set_ylim(objective.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(objective.name)
    return ax


def _with_window(objective: Objective, xlim, ylim) -> Objective:
    return replace(
        objective,
        xlim=objective.xlim if xlim is None else tuple(xlim),
        ylim=objective.ylim if ylim is None else tuple(ylim),
    )


def _as_points(path: Trajectory | np.ndarray, name: str = "paths") -> np.ndarray:
    """A path as an array of shape ``(num_points, 2)`` (an empty path has 0 points)."""
    points = path.points if isinstance(path, Trajectory) else path
    points = check.to_array(name, points)
    if points.size == 0:
        return points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"Invalid {name}: each path must have shape (num_points, 2), got {points.shape}"
        )
    return points


def _all_points(paths) -> dict[str, np.ndarray]:
    check.check_mapping("paths", paths, "a dict of label to path")
    return {label: _as_points(path, f"paths[{label!r}]") for label, path in paths.items()}


@_closes_its_figures_on_error
def _mark_start(ax, x, y) -> None:
    """The start of a path: a large white dot, labelled "start"."""
    ax.plot(
        x,
        y,
        marker="o",
        markersize=9,
        markerfacecolor="white",
        markeredgecolor="black",
        linestyle="none",
        label="start",
    )


def plot_paths(
    objective: Objective,
    paths: Mapping[str, Trajectory | np.ndarray],
    ax: plt.Axes | None = None,
    *,
    markevery: int = 1,
    **contour_kwargs,
) -> plt.Axes:
    """Optimizer paths drawn over the contours of a 2-D objective.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    objective : Objective
    paths : mapping of str to Trajectory or array
        Label to path; an array must have shape ``(num_points, 2)``.
    ax : matplotlib.axes.Axes, optional
    markevery : int
        Put a marker on every n-th point (1 shows every step).
    **contour_kwargs
        Passed to :func:`plot_contour` (``levels``, ``xlim``, ``ylim``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    points_of = _all_points(paths)
    check.check_int("markevery", markevery, low=1)
    ax = plot_contour(objective, ax, **contour_kwargs)
    for i, (label, points) in enumerate(points_of.items()):
        ax.plot(
            points[:, 0],
            points[:, 1],
            color=COLORS[i % len(COLORS)],
            marker=MARKERS[i % len(MARKERS)],
            markevery=markevery,
            label=label,
        )
    starts = [points[0] for points in points_of.values() if len(points)]
    if starts:
        _mark_start(ax, *starts[0])
    ax.legend(loc="best")
    return ax


@_closes_its_figures_on_error
def plot_losses(
    curves: Mapping[str, Sequence[float]],
    ax: plt.Axes | None = None,
    *,
    log: bool = True,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
    x: Mapping[str, Sequence[float]] | None = None,
) -> plt.Axes:
    """Loss (or any metric) curves, one line per label, log scale by default.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    curves : mapping of str to sequence of float
        Label to values.
    ax : matplotlib.axes.Axes, optional
    log : bool
        Log-scale y axis (right when losses span decades).
    xlabel, ylabel, title : str
    x : mapping of str to sequence of float, optional
        The x values of each curve (default ``0, 1, 2, ...``), e.g. wall-clock times.

    Returns
    -------
    matplotlib.axes.Axes
    """
    series = _curves(curves, x)
    check.check_bool("log", log)
    check.check_str("xlabel", xlabel)
    check.check_str("ylabel", ylabel)
    check.check_str("title", title, optional=True)
    ax = _axes(ax)
    for i, (label, (xs, values)) in enumerate(series.items()):
        ax.plot(
            xs,
            values,
            color=COLORS[i % len(COLORS)],
            marker=MARKERS[i % len(MARKERS)],
            markevery=max(1, len(values) // 12),
            label=label,
        )
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend(loc="best")
    return ax


def _curves(curves, x) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each curve's x values and y values, checked: ``{label: (xs, values)}``."""
    check.check_mapping("curves", curves, "a dict of label to values")
    if x is not None:
        check.check_mapping("x", x, "a dict of label to x values")
    series = {}
    for label, values in curves.items():
        values = check.to_array(f"curves[{label!r}]", values, ndim=1)
        if x is None:
            xs = np.arange(len(values))
        elif label not in x:
            raise ValueError(f"Invalid x: it has no x values for the curve {label!r}")
        else:
            xs = check.to_array(f"x[{label!r}]", x[label], ndim=1)
            if len(xs) != len(values):
                raise ValueError(
                    f"Invalid x[{label!r}]: {len(xs)} x values for {len(values)} values"
                )
        series[label] = (xs, values)
    return series


@_closes_its_figures_on_error
def plot_path_1d(
    objective: Objective,
    xs: Sequence[float],
    ax: plt.Axes | None = None,
    *,
    label: str = "gradient descent",
    color: str = COLORS[0],
) -> plt.Axes:
    """A 1-D objective's curve with the iterates ``xs`` marked on it and joined in order.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    objective : Objective
        A 1-D objective.
    xs : sequence of float
        The iterates ``x_0, x_1, ...``.
    ax : matplotlib.axes.Axes, optional
    label : str
    color : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_objective(objective, 1)
    xs = check.to_array("xs", xs, ndim=1)
    check.check_instance("label", label, str, "a string")
    if not mpl.colors.is_color_like(color):
        raise ValueError(f"Invalid color: {color!r} is not a matplotlib colour")
    ax = _axes(ax)
    grid = np.linspace(*objective.xlim, 400)
    ax.plot(grid, objective.formula(grid), color="0.4", linewidth=1.2, label=objective.name)
    ax.plot(xs, objective.formula(xs), color=color, marker="o", label=label)
    if len(xs):
        _mark_start(ax, xs[0], objective.formula(xs[0]))
    ax.set_xlabel("$x$")
    ax.set_ylabel("$f(x)$")
    ax.legend(loc="upper center")
    return ax


@_closes_its_figures_on_error
def animate_paths(
    objective: Objective,
    paths: Mapping[str, Trajectory | np.ndarray],
    *,
    num_frames: int = 40,
    interval: int = 120,
    **contour_kwargs,
) -> FuncAnimation:
    """An animation of optimizer paths growing over the contours.

    Introduced in the chapter *Momentum and Nesterov*.

    Display it with ``IPython.display.HTML(animation.to_jshtml())``: the result is plain
    HTML and JavaScript, so it also plays on the static website.

    Parameters
    ----------
    objective : Objective
    paths : mapping of str to Trajectory or array
    num_frames : int
        Frames in the animation; long paths are subsampled to fit.
    interval : int
        Milliseconds between frames.
    **contour_kwargs
        Passed to :func:`plot_contour`.

    Returns
    -------
    matplotlib.animation.FuncAnimation
    """
    points = _all_points(paths)
    longest = max((len(p) for p in points.values()), default=0)
    if longest == 0:
        raise ValueError("Invalid paths: animate_paths needs at least one non-empty path")
    check.check_int("num_frames", num_frames, low=1, high=check.MAX_GRID)
    check.check_int("interval", interval, low=1)
    fig, ax = plt.subplots()
    try:
        return _animation(
            fig, ax, objective, points, longest, num_frames, interval, contour_kwargs
        )
    finally:
        plt.close(fig)


def _animation(fig, ax, objective, points, longest, num_frames, interval, contour_kwargs):
    plot_contour(objective, ax, **contour_kwargs)
    stops = np.unique(np.linspace(1, longest, num_frames).astype(int))
    lines = [
        ax.plot(
            [], [], color=COLORS[i % len(COLORS)], marker=MARKERS[i % len(MARKERS)], label=label
        )[0]
        for i, label in enumerate(points)
    ]
    ax.legend(loc="best")

    def draw(frame: int):
        for line, p in zip(lines, points.values(), strict=True):
            line.set_data(p[: stops[frame], 0], p[: stops[frame], 1])
        return lines

    return FuncAnimation(fig, draw, frames=len(stops), interval=interval, blit=True)


#: Above this size an animation alone would take most of a page's 1.5 MB budget.
ANIMATION_WARN_BYTES = 1_000_000


def animation_html(
    animation: FuncAnimation,
    alt: str,
    *,
    dpi: float = 100,
    frame_format: str = "jpeg",
    default_mode: str | None = None,
):
    """An animation as a light, accessible HTML player for the notebook and the website.

    Introduced in the chapter *Momentum and Nesterov*.

    Use it instead of ``HTML(animation.to_jshtml())``: it is matplotlib's JavaScript
    player, with the frames stored as small JPEG images (about a third of the size of
    PNG frames at the same resolution), alt text describing the animation for screen
    readers, and a label on the frame slider. Keep animations short: every frame is
    embedded in the page (about 40 kB per frame at the defaults), and a page with its
    figures must stay under 1.5 MB, so 20 frames are plenty.

    Parameters
    ----------
    animation : matplotlib.animation.FuncAnimation
        For example the result of :func:`animate_paths`.
    alt : str
        What the animation shows, for learners who cannot see it.
    dpi : float
        Resolution of the frames, 1 to 600. The default, 100, shows figure text at its
        size on the page (100 px per figure inch, as :func:`set_style` shows figures).
    frame_format : {"jpeg", "png", "svg"}
        Image format of the frames.
    default_mode : {"once", "loop", "reflect"}, optional
        What the player does at the end; matplotlib's default if not given.

    Returns
    -------
    IPython.display.HTML
        Displays as the player in Jupyter and on the website.
    """
    from IPython.display import HTML

    check.check_instance("animation", animation, Animation, "a matplotlib animation")
    check.check_real("dpi", dpi, 1.0, 600.0)
    check.check_choice("frame_format", frame_format, ["jpeg", "png", "svg"])
    if default_mode is not None:
        check.check_choice("default_mode", default_mode, ["once", "loop", "reflect"])
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("animation_html needs alt text: describe what the animation shows")
    with mpl.rc_context({"animation.frame_format": frame_format, "savefig.dpi": dpi}):
        player = animation.to_jshtml(default_mode=default_mode)
    alt_attribute = html.escape(alt.strip(), quote=True)
    player = re.sub(r'<img id="(_anim_img\w+)">', rf'<img id="\1" alt="{alt_attribute}">', player)
    player = re.sub(
        r'(<input id="_anim_slider\w+" type="range")',
        r'\1 aria-label="Animation frame"',
        player,
    )
    if len(player) > ANIMATION_WARN_BYTES:
        warnings.warn(
            f"the animation's HTML is {len(player) / 1e6:.1f} MB; a page must stay under "
            "1.5 MB: use fewer frames (num_frames) or a lower dpi",
            stacklevel=2,
        )
    return HTML(player)


# -- recurring figures: theory against measurement, seeds, learning-rate sweeps -------------


def _series(name: str, series) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{label: (xs, ys)}``, each pair checked to be two 1-D arrays of the same length."""
    check.check_mapping(name, series, "a dict of label to (x values, y values)")
    checked = {}
    for label, pair in series.items():
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise TypeError(f"Invalid {name}[{label!r}]: expected a pair (x values, y values)")
        xs = check.to_array(f"{name}[{label!r}]", pair[0], ndim=1)
        ys = check.to_array(f"{name}[{label!r}]", pair[1], ndim=1)
        if len(xs) != len(ys):
            raise ValueError(
                f"Invalid {name}[{label!r}]: {len(xs)} x values for {len(ys)} y values"
            )
        checked[str(label)] = (xs, ys)
    return checked


def _finish(ax, *, xlog: bool, ylog: bool, xlabel: str, ylabel: str, title: str | None):
    for name, value in (("xlog", xlog), ("ylog", ylog)):
        check.check_bool(name, value)
    for name, value in (("xlabel", xlabel), ("ylabel", ylabel)):
        check.check_str(name, value)
    check.check_str("title", title, optional=True)
    if xlog:
        ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


@_closes_its_figures_on_error
def plot_theory_and_measured(
    theory: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    measured: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    ax: plt.Axes | None = None,
    *,
    xlog: bool = False,
    ylog: bool = False,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
) -> plt.Axes:
    """Formulas as lines and measurements as markers on them, one colour per pair.

    Introduced in the chapter *The learning rate*. The i-th theory curve and the i-th
    measured series share colour i (and the measured series marker i), so a reader sees at
    a glance whether each measurement lies on its formula. A label starting with ``_``
    stays out of the legend.

    Parameters
    ----------
    theory : mapping of str to (x values, y values)
        Label to a curve drawn as a thin line (use many x values: it is a formula).
    measured : mapping of str to (x values, y values)
        Label to measured points, drawn as markers without a line.
    ax : matplotlib.axes.Axes, optional
    xlog, ylog : bool
        Log-scale axes.
    xlabel, ylabel, title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    curves = _series("theory", theory)
    points = _series("measured", measured)
    ax = _axes(ax)
    for i, (label, (xs, ys)) in enumerate(curves.items()):
        ax.plot(xs, ys, color=COLORS[i % len(COLORS)], linewidth=1.2, label=label)
    for i, (label, (xs, ys)) in enumerate(points.items()):
        ax.plot(
            xs,
            ys,
            color=COLORS[i % len(COLORS)],
            marker=MARKERS[i % len(MARKERS)],
            markersize=7,
            linestyle="none",
            label=label,
        )
    _finish(ax, xlog=xlog, ylog=ylog, xlabel=xlabel, ylabel=ylabel, title=title)
    if any(not label.startswith("_") for label in [*curves, *points]):
        ax.legend(loc="best")
    return ax


def _per_seed(name: str, values, num_x: int) -> np.ndarray:
    """``values`` as an array of shape ``(num_seeds, num_x)``."""
    values = check.to_array(name, values, ndim=(1, 2))
    values = values.reshape(1, -1) if values.ndim == 1 else values
    if values.shape[1] != num_x or values.shape[0] == 0:
        raise ValueError(
            f"Invalid {name}: expected shape (num_seeds, {num_x}), got {values.shape}"
        )
    return values


@_closes_its_figures_on_error
def plot_seed_band(
    x: Sequence[float],
    values: Sequence[Sequence[float]],
    ax: plt.Axes | None = None,
    *,
    label: str | None = None,
    color: str = COLORS[0],
    marker: str = MARKERS[0],
    center: str = "median",
    band: str = "range",
) -> plt.Axes:
    """Runs over several seeds: their median (or mean) as a line, their spread as a band.

    Introduced in the chapter *Adaptive methods*. Call it once per method on the same
    ``ax``; set the scales and labels on ``ax`` afterwards.

    Parameters
    ----------
    x : sequence of float
        The x values, shape ``(num_x,)``.
    values : array_like
        Shape ``(num_seeds, num_x)``: one row per seed.
    ax : matplotlib.axes.Axes, optional
    label : str, optional
        Legend label of the line.
    color, marker : str
    center : {"median", "mean"}
        What the line shows.
    band : {"range", "std"}
        The band: from the smallest to the largest seed, or the line ± one standard
        deviation over the seeds.

    Returns
    -------
    matplotlib.axes.Axes
    """
    xs = check.to_array("x", x, ndim=1)
    runs = _per_seed("values", values, len(xs))
    check.check_str("label", label, optional=True)
    if not mpl.colors.is_color_like(color):
        raise ValueError(f"Invalid color: {color!r} is not a matplotlib colour")
    check.check_choice("marker", marker, MARKERS)
    check.check_choice("center", center, ["median", "mean"])
    check.check_choice("band", band, ["range", "std"])
    ax = _axes(ax)
    line = np.median(runs, axis=0) if center == "median" else runs.mean(axis=0)
    if band == "range":
        low, high = runs.min(axis=0), runs.max(axis=0)
    else:
        spread = runs.std(axis=0)
        low, high = line - spread, line + spread
    ax.plot(xs, line, color=color, marker=marker, markevery=max(1, len(xs) // 12), label=label)
    ax.fill_between(xs, low, high, color=color, alpha=0.2, linewidth=0)
    if label is not None:
        ax.legend(loc="best")
    return ax


@_closes_its_figures_on_error
def plot_lr_sweep(
    lrs: Sequence[float],
    values: Sequence[float] | Sequence[Sequence[float]],
    ax: plt.Axes | None = None,
    *,
    label: str | None = None,
    seed_labels: Sequence[str] | None = None,
    chosen: float | None = None,
    chosen_label: str = "chosen learning rate",
    color: str = COLORS[0],
    marker: str = MARKERS[0],
    ylog: bool = True,
    xlabel: str = "learning rate η",
    ylabel: str = "final loss",
    title: str | None = None,
) -> plt.Axes:
    """A learning-rate sweep on a log axis, with the chosen learning rate marked.

    Introduced in the chapter *The learning rate*. With one row of values the sweep is a
    line; with one row per seed the line is their median, and each seed is drawn as a thin
    line of its own colour (``seed_labels`` given) or the seeds' range as a band.

    Parameters
    ----------
    lrs : sequence of float
        The learning rates, shape ``(num_lrs,)``, all positive.
    values : array_like
        Shape ``(num_lrs,)`` or ``(num_seeds, num_lrs)``: the result of each run.
    ax : matplotlib.axes.Axes, optional
    label : str, optional
        Legend label of the (median) line; default "median of n seeds" for several seeds.
    seed_labels : sequence of str, optional
        One label per seed: draw every seed as its own line.
    chosen : float, optional
        A learning rate to mark with a dotted vertical line.
    chosen_label : str
        Its legend label.
    color, marker : str
        Of the (median) line; black when the seeds are drawn in the palette's colours.
    ylog : bool
        Log-scale y axis.
    xlabel, ylabel, title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    rates = check.to_array("lrs", lrs, ndim=1, min_len=1)
    if not np.all(rates > 0):
        raise ValueError("Invalid lrs: learning rates must be positive (they go on a log axis)")
    runs = _per_seed("values", values, len(rates))
    check.check_str("label", label, optional=True)
    if seed_labels is not None:
        if isinstance(seed_labels, str) or not isinstance(seed_labels, Sequence):
            raise TypeError("Invalid seed_labels: expected a list of str, one per seed")
        if len(seed_labels) != len(runs):
            raise ValueError(f"Invalid seed_labels: give one label per seed ({len(runs)})")
        seed_labels = [check.check_str("seed_labels", s) for s in seed_labels]
    if chosen is not None:
        check.check_real("chosen", chosen, 0.0, np.inf, low_open=True, high_open=True)
    check.check_str("chosen_label", chosen_label)
    if not mpl.colors.is_color_like(color):
        raise ValueError(f"Invalid color: {color!r} is not a matplotlib colour")
    check.check_choice("marker", marker, MARKERS)
    ax = _axes(ax)
    if len(runs) == 1:
        ax.plot(rates, runs[0], color=color, marker=marker, label=label)
    else:
        if label is None:
            label = f"median of {len(runs)} seeds"
        if seed_labels is not None:
            for i, (run, seed_label) in enumerate(zip(runs, seed_labels, strict=True)):
                ax.plot(
                    rates,
                    run,
                    color=COLORS[i % len(COLORS)],
                    marker="o",
                    alpha=0.6,
                    linewidth=1,
                    label=seed_label,
                )
            color = "black"
        else:
            ax.fill_between(rates, runs.min(axis=0), runs.max(axis=0), color=color, alpha=0.2)
        ax.plot(rates, np.median(runs, axis=0), color=color, marker=marker, label=label)
    if chosen is not None:
        ax.axvline(chosen, color="0.4", linestyle=":", linewidth=1.5, label=chosen_label)
    _finish(ax, xlog=True, ylog=ylog, xlabel=xlabel, ylabel=ylabel, title=title)
    if label is not None or seed_labels is not None or chosen is not None:
        ax.legend(loc="best")
    return ax
