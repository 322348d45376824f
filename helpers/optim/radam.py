"""RAdam: Adam with a rectified adaptive learning rate, from scratch (see :mod:`helpers.optim`).

Introduced in the chapter *Stable training*.
"""

import torch

from helpers.optim._base import METHODS_DOC, AdamFamily

__all__ = ["RAdam"]


def _rectification(rho_t: float, rho_inf: float) -> float:
    """The factor r_t that scales RAdam's adaptive step (rho_t > 4)."""
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


class RAdam(AdamFamily):
    """RAdam: Adam whose adaptive step is switched on, and scaled, as its variance allows.

    In the first steps the running average of squared gradients rests on a handful of
    gradients, so ``1 / sqrt(v)`` has a huge variance. RAdam measures how many gradients the
    average is worth, ``rho_t``, and until ``rho_t > 5`` takes a plain momentum step; after
    that it takes Adam's step multiplied by a rectification factor ``r_t < 1`` that grows to 1.
    Introduced in the chapter *Stable training*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates (beta1, beta2) of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to ``sqrt(v)`` for numerical stability, >= 0.
    weight_decay : float, default 0
        Weight decay coefficient, >= 0: an L2 penalty added to the gradient, or decoupled weight
        decay (as in AdamW) if `decoupled_weight_decay` is True.
    decoupled_weight_decay : bool, default False
        Shrink the parameters directly, p <- (1 - lr * weight_decay) * p.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    At step t = 1, 2, ... with gradient g, and rho_inf = 2 / (1 - beta2) - 1::

        g     <- g + weight_decay * p              (or p <- (1 - lr * weight_decay) * p)
        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g * g
        m_hat  = m / (1 - beta1^t)
        rho_t  = rho_inf - 2 t beta2^t / (1 - beta2^t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
            p  <- p - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
        else:
            p  <- p - lr * m_hat

    The paper switches at ``rho_t > 4``; torch, like the authors' code, at ``rho_t > 5``,
    and so does this class. State per parameter: ``step`` (t), ``exp_avg`` (m),
    ``exp_avg_sq`` (v).

    References
    ----------
    Liu, L., Jiang, H., He, P., Chen, W., Liu, X., Gao, J., & Han, J. (2020). On the variance
    of the adaptive learning rate and beyond. ICLR.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
            rho_inf = 2 / (1 - beta2) - 1  # the length of the average with infinitely many g
            for p, g in self._gradients(group):
                _, t, m, v = self._moments(p)
                m.lerp_(g, 1 - beta1)  # m <- beta1 * m + (1 - beta1) * g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v <- beta2 * v + (1 - beta2) * g^2
                m_hat = m / (1 - beta1**t)  # m_hat = m / (1 - beta1^t)
                rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)  # rho_t
                if rho_t > 5.0:  # enough gradients in v: Adam's step, rectified
                    r_t = _rectification(rho_t, rho_inf)
                    # p <- p - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
                    adaptive = (1 - beta2**t) ** 0.5 / v.sqrt().add_(eps)
                    p.add_(m_hat * lr * adaptive * r_t, alpha=-1.0)
                else:  # too few: a plain momentum step
                    p.add_(m_hat * lr, alpha=-1.0)  # p <- p - lr * m_hat
        return loss
