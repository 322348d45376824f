"""Optimizers for large batches: LARS and LAMB, with a trust ratio per layer.

Both scale each parameter tensor's step by a *trust ratio*, the norm of its weights over the
norm of its update, so that every layer moves by about the same fraction of its size whatever
its gradient's scale. Introduced in the chapter *Scaling out*.

Each class follows its paper's algorithm. The constructors take the names and defaults of the
reference implementation, ``pytorch_optimizer.LARS`` and ``pytorch_optimizer.Lamb``; where the
reference departs from the paper, the class follows the paper and its docstring says how the
two differ (the tests compare the two in the settings where they agree).
"""

import torch

from helpers.optim._base import METHODS_DOC, AdamFamily, FromScratch, check_range

__all__ = ["LAMB", "LARS"]


def trust_ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """``numerator / denominator``, or 1 where either is 0 (a zero layer, a zero update)."""
    if numerator > 0 and denominator > 0:
        return numerator / denominator
    return torch.ones_like(numerator)


class LARS(FromScratch):
    """LARS: SGD with momentum and a layer-wise learning rate (You, Gitman & Ginsburg, 2017).

    Introduced in the chapter *Scaling out*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups. Each tensor is one "layer".
    lr : float, default 1e-3
        Learning rate eta, >= 0.
    weight_decay : float, default 0
        Weight-decay coefficient lambda, >= 0.
    momentum : float, default 0.9
        Momentum coefficient beta in [0, 1].
    dampening : float, default 0
        Dampening tau in [0, 1] of the step added to the momentum buffer.
    trust_coefficient : float, default 1e-3
        The LARS coefficient c, >= 0: how far, relative to its norm, a layer moves per unit
        of learning rate.
    nesterov : bool, default False
        Use Nesterov momentum.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    Algorithm 1 of the paper, for each parameter tensor w with gradient g, with the course's
    symbols eta_w, c, lambda, beta, eta (the paper's lambda, eta, beta, m, gamma)::

        eta_w <- c * ||w|| / (||g|| + lambda * ||w||)     (1 if ||w|| or the denominator is 0)
        u     <- eta_w * (g + lambda * w)
        v     <- beta * v + (1 - tau) * eta * u           (v starts at 0)
        w     <- w - v                  (w <- w - eta * u - beta * v   if nesterov)

    State per parameter: ``momentum_buffer`` (v; only when momentum != 0).

    The reference ``pytorch_optimizer.LARS`` differs from the paper in two ways: it keeps
    the learning rate outside the momentum buffer (``v <- beta v + (1 - tau) u``,
    ``w <- w - eta v``, as ``torch.optim.SGD`` does), which is the same while the learning
    rate is constant but not once a schedule changes it; and it gives one- and zero-dimensional
    tensors (biases, normalization scales) plain SGD steps, without trust ratio or weight
    decay, where the paper treats every layer alike. For the reference's treatment of biases,
    put them in a param group of ``torch.optim.SGD``.

    References
    ----------
    You, Y., Gitman, I., & Ginsburg, B. (2017). Large batch training of convolutional
    networks. arXiv:1708.03888.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        momentum: float = 0.9,
        dampening: float = 0.0,
        trust_coefficient: float = 1e-3,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            dampening=dampening,
            trust_coefficient=trust_coefficient,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_range("weight_decay", group["weight_decay"])
        check_range("momentum", group["momentum"], 0.0, 1.0)
        check_range("dampening", group["dampening"], 0.0, 1.0)
        check_range("trust_coefficient", group["trust_coefficient"])
        if not isinstance(group["nesterov"], bool):
            raise ValueError(f"Invalid nesterov: {group['nesterov']!r}; nesterov must be a bool")

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, wd, c = group["lr"], group["weight_decay"], group["trust_coefficient"]
            momentum, tau = group["momentum"], group["dampening"]
            for w, g in self._params_with_grad(group):
                w_norm, g_norm = torch.linalg.norm(w), torch.linalg.norm(g)
                # eta_w = c ||w|| / (||g|| + lambda ||w||)
                local_lr = trust_ratio(c * w_norm, g_norm + wd * w_norm)
                u = g.add(w, alpha=wd).mul_(local_lr)  # u = eta_w (g + lambda w)
                if momentum == 0:
                    w.add_(u, alpha=-lr)  # w <- w - eta u
                    continue
                state = self.state[w]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(w)
                v = state["momentum_buffer"]
                v.mul_(momentum).add_(u, alpha=(1 - tau) * lr)  # v <- beta v + (1 - tau) eta u
                if group["nesterov"]:
                    w.add_(u, alpha=-lr).add_(v, alpha=-momentum)  # w <- w - eta u - beta v
                else:
                    w.sub_(v)  # w <- w - v
        return loss


class LAMB(AdamFamily):
    """LAMB: Adam's step with a layer-wise trust ratio (You et al., 2020).

    Introduced in the chapter *Scaling out*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups. Each tensor is one "layer".
    lr : float, default 1e-3
        Learning rate eta, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates beta1, beta2 in [0, 1) of the running averages of the gradient and of its
        square.
    weight_decay : float, default 0
        Weight-decay coefficient lambda, >= 0, added to the update inside the trust ratio.
    eps : float, default 1e-6
        Added to the denominator of Adam's ratio, >= 0.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    Algorithm 2 of the paper, at step t = 1, 2, ... for each parameter tensor x with
    gradient g::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        r  = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
        u  = r + lambda * x
        x <- x - eta * phi(||x||) / ||u|| * u      (the ratio is 1 if ||x|| or ||u|| is 0)

    with phi(z) = min(z, 10), the clipping of the reference (``clamp = 10``).

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).

    The reference ``pytorch_optimizer.Lamb`` equals this with ``weight_decouple=False``
    (its default ``True`` decays the weights AdamW's way, outside the trust ratio), except
    for three details: it does not bias-correct v; it divides the whole step, after the trust
    ratio, by ``1 - beta1^t`` (``adam_debias=True`` turns that off; with bias-corrected
    moments the correction would cancel in the trust ratio when lambda = 0); and it adds
    ``eps`` to ``||u||`` in the trust ratio. With ``eps = 0`` and ``adam_debias=True`` the
    two agree when lambda = 0, or when beta1 = beta2 = 0.

    References
    ----------
    You, Y., Li, J., Reddi, S., Hseu, J., Kumar, S., Bhojanapalli, S., Song, X., Demmel, J.,
    Keutzer, K., & Hsieh, C.-J. (2020). Large batch optimization for deep learning: training
    BERT in 76 minutes. ICLR.
    """

    __doc__ += METHODS_DOC

    clamp: float = 10.0  # phi(z) = min(z, clamp), as in the reference

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        weight_decay: float = 0.0,
        eps: float = 1e-6,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2) = group["lr"], group["betas"]
            wd, eps = group["weight_decay"], group["eps"]
            for x, g in self._params_with_grad(group):
                _, t, m, v = self._moments(x)
                m.mul_(beta1).add_(g, alpha=1 - beta1)  # m <- beta1 m + (1 - beta1) g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v <- beta2 v + (1 - beta2) g^2
                m_hat = m / (1 - beta1**t)  # m / (1 - beta1^t)
                v_hat = v / (1 - beta2**t)  # v / (1 - beta2^t)
                u = m_hat / (v_hat.sqrt() + eps)  # r = m_hat / (sqrt(v_hat) + eps)
                u.add_(x, alpha=wd)  # u = r + lambda x
                x_norm = torch.linalg.norm(x).clamp(max=self.clamp)  # phi(||x||)
                ratio = trust_ratio(x_norm, torch.linalg.norm(u))  # phi(||x||) / ||u||
                x.add_(u * ratio, alpha=-lr)  # x <- x - eta phi(||x||) / ||u|| u
        return loss
