"""Exercises for the chapter *Learning-rate schedules*: schedules and the LR range test.

Questions: ``q1`` warmup followed by cosine decay, ``q2`` step and exponential decay,
``q3`` an LR finder, ``q4`` pick a learning rate from the sweep, ``q5`` use both on a small
network.
"""

import contextlib
import copy
import math

import numpy as np
import torch
from torch import nn

from helpers import schedules
from helpers.data import two_moons
from helpers.exercises import Case, FunctionQuestion, ValueQuestion, ____
from helpers.exercises.feedback import CORRECT, INCORRECT, Feedback
from helpers.training import lr_find

__all__ = ["QUESTIONS", "____", "make_problem", "q1", "q2", "q3", "q4", "q5"]

# ---------------------------------------------------------------------------------------------
# q1: warmup + cosine
# ---------------------------------------------------------------------------------------------


def warmup_cosine_lr(t, lr0, warmup_steps, total_steps, lr_min, start_factor):
    if t < warmup_steps:
        # linear warmup from start_factor * lr0, reaching lr0 at t = warmup_steps
        return lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)
    # from 0 to 1
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    cosine = (1 + math.cos(math.pi * progress)) / 2  # from 1 to 0
    return lr_min + (lr0 - lr_min) * cosine


def _schedule_variant(
    t,
    lr0,
    warmup,
    total,
    low,
    start_factor,
    *,
    from_zero=False,
    early=False,
    cosine_from=True,
    half=True,
    floor=True,
    rising=False,
):
    if t < warmup:
        if from_zero:
            return lr0 * t / warmup
        return lr0 * (start_factor + (1 - start_factor) * (t + early) / warmup)
    progress = (t - warmup) / (total - warmup) if cosine_from else t / total
    shape = (1 - math.cos(math.pi * progress)) if rising else (1 + math.cos(math.pi * progress))
    if half:
        shape /= 2
    return (low + (lr0 - low) * shape) if floor else lr0 * shape


def _sched(**changes):
    return lambda *args: _schedule_variant(*args, **changes)


def _q1_cases():
    cases = []
    for t in (0, 4, 9, 10, 30, 55, 99):
        cases.append(
            Case(
                (t, 0.1, 10, 100, 0.001, 0.01),
                label=f"For t = {t} (lr0 = 0.1, warmup_steps = 10, total_steps = 100, "
                "lr_min = 0.001, start_factor = 0.01)",
            )
        )
    for t in (0, 25):
        cases.append(
            Case(
                (t, 0.5, 0, 50, 0.0, 0.01),
                label=f"For t = {t} without warmup (lr0 = 0.5, total_steps = 50)",
            )
        )
    return cases


q1 = FunctionQuestion(
    "q1",
    reference=warmup_cosine_lr,
    expected=schedules.warmup_cosine_lr,  # the course's schedule, equal to torch's
    cases=_q1_cases,
    rtol=1e-9,
    atol=1e-12,
    mistakes=[
        (
            _sched(from_zero=True),
            "The warmup starts at 0: at t = 0 the learning rate would be zero and the first "
            "update would do nothing. It starts at start_factor * lr0.",
        ),
        (
            _sched(early=True),
            "The warmup arrives one step early: it reaches lr0 at t = warmup_steps, the first "
            "step of the cosine, as torch's LinearLR does, not on the last warmup step.",
        ),
        (
            _sched(cosine_from=False),
            "The cosine phase starts after the warmup: measure progress as "
            "(t - warmup_steps) / (total_steps - warmup_steps).",
        ),
        (_sched(half=False), "Halve the cosine term: (1 + cos(π p)) / 2 goes from 1 to 0."),
        (
            _sched(floor=False),
            "The schedule ends at lr_min, not 0: lr_min + (lr0 - lr_min) * ...",
        ),
        (
            _sched(rising=True),
            "The cosine should fall from lr0 to lr_min: use 1 + cos, not 1 - cos.",
        ),
    ],
    hints=[
        "Two phases. For `t < warmup_steps`: "
        "`lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)`.",
        "Afterwards, with `p = (t - warmup_steps) / (total_steps - warmup_steps)`: "
        "`lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * p)) / 2`.",
    ],
    explanation=r"""
        The warmup climbs linearly from `start_factor * lr0` to `lr0` in `warmup_steps` steps;
        the cosine then glides from `lr0` down to `lr_min`, slowly at first, fastest in the
        middle and slowly again at the end. It is `helpers.schedules.warmup_cosine_lr`, the
        schedule of the chapter, and in PyTorch
        `SequentialLR(optimizer, [LinearLR(optimizer, start_factor, total_iters=warmup_steps),
        CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=lr_min)],
        milestones=[warmup_steps])`; without warmup (`warmup_steps = 0`) it is
        `CosineAnnealingLR(optimizer, total_steps, lr_min)` alone.
    """,
    success="warmup from start_factor * lr0, then a cosine from lr0 to lr_min.",
)

