"""One consistent look for every figure of the course.

Call :func:`set_style` once at the top of a notebook. The colours are the Okabe-Ito
palette, which stays distinguishable for the common forms of colour blindness; lines
also differ in marker so that figures survive greyscale printing.
Every function returns the ``Axes`` (or ``Figure``) it drew on.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.colors import LogNorm

from helpers.objectives import Objective
from helpers.training import Trajectory

__all__ = [
    "COLORS",
    "MARKERS",
    "animate_paths",
    "animation_html",
    "plot_contour",
    "plot_losses",
    "plot_path_1d",
    "plot_paths",
    "set_style",
]

#: Okabe-Ito colour-blind-safe palette (black left out: it is kept for annotations).
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
#: One marker per colour, so that lines stay distinct in greyscale.
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def set_style() -> None:
    """Apply the course's matplotlib style (palette, sizes, grid, high-DPI output)."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
            "legend.framealpha": 0.9,
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.constrained_layout.use": True,
            "lines.linewidth": 1.8,
            "lines.markersize": 4,
            "image.cmap": "viridis",
        }
    )


def _axes(ax: plt.Axes | None) -> plt.Axes:
    return plt.subplots()[1] if ax is None else ax


def plot_contour(
    objective: Objective,
    ax: plt.Axes | None = None,
    *,
    levels: int = 25,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> plt.Axes:
    """Contour lines of a 2-D objective, with its minima starred.

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
    ax = _axes(ax)
    if xlim or ylim:
        objective = _with_window(objective, xlim, ylim)
    X, Y, Z = objective.grid()
    if objective.log_levels:
        low = max(Z.min(), 1e-3)
        ax.contour(
            X,
            Y,
            Z,
            levels=np.geomspace(low, Z.max(), levels),
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
    return replace(objective, xlim=xlim or objective.xlim, ylim=ylim or objective.ylim)


def _as_points(path: Trajectory | np.ndarray) -> np.ndarray:
    return path.points if isinstance(path, Trajectory) else np.asarray(path)


def plot_paths(
    objective: Objective,
    paths: Mapping[str, Trajectory | np.ndarray],
    ax: plt.Axes | None = None,
    *,
    markevery: int = 1,
    **contour_kwargs,
) -> plt.Axes:
    """Optimizer paths drawn over the contours of a 2-D objective.

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
    ax = plot_contour(objective, ax, **contour_kwargs)
    for i, (label, path) in enumerate(paths.items()):
        points = _as_points(path)
        ax.plot(
            points[:, 0],
            points[:, 1],
            color=COLORS[i % len(COLORS)],
            marker=MARKERS[i % len(MARKERS)],
            markevery=markevery,
            label=label,
        )
    if paths:
        first = _as_points(next(iter(paths.values())))[0]
        ax.plot(
            *first,
            marker="o",
            markersize=9,
            markerfacecolor="white",
            markeredgecolor="black",
            linestyle="none",
            label="start",
        )
    ax.legend(loc="best")
    return ax


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
    ax = _axes(ax)
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        xs = np.arange(len(values)) if x is None else np.asarray(x[label])
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


def plot_path_1d(
    objective: Objective,
    xs: Sequence[float],
    ax: plt.Axes | None = None,
    *,
    label: str = "gradient descent",
    color: str = COLORS[0],
) -> plt.Axes:
    """A 1-D objective's curve with the iterates ``xs`` marked on it and joined in order.

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
    if objective.dim != 1:
        raise ValueError(
            f"plot_path_1d needs a 1-D objective, {objective.name} is {objective.dim}-D"
        )
    ax = _axes(ax)
    grid = np.linspace(*objective.xlim, 400)
    ax.plot(grid, objective.formula(grid), color="0.4", linewidth=1.2, label=objective.name)
    xs = np.asarray(xs, dtype=float)
    ax.plot(xs, objective.formula(xs), color=color, marker="o", label=label)
    ax.plot(
        xs[0],
        objective.formula(xs[0]),
        marker="o",
        markersize=9,
        markerfacecolor="white",
        markeredgecolor="black",
        linestyle="none",
        label="start",
    )
    ax.set_xlabel("$x$")
    ax.set_ylabel("$f(x)$")
    ax.legend(loc="upper center")
    return ax


def animate_paths(
    objective: Objective,
    paths: Mapping[str, Trajectory | np.ndarray],
    *,
    num_frames: int = 40,
    interval: int = 120,
    **contour_kwargs,
) -> FuncAnimation:
    """An animation of optimizer paths growing over the contours.

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
    fig, ax = plt.subplots()
    plot_contour(objective, ax, **contour_kwargs)
    points = {label: _as_points(p) for label, p in paths.items()}
    longest = max(len(p) for p in points.values())
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

    animation = FuncAnimation(fig, draw, frames=len(stops), interval=interval, blit=True)
    plt.close(fig)
    return animation


#: Above this size an animation alone would take most of a page's 1.5 MB budget.
ANIMATION_WARN_BYTES = 1_000_000


def animation_html(
    animation: FuncAnimation,
    alt: str,
    *,
    dpi: float = 72,
    frame_format: str = "jpeg",
    default_mode: str | None = None,
):
    """An animation as a light, accessible HTML player for the notebook and the website.

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
        Resolution of the frames (72 dpi gives a 504 x 288 pixel frame at the course's
        7 x 4 inch figure size).
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
