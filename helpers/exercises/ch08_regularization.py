"""Exercises for the chapter *Regularization*: L2 penalty, weight decay, early stopping.

Questions: ``q1`` one step with an L2 penalty or with weight decay, for SGD and for Adam,
``q2`` early stopping by hand, ``q3`` implement early stopping, ``q4`` why early stopping
watches the validation loss.
"""

import math
import numbers

import numpy as np
import torch

from helpers.exercises import Case, ChoiceQuestion, FunctionQuestion, ValueQuestion, ____
from helpers.exercises._torch_reference import torch_step
from helpers.exercises.feedback import CORRECT, INCORRECT, Feedback, _Stop, _type_name
from helpers.training import EarlyStopping

__all__ = ["QUESTIONS", "____", "q1", "q2", "q3", "q4"]

# ---------------------------------------------------------------------------------------------
# q1: L2 penalty against decoupled weight decay, SGD and Adam
# ---------------------------------------------------------------------------------------------

_W, _G, _LR, _WD = 2.0, 1.0, 0.5, 0.1


def _q1_expected():
    def step(optimizer, **hyper):
        return float(torch_step(optimizer, [_W], [_G], lr=_LR, weight_decay=_WD, **hyper)[0][0])

    return {
        "sgd_l2": step(torch.optim.SGD),
        "sgd_decoupled": _W * (1 - _LR * _WD) - _LR * _G,
        "adam_l2": step(torch.optim.Adam),
        "adamw": step(torch.optim.AdamW),
    }


q1 = ValueQuestion(
    "q1",
    names=["sgd_l2", "sgd_decoupled", "adam_l2", "adamw"],
    expected=_q1_expected,
    solution="""
        w, g, lr, lam = 2.0, 1.0, 0.5, 0.1
        sgd_l2 = w - lr * (g + lam * w)  # the penalty adds lam * w to the gradient
        sgd_decoupled = w * (1 - lr * lam) - lr * g  # the same number
        # Adam's first step is lr * m_hat / sqrt(v_hat) = lr * sign(gradient)
        # the penalty changes nothing here
        adam_l2 = w - lr * math.copysign(1, g + lam * w)
        adamw = w * (1 - lr * lam) - lr * math.copysign(1, g)
    """,
    mistakes={
        "sgd_l2": [
            (_W - _LR * _G, "The penalty (λ/2)w² adds λw = 0.2 to the gradient."),
            (_W - _LR * (_G + _WD * _W / 2), "The gradient of (λ/2)w² is λw, not λw/2."),
        ],
        "sgd_decoupled": [
            (
                _W * (1 - _WD) - _LR * _G,
                "PyTorch-style weight decay multiplies λ by the "
                "learning rate: w ← (1 - ηλ)w - ηg.",
            ),
            (_W - _LR * _G, "The decay is missing: w ← (1 - ηλ)w - ηg."),
        ],
        "adam_l2": [
            (
                1.4,
                "In Adam the penalty is part of the gradient, and Adam's first step is "
                "η·sign(gradient): its size does not depend on the gradient at all.",
            ),
            (
                _W - _LR * (_G + _WD * _W),
                "Adam does not step by η times the gradient: on the first step m̂/√v̂ = ±1.",
            ),
        ],
        "adamw": [
            (
                _W * (1 - _WD) - _LR,
                "PyTorch's AdamW multiplies the decay by the learning "
                "rate: w ← (1 - ηλ)w, then the Adam step.",
            ),
            (_W - _LR, "The decay is missing: AdamW shrinks w by the factor 1 - ηλ."),
            (
                (_W - _LR) * (1 - _LR * _WD),
                "AdamW decays the weights before the Adam step, not after it.",
            ),
        ],
    },
    hints=[
        "SGD with an L2 penalty: the gradient becomes $g + \\lambda w$. Decoupled decay: "
        "$w \\leftarrow (1 - \\eta\\lambda) w - \\eta g$.",
        "Adam's first step from zero moments is $\\eta\\, \\hat m/\\sqrt{\\hat v} = "
        "\\eta\\, \\mathrm{sign}(\\text{gradient})$ (for a negligible $\\epsilon$). With L2, "
        "the gradient Adam sees is $g + \\lambda w$.",
    ],
    explanation=r"""
        For SGD both give $2 - 0.5\,(1 + 0.2) = 1.9 - 0.5 = 1.4$: an L2 penalty *is*
        weight decay. Adam's first step has length $\eta$ whatever the gradient, so with
        L2 the penalty only changes the gradient from 1 to 1.2 and the step is the same,
        $2 - 0.5 = 1.5$: the regularisation has vanished. AdamW shrinks the weight
        outside the adaptive scaling: $2 \times 0.95 - 0.5 = 1.4$, the same decay as SGD.
        (The values come from `torch.optim.SGD`, `Adam` and `AdamW` with
        `weight_decay=0.1`.)
    """,
    success="SGD: 1.4 either way; Adam with L2: 1.5 (the penalty is normalised away); AdamW: 1.4.",
)

