"""The machinery every optimizer in :mod:`helpers.optim` shares.

Validation of hyperparameters, the loop over parameters that have a gradient, closures, and
loading state dicts saved by ``torch.optim``. A new optimizer subclasses :class:`FromScratch`
and writes ``_check_hyperparameters`` and ``step``.
"""

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor
from torch.optim import Optimizer

from helpers._checks import check_real

# ---------------------------------------------------------------------------------------------
# Shared machinery: validation, the parameter loop, closures, loading torch's state dicts.
# ---------------------------------------------------------------------------------------------


def check_range(name, value, low=0.0, high=math.inf, *, high_open=False):
    """Raise ValueError unless ``low <= value <= high`` (``< high`` if `high_open`); NaN fails."""
    if not isinstance(value, Tensor):  # torch accepts a tensor lr; anything else is a number
        check_real(name, value, allow_nan=True)
    elif value.numel() != 1:
        raise ValueError(f"Invalid {name}: a tensor {name} must have one element")
    inside = low <= value < high if high_open else low <= value <= high
    if not inside:
        closing = ")" if high_open or high == math.inf else "]"
        raise ValueError(
            f"Invalid {name}: {value!r}; {name} must be in [{low:g}, {high:g}{closing}"
        )


def check_betas(betas):
    """Check that `betas` is a pair with both coefficients in [0, 1)."""
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r}; betas must be a pair (beta1, beta2)")
    if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
        raise ValueError(f"Invalid betas: {betas!r}; betas must be both numbers or both tensors")
    check_range("betas[0]", betas[0], 0.0, 1.0, high_open=True)
    check_range("betas[1]", betas[1], 0.0, 1.0, high_open=True)


class MissingParamsError(KeyError, ValueError):
    """A param group without ``"params"``: a ``KeyError`` (as in torch) and a ``ValueError``."""


class FromScratch(Optimizer):
    """Base class: validates every param group and provides the loop over parameters."""

    def __init__(self, params, defaults: dict) -> None:
        self._check_hyperparameters(defaults)  # before the params, in torch's order
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        raise NotImplementedError  # each optimizer checks its own hyperparameters

    def add_param_group(self, param_group: dict) -> None:
        """Add a param group after checking its hyperparameters (``ValueError`` if invalid)."""
        if not isinstance(param_group, dict):  # torch's own check and message
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        if "params" not in param_group:  # torch raises a bare KeyError('params') here
            raise MissingParamsError("param_group must have a 'params' entry")
        self._check_hyperparameters({**self.defaults, **param_group})
        super().add_param_group(param_group)

    def __setstate__(self, state: dict) -> None:
        # Also accepts state saved by torch.optim, which keeps `step` (and NAdam's `mu_product`)
        # in 0-d tensors; here they are plain Python numbers.
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
        for param_state in self.state.values():
            if isinstance(param_state.get("step"), Tensor):
                param_state["step"] = int(param_state["step"].item())
            if isinstance(param_state.get("mu_product"), Tensor):
                param_state["mu_product"] = param_state["mu_product"].item()

    def _params_with_grad(
        self, group: dict, weight_decay: float = 0.0
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield ``(p, g)`` for each parameter of `group` whose gradient is not None.

        ``g`` is the gradient, negated when the group has ``maximize=True``, plus the L2
        term ``weight_decay * p`` when `weight_decay` is not 0.
        """
        sign_flip = group["maximize"]
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if g.is_sparse:
                raise RuntimeError(
                    f"helpers.optim.{type(self).__name__} does not support sparse gradients; "
                    "densify them (p.grad = p.grad.to_dense()) or use torch.optim.SparseAdam"
                )
            if p.is_complex():
                raise RuntimeError(
                    f"helpers.optim.{type(self).__name__} does not support complex parameters; "
                    "use the torch.optim class of the same name"
                )
            g = -g if sign_flip else g
            yield p, (g.add(p, alpha=weight_decay) if weight_decay != 0 else g)  # g + wd * p

    @staticmethod
    def _evaluate(closure: Callable[[], Tensor] | None) -> Tensor | None:
        """Re-evaluate the loss with gradients enabled, if a closure is given."""
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()


METHODS_DOC = """
    Methods
    -------
    step(closure=None)
        Perform one update of every parameter that has a gradient; parameters whose ``grad``
        is None are skipped and get no state. `closure`, if given, re-evaluates the model and
        returns the loss, which ``step`` returns.
"""


class AdamFamily(FromScratch):
    """Base class of Adam and its relatives: their checks and their two moments' state."""

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_betas(group["betas"])
        check_range("eps", group["eps"])
        check_range("weight_decay", group["weight_decay"])

    def _moments(self, p: Tensor) -> tuple[dict, int, Tensor, Tensor]:
        """``p``'s state, advanced by one step: ``(state, t, m, v)``, m and v zero at first."""
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        return state, state["step"], state["exp_avg"], state["exp_avg_sq"]

    def _gradients(self, group: dict) -> Iterator[tuple[Tensor, Tensor]]:
        """``(p, g)`` with the group's weight decay: decoupled (p shrunk here) or L2 (in g)."""
        wd, decoupled = group["weight_decay"], group.get("decoupled_weight_decay", False)
        for p, g in self._params_with_grad(group, weight_decay=0.0 if decoupled else wd):
            if decoupled and wd != 0:
                p.mul_(1 - group["lr"] * wd)  # p <- (1 - lr * wd) * p
            yield p, g
