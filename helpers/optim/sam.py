"""Sharpness-aware minimization, and the sharpness it minimizes (see :mod:`helpers.optim`).

Introduced in the chapter *Sharpness-aware minimization*.
"""

from collections.abc import Callable

import torch
from torch import Tensor
from torch.optim import Optimizer

from helpers._checks import ArgumentTypeError, check_callable, check_int, short_repr
from helpers.optim._base import METHODS_DOC, FromScratch, MissingParamsError, check_range

__all__ = ["SAM", "sharpness"]


class SAM(FromScratch):
    """Sharpness-aware minimization: the base optimizer's step, with the gradient taken at the
    worst point of a small ball around the parameters.

    Introduced in the chapter *Sharpness-aware minimization*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    base_optimizer : type
        The optimizer class that makes the update, for example ``torch.optim.SGD``; it is
        built on the same param groups, with ``**kwargs``.
    rho : float, default 0.05
        Radius of the ball, >= 0.
    adaptive : bool, default False
        Adaptive SAM (Kwon et al., 2021): a ball scaled by ``|p|`` per coordinate.
    perturb_eps : float, default 1e-12
        Added to the gradient norm, >= 0.
    **kwargs
        Hyperparameters of the base optimizer (``lr=0.1, momentum=0.9``, ...).

    Notes
    -----
    One step, with the gradient g at p computed by the caller::

        e  = rho * T^2 g / (||T g|| + perturb_eps)     (T = 1, or |p| if adaptive;
                                                       the norm runs over all groups)
        g' = gradient at p + e                          (the second evaluation)
        p <- base_optimizer's update of p with g'

    ``first_step()`` moves p to p + e, the caller computes g', ``second_step()`` moves p back
    and calls the base optimizer; ``step(closure)`` does all three, with a closure that
    zeroes the gradients, evaluates the loss and calls backward. :func:`helpers.training.fit`
    and :func:`helpers.training.run_optimizer` pass it one (its ``requires_closure`` is
    true). The param groups and the state are the base optimizer's. Equal to
    ``pytorch_optimizer.SAM``, except that the norm is computed in the parameters' dtype
    (that package computes it in float32).

    References
    ----------
    - Foret, P., Kleiner, A., Mobahi, H., & Neyshabur, B. (2021). Sharpness-aware
      minimization for efficiently improving generalization. ICLR.
    - Kwon, J., Kim, J., Park, H., & Choi, I. K. (2021). ASAM: Adaptive sharpness-aware
      minimization for scale-invariant learning of deep neural networks. ICML.
    """

    __doc__ += (
        METHODS_DOC
        + """
    first_step(zero_grad=False)
        Move every parameter to the worst point p + e of the ball (keeping p).
    second_step(zero_grad=False)
        Move the parameters back to p and let the base optimizer step with the new gradient.
"""
    )

    requires_closure = True  # helpers.training.fit passes step() a closure

    def __init__(
        self,
        params,
        base_optimizer: type,
        rho: float = 0.05,
        adaptive: bool = False,
        perturb_eps: float = 1e-12,
        **kwargs,
    ) -> None:
        check_callable("base_optimizer", base_optimizer)
        if isinstance(base_optimizer, Optimizer):
            raise ArgumentTypeError(
                "Invalid base_optimizer: base_optimizer must be an optimizer class such as "
                "torch.optim.SGD, not an instance"
            )
        check_range("perturb_eps", perturb_eps)
        self.perturb_eps = perturb_eps
        super().__init__(params, dict(rho=rho, adaptive=adaptive, **kwargs))
        try:
            self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        except ValueError:
            raise  # the base optimizer's own check of its hyperparameters
        except Exception as exc:
            raise ArgumentTypeError(
                f"Invalid base_optimizer: base_optimizer(params, **kwargs) failed: {exc}"
            ) from exc
        if not isinstance(self.base_optimizer, Optimizer):
            raise ArgumentTypeError(
                "Invalid base_optimizer: base_optimizer(params, **kwargs) must return a "
                f"torch.optim.Optimizer, got {type(self.base_optimizer).__name__}"
            )
        self.param_groups = self.base_optimizer.param_groups  # one set of groups and state
        self.state = self.base_optimizer.state

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("rho", group["rho"])

    def add_param_group(self, param_group: dict) -> None:
        """Add a param group (to the base optimizer too) after checking rho."""
        if not hasattr(self, "base_optimizer"):  # during __init__
            super().add_param_group(param_group)
            return
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        if "params" not in param_group:
            raise MissingParamsError("param_group must have a 'params' entry")
        param_group = {
            "rho": self.defaults["rho"],
            "adaptive": self.defaults["adaptive"],
            **param_group,
        }
        self._check_hyperparameters(param_group)
        self.base_optimizer.add_param_group(param_group)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict saved by :meth:`state_dict` (the base optimizer's state too)."""
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups
        self.base_optimizer.state = self.state

    def _with_grad(self, group: dict):
        return [p for p in group["params"] if p.grad is not None]

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        """Move every parameter p to p + e, the worst point of the ball (see the Notes)."""
        scaled = [  # T g, over every group
            p.abs() * p.grad if group["adaptive"] else p.grad
            for group in self.param_groups
            for p in self._with_grad(group)
        ]
        if not scaled:
            return
        norm = torch.stack([torch.linalg.vector_norm(s) for s in scaled]).norm()  # ||T g||
        norm = norm.add_(self.perturb_eps)
        for group in self.param_groups:
            for p in self._with_grad(group):
                T2 = p * p if group["adaptive"] else 1.0
                e = T2 * p.grad * (group["rho"] / norm)  # e = rho T^2 g / ||T g||
                self.state[p]["old_p"] = p.clone()
                p.add_(e)  # p <- p + e
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        """Move the parameters back to p, then take the base optimizer's step."""
        for group in self.param_groups:
            for p in group["params"]:
                if "old_p" in self.state[p]:
                    p.copy_(self.state[p].pop("old_p"))  # p <- p (the gradient stays g')
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    def step(self, closure: Callable[[], Tensor] | None = None):
        """One SAM step: `closure` (required) zeroes the gradients, computes the loss and calls
        backward; the gradient at the current point must already be there. Returns the loss
        at the perturbed point."""
        if closure is None:
            raise ValueError(
                "Invalid closure: SAM.step needs a closure that recomputes the loss and its "
                "gradient (or call first_step() and second_step() yourself)"
            )
        check_callable("closure", closure)
        self.first_step(zero_grad=True)
        loss = self._evaluate(closure)  # g' = gradient at p + e
        self.second_step()
        return loss


def sharpness(
    model: torch.nn.Module,
    loss_fn: Callable,
    X: Tensor,
    y: Tensor,
    num_iters: int = 30,
    seed: int = 0,
) -> float:
    """Largest eigenvalue of the Hessian of the loss, by power iteration.

    Power iteration on Hessian-vector products ``H v`` (one backward pass that keeps its graph,
    then one more backward pass per iteration; no Hessian is formed), from a random unit
    vector; the result is the Rayleigh quotient ``v^T H v`` of the last vector, an estimate
    that is too low if ``num_iters`` is too small for the iteration to converge. The same
    method as in the chapter *The learning rate*.
    Introduced in the chapter *Sharpness-aware minimization*.

    Parameters
    ----------
    model : torch.nn.Module
        The network, at the point to measure.
    loss_fn : callable
        ``loss_fn(model(X), y)`` is the scalar loss.
    X, y : Tensor
        The data the loss is measured on (full batch).
    num_iters : int, default 30
        Power iterations, 1 to 10000.
    seed : int, default 0
        Seed of the starting vector.

    Returns
    -------
    float
        The eigenvalue of largest magnitude (the top one at a minimum, where H has no large
        negative eigenvalue).
    """
    if not isinstance(model, torch.nn.Module):
        raise ArgumentTypeError(
            f"Invalid model: model must be a torch.nn.Module, not {short_repr(model, 40)}"
        )
    check_callable("loss_fn", loss_fn)
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, Tensor):
            raise ArgumentTypeError(f"Invalid {name}: {name} must be a tensor")
    check_int("num_iters", num_iters, low=1, high=10_000)
    check_int("seed", seed, low=0)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("Invalid model: model has no parameters that require grad")
    with torch.enable_grad():
        try:
            loss = loss_fn(model(X), y)
            grads = torch.autograd.grad(loss, params, create_graph=True)
        except Exception as exc:
            raise ValueError(
                f"Invalid X, y or loss_fn: loss_fn(model(X), y) must be a scalar tensor that "
                f"can be differentiated twice in the model's parameters ({exc})"
            ) from None
        generator = torch.Generator().manual_seed(seed)
        v = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in params]
        for _ in range(num_iters):
            norm = torch.sqrt(sum((vi * vi).sum() for vi in v))
            v = [vi / norm for vi in v]  # unit length
            g_dot_v = sum((g * vi).sum() for g, vi in zip(grads, v, strict=True))
            if not g_dot_v.requires_grad:
                return 0.0  # the gradient does not depend on the parameters: H = 0
            Hv = torch.autograd.grad(g_dot_v, params, retain_graph=True)  # H v
            rayleigh = sum((vi * h).sum() for vi, h in zip(v, Hv, strict=True))  # v^T H v
            v = list(Hv)
    return rayleigh.item()
