"""Optimizers written from scratch, equal to ``torch.optim`` step for step.

Every class here subclasses :class:`torch.optim.Optimizer`, so param groups, ``state_dict``,
``load_state_dict``, ``zero_grad``, closures and every ``torch.optim.lr_scheduler`` work as
usual. Each constructor takes the same hyperparameters, with the same names and defaults, as the
``torch.optim`` class of the same name: a chapter can swap ``torch.optim.Adam`` for
``helpers.optim.Adam``.

Each ``step`` is one short loop over the parameters that have a gradient: it reads the group's
hyperparameters, sets up the state and, for the classic rules (SGD to Adamax), calls the step
function of :mod:`helpers.optim.functional`, the update rule as the book writes it; the
others write their rule in ``step`` (the formula is the comment beside each line). The
per-parameter state keeps torch's names (``step``, ``exp_avg``, ``exp_avg_sq``,
``momentum_buffer``, ...), so a state dict saved by ``torch.optim`` loads here and the other
way round. The steps are written as the
formulas are, not in torch's order of operations, so the two agree to rounding: the tests allow
a relative 1e-5 in float32 and 1e-12 in float64 after 200 steps.

Not supported: sparse gradients and complex parameters (both raise a ``RuntimeError`` that says
so), and torch's implementation switches ``foreach``, ``fused``, ``capturable`` and
``differentiable``.
"""

from helpers.optim.classic import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop
from helpers.optim.large_batch import LAMB, LARS
from helpers.optim.modern import Adafactor, Lion, ScheduleFreeAdamW
from helpers.optim.muon import Muon
from helpers.optim.radam import RAdam
from helpers.optim.sam import SAM

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop"]
__all__ += ["SAM", "Adafactor", "Lion", "Muon", "ScheduleFreeAdamW"]
__all__ += ["LAMB", "LARS"]
