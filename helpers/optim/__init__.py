"""Optimizers written from scratch, equal to ``torch.optim`` step for step.

Every class here subclasses :class:`torch.optim.Optimizer`, so param groups, ``state_dict``,
``load_state_dict``, ``zero_grad``, closures and every ``torch.optim.lr_scheduler`` work as
usual. Each constructor takes the same hyperparameters, with the same names and defaults, as the
``torch.optim`` class of the same name: a chapter can swap ``torch.optim.Adam`` for
``helpers.optim.Adam``.

Each ``step`` is one short loop over the parameters that have a gradient and reads like the
update rule in the book (the rule is the comment at the end of each line). The per-parameter
state keeps torch's names (``step``, ``exp_avg``, ``exp_avg_sq``, ``momentum_buffer``, ...), and
the arithmetic follows torch's single-tensor code (``foreach=False``) operation by operation, so
the two agree to rounding error. A state dict saved by ``torch.optim`` loads here and the other
way round.

Not supported: sparse gradients and complex parameters (both raise a ``RuntimeError`` that says
so), and torch's implementation switches ``foreach``, ``fused``, ``capturable`` and
``differentiable``.
"""

from helpers.optim.classic import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop"]
