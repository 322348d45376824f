"""Lion, Adafactor and Schedule-Free AdamW, written from scratch (see :mod:`helpers.optim`).

Introduced in the chapter *Optimizers of the last five years*, with :class:`~helpers.optim.Muon`
(in :mod:`helpers.optim.muon`) and :class:`~helpers.optim.SAM` (in :mod:`helpers.optim.sam`).
"""

import torch

from helpers._checks import ArgumentTypeError, check_real
from helpers.optim._base import METHODS_DOC, FromScratch, check_betas, check_range

__all__ = ["Adafactor", "Lion", "ScheduleFreeAdamW"]


class Lion(FromScratch):
    """Lion (EvoLved Sign Momentum): the sign of an interpolated momentum, one buffer.

    Introduced in the chapter *Optimizers of the last five years*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-4
        Learning rate, > 0: every coordinate moves by exactly lr (plus weight decay).
    betas : tuple of float, default (0.9, 0.99)
        beta1 weighs the momentum in the update's sign, beta2 the momentum's own average;
        each in [0, 1].
    weight_decay : float, default 0
        Decoupled weight decay coefficient, >= 0.
    decoupled_weight_decay : bool, default False
        Divide weight_decay by the initial lr, so that the decay per step ``lr * wd / lr_0``
        follows a schedule of lr but not the choice of lr_0.

    Notes
    -----
    With gradient g (Chen et al., 2023, Program 1)::

        c <- beta1 * m + (1 - beta1) * g
        p <- (1 - lr * weight_decay) * p
        p <- p - lr * sign(c)
        m <- beta2 * m + (1 - beta2) * g

    State per parameter: ``exp_avg`` (m). Equal to ``lion_pytorch.Lion``.

    References
    ----------
    Chen, X., Liang, C., Huang, D., Real, E., Wang, K., Pham, H., Dong, X., Luong, T.,
    Hsieh, C.-J., Lu, Y., & Le, Q. V. (2023). Symbolic discovery of optimization algorithms.
    NeurIPS.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        self._init_lr = lr
        defaults = dict(
            lr=lr,
            betas=betas,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=False,  # not offered (as in lion-pytorch); the parameter loop reads it
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        if group["lr"] == 0:
            raise ValueError("Invalid lr: 0; Lion's lr must be > 0")
        betas = group["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ArgumentTypeError(f"Invalid betas: {betas!r}; betas must be a pair")
        check_range("betas[0]", betas[0], 0.0, 1.0)
        check_range("betas[1]", betas[1], 0.0, 1.0)
        check_range("weight_decay", group["weight_decay"])

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            if group["decoupled_weight_decay"]:
                wd = wd / self._init_lr
            for p, g in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                c = m.mul(beta1).add_(g, alpha=1 - beta1)  # c <- beta1 * m + (1 - beta1) * g
                p.mul_(1 - lr * wd)  # p <- (1 - lr * wd) * p
                p.add_(c.sign_(), alpha=-lr)  # p <- p - lr * sign(c)
                m.mul_(beta2).add_(g, alpha=1 - beta2)  # m <- beta2 * m + (1 - beta2) * g
        return loss


class Adafactor(FromScratch):
    """Adafactor: Adam's second moment, factored into row and column averages for matrices.

    Introduced in the chapter *Optimizers of the last five years*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-2
        Largest relative step size rho_t, and the factor of the weight decay, >= 0.
    beta2_decay : float, default -0.8
        ``1 - beta2_t = t ** beta2_decay``: the second moment averages over about the last
        ``t ** 0.8`` steps; <= 0.
    eps : tuple, default (None, 1e-3)
        ``(eps1, eps2)``: eps1 (>= 0, None for the dtype's machine epsilon) bounds the
        denominators below; eps2 (>= 0) is the smallest parameter scale.
    d : float, default 1.0
        Update clipping threshold, >= 1: the update's RMS is cut to d.
    weight_decay : float, default 0.0
        Decoupled weight decay coefficient, >= 0.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    At step t with gradient G of an n-by-m matrix (the last two dimensions of a tensor)::

        1 - beta2_t = t ** beta2_decay
        rho_t       = min(lr, 1 / sqrt(t))
        alpha_t     = max(eps2, RMS(p)) * rho_t
        p <- (1 - lr * weight_decay) * p
        R <- beta2_t R + (1 - beta2_t) * mean(G^2 over columns)     (n values)
        C <- beta2_t C + (1 - beta2_t) * mean(G^2 over rows)        (m values)
        V  = R C^T / max(mean(R), eps1)                              (rank one)
        U  = G / sqrt(max(V, eps1^2))
        p <- p - alpha_t * U / max(1, RMS(U) / d)

    A vector keeps the full average V of G^2. State per parameter: ``step`` and ``row_var``
    (R), ``col_var`` (C) for a matrix, ``variance`` (V) for a vector. Equal to
    ``torch.optim.Adafactor``, which departs from the paper in three ways: lr caps rho_t (the
    paper's cap is the constant 0.01), weight decay is added, and eps1 bounds the
    denominators instead of being added to G^2. Like torch's, this class has no first
    moment (the paper's beta1 = 0).

    References
    ----------
    Shazeer, N., & Stern, M. (2018). Adafactor: Adaptive learning rates with sublinear memory
    cost. ICML.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=eps,
            d=d,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_real("beta2_decay", group["beta2_decay"], high=0.0)
        eps = group["eps"]
        if not isinstance(eps, tuple | list) or len(eps) != 2:
            raise ArgumentTypeError(f"Invalid eps: {eps!r}; eps must be a pair (eps1, eps2)")
        if eps[0] is not None:
            check_range("eps[0]", eps[0])
        check_range("eps[1]", eps[1])
        check_range("d", group["d"], 1.0)
        check_range("weight_decay", group["weight_decay"])

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, wd, d = group["lr"], group["weight_decay"], group["d"]
            eps1, eps2 = group["eps"]
            for p, G in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    if G.ndim > 1:
                        state["row_var"] = G.new_zeros((*G.shape[:-1], 1))
                        state["col_var"] = G.new_zeros((*G.shape[:-2], 1, G.shape[-1]))
                    else:
                        state["variance"] = torch.zeros_like(G)
                state["step"] += 1
                t = float(state["step"])
                e1 = torch.finfo(p.dtype).eps if eps1 is None else eps1
                one_minus_beta2 = t ** group["beta2_decay"]  # 1 - beta2_t = t^beta2_decay
                rho = min(lr, 1 / t**0.5)  # rho_t = min(lr, 1 / sqrt(t))
                rms_p = p.norm(2).item() / p.numel() ** 0.5  # RMS(p)
                alpha = max(eps2, rms_p) * rho  # alpha_t = max(eps2, RMS(p)) rho_t
                if wd != 0:
                    p.mul_(1 - lr * wd)  # p <- (1 - lr * wd) * p
                if G.ndim > 1:
                    R, C = state["row_var"], state["col_var"]
                    R.lerp_(_mean_square(G, dim=-1), one_minus_beta2)  # R <- EMA of row means
                    C.lerp_(_mean_square(G, dim=-2), one_minus_beta2)  # C <- EMA of col means
                    V = R @ C  # V = R C^T ...
                    V.div_(R.mean(dim=-2, keepdim=True).clamp_(min=e1))  # ... / max(mean R, eps1)
                else:
                    V = state["variance"]
                    V.lerp_(G * G, one_minus_beta2)  # V <- EMA of G^2
                    V = V.clone()  # the state keeps V; the update below works in place
                U = V.clamp_(min=e1 * e1).rsqrt_().mul_(G)  # U = G / sqrt(max(V, eps1^2))
                clip = max(1.0, U.norm(2).item() / (U.numel() ** 0.5 * d))  # max(1, RMS(U) / d)
                p.add_(U, alpha=-alpha / clip)  # p <- p - alpha_t * U / clip
        return loss


def _mean_square(G: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of ``G**2`` along `dim` (kept), as a norm: no temporary of G's size."""
    return torch.norm(G, dim=dim, keepdim=True).square_().div_(G.size(dim))


class ScheduleFreeAdamW(FromScratch):
    """Schedule-Free AdamW: gradients at an interpolation, the average as the answer.

    Introduced in the chapter *Optimizers of the last five years*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 0.0025
        Learning rate gamma, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        beta1 in (0, 1) is the interpolation weight between the average x and the base
        sequence z; beta2 in [0, 1) the decay rate of the second moment.
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    weight_decay : float, default 0
        Weight decay coefficient, >= 0, applied at the point y where the gradient is taken.
    warmup_steps : int, default 0
        Linear warm-up of lr over this many steps, >= 0.
    r : float, default 0.0
        Polynomial weighting of the average: step t weighs ``t ** r``; >= 0.
    weight_lr_power : float, default 2.0
        The average weighs each step by ``lr_max ** weight_lr_power``, >= 0 (lr_max: the
        largest lr so far, so that warm-up steps count less).

    Notes
    -----
    Three sequences: the average x (the answer, for evaluation), the base sequence z (plain
    AdamW steps without momentum) and their interpolation y, where gradients are taken::

        y_t     = (1 - beta1) z_t + beta1 x_t
        v      <- beta2 v + (1 - beta2) g^2,        g = gradient at y_t
        u       = g / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay * y_t
        z_{t+1} = z_t - lr_t u
        c_{t+1} = w_t / (w_1 + ... + w_t),          w_t = t^r lr_max^weight_lr_power
        x_{t+1} = (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}

    With constant lr and r = 0, c_{t+1} = 1/t: x_{t+1} is the mean of z_2, ..., z_{t+1}.
    The parameters hold y during training (after ``train()``) and x during evaluation (after
    ``eval()``). Like the reference, the class stores y and z only and updates y directly,
    which needs no copy of x: ``y <- (1 - c) y + c z + lr (beta1 (1 - c) - 1) u`` (z before
    its step). State per parameter: ``z``, ``exp_avg_sq`` (v). Equal to
    ``schedulefree.AdamWScheduleFree``, whose bias correction divides v (the paper multiplies
    lr by ``sqrt(1 - beta2^t)``, which moves eps) and whose weights use lr_max without that
    factor.

    References
    ----------
    Defazio, A., Yang, X., Mehta, H., Mishchenko, K., Khaled, A., & Cutkosky, A. (2024). The
    road less scheduled. NeurIPS.
    """

    __doc__ += (
        METHODS_DOC
        + """
    train()
        Put the parameters at y, where gradients are taken; call it before training.
    eval()
        Put the parameters at the average x; call it before evaluating or saving.
"""
    )

    def __init__(
        self,
        params,
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            r=r,
            k=0,
            warmup_steps=warmup_steps,
            train_mode=False,
            weight_sum=0.0,
            lr_max=-1.0,
            scheduled_lr=0.0,
            weight_lr_power=weight_lr_power,
            weight_decay=weight_decay,
            maximize=False,  # not offered (as in schedulefree); the parameter loop reads it
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_betas(group["betas"])
        if group["betas"][0] == 0:
            raise ValueError("Invalid betas[0]: 0; beta1 must be > 0 (eval() divides by it)")
        check_range("eps", group["eps"])
        check_range("weight_decay", group["weight_decay"])
        check_range("warmup_steps", group["warmup_steps"])
        check_range("r", group["r"])
        check_range("weight_lr_power", group["weight_lr_power"])

    @torch.no_grad()
    def eval(self) -> None:
        """Move the parameters from y to the average x (for evaluation and checkpoints)."""
        for group in self.param_groups:
            beta1 = group["betas"][0]
            if group["train_mode"]:
                for p in group["params"]:
                    if "z" in self.state[p]:  # x = (y - (1 - beta1) z) / beta1
                        p.lerp_(self.state[p]["z"], 1 - 1 / beta1)
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        """Move the parameters from the average x to y, where gradients are taken."""
        for group in self.param_groups:
            beta1 = group["betas"][0]
            if not group["train_mode"]:
                for p in group["params"]:
                    if "z" in self.state[p]:  # y = (1 - beta1) z + beta1 x
                        p.lerp_(self.state[p]["z"], 1 - beta1)
                group["train_mode"] = True

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        if not self.param_groups[0]["train_mode"]:
            raise RuntimeError(
                "ScheduleFreeAdamW.step() needs train mode: call optimizer.train() before "
                "training and optimizer.eval() before evaluating"
            )
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            k, eps, wd = group["k"], group["eps"], group["weight_decay"]
            warmup = group["warmup_steps"]
            lr = group["lr"] * ((k + 1) / warmup if k < warmup else 1.0)  # lr_t, warmed up
            group["scheduled_lr"] = lr
            lr_max = group["lr_max"] = max(lr, group["lr_max"])
            weight = (k + 1) ** group["r"] * lr_max ** group["weight_lr_power"]  # w_t
            group["weight_sum"] += weight
            c = weight / group["weight_sum"] if group["weight_sum"] else 0.0  # c_{t+1}
            bias_correction2 = 1 - beta2 ** (k + 1)
            for y, g in self._params_with_grad(group):
                state = self.state[y]
                if not state:
                    state["z"] = y.clone()  # z_1 = x_1 = y_1
                    state["exp_avg_sq"] = torch.zeros_like(y)
                z, v = state["z"], state["exp_avg_sq"]
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v <- beta2 v + (1 - beta2) g^2
                denom = v.div(bias_correction2).sqrt_().add_(eps)  # sqrt(v_hat) + eps
                u = torch.div(g, denom, out=denom)  # u = g / (sqrt(v_hat) + eps), over denom
                if wd != 0:
                    u.add_(y, alpha=wd)  # u <- u + wd * y
                y.lerp_(z, c)  # y <- (1 - c) y + c z ...
                y.add_(u, alpha=lr * (beta1 * (1 - c) - 1))  # ... + lr (beta1 (1 - c) - 1) u
                z.sub_(u, alpha=lr)  # z <- z - lr u
            group["k"] = k + 1
        return loss
