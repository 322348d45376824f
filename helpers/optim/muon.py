"""Muon: momentum, orthogonalized by a Newton–Schulz iteration (see :mod:`helpers.optim`).

Introduced in the chapter *Optimizers of the last five years*.
"""

import math

import torch
from torch import Tensor

from helpers._checks import ArgumentTypeError, check_int, check_real, short_repr
from helpers.optim._base import METHODS_DOC, FromScratch, check_range

__all__ = ["Muon", "newton_schulz"]

#: Keller Jordan's quintic coefficients (a, b, c), the defaults of ``torch.optim.Muon``.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def _check_coefficients(name: str, coefficients) -> tuple[float, float, float]:
    if not isinstance(coefficients, tuple | list) or len(coefficients) != 3:
        raise ArgumentTypeError(
            f"Invalid {name}: {coefficients!r}; {name} must be three numbers (a, b, c)"
        )
    for k, value in enumerate(coefficients):
        check_real(f"{name}[{k}]", value)
    return tuple(coefficients)


def newton_schulz(
    G: Tensor,
    steps: int = 5,
    coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
    dtype: torch.dtype = torch.bfloat16,
) -> Tensor:
    """Orthogonalize a matrix approximately: ``U S V^T`` to about ``U V^T``.

    Each step applies the odd polynomial ``p(s) = a s + b s^3 + c s^5`` to every singular
    value of ``X`` at once, without computing the SVD::

        X <- G / ||G||_F                    (every singular value in [0, 1])
        repeat `steps` times:
            A <- X X^T
            B <- b A + c A A
            X <- a X + B X

    A wide ``X`` keeps the Gram matrix ``A`` small: a tall ``G`` is transposed first and the
    result back. The arithmetic is ``torch.optim.Muon``'s, operation by operation.
    Introduced in the chapter *Optimizers of the last five years*.

    Parameters
    ----------
    G : Tensor
        A matrix (2-D, real).
    steps : int, default 5
        Number of iterations, 0 to 99.
    coefficients : tuple of float, default (3.4445, -4.7750, 2.0315)
        ``(a, b, c)``. Muon's defaults push small singular values up fast and leave the result's
        singular values between about 0.7 and 1.2; ``(1.5, -0.5, 0.0)`` is the classic cubic
        iteration, which converges to exactly 1 but slowly.
    eps : float, default 1e-7
        Lower bound on the norm ``||G||_F`` that ``G`` is divided by, >= 0.
    dtype : torch.dtype, default torch.bfloat16
        Precision of the iteration (torch's Muon uses bfloat16).

    Returns
    -------
    Tensor
        Same shape as `G`, in `dtype`.
    """
    if not isinstance(G, Tensor) or G.ndim != 2 or G.is_complex() or not G.numel():
        raise ValueError(
            f"Invalid G: G must be a non-empty real 2-D tensor, not {short_repr(G, 50)}"
        )
    check_int("steps", steps, low=0, high=99)
    a, b, c = _check_coefficients("coefficients", coefficients)
    check_range("eps", eps)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ArgumentTypeError(f"Invalid dtype: {dtype!r}; dtype must be a torch float dtype")
    X = G.to(dtype)
    tall = G.size(0) > G.size(1)
    if tall:
        X = X.T  # work with the wide shape: X X^T is the smaller Gram matrix
    X.div_(X.norm().clamp(min=eps))  # X <- G / ||G||_F, so every singular value is <= 1
    for _ in range(steps):
        A = X @ X.T  # A <- X X^T
        B = torch.addmm(A, A, A, beta=b, alpha=c)  # B <- b A + c A A
        X = torch.addmm(X, B, X, beta=a)  # X <- a X + B X
    return X.T if tall else X


def _adjusted_lr(lr, adjust_lr_fn: str | None, shape: torch.Size):
    """The learning rate for a matrix of `shape` (rows, columns)."""
    rows, cols = shape[:2]
    if adjust_lr_fn in (None, "original"):
        return lr * math.sqrt(max(1, rows / cols))  # Jordan's: sqrt(max(1, rows / cols))
    return lr * (0.2 * math.sqrt(max(rows, cols)))  # Moonshot's: RMS of AdamW's update, 0.2


