"""Exercises for the chapter *Scaling out*: large batches and data-parallel training.

Questions: ``q1`` the gradient-accumulation loop, ``q2`` the LARS trust ratio, ``q3`` a
data-parallel SGD step with an all-reduce (the workers simulated in this process), ``q4`` the
linear scaling rule with warmup, ``q5`` when large batches stop helping.
"""

import copy

import torch
from torch import nn

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ____

__all__ = ["QUESTIONS", "____", "all_reduce", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: gradient accumulation
# ---------------------------------------------------------------------------------------------


def accumulated_gradient(model, loss_fn, X, y, k):
    model.zero_grad()  # start from zero: .grad may hold an old gradient
    for X_j, y_j in zip(X.chunk(k), y.chunk(k), strict=True):
        loss = loss_fn(model(X_j), y_j) / k  # each micro-batch's mean loss, divided by k
        loss.backward()  # adds to .grad
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def _accumulation_variant(model, loss_fn, X, y, k, *, divide=True, zero=True, only_last=False):
    if zero:
        model.zero_grad()
    for X_j, y_j in zip(X.chunk(k), y.chunk(k), strict=True):
        if only_last:
            model.zero_grad()
        loss = loss_fn(model(X_j), y_j)
        (loss / k if divide else loss).backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    return grads


def _full_batch_gradient(model, loss_fn, X, y, k):
    model.zero_grad()
    loss_fn(model(X), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


class _WithOldGradient(nn.Sequential):
    """A network whose parameters hold a gradient from an earlier step, kept by deep copies."""

    def __deepcopy__(self, memo):
        clone = type(self)(*(copy.deepcopy(module, memo) for module in self))
        for p, q in zip(self.parameters(), clone.parameters(), strict=True):
            q.grad = None if p.grad is None else p.grad.clone()
        return clone


def _accumulation_case(seed, n, k):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 2, (n,), generator=generator)
    torch.manual_seed(seed)
    model = _WithOldGradient(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    for p in model.parameters():
        p.grad = torch.ones_like(p)  # a gradient left over from an earlier step
    return Case(
        (model, nn.CrossEntropyLoss(), X, y, k),
        label=f"For a batch of {n} examples in k = {k} micro-batches (the model's .grad holds "
        "an old gradient)",
    )


def _q1_cases():
    return [_accumulation_case(0, 8, 2), _accumulation_case(1, 12, 4), _accumulation_case(2, 6, 1)]


q1 = FunctionQuestion(
    "q1",
    reference=accumulated_gradient,
    expected=_full_batch_gradient,
    cases=_q1_cases,
    rtol=1e-9,
    atol=1e-12,
    mistakes=[
        (
            lambda *a: _accumulation_variant(*a, divide=False),
            "The gradient is k times too large: `backward()` adds the micro-batches' "
            "gradients, so divide each micro-batch's mean loss by k.",
        ),
        (
            lambda *a: _accumulation_variant(*a, zero=False),
            "The old gradient is still in `.grad`: call `model.zero_grad()` once, before the "
            "first micro-batch.",
        ),
        (
            lambda *a: _accumulation_variant(*a, only_last=True),
            "Only the last micro-batch is left: zero the gradient once before the loop, not "
            "inside it, so that `backward()` can add up all k of them.",
        ),
    ],
    hints=[
        "Split with `X.chunk(k)` and `y.chunk(k)`; call `model.zero_grad()` once, before the "
        "loop.",
        "In the loop: `(loss_fn(model(X_j), y_j) / k).backward()`; `backward()` adds to `.grad`.",
    ],
    explanation=r"""
        The batch loss is the mean of the micro-batches' mean losses when they have equal
        sizes, $L_B = \frac1k \sum_j L_{B_j}$, and gradients add: so `backward()` on each
        $L_{B_j} / k$ leaves exactly $\nabla L_B$ in `.grad`. Forgetting the $1/k$ multiplies
        the gradient, and so the learning rate, by $k$.
    """,
    success="the accumulated gradient equals the gradient of the whole batch.",
)

# ---------------------------------------------------------------------------------------------
# q2: the LARS trust ratio
# ---------------------------------------------------------------------------------------------


def lars_local_lr(w, g, trust_coefficient, weight_decay):
    w_norm, g_norm = w.norm(), g.norm()
    denominator = g_norm + weight_decay * w_norm
    if w_norm == 0 or denominator == 0:
        return 1.0  # a layer of zeros, or no gradient: no rescaling
    return (trust_coefficient * w_norm / denominator).item()


def _local_lr_variant(w, g, eta, beta, *, decay=True, inverted=False, eta_used=True, guard=True):
    w_norm, g_norm = w.norm(), g.norm()
    denominator = g_norm + (beta * w_norm if decay else 0)
    if guard and (w_norm == 0 or denominator == 0):
        return 1.0
    ratio = (denominator / w_norm) if inverted else (w_norm / denominator)
    return ((eta if eta_used else 1.0) * ratio).item()


def _q2_cases():
    generator = torch.Generator().manual_seed(3)
    w, g = torch.randn(4, 3, generator=generator), torch.randn(4, 3, generator=generator)
    return [
        Case((w, g, 0.001, 0.0005), label="For a 4×3 layer, c = 0.001 and λ = 0.0005"),
        Case((w * 10, g / 10, 0.02, 0.01), label="For a 4×3 layer, c = 0.02 and λ = 0.01"),
        Case((w, g * 1e3, 0.001, 0.0), label="For a large gradient and no weight decay"),
        Case((torch.zeros(5), g[0], 0.001, 0.0005), label="For a layer of zeros"),
    ]


q2 = FunctionQuestion(
    "q2",
    reference=lars_local_lr,
    cases=_q2_cases,
    rtol=1e-5,
    atol=1e-9,
    mistakes=[
        (
            lambda *a: _local_lr_variant(*a, decay=False),
            "The weight decay belongs in the denominator: ‖g‖ + λ‖w‖.",
        ),
        (
            lambda *a: _local_lr_variant(*a, inverted=True),
            "The ratio is upside down: the weights' norm goes on top, so that a layer with large "
            "weights and a small gradient gets a large local rate.",
        ),
        (
            lambda *a: _local_lr_variant(*a, eta_used=False),
            "The trust coefficient c multiplies the ratio.",
        ),
    ],
    hints=[
        "`w.norm()` is the Euclidean norm of the whole tensor (the layer), not per element.",
        "`trust_coefficient * w.norm() / (g.norm() + weight_decay * w.norm())`, and 1.0 when "
        "the weights' norm or the denominator is 0.",
    ],
    explanation=r"""
        LARS rescales each layer's step by $\eta_w = c \lVert w \rVert /
        (\lVert g \rVert + \lambda \lVert w \rVert)$, so that the step
        $\eta\,\eta_w(g + \lambda w)$ has norm at most $\eta c\lVert w \rVert$ (equal when
        $g$ and $w$ point the same way): every layer moves by at most the same fraction of its
        own size, whatever the scale of its gradient. A layer of
        zeros has no size to compare with; `helpers.optim.LARS`, like the reference
        implementation, leaves its step unscaled (ratio 1).
    """,
    success="the local learning rate of LARS.",
)

# ---------------------------------------------------------------------------------------------
# q3: a data-parallel step with all_reduce, the workers simulated in one process
# ---------------------------------------------------------------------------------------------


def all_reduce(copies):
    """What ``dist.all_reduce`` does, seen from every worker at once.

    `copies` holds each worker's copy of one tensor; each copy is replaced, in place, by the sum
    of all of them. Introduced in the chapter *Scaling out*.
    """
    total = torch.stack(list(copies)).sum(0)
    for tensor in copies:
        tensor.copy_(total)


def data_parallel_step(params, worker_grads, lr):
    world_size = len(worker_grads)
    new_params = []
    for i, p in enumerate(params):
        copies = [grads[i].clone() for grads in worker_grads]  # each worker's gradient
        all_reduce(copies)  # every worker now holds the sum
        g = copies[0] / world_size  # the mean: the gradient of the whole batch
        new_params.append(p - lr * g)
    return new_params


def _step_variant(params, worker_grads, lr, *, divide=True, first_only=False, over_params=False):
    world_size = len(worker_grads)
    new_params = []
    for i, p in enumerate(params):
        if first_only:
            g = worker_grads[0][i]
        else:
            g = sum(grads[i] for grads in worker_grads)
            if divide:
                g = g / (len(params) if over_params else world_size)
        new_params.append(p - lr * g)
    return tuple(new_params)


def _combined_batch_step(params, worker_grads, lr):
    return tuple(
        p - lr * sum(g[i] for g in worker_grads) / len(worker_grads) for i, p in enumerate(params)
    )


def _shard_case(seed, world_size, shard_size):
    # A linear model's gradients on each worker's shard of one batch.
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(world_size * shard_size, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(world_size * shard_size, 2, generator=generator, dtype=torch.float64)
    W = torch.randn(3, 2, generator=generator, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    worker_grads = []
    for X_r, y_r in zip(X.chunk(world_size), y.chunk(world_size), strict=True):
        loss = ((X_r @ W + b - y_r) ** 2).mean()
        worker_grads.append([g.detach() for g in torch.autograd.grad(loss, [W, b])])
    return Case(
        ([W.detach(), b.detach()], worker_grads, 0.1),
        label=f"For {world_size} workers with {shard_size} examples each (lr = 0.1)",
    )


def _q3_cases():
    return [_shard_case(0, 2, 4), _shard_case(1, 4, 3), _shard_case(2, 3, 2)]


q3 = FunctionQuestion(
    "q3",
    reference=data_parallel_step,
    expected=_combined_batch_step,
    cases=_q3_cases,
    rtol=1e-9,
    atol=1e-12,
    mistakes=[
        (
            lambda *a: _step_variant(*a, divide=False),
            "The step is as many times too large as there are workers: `all_reduce` sums the "
            "gradients; divide the sum by the number of workers.",
        ),
        (
            lambda *a: _step_variant(*a, first_only=True),
            "Every worker stepped with its own gradient only: all-reduce the gradients first, so "
            "that all of them step with the same, averaged one.",
        ),
        (
            lambda *a: _step_variant(*a, over_params=True),
            "Divide by the number of workers, `len(worker_grads)`, not the number of parameters.",
        ),
    ],
    hints=[
        "For parameter `i`, the workers' gradients are `[grads[i] for grads in worker_grads]`; "
        "`all_reduce` replaces each of them by their sum.",
        "Divide the sum by `len(worker_grads)` and return `[p - lr * g, ...]` for every "
        "parameter.",
    ],
    explanation=r"""
        Each worker's gradient is the gradient of its own shard's mean loss; with equal
        shards, their mean is the gradient of the whole batch's mean loss. `all_reduce` gives
        every worker the sum, each divides by the number of workers and takes the same SGD
        step, so the copies of the model stay identical. `DistributedDataParallel` does
        exactly this inside `backward()`.
    """,
    success="the step of one process on the combined batch.",
)

# ---------------------------------------------------------------------------------------------
# q4: the linear scaling rule with warmup
# ---------------------------------------------------------------------------------------------


def scaled_lr(t, base_lr, base_batch_size, batch_size, warmup_steps):
    peak = base_lr * batch_size / base_batch_size  # the linear scaling rule
    if t < warmup_steps:
        return base_lr + (peak - base_lr) * t / warmup_steps  # from base_lr up to the peak
    return peak


def _scaled_variant(
    t, base_lr, base_batch_size, batch_size, warmup, *, rule="linear", start="base", warm=True
):
    k = batch_size / base_batch_size
    peak = base_lr * {"linear": k, "sqrt": k**0.5, "inverse": 1 / k}[rule]
    if warm and t < warmup:
        low = base_lr if start == "base" else 0.0
        return low + (peak - low) * t / warmup
    return peak


def _q4_cases():
    cases = []
    for t in (0, 250, 500, 1000, 3000):
        cases.append(
            Case(
                (t, 0.1, 256, 8192, 1000),
                label=f"For t = {t} (base_lr = 0.1 at base_batch_size = 256, batch_size = 8192, "
                "warmup_steps = 1000)",
            )
        )
    cases.append(Case((10, 0.05, 128, 512, 0), label="For no warmup (warmup_steps = 0)"))
    return cases


q4 = FunctionQuestion(
    "q4",
    reference=scaled_lr,
    cases=_q4_cases,
    rtol=1e-9,
    atol=1e-12,
    mistakes=[
        (
            lambda *a: _scaled_variant(*a, rule="sqrt"),
            "That is the square-root rule: the linear rule multiplies the rate by "
            "batch_size / base_batch_size itself.",
        ),
        (
            lambda *a: _scaled_variant(*a, rule="inverse"),
            "A larger batch gets a larger rate, not a smaller one: multiply by "
            "batch_size / base_batch_size.",
        ),
        (
            lambda *a: _scaled_variant(*a, start="zero"),
            "Goyal et al.'s warmup starts from base_lr, the rate that works at the small batch, "
            "not from 0.",
        ),
        (
            lambda *a: _scaled_variant(*a, warm=False),
            "During the first warmup_steps steps the rate must climb to the peak, not start "
            "there.",
        ),
    ],
    hints=[
        "The peak is `base_lr * batch_size / base_batch_size`.",
        "For `t < warmup_steps`: `base_lr + (peak - base_lr) * t / warmup_steps`; then the peak.",
    ],
    explanation=r"""
        Multiplying the batch by $k$ multiplies the rate by $k$ (Goyal et al., 2017); since
        early training does not tolerate that rate, it is reached gradually, by a linear
        ramp from the small-batch rate $\eta$ to $k\eta$ (they used the first 5 epochs). A
        decay schedule (step or cosine) then follows as usual; this exercise stops at the
        peak.
    """,
    success="the linear scaling rule with a gradual warmup.",
)

# ---------------------------------------------------------------------------------------------
# q5: when do large batches stop helping?
# ---------------------------------------------------------------------------------------------

q5 = ChoiceQuestion(
    "q5",
    answer="b",
    why={
        "a": "The rule assumes that the gradient is mostly noise; the chapter's batch-size sweep "
        "saw it break.",
        "b": "Below the noise scale, a twice larger batch is worth two steps; far above it, "
        "it is worth barely more than one.",
        "c": "Gradient accumulation builds any batch size out of micro-batches that fit; "
        "memory limits the micro-batch, not the batch.",
        "d": "The value of the rate says nothing by itself: whether it is too large depends "
        "on the curvature of the loss (the stability limit), not on the number 1.",
    },
    explanation=r"""
        A batch of size $b$ estimates the gradient $G$ with noise of size
        $\operatorname{tr}\Sigma / b$. While that noise dominates
        ($b \ll B_{\text{simple}} = \operatorname{tr}\Sigma / \lVert G \rVert^2$), doubling the
        batch halves the noise, and one step with twice the batch and twice the rate does the
        work of two: perfect scaling. Once $b \gg B_{\text{simple}}$, the gradient is already
        accurate and a larger batch only wastes compute. $B_{\text{simple}}$ is a rough
        predictor of the critical batch size of McCandlish et al. (2018), and both grow
        during training.
    """,
)

QUESTIONS = [q1, q2, q3, q4, q5]