# ---------------------------------------------------------------------------------------------
# q2: step and exponential decay, as torch.optim.lr_scheduler computes them
# ---------------------------------------------------------------------------------------------


def _torch_lr(make_scheduler, num_steps, lr=0.1):
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr)
    scheduler = make_scheduler(optimizer)
    for _ in range(num_steps):
        optimizer.step()
        scheduler.step()
    return optimizer.param_groups[0]["lr"]


def _q2_expected():
    return {
        "lr_step": _torch_lr(lambda o: torch.optim.lr_scheduler.StepLR(o, 30, 0.1), 65),
        "lr_exp": _torch_lr(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.95), 10),
    }


q2 = ValueQuestion(
    "q2",
    names=["lr_step", "lr_exp"],
    expected=_q2_expected,
    rtol=1e-3,
    solution="""
        base_lr, epoch = 0.1, 65
        # two decays so far, at epochs 30 and 60
        lr_step = base_lr * 0.1 ** (epoch // 30)
        lr_exp = base_lr * 0.95**10
    """,
    mistakes={
        "lr_step": [
            (
                0.1 * 0.1**3,
                "65 // 30 = 2: the rate has been divided by 10 twice, not three times.",
            ),
            (0.1 * 0.1, "The rate is divided by 10 at epoch 30 and again at epoch 60."),
            (0.1 * 0.1 ** (65 / 30), "StepLR decays in steps: use the whole number 65 // 30."),
        ],
        "lr_exp": [
            (
                0.1 * 0.95**9,
                "After 10 calls of `scheduler.step()` the factor 0.95 has been applied 10 times.",
            ),
            (
                0.1 * 0.95**11,
                "After 10 calls of `scheduler.step()` the factor 0.95 has been applied 10 times.",
            ),
            (0.1 * (1 - 0.05 * 10), "The decay is multiplicative: 0.1 × 0.95¹⁰."),
        ],
    },
    hints=[
        "`StepLR(step_size=30, gamma=0.1)` multiplies the rate by 0.1 every 30 epochs: after "
        "`epoch` calls of `scheduler.step()` the rate is `base_lr * 0.1 ** (epoch // 30)`.",
        "`ExponentialLR(gamma=0.95)` multiplies the rate by 0.95 at every call.",
    ],
    explanation=r"""
        With the scheduler stepped once at the end of each epoch, epoch 65 (counting from
        0) runs after 65 calls: $65 /\!/ 30 = 2$ decays, so
        $0.1 \times 0.1^2 = 0.001$. Exponential decay after 10 calls gives
        $0.1 \times 0.95^{10} \approx 0.0599$. Both numbers come from running
        `torch.optim.lr_scheduler` itself.
    """,
    success="0.001 and about 0.0599, as `torch.optim.lr_scheduler` computes them.",
)

# ---------------------------------------------------------------------------------------------
# q3: an LR finder
# ---------------------------------------------------------------------------------------------