# ---------------------------------------------------------------------------------------------
# q2: early stopping by hand
# ---------------------------------------------------------------------------------------------

_LOSSES = [1.00, 0.80, 0.70, 0.72, 0.69, 0.71, 0.70, 0.73, 0.68]


def _simulate(
    losses,
    patience,
    min_delta=0.0,
    *,
    ties=False,
    use_delta=True,
    delta_sign=-1,
    strict=False,
    reset=True,
    previous=False,
    first=1,
):
    """(stop_epoch, best_epoch) of an early-stopping rule, with optional known mistakes.

    ``stop_epoch`` is 0 when the rule never stops.
    """
    best, best_epoch, bad = math.inf, 0, 0
    last = math.inf
    for epoch, loss in enumerate(losses, start=first):
        reference = last if previous else best
        threshold = reference + delta_sign * (min_delta if use_delta else 0.0)
        improved = loss <= threshold if ties else loss < threshold
        if improved:  # what a learner's code does on an "improvement"
            best, best_epoch = loss, epoch
            if reset:
                bad = 0
        else:
            bad += 1
        last = loss
        if (bad > patience) if strict else (bad >= patience):
            return epoch, best_epoch
    return 0, best_epoch


def _helper_stopping(losses, patience, min_delta=0.0):
    stopper = EarlyStopping(patience=patience, min_delta=min_delta, restore_best=False)
    for epoch, loss in enumerate(losses, start=1):
        if stopper.step(loss):
            return epoch, stopper.best_epoch
    return 0, stopper.best_epoch


def _q2_expected():
    stop, best = _helper_stopping(_LOSSES, 3)
    stop_delta, _ = _helper_stopping(_LOSSES, 3, 0.015)
    return {"stop_epoch": stop, "best_epoch": best, "stop_epoch_delta": stop_delta}


q2 = ValueQuestion(
    "q2",
    names=["stop_epoch", "best_epoch", "stop_epoch_delta"],
    expected=_q2_expected,
    integer=True,
    solution="""
        # epoch:       1     2     3     4     5     6     7     8     9
        # loss:     1.00  0.80  0.70  0.72  0.69  0.71  0.70  0.73  0.68
        # min_delta = 0: new bests at epochs 1, 2, 3 and 5;
        # then epochs 6, 7, 8 are 3 bad epochs in a row
        stop_epoch = 8
        best_epoch = 5
        # min_delta = 0.015: 0.69 is not below 0.70 - 0.015,
        # so epochs 4, 5, 6 are bad epochs
        stop_epoch_delta = 6
    """,
    mistakes={
        "stop_epoch": [
            (
                _simulate(_LOSSES, 3, reset=False)[0],
                "When the loss improves, the count of bad "
                "epochs starts again from zero (epoch 5 is a new best).",
            ),
            (
                _simulate(_LOSSES, 3, strict=True)[0] or 9,
                "Stop when the number of bad epochs "
                "in a row *reaches* the patience (3 bad epochs: stop).",
            ),
        ],
        "best_epoch": [
            (9, "Training stops before epoch 9 is ever seen."),
            (3, "Epoch 5 (0.69) is lower than epoch 3 (0.70): it is a new best."),
            (4, "Epochs are counted from 1 here."),
        ],
        "stop_epoch_delta": [
            (
                _simulate(_LOSSES, 3, use_delta=False)[0],
                "With min_delta = 0.015, epoch 5 "
                "(0.69) does not count as an improvement: it is not below 0.70 - 0.015.",
            ),
            (5, "Epochs 4, 5 and 6 are the three bad epochs in a row: stop after epoch 6."),
        ],
    },
    hints=[
        "Walk through the epochs keeping the best loss so far and the number of epochs "
        "since it was set. An epoch improves when its loss is below best - min_delta.",
        "Training stops after the epoch at which the count of bad epochs reaches 3.",
    ],
    explanation=r"""
        Without `min_delta`, the bests are epochs 1, 2, 3 and 5 (0.69 < 0.70); epochs 6, 7
        and 8 do not beat 0.69, so training stops after epoch 8 and restores the weights
        of epoch 5. It never sees epoch 9, whose loss 0.68 would have been better: early
        stopping trades a little of that possible gain for not wasting epochs. With
        `min_delta = 0.015`, the small gain of epoch 5 does not count, so epochs 4, 5 and
        6 are bad and training stops after epoch 6. (The numbers come from
        `helpers.training.EarlyStopping`.)
    """,
    success="stop after epoch 8 with the weights of epoch 5; with min_delta after epoch 6.",
)