class Muon(FromScratch):
    """Muon: SGD with Nesterov momentum whose update is orthogonalized, for 2-D weights.

    Introduced in the chapter *Optimizers of the last five years*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups: matrices (2-D) only. Biases,
        gains and embeddings go to another optimizer (AdamW).
    lr : float, default 1e-3
        Learning rate, >= 0.
    weight_decay : float, default 0.1
        Decoupled weight decay coefficient, >= 0.
    momentum : float, default 0.95
        Momentum coefficient beta in [0, 1].
    nesterov : bool, default True
        Orthogonalize the Nesterov look-ahead ``(1 - beta) g + beta b`` instead of ``b``.
    ns_coefficients : tuple of float, default (3.4445, -4.7750, 2.0315)
        Coefficients (a, b, c) of the Newton–Schulz polynomial
        (see :func:`~helpers.optim.muon.newton_schulz`).
    eps : float, default 1e-7
        Lower bound on the norm the update is divided by, >= 0.
    ns_steps : int, default 5
        Newton–Schulz iterations, 0 to 99.
    adjust_lr_fn : {None, "original", "match_rms_adamw"}, default None
        Scaling of lr by the matrix's shape (rows, cols): ``None`` or ``"original"`` multiply
        by ``sqrt(max(1, rows / cols))`` (Jordan et al.), ``"match_rms_adamw"`` by
        ``0.2 * sqrt(max(rows, cols))`` (Liu et al., 2025), which gives updates of about the
        size of AdamW's.

    Notes
    -----
    With gradient g of a matrix W (torch's form: the buffer b is an average, b_0 = 0)::

        b <- beta * b + (1 - beta) * g
        u <- (1 - beta) * g + beta * b    if nesterov    else    u <- b
        O <- newton_schulz(u)                          (bfloat16, as in torch)
        W <- (1 - lr * weight_decay) * W
        W <- W - adjusted_lr * O

    State per parameter: ``momentum_buffer`` (b). Equal to ``torch.optim.Muon``; Jordan's
    blog post writes the buffer without the factor ``1 - beta``, which only rescales ``u``
    before the normalization inside ``newton_schulz`` and so changes nothing but rounding.

    References
    ----------
    - Jordan, K., Jin, Y., Boza, V., You, J., Cesista, F., Newhouse, L., & Bernstein, J.
      (2024). Muon: An optimizer for hidden layers in neural networks. Blog post,
      https://kellerjordan.github.io/posts/muon/
    - Liu, J., et al. (2025). Muon is scalable for LLM training. arXiv:2502.16982.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            nesterov=nesterov,
            ns_coefficients=ns_coefficients,
            eps=eps,
            ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
            maximize=False,  # not offered (as in torch); the shared parameter loop reads it
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_range("weight_decay", group["weight_decay"])
        check_range("momentum", group["momentum"], 0.0, 1.0)
        _check_coefficients("ns_coefficients", group["ns_coefficients"])
        check_range("eps", group["eps"])
        check_int("ns_steps", group["ns_steps"], low=0, high=99)
        fn = group["adjust_lr_fn"]
        if not (fn is None or (isinstance(fn, str) and fn in ADJUST_LR_FNS)):
            raise ValueError(
                f"Invalid adjust_lr_fn: {fn!r:.40}; adjust_lr_fn must be None, "
                '"original" or "match_rms_adamw"'
            )

    def add_param_group(self, param_group: dict) -> None:
        """Add a param group of matrices (``ValueError`` if a parameter is not 2-D)."""
        super().add_param_group(param_group)
        shapes = [tuple(p.shape) for p in self.param_groups[-1]["params"] if p.ndim != 2]
        if shapes:
            self.param_groups.pop()
            raise ValueError(
                f"Invalid params: Muon only supports 2D parameters (matrices), got shape "
                f"{shapes[0]}; optimize biases and other parameters with AdamW"
            )

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
            for W, g in self._params_with_grad(group):
                state = self.state[W]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(W)
                b = state["momentum_buffer"]
                b.lerp_(g, 1 - momentum)  # b <- beta * b + (1 - beta) * g
                u = g.lerp(b, momentum) if group["nesterov"] else b  # u <- (1 - beta) g + beta b
                O = newton_schulz(u, group["ns_steps"], group["ns_coefficients"], group["eps"])
                W.mul_(1 - lr * wd)  # W <- (1 - lr * wd) * W
                W.add_(O, alpha=-_adjusted_lr(lr, group["adjust_lr_fn"], W.shape))  # W - lr' O
        return loss
