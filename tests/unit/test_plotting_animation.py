"""helpers.plotting.animation_html: a light, accessible animation player."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.animation import FuncAnimation

from helpers import plotting
from helpers.plotting import animation_html


def small_animation(num_frames=3):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    (line,) = ax.plot([], [])
    ax.set(xlim=(0, 1), ylim=(0, 1))

    def draw(frame):
        x = np.linspace(0, 1, 10)
        line.set_data(x, x * frame / num_frames)
        return [line]

    animation = FuncAnimation(fig, draw, frames=num_frames, interval=100, blit=True)
    plt.close(fig)
    return animation


def test_alt_text_slider_label_and_jpeg_frames():
    player = animation_html(small_animation(), alt='A line that rises, "slowly" & <surely>').data
    assert 'alt="A line that rises, &quot;slowly&quot; &amp; &lt;surely&gt;"' in player
    assert player.count('aria-label="Animation frame"') == 1
    assert player.count("data:image/jpeg;base64") == 3
    assert "image/png" not in player


def test_png_frames_on_request():
    player = animation_html(small_animation(2), alt="Two frames", frame_format="png").data
    assert player.count("data:image/png;base64") == 2


@pytest.mark.parametrize("alt", ["", "   ", None])
def test_alt_text_is_required(alt):
    with pytest.raises(ValueError, match="alt text"):
        animation_html(small_animation(), alt=alt)


def test_warns_when_the_player_is_heavy(monkeypatch):
    monkeypatch.setattr(plotting, "ANIMATION_WARN_BYTES", 1_000)
    with pytest.warns(UserWarning, match="1.5 MB"):
        animation_html(small_animation(), alt="A rising line")