# ---------------------------------------------------------------------------------------------
# q3: implement early stopping
# ---------------------------------------------------------------------------------------------


class EarlyStopper:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_epoch = None
        self.bad_epochs = 0  # epochs in a row without improvement
        self.epoch = 0

    def step(self, val_loss):
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:  # a real improvement
            self.best_loss = val_loss
            self.best_epoch = self.epoch
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience  # True: stop training


def _stopping_case(losses, patience, min_delta=0.0):
    label = f"For the losses {losses} with patience = {patience}"
    if min_delta:
        label += f" and min_delta = {min_delta}"
    return Case((losses, patience, min_delta), label=label)


_STOPPING_CASES = [
    _stopping_case([1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.88], 3),
    _stopping_case([1.0, 0.9, 0.9, 0.9, 0.9], 3),
    _stopping_case([1.0, 0.95, 0.94, 0.935, 0.93, 0.925], 2, 0.02),
    _stopping_case([1.0, 1.1, 1.2, 0.9, 1.0, 1.1, 1.2], 3),
    _stopping_case([3.0, 2.0, 1.0], 2),
    _stopping_case([1.0, 2.0], 1),
    _stopping_case([1.0, 0.5, 0.8, 0.7, 0.6, 0.55], 3),
]


def _sim(**changes):
    return lambda losses, patience, min_delta: _simulate(losses, patience, min_delta, **changes)


def _as_bool(value):
    """A learner's True/False as a bool: Python's, NumPy's ``np.bool_``, an int or a 0-d
    bool tensor; anything else is returned unchanged (and rejected by the caller)."""
    if isinstance(value, bool | np.bool_ | numbers.Integral):
        return bool(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value.item())
    return value


def _describe(stop, best):
    if stop == 0:
        return f"never stops (best epoch {best})"
    return f"stops after epoch {stop} (best epoch {best})"


class _StoppingQuestion(FunctionQuestion):
    """Feeds scripted validation losses to the learner's class, epoch by epoch."""

    def _run(self, cls, losses, patience, min_delta):
        where = f"`{self.function_name}({patience}, {min_delta})`"
        stopper = self.call(cls, patience, min_delta)
        if not callable(getattr(stopper, "step", None)):
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"{where} should create an object with a method `step(val_loss)`, but it "
                    f"gave {_type_name(stopper)}. Is `step` defined inside the class (indented)?",
                )
            )
        stop = 0
        for epoch, loss in enumerate(losses, start=1):
            result = self.call(stopper.step, loss)
            if result is None:
                raise _Stop(
                    Feedback(
                        INCORRECT,
                        "`step()` returned `None`. Did you forget to `return` True (stop) or "
                        "False (go on)?",
                    )
                )
            result = _as_bool(result)
            if not isinstance(result, bool):
                raise _Stop(
                    Feedback(
                        INCORRECT,
                        f"`step()` should return True or False, but it returned "
                        f"{_type_name(result)}.",
                    )
                )
            if result:
                stop = epoch
                break
        if not hasattr(stopper, "best_epoch"):
            raise _Stop(
                Feedback(
                    INCORRECT,
                    "your object has no attribute `best_epoch`: set `self.best_epoch` to the "
                    "epoch (counted from 1) of the lowest validation loss so far.",
                )
            )
        best = stopper.best_epoch
        if not isinstance(best, numbers.Integral) or isinstance(best, bool):
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"`best_epoch` should be an int (the epoch, counted from 1), but it is "
                    f"{_type_name(best)}.",
                )
            )
        return stop, best

    def _check(self, *answers, **kwargs):
        cls = self._function(answers, kwargs)
        cases = self.cases
        results = [self._run(cls, *case.args) for case in cases]
        for index, (case, got) in enumerate(zip(cases, results, strict=True)):
            want = self.expected(*case.args)
            if tuple(got) == tuple(want):
                continue
            nudge = self.diagnose(results, cases, index) or (
                f"Follow the losses epoch by epoch by hand; `{self.name}.hint()` can help."
            )
            return Feedback(
                INCORRECT,
                f"{case.label}, your stopper {_describe(*got)}, but it should "
                f"{_describe(*want).replace('stops', 'stop')}. {nudge}",
            )
        return Feedback(CORRECT, self.success)


