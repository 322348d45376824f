"""The course's benchmark workloads: small enough for a laptop CPU, and offline.

- :func:`quadratic_workload`: a 2-D quadratic bowl of condition number ``kappa``, turned.
- :func:`rosenbrock_workload`: Rosenbrock's banana valley.
- :func:`moons_mlp_workload`: a 2-32-32-2 ReLU network on the two moons.
- :func:`digits_mlp_workload`: a 64-64-10 ReLU network on the 8x8 digits.
- :func:`digits_cnn_workload`: a small convolutional network on the same digits, as images.
- :func:`char_lm_workload`: a one-layer character-level transformer language model.
- :func:`course_workloads`: all of them, in this order.

The text of the language model is :func:`course_text`: the reStructuredText descriptions of
the data sets that ship with scikit-learn (``sklearn/datasets/descr/*.rst``, about 43 kB),
part of scikit-learn and under its licence, BSD-3-Clause.

Each workload's metric is a validation loss (the test functions: their value, whose minimum
is 0). Its target is left unset: :func:`helpers.benchmark.set_target` sets it from a heavily
tuned baseline. Introduced in the chapter *Benchmarking optimizers*.
"""

from __future__ import annotations

import functools
import itertools
import math
from importlib.util import find_spec
from pathlib import Path

import torch
from torch import nn

from helpers import _checks as check
from helpers.benchmark.study import Workload
from helpers.data import digits, two_moons
from helpers.models import mlp
from helpers.objectives import Objective, random_start, rosenbrock

__all__ = [
    "char_lm_workload",
    "course_text",
    "course_workloads",
    "digits_cnn_workload",
    "digits_mlp_workload",
    "moons_mlp_workload",
    "quadratic_workload",
    "rosenbrock_workload",
]


class _Point(nn.Module):
    """A test function's point as a model: its one parameter is the point, its output f(x)."""

    def __init__(self, objective: Objective, start: torch.Tensor):
        super().__init__()
        self.objective = objective
        self.point = nn.Parameter(start.clone())

    def forward(self, X=None) -> torch.Tensor:
        return self.objective(self.point) - self.objective.min_value


def _objective_workload(name, objective, center, width, step_budget, eval_every) -> Workload:
    return Workload(
        name=name,
        make_model=lambda seed: _Point(objective, random_start(seed, center, width)),
        batches=lambda seed: itertools.repeat((None, None)),
        loss_fn=lambda value, y: value,
        validate=lambda model: model().item(),
        step_budget=step_budget,
        eval_every=eval_every,
        metric="f(x) - f*",
    )


def quadratic_workload(kappa: float = 100.0, angle: float = math.pi / 6) -> Workload:
    """A bowl of condition number ``kappa``, turned by ``angle``, from a start near ``(1, 1)``.

    Introduced in the chapter *Benchmarking optimizers*.

    ``f = (u^2 + kappa v^2) / 2`` in coordinates ``(u, v)`` turned by ``angle`` against
    ``(x, y)``. Turned, its ravine is not along an axis, so an optimizer that scales each
    coordinate on its own (Adam, RMSprop) cannot undo the conditioning (on the axis-aligned
    bowl of :func:`helpers.objectives.quadratic` it can). 200 steps.

    Parameters
    ----------
    kappa : float
        The condition number, 1 to 10**6.
    angle : float
        The turn in radians.

    Returns
    -------
    Workload
    """
    kappa = check.to_real("kappa", kappa, 1.0, 1e6)
    angle = check.to_real("angle", angle, -math.pi, math.pi)
    c, s = math.cos(angle), math.sin(angle)
    bowl = Objective(
        name=f"turned quadratic, κ = {kappa:g}",
        formula=lambda x, y: 0.5 * ((c * x + s * y) ** 2 + kappa * (c * y - s * x) ** 2),
        dim=2,
        minima=((0.0, 0.0),),
        min_value=0.0,
        xlim=(-2.0, 2.0),
        ylim=(-2.0, 2.0),
    )
    return _objective_workload(f"quadratic κ={kappa:g}", bowl, (1.0, 1.0), 0.5, 200, 10)


def rosenbrock_workload() -> Workload:
    """Rosenbrock's valley from a random start around ``(-1, 1)``; 400 steps.

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    Workload
    """
    return _objective_workload("Rosenbrock", rosenbrock(), (-1.0, 1.0), 0.5, 400, 10)


def _shuffled_batches(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int):
    """Endless mini-batches, reshuffled every epoch by a generator seeded with ``seed``.

    Indexing the tensors directly costs a few microseconds a batch, where a ``DataLoader``
    over single examples costs a millisecond: most of a step of these small models.
    """
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(X), generator=generator)
        for begin in range(0, len(X) - batch_size + 1, batch_size):  # full batches only
            batch = order[begin : begin + batch_size]
            yield X[batch], y[batch]


def _mean_loss(model, X, y) -> float:
    return nn.functional.cross_entropy(model(X), y).item()


