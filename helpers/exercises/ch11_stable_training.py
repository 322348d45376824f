"""Exercises for the chapter *Stable training*: clipping, initialization, warmup, diagnostics.

Questions: ``q1`` clip the gradient norm, ``q2`` the He and Xavier standard deviations,
``q3`` a linear warmup, ``q4`` read a diagnostic plot, ``q5`` RAdam's rectification.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____
from helpers.plotting import COLORS, FIGSIZE, MARKERS
from helpers.training import TrainingDiagnostics, fit

__all__ = ["QUESTIONS", "____", "diagnostic_plot", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: clip the gradient norm
# ---------------------------------------------------------------------------------------------


def clip_grad_norm(grads, max_norm):
    # the norm of all gradients together, as one long vector
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    scale = min(max_norm / (total_norm + 1e-6), 1.0)  # never scale up
    return [g * scale for g in grads], total_norm


def _clip_torch(grads, max_norm):
    params = []
    for g in grads:
        p = torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(np.asarray(g, dtype=float), dtype=torch.float64)
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=False)
    return tuple(p.grad.numpy() for p in params), total.item()


def _clip_variant(grads, max_norm, *, clamp=True, per_tensor=False, after=False, norm="l2"):
    grads = [np.asarray(g, dtype=float) for g in grads]
    if per_tensor:
        clipped = [g * min(max_norm / (np.linalg.norm(g) + 1e-6), 1.0) for g in grads]
        return tuple(clipped), math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    if norm == "sum":
        total = sum(float(np.linalg.norm(g)) for g in grads)
    elif norm == "value":
        clipped = [np.clip(g, -max_norm, max_norm) for g in grads]
        return tuple(clipped), math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    else:
        total = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    scale = max_norm / (total + 1e-6)
    if clamp:
        scale = min(scale, 1.0)
    clipped = [g * scale for g in grads]
    if after:
        total = math.sqrt(sum(float(np.sum(g**2)) for g in clipped))
    return tuple(clipped), total


def _clip(**changes):
    return lambda *args: _clip_variant(*args, **changes)


def _q1_cases():
    g = np.random.default_rng(0)
    large = [3 * g.standard_normal((4, 3)), 3 * g.standard_normal(3), 3 * g.standard_normal(5)]
    small = [0.01 * g.standard_normal((2, 2)), 0.01 * g.standard_normal(4)]
    uneven = [np.array([30.0, -40.0]), np.array([0.1, 0.2, -0.1])]
    return [
        Case((large, 1.0), label="For three gradients of total norm about 10 and max_norm = 1"),
        Case((small, 1.0), label="For two small gradients (total norm below max_norm = 1)"),
        Case((uneven, 5.0), label="For gradients [30, -40] and [0.1, 0.2, -0.1], max_norm = 5"),
    ]


q1 = FunctionQuestion(
    "q1",
    reference=clip_grad_norm,
    expected=_clip_torch,
    cases=_q1_cases,
    returns=["clipped", "total_norm"],
    rtol=1e-4,  # with or without torch's 1e-6 in the denominator
    atol=1e-9,
    mistakes=[
        (
            _clip(clamp=False),
            "Gradients whose total norm is already below `max_norm` must stay as they are: "
            "the factor is min(`max_norm` / ‖g‖, 1), never larger than 1.",
        ),
        (
            _clip(per_tensor=True),
            "Each gradient was clipped on its own. Clip by the norm of *all* gradients "
            "together, one factor for all, so that the direction of the whole step is kept.",
        ),
        (
            _clip(after=True),
            "Return the total norm *before* clipping, as torch does: it is what you monitor.",
        ),
        (
            _clip(norm="sum"),
            "The total norm is the norm of all entries together, sqrt(Σ ‖g_i‖²), not the sum "
            "of the gradients' norms.",
        ),
        (
            _clip(norm="value"),
            "That is clipping by value, entry by entry; clipping by norm rescales every "
            "gradient by one common factor.",
        ),
    ],
    hints=[
        "First the total norm: the square root of the sum of the squares of *every* entry "
        "of *every* gradient.",
        "Then one factor for all: `scale = min(max_norm / (total_norm + 1e-6), 1.0)`; return "
        "`[g * scale for g in grads]` and `total_norm`.",
    ],
    explanation=r"""
        `torch.nn.utils.clip_grad_norm_` sees the gradients of all parameters as one long
        vector $g$, computes $\lVert g \rVert$, and multiplies every gradient by
        $\min(c / (\lVert g \rVert + 10^{-6}), 1)$, where $c$ is `max_norm`. The direction of
        the step is kept; only its length is capped at $c$. It changes the gradients in place
        and returns the norm from before clipping, which is worth logging: its spikes are what
        clipping guards against. The $10^{-6}$ avoids a division by zero when every gradient is 0.
    """,
    success="your clipping matches `torch.nn.utils.clip_grad_norm_`.",
)

# ---------------------------------------------------------------------------------------------
# q2: the He and Xavier standard deviations
# ---------------------------------------------------------------------------------------------

_FAN_IN, _FAN_OUT = 512, 256


def _q2_expected():
    weight = torch.empty(_FAN_OUT, _FAN_IN)  # nn.Linear(512, 256).weight: (out, in)
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(weight)
    he = nn.init.calculate_gain("relu") / math.sqrt(fan_in)  # kaiming_normal_'s std
    xavier = math.sqrt(2.0 / (fan_in + fan_out))  # xavier_normal_'s std (gain 1)
    return {"he_std": he, "xavier_std": xavier}


q2 = ValueQuestion(
    "q2",
    names=["he_std", "xavier_std"],
    expected=_q2_expected,
    rtol=2e-3,
    solution="""
        fan_in, fan_out = 512, 256
        # Var(z) = fan_in * sigma^2 * E[relu(z_prev)^2] = fan_in * sigma^2 * Var(z_prev) / 2
        he_std = math.sqrt(2 / fan_in)
        # the average of the forward (1 / fan_in) and backward (1 / fan_out) conditions
        xavier_std = math.sqrt(2 / (fan_in + fan_out))
    """,
    mistakes={
        "he_std": [
            (2 / 512, "That is the variance; the standard deviation is its square root."),
            (
                math.sqrt(1 / 512),
                "ReLU sets half of its inputs to 0, which halves E[φ(z)²]: the weights need "
                "twice the variance that a linear layer needs.",
            ),
            (math.sqrt(2 / 256), "He initialization (fan_in mode) uses the fan-in, 512."),
            (math.sqrt(2 / (512 + 256)), "That is Xavier's formula; He's uses the fan-in only."),
        ],
        "xavier_std": [
            (2 / (512 + 256), "That is the variance; the standard deviation is its square root."),
            (math.sqrt(1 / 512), "Xavier averages the fan-in and the fan-out: 2 / (512 + 256)."),
            (math.sqrt(2 / 512), "That is He's formula; Xavier's uses fan-in + fan-out."),
            (
                math.sqrt(6 / (512 + 256)),
                "That is the bound a of xavier_uniform_'s U(-a, a); the normal version's "
                "standard deviation is sqrt(2 / (fan_in + fan_out)).",
            ),
        ],
    },
    hints=[
        "A layer with n inputs multiplies the variance by n σ² E[φ(z)²] / Var(z). For ReLU, "
        "E[relu(z)²] = Var(z) / 2. Choose σ² so that the factor is 1.",
        "He: σ² = 2 / fan_in. Xavier: σ² = 2 / (fan_in + fan_out). The question asks for σ.",
    ],
    explanation=r"""
        Each pre-activation is a sum of $n_\text{in}$ independent terms $W_{ij} h_j$, so
        $\operatorname{Var}(z) = n_\text{in}\, \sigma^2\, \mathbb{E}[\phi(z_\text{prev})^2]$.
        ReLU keeps half of a symmetric input, so $\mathbb{E}[\phi^2] = \operatorname{Var}/2$,
        and the variance is preserved when $\sigma^2 = 2 / n_\text{in}$:
        $\sigma = \sqrt{2/512} = 0.0625$, which is `nn.init.kaiming_normal_`'s
        `calculate_gain("relu") / sqrt(fan_in)`. Glorot and Bengio ask for
        $\sigma^2 = 1/n_\text{in}$ going forward and $1/n_\text{out}$ going backward, and
        take the harmonic compromise $2/(n_\text{in} + n_\text{out})$:
        $\sigma = \sqrt{2/768} \approx 0.0510$ (`nn.init.xavier_normal_`).
    """,
    success="σ = 0.0625 for He, about 0.0510 for Xavier, as `torch.nn.init` draws them.",
)

# ---------------------------------------------------------------------------------------------
# q3: a linear warmup
# ---------------------------------------------------------------------------------------------


def linear_warmup(t, lr0, warmup_steps, start_factor):
    if t >= warmup_steps:
        return lr0  # the warmup is over
    # from start_factor * lr0 at t = 0, linearly up to lr0 at warmup_steps
    return lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)


def _warmup_torch(t, lr0, warmup_steps, start_factor):
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr0)
    scheduler = torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=start_factor, total_iters=warmup_steps
    )
    for _ in range(t):
        optimizer.step()
        scheduler.step()
    return optimizer.param_groups[0]["lr"]


def _warmup_variant(t, base, warmup, start, *, from_zero=False, shift=0, cap=True, den=0):
    if cap and t >= warmup:
        return base
    low = 0.0 if from_zero else start
    return base * (low + (1 - low) * (t + shift) / (warmup + den))


def _warm(**changes):
    return lambda *args: _warmup_variant(*args, **changes)


def _q3_cases():
    cases = [
        Case(
            (t, 0.1, 10, 0.01),
            label=f"For t = {t} (lr0 = 0.1, warmup_steps = 10, start_factor = 0.01)",
        )
        for t in (0, 1, 5, 9, 10, 25)
    ]
    cases.append(
        Case(
            (3, 2.0, 4, 0.25),
            label="For t = 3 (lr0 = 2, warmup_steps = 4, start_factor = 0.25)",
        )
    )
    return cases


q3 = FunctionQuestion(
    "q3",
    reference=linear_warmup,
    expected=_warmup_torch,
    cases=_q3_cases,
    rtol=1e-9,
    atol=1e-12,
    mistakes=[
        (
            _warm(from_zero=True),
            "At t = 0 the rate should be start_factor * lr0, not 0: a rate of 0 "
            "would waste the first step.",
        ),
        (
            _warm(shift=1),
            "The rate at t = 0 is start_factor * lr0: use t / warmup_steps, not "
            "(t + 1) / warmup_steps.",
        ),
        (
            _warm(cap=False),
            "After warmup_steps the rate stays at lr0; it must not keep growing.",
        ),
        (
            _warm(den=-1),
            "torch's LinearLR reaches lr0 at t = warmup_steps: divide by warmup_steps, "
            "not warmup_steps - 1.",
        ),
    ],
    hints=[
        "Two cases: from `t = warmup_steps` on, return `lr0`. Before, the factor "
        "grows linearly from `start_factor` (at t = 0) to 1 (at `warmup_steps`).",
        "`lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)`.",
    ],
    explanation=r"""
        This is `torch.optim.lr_scheduler.LinearLR(optimizer, start_factor, total_iters=
        warmup_steps)` (with its default `end_factor=1`), and the warmup phase of
        `helpers.schedules.warmup_cosine_lr`. PyTorch refuses `start_factor=0`: the first
        step would then do nothing. Goyal et al. (2017) introduced this gradual warmup for
        large-batch SGD; for Adam it tames the first steps, which are the largest Adam
        takes. After the warmup, a schedule usually takes over, chained with
        `torch.optim.lr_scheduler.SequentialLR`.
    """,
    success="your warmup matches `torch.optim.lr_scheduler.LinearLR`.",
)

# ---------------------------------------------------------------------------------------------
# q4: read a diagnostic plot
# ---------------------------------------------------------------------------------------------


def diagnostic_plot(seed=0, num_steps=30):
    """Train a 10-layer ReLU network with Adam for a few steps and plot what
    :class:`helpers.training.TrainingDiagnostics` recorded; returns the figure.

    The data are synthetic: 64 Gaussian features, 10 classes given by a random linear teacher.
    """
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(num_steps, 64, 64, generator=generator)  # (steps, batch, features)
    y = (X @ torch.randn(64, 10, generator=generator)).argmax(dim=-1)
    torch.manual_seed(seed)
    layers, fan_in = [], 64
    for _ in range(10):
        linear = nn.Linear(fan_in, 32)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
        fan_in = 32
    model = nn.Sequential(*layers, nn.Linear(32, 10))
    batches = list(zip(X, y, strict=True))
    diagnostics = TrainingDiagnostics()
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        torch.optim.Adam(model.parameters(), lr=0.05),
        batches,
        num_epochs=1,
        callbacks=[diagnostics],
    )
    steps = np.arange(1, num_steps + 1)
    fig, axes = plt.subplots(1, 3, figsize=FIGSIZE["wide"])
    axes[0].plot(steps, history.batch_loss, color=COLORS[0], marker=MARKERS[0], markevery=5)
    axes[0].set(xlabel="step", ylabel="mini-batch loss", title="loss")
    ratios = np.median(np.array(list(diagnostics.update_ratio.values())), axis=0)
    axes[1].semilogy(steps, ratios, color=COLORS[1], marker=MARKERS[1], markevery=5)
    axes[1].axhline(1e-3, color="0.4", linestyle=":")
    axes[1].set(xlabel="step", ylabel="‖ΔW‖ / ‖W‖ (median layer)", title="update / weight")
    dead = np.mean(np.array(list(diagnostics.dead_fraction.values())), axis=0)
    axes[2].plot(steps, dead, color=COLORS[2], marker=MARKERS[2], markevery=5)
    axes[2].set(xlabel="step", ylabel="fraction of dead ReLUs", title="dead ReLUs", ylim=(0, 1))
    fig.suptitle("A run to diagnose: the first 30 steps")
    return fig


q4 = ChoiceQuestion(
    "q4",
    answer="b",
    why={
        "a": "The loss is the last to show it. Dead ReLUs get no gradient and rarely come "
        "back; by the time the loss stalls, the damage is done.",
        "b": "An update-to-weight ratio near 0.1 means each step rewrites about a tenth of "
        "the weights, a hundred times the usual 1e-3; the rising fraction of dead units is "
        "the result.",
        "c": "Read the scale of the middle panel again: the ratio is far above the dotted "
        "1e-3 line, not below it.",
        "d": "Depth does not revive dead units; the large steps are what kills them.",
    },
    explanation=r"""
        The middle panel shows an update-to-weight ratio $\lVert \Delta W \rVert /
        \lVert W \rVert$ of about $10^{-1}$ in the first steps, a hundred times the rule of
        thumb of $10^{-3}$: Adam's first updates move every weight by about the learning
        rate, 0.05, while the weights themselves are of size about 0.25. The right panel
        shows what that does: ReLU units whose inputs were pushed below 0 for every example
        stop passing gradient, and their fraction climbs within a few steps. The loss (left)
        has not yet said anything clear. A smaller learning rate, or the same one reached
        through a warmup, keeps the first steps small. It is a run like the chapter's
        unhealthy one (a 10-layer ReLU network, Adam at 0.05, no warmup), here on synthetic
        data and with one seed.
    """,
    hints=[
        "Compare the middle panel with its dotted line, the 1e-3 rule of thumb: above or "
        "below, and by how much?",
    ],
)

# ---------------------------------------------------------------------------------------------
# q5: RAdam's rectification
# ---------------------------------------------------------------------------------------------


def _rectification(t, beta2):
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return rho, r


def _q5_mistakes():
    rho_inf_wrong = 1 / (1 - 0.999)
    rho_wrong = rho_inf_wrong - 2 * 100 * 0.999**100 / (1 - 0.999**100)
    _, r = _rectification(100, 0.999)
    return {
        "rho_100": [
            (rho_wrong, "ρ∞ = 2 / (1 - β₂) - 1 = 1999 for β₂ = 0.999, not 1 / (1 - β₂)."),
            (2 / (1 - 0.999) - 1, "That is ρ∞, the limit; ρ_t subtracts 2 t β₂ᵗ / (1 - β₂ᵗ)."),
            (100.0, "Close in spirit, but ρ_t is not t: compute ρ∞ - 2 t β₂ᵗ / (1 - β₂ᵗ)."),
        ],
        "r_100": [
            (r**2, "r_t is the square root of that ratio."),
            (1.0, "r_t approaches 1 only after thousands of steps; compute it at t = 100."),
        ],
    }


q5 = ValueQuestion(
    "q5",
    names=["rho_100", "r_100"],
    expected=lambda: dict(zip(["rho_100", "r_100"], _rectification(100, 0.999), strict=True)),
    mistakes=_q5_mistakes,
    rtol=1e-3,
    solution="""
        beta2, t = 0.999, 100
        rho_inf = 2 / (1 - beta2) - 1
        rho_100 = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        r_100 = math.sqrt(
            (rho_100 - 4) * (rho_100 - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_100)
        )
    """,
    hints=[
        "ρ∞ = 2 / (1 - β₂) - 1, then ρ_t = ρ∞ - 2 t β₂ᵗ / (1 - β₂ᵗ) with t = 100.",
        "r_t = sqrt((ρ_t - 4)(ρ_t - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρ_t)).",
    ],
    explanation=r"""
        With $\beta_2 = 0.999$, $\rho_\infty = 1999$, and after 100 steps the average $v_t$
        is worth only $\rho_{100} \approx 98$ gradients, so RAdam scales Adam's step by
        $r_{100} \approx 0.21$. It reaches 0.5 after several hundred steps and 0.9 only after
        a few thousand: the rectification acts as a warmup of the order of the
        $2/(1 - \beta_2) = 2000$ steps that Ma and Yarats (2021) recommend for an untuned
        linear warmup. While $\rho_t \le 5$, for the first 5 steps, RAdam takes plain momentum
        steps (5 is PyTorch's threshold; the paper's is 4). `helpers.optim.RAdam` and
        `torch.optim.RAdam` compute exactly this.
    """,
    success="ρ₁₀₀ ≈ 98 and r₁₀₀ ≈ 0.21: at step 100 RAdam uses a fifth of the learning rate.",
)

QUESTIONS = [q1, q2, q3, q4, q5]