q3 = _StoppingQuestion(
    "q3",
    reference=EarlyStopper,
    expected=_helper_stopping,
    cases=_STOPPING_CASES,
    mistakes=[
        (
            _sim(ties=True),
            "A loss equal to the best is not an improvement: use `<`, not `<=` (otherwise a "
            "flat loss resets the patience forever).",
        ),
        (
            _sim(use_delta=False),
            "An improvement must beat the best by more than `min_delta`: "
            "`val_loss < best_loss - min_delta`.",
        ),
        (
            _sim(delta_sign=+1),
            "The improvement must be *below* best_loss - min_delta, not best_loss + min_delta.",
        ),
        (
            _sim(strict=True),
            "Stop when the count of bad epochs *reaches* the patience (`>=`), not when it "
            "exceeds it.",
        ),
        (
            _sim(reset=False),
            "Reset the count of bad epochs to 0 whenever the loss improves: patience counts "
            "epochs *in a row* without improvement.",
        ),
        (
            _sim(previous=True),
            "Compare each loss with the best loss so far, not with the previous epoch's.",
        ),
        (_sim(first=0), "Count epochs from 1: the first call of `step()` is epoch 1."),
    ],
    hints=[
        "Keep `best_loss` (start at `math.inf`), `best_epoch`, a count of bad epochs and the "
        "epoch number. In `step`, first increase the epoch number.",
        "If `val_loss < self.best_loss - self.min_delta`: store the new best and its epoch "
        "and reset the count; otherwise add one to the count. Return "
        "`self.bad_epochs >= self.patience`.",
    ],
    explanation=r"""
        Early stopping (as in Goodfellow et al., 2016, Algorithm 7.1) watches the
        validation loss and ends training once it has not improved for `patience` epochs
        in a row; training then ends and the weights of the best epoch are restored. The
        two details that the scripted
        losses test: a tie is not an improvement (so a plateau does end training), and
        `min_delta` makes tiny, noisy improvements not count. `helpers.training.EarlyStopping`
        is this class plus saving and restoring the best weights.
    """,
    success="your stopper agrees with `helpers.training.EarlyStopping` on every scripted run.",
)

# ---------------------------------------------------------------------------------------------
# q4: why the validation loss?
# ---------------------------------------------------------------------------------------------

q4 = ChoiceQuestion(
    "q4",
    answer="b",
    why={
        "a": "Cost is not the reason; the validation set is usually smaller, but it must be "
        "evaluated in addition to training.",
        "b": "Overfitting is a growing gap between training and validation loss.",
        "c": "The epoch-mean training loss is fairly smooth; the problem is that it measures "
        "fit to the training data, not generalisation.",
        "d": "The training loss can stall or rise (for example with a too large learning "
        "rate), so a rule on it can stop; it just stops for the wrong reason.",
    },
    explanation=r"""
        The aim of training is a low loss on *new* data. As training goes on, the
        training loss keeps falling, but past some point the model starts to fit noise in
        the training set and the validation loss, an estimate of the loss on new data,
        turns up. Early stopping watches the validation loss to stop near that turning
        point, and keeps the weights of the best validation epoch. It is a regulariser:
        it limits how far the weights travel from their initialisation (for linear least
        squares, stopping gradient descent early acts much like an L2 penalty).
    """,
)

QUESTIONS = [q1, q2, q3, q4]