def _classifier(name, split, make_model, step_budget, eval_every, batch_size) -> Workload:
    X_val, y_val = split.X_test, split.y_test  # the held-out part: our validation set
    return Workload(
        name=name,
        make_model=make_model,
        batches=lambda seed: _shuffled_batches(split.X_train, split.y_train, batch_size, seed),
        loss_fn=nn.functional.cross_entropy,
        validate=lambda model: _mean_loss(model, X_val, y_val),
        step_budget=step_budget,
        eval_every=eval_every,
        metric="validation cross-entropy",
    )


def _mlp(sizes, seed) -> nn.Sequential:
    return mlp(sizes, nn.ReLU, seed=seed)


def moons_mlp_workload() -> Workload:
    """A 2-32-32-2 ReLU network on 1000 noisy two-moons points; batches of 64, 400 steps.

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    Workload
    """
    split = two_moons(n_samples=1000, noise=0.25, seed=0)
    return _classifier(
        "moons MLP", split, functools.partial(_mlp, (2, 32, 32, 2)), 400, 20, batch_size=64
    )


def digits_mlp_workload() -> Workload:
    """A 64-64-10 ReLU network on the 8x8 digits; batches of 64, 400 steps.

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    Workload
    """
    split = digits(seed=0)
    return _classifier(
        "digits MLP", split, functools.partial(_mlp, (64, 64, 10)), 400, 20, batch_size=64
    )


def _cnn(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),  # 64 pixels -> one 8x8 channel
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 8 channels of 4x4
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 16 channels of 2x2
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def digits_cnn_workload() -> Workload:
    """Two 3x3 convolutions (8 and 16 channels) and a linear layer on the digits; 300 steps.

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    Workload
    """
    return _classifier("digits CNN", digits(seed=0), _cnn, 300, 15, batch_size=64)


@functools.cache
def course_text() -> str:
    """scikit-learn's data-set descriptions, one text (BSD-3-Clause, ships with scikit-learn).

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    str
        The files ``sklearn/datasets/descr/*.rst`` in name order, joined by blank lines.
    """
    # found without importing scikit-learn, which takes seconds
    folder = Path(find_spec("sklearn").submodule_search_locations[0]) / "datasets" / "descr"
    return "\n\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.rst")))


class _CharTransformer(nn.Module):
    """Embedding, one pre-norm causal transformer layer, and a linear read-out."""

    def __init__(self, vocab_size: int, context: int, width: int = 32, heads: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width)
        self.position = nn.Parameter(0.02 * torch.randn(context, width))
        self.block = nn.TransformerEncoderLayer(
            width,
            heads,
            dim_feedforward=2 * width,
            dropout=0.0,
            batch_first=True,
            norm_first=True,
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.embed(tokens) + self.position[: tokens.shape[1]]
        h = self.block(h, src_mask=self.mask, is_causal=True)
        return self.head(self.norm(h))  # (batch, context, vocab) logits


def _next_char_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())


def _char_batches(codes: torch.Tensor, context: int, batch_size: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.arange(context + 1)
    while True:
        starts = torch.randint(len(codes) - context - 1, (batch_size,), generator=generator)
        windows = codes[starts[:, None] + offsets]
        yield windows[:, :-1], windows[:, 1:]


def char_lm_workload(context: int = 32, batch_size: int = 16) -> Workload:
    """A character-level transformer on :func:`course_text`; 200 steps.

    Introduced in the chapter *Benchmarking optimizers*.

    The first 90 % of the text trains it (random windows of ``context`` characters, next
    character predicted at each position); its metric is the mean cross-entropy, in nats
    per character, over the consecutive windows of the last 10 %.

    Parameters
    ----------
    context : int
        Characters per window, 2 to 256.
    batch_size : int
        Windows per batch, 1 to 1024.

    Returns
    -------
    Workload
    """
    check.check_int("context", context, low=2, high=256)
    check.check_int("batch_size", batch_size, low=1, high=1024)
    text = course_text()
    alphabet = sorted(set(text))
    codes = torch.tensor([alphabet.index(c) for c in text])
    cut = int(0.9 * len(codes))
    train, val = codes[:cut], codes[cut:]
    n_val = (len(val) - 1) // context
    val_x = val[: n_val * context].view(n_val, context)
    val_y = val[1 : n_val * context + 1].view(n_val, context)

    def make_model(seed):
        torch.manual_seed(seed)
        return _CharTransformer(len(alphabet), context)

    return Workload(
        name="char transformer",
        make_model=make_model,
        batches=lambda seed: _char_batches(train, context, batch_size, seed),
        loss_fn=_next_char_loss,
        validate=lambda model: _next_char_loss(model(val_x), val_y).item(),
        step_budget=200,
        eval_every=10,
        metric="validation cross-entropy (nats/char)",
    )


def course_workloads() -> list[Workload]:
    """The course's benchmark: two turned quadratics, Rosenbrock, two MLPs, a CNN, a transformer.

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    list of Workload
        Their targets unset.
    """
    return [
        quadratic_workload(100.0),
        quadratic_workload(1000.0),
        rosenbrock_workload(),
        moons_mlp_workload(),
        digits_mlp_workload(),
        digits_cnn_workload(),
        char_lm_workload(),
    ]