def make_problem(seed=0):
    """A small network and the two-moons training data, as (model, loss_fn, batches).

    ``batches`` is a list with one full batch ``(X, y)`` of 150 examples.
    """
    data = two_moons(n_samples=200, noise=0.2, seed=seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    return model, nn.CrossEntropyLoss(), [(data.X_train, data.y_train)]


def lr_finder(model, loss_fn, batches, start_lr, end_lr, num_steps):
    # the sweep ruins the weights: keep a copy
    saved = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=start_lr)
    lrs, losses = [], []
    for i in range(num_steps):
        # exponential sweep
        lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        X, y = batches[i % len(batches)]
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break  # the loss has exploded: stop the sweep
    model.load_state_dict(saved)
    return lrs, losses


def _lr_find_expected(model, loss_fn, batches, start_lr, end_lr, num_steps):
    optimizer = torch.optim.SGD(model.parameters(), lr=start_lr)
    result = lr_find(
        model,
        loss_fn,
        optimizer,
        batches,
        start_lr=start_lr,
        end_lr=end_lr,
        num_steps=num_steps,
        smoothing=0.0,
        stop_factor=4.0,
    )
    return result.lrs, result.losses


def _finder_variant(
    model,
    loss_fn,
    batches,
    start_lr,
    end_lr,
    num_steps,
    *,
    spacing="exp",
    stop="best",
    record_last=True,
    set_lr=True,
    zero_grad=True,
):
    optimizer = torch.optim.SGD(model.parameters(), lr=start_lr)
    if spacing == "linear":
        schedule = np.linspace(start_lr, end_lr, num_steps)
    elif spacing == "off_by_one":
        schedule = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / num_steps)
    else:
        schedule = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    lrs, losses = [], []
    for i, lr in enumerate(schedule):
        if set_lr:
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
        X, y = batches[i % len(batches)]
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        value = loss.item()
        reference = min([*losses, value]) if stop == "best" else (losses or [value])[0]
        exploded = stop != "never" and (not math.isfinite(value) or value > 4 * reference)
        if exploded and not record_last:
            break
        lrs.append(float(lr))
        losses.append(value)
        if exploded:
            break
    return lrs, losses


def _finder(**changes):
    return lambda *args: _finder_variant(*args, **changes)


@contextlib.contextmanager
def _one_thread():
    """Tiny models train fastest on one thread (and are not slowed by a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _finder_cases():
    model, loss_fn, batches = make_problem()
    X, y = batches[0]
    return [
        Case(
            (model, loss_fn, batches, 1e-3, 100.0, 60),
            label="For the two-moons network, start_lr = 1e-3, end_lr = 100, 60 steps",
        ),
        Case(
            (model, loss_fn, [(X[:75], y[:75]), (X[75:], y[75:])], 1e-2, 1.0, 12),
            label="For two mini-batches, start_lr = 1e-2, end_lr = 1, 12 steps",
        ),
    ]


class _FinderQuestion(FunctionQuestion):
    """Compares the sweep with ``helpers.training.lr_find``, then checks the weights."""

    def _check(self, *answers, **kwargs):
        with _one_thread():
            feedback = super()._check(*answers, **kwargs)
            if not feedback.passed:
                return feedback
            function = self._function(answers, kwargs)
            model, loss_fn, batches, *rest = self.cases[0].fresh()[0]
            before = copy.deepcopy(model.state_dict())
            self.call(function, model, loss_fn, batches, *rest)
            after = model.state_dict()
            if any(not torch.equal(before[k], after[k]) for k in before):
                return Feedback(
                    INCORRECT,
                    "your sweep is right, but it leaves the model with the weights of the "
                    "last (exploded) step. Save `copy.deepcopy(model.state_dict())` at the "
                    "start and restore it with `model.load_state_dict(...)` at the end, so "
                    "that the model can then be trained with the chosen learning rate.",
                )
        return Feedback(CORRECT, self.success)


q3 = _FinderQuestion(
    "q3",
    reference=lr_finder,
    expected=_lr_find_expected,
    cases=_finder_cases,
    returns=["lrs", "losses"],
    rtol=1e-4,
    atol=1e-7,
    mistakes=[
        (
            _finder(spacing="linear"),
            "Space the learning rates exponentially (evenly on a log scale): "
            "`start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))`.",
        ),
        (
            _finder(spacing="off_by_one"),
            "The exponent should be i / (num_steps - 1), so that the last step uses end_lr.",
        ),
        (
            _finder(stop="never"),
            "The sweep should stop as soon as the loss is non-finite or more than 4 times "
            "the best loss so far.",
        ),
        (
            _finder(stop="first"),
            "Compare with the *best* (lowest) loss so far, not the first one.",
        ),
        (
            _finder(record_last=False),
            "Record the step on which the loss exploded as well, then stop.",
        ),
        (
            _finder(set_lr=False),
            "The learning rate never changes: set it at each step with "
            "`for group in optimizer.param_groups: group['lr'] = lr`.",
        ),
        (
            _finder(zero_grad=False),
            "The gradients accumulate: call `optimizer.zero_grad()` before each `backward()`.",
        ),
    ],
    hints=[
        "Before the loop: save `copy.deepcopy(model.state_dict())` and create "
        "`torch.optim.SGD(model.parameters(), lr=start_lr)`. In step `i`, the rate is "
        "`start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))`; put it in every "
        "`group['lr']` of `optimizer.param_groups`.",
        "Then a usual training step on `batches[i % len(batches)]`; append the rate and "
        "`loss.item()`, and `break` when the loss is not finite or exceeds 4 times "
        "`min(losses)`. After the loop, `model.load_state_dict(saved)`.",
    ],
    explanation=r"""
        The LR range test comes from Smith (2017), who trains for a few epochs while the
        learning rate grows *linearly* from a low to a high value and watches the
        accuracy. The variant here, popularised by fastai, lets the rate grow
        *exponentially* from tiny to huge, one mini-batch per value, and records the
        loss. With a tiny rate the loss hardly moves; in a middle range it falls fast;
        beyond some rate it blows up, and the sweep stops. Because the sweep changes the
        weights, they are restored at the end. This is `helpers.training.lr_find` with
        `smoothing=0` (that helper also smooths the noisy mini-batch losses with an
        exponential moving average, as fastai does).
    """,
    success="your sweep matches `helpers.training.lr_find` and restores the weights.",
)

# ---------------------------------------------------------------------------------------------
# q4: pick a learning rate from the sweep
# ---------------------------------------------------------------------------------------------


def pick_lr(lrs, losses):
    # NaN (diverged) counts as worst
    losses = np.where(np.isfinite(losses), losses, np.inf)
    # a safe distance below the minimum
    return lrs[int(np.argmin(losses))] / 10


def _pick_variant(lrs, losses, *, nan_safe=True, factor=0.1, index=False, pick=np.argmin):
    losses = np.asarray(losses, dtype=float)
    if nan_safe:
        losses = np.where(np.isfinite(losses), losses, np.inf)
    best = int(pick(losses))
    return best if index else lrs[best] * factor


def _pick(**changes):
    return lambda *args: _pick_variant(*args, **changes)


def _q4_cases():
    lrs = list(10.0 ** np.linspace(-4, 1, 26))
    u_shape = [1.0 - 0.8 * math.exp(-((i - 17) ** 2) / 20) for i in range(26)]
    diverged = [*u_shape[:22], 3.0, 8.0, float("inf"), float("nan")]
    ends_in_nan = [*u_shape[:20], float("nan")]
    return [
        Case((lrs, u_shape), label="For a U-shaped sweep"),
        Case((lrs[:26], diverged), label="For a sweep that ends with inf and NaN losses"),
        Case((lrs[:21], ends_in_nan), label="For a sweep whose last loss is NaN"),
    ]


q4 = FunctionQuestion(
    "q4",
    reference=pick_lr,
    cases=_q4_cases,
    rtol=1e-9,
    mistakes=[
        (
            _pick(factor=1.0),
            "Take a tenth of the learning rate at the minimum: at the minimum itself the "
            "loss is about to blow up.",
        ),
        (
            _pick(nan_safe=False),
            "`np.argmin` returns the position of a NaN if there is one: a diverged step "
            "was picked. Replace non-finite losses first, e.g. with "
            "`np.where(np.isfinite(losses), losses, np.inf)`.",
        ),
        (_pick(index=True), "Return the learning rate, not its index."),
        (_pick(pick=np.argmax), "Find the *lowest* loss: `np.argmin`, not `np.argmax`."),
        (_pick(factor=10.0), "Divide by 10 (a safe distance below the minimum), not multiply."),
    ],
    hints=[
        "Find the position of the lowest loss with `np.argmin`, then return `lrs[position] / 10`.",
        "A diverged step can have loss NaN, and `np.argmin` returns the position of the "
        "first NaN. Replace non-finite values by `np.inf` first.",
    ],
    explanation=r"""
        At the minimum of the sweep the loss is about to explode, so training for longer
        at that rate is risky; a tenth of it is a common, safe rule of thumb (fastai's
        older rule). Another common rule picks the rate where the loss falls fastest (the
        steepest descent of the curve). The two rules need not agree: a tenth of the
        minimum's rate can lie before the steep part of the curve or past it. Both are
        heuristics, to be checked by training. NaN needs care: `np.argmin`
        returns the index of the first NaN, so a single diverged step would be picked.
    """,
    success="a tenth of the rate at the lowest finite loss.",
)

# ---------------------------------------------------------------------------------------------
# q5: use the finder
# ---------------------------------------------------------------------------------------------


def _q5_sweep(end_lr=100.0, smoothing=0.0):
    with _one_thread():
        model, loss_fn, batches = make_problem()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
        return lr_find(
            model,
            loss_fn,
            optimizer,
            batches,
            start_lr=1e-3,
            end_lr=end_lr,
            num_steps=60,
            smoothing=smoothing,
        )


def _q5_expected():
    result = _q5_sweep()
    return {"chosen_lr": pick_lr(list(result.lrs), result.losses)}


def _q5_mistakes():
    result = _q5_sweep()
    short = _q5_sweep(end_lr=10.0)
    helper_default = _q5_sweep(smoothing=0.9)
    return {
        "chosen_lr": [
            (
                pick_lr(list(result.lrs), result.losses) * 10,
                "That is the rate at the lowest loss; `pick_lr` takes a tenth of it.",
            ),
            (
                helper_default.suggestion,
                "That is the steepest-slope suggestion of `helpers.training.lr_find`; this "
                "exercise uses your own `pick_lr`.",
            ),
            (
                pick_lr(list(short.lrs), short.losses),
                "Sweep the range the exercise gives: start_lr=1e-3, end_lr=100, 60 steps.",
            ),
        ]
    }


q5 = ValueQuestion(
    "q5",
    names=["chosen_lr"],
    expected=_q5_expected,
    mistakes=_q5_mistakes,
    rtol=0.25,
    solution="""
        model, loss_fn, batches = make_problem()
        lrs, losses = lr_finder(model, loss_fn, batches, 1e-3, 100.0, 60)
        chosen_lr = pick_lr(lrs, losses)
    """,
    hints=[
        "`model, loss_fn, batches = make_problem()`, then your `lr_finder` with "
        "`start_lr=1e-3`, `end_lr=100.0`, `num_steps=60`.",
        "Pass its two lists to your `pick_lr`.",
    ],
    explanation=r"""
        On this small network the full-batch loss keeps falling until the learning rate
        reaches about 17, then explodes; the rule picks a tenth of that, about 1.7. Plot
        `losses` against `lrs` with a logarithmic x-axis to see the three regions: flat,
        falling, exploding. Rates this large are unusual: they work here because the batch
        is the whole (tiny) data set, so the gradient has no noise. On real data with
        mini-batches, the sweep's curve is noisy and is usually smoothed first.
    """,
    success="that is the rate the sweep suggests (within one grid point).",
)

QUESTIONS = [q1, q2, q3, q4, q5]
