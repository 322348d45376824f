"""The classic optimizers, from SGD to NAdam, written from scratch (see :mod:`helpers.optim`)."""

import torch

from helpers.optim._base import METHODS_DOC, AdamFamily, FromScratch, check_range
from helpers.optim.functional import (
    adadelta_step,
    adagrad_step,
    adam_step,
    adamax_step,
    momentum_step,
    nesterov_step,
    rmsprop_step,
    sgd_step,
)

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop"]


# ---------------------------------------------------------------------------------------------
# The optimizers.
# ---------------------------------------------------------------------------------------------


class SGD(FromScratch):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    Introduced in the chapter *Momentum and Nesterov*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-3
        Learning rate, >= 0.
    momentum : float, default 0
        Momentum coefficient beta in [0, 1]; 0 gives plain (stochastic) gradient descent.
    dampening : float, default 0
        Dampening tau in [0, 1] of the gradient added to the momentum buffer.
    weight_decay : float, default 0
        L2 penalty coefficient, >= 0.
    nesterov : bool, default False
        Use Nesterov momentum; requires momentum > 0 and dampening = 0.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    With gradient g at step t (PyTorch's form of momentum, b_1 = g_1)::

        g <- g + weight_decay * p
        b <- momentum * b + (1 - dampening) * g
        g <- g + momentum * b    if nesterov    else    g <- b
        p <- p - lr * g

    State per parameter: ``momentum_buffer`` (only when momentum != 0).

    References
    ----------
    - Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods.
    - Sutskever, I., Martens, J., Dahl, G., & Hinton, G. (2013). On the importance of
      initialization and momentum in deep learning. ICML.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_range("momentum", group["momentum"], 0.0, 1.0)
        check_range("dampening", group["dampening"], 0.0, 1.0)
        check_range("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Invalid nesterov=True: Nesterov momentum needs momentum in (0, 1] and "
                f"dampening = 0, got momentum={group['momentum']!r}, "
                f"dampening={group['dampening']!r}"
            )

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, tau = group["lr"], group["momentum"], group["dampening"]
            for p, g in self._params_with_grad(group, group["weight_decay"]):
                if momentum == 0:
                    sgd_step.unchecked(p, g, lr)
                    continue
                state = self.state[p]
                v = state.get("momentum_buffer")
                first = v is None  # torch starts the buffer at g: zero, then no dampening
                if first:
                    v = state["momentum_buffer"] = torch.zeros_like(p)
                if group["nesterov"]:
                    nesterov_step.unchecked(p, g, v, lr, momentum)
                else:
                    momentum_step.unchecked(p, g, v, lr, momentum, dampening=0.0 if first else tau)
        return loss


class Adagrad(FromScratch):
    """Adagrad: per-coordinate step sizes from the sum of all past squared gradients.

    Introduced in the chapter *Adaptive methods*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-2
        Learning rate, >= 0.
    lr_decay : float, default 0
        Learning-rate decay, >= 0: step t uses lr / (1 + (t - 1) * lr_decay).
    weight_decay : float, default 0
        L2 penalty coefficient, >= 0.
    initial_accumulator_value : float, default 0
        Starting value of the sum of squares, >= 0.
    eps : float, default 1e-10
        Added to the denominator for numerical stability, >= 0.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    At step t = 1, 2, ... with gradient g::

        g    <- g + weight_decay * p
        lr_t  = lr / (1 + (t - 1) * lr_decay)
        s    <- s + g * g
        p    <- p - lr_t * g / (sqrt(s) + eps)

    State per parameter: ``step``, ``sum`` (s). State is created at the first step that
    sees a gradient, from the group's own ``initial_accumulator_value`` (torch.optim.Adagrad
    creates it in the constructor from the constructor's value, even for groups that set
    another one).

    References
    ----------
    Duchi, J., Hazan, E., & Singer, Y. (2011). Adaptive subgradient methods for online learning
    and stochastic optimization. JMLR 12.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_range("lr_decay", group["lr_decay"])
        check_range("weight_decay", group["weight_decay"])
        check_range("initial_accumulator_value", group["initial_accumulator_value"])
        check_range("eps", group["eps"])

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            for p, g in self._params_with_grad(group, group["weight_decay"]):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
                state["step"] += 1
                lr_t = lr / (1 + (state["step"] - 1) * lr_decay)  # lr / (1 + (t - 1) lr_decay)
                adagrad_step.unchecked(p, g, state["sum"], lr_t, eps)
        return loss


class RMSprop(FromScratch):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    Introduced in the chapter *Adaptive methods*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-2
        Learning rate, >= 0.
    alpha : float, default 0.99
        Smoothing constant of the running average of squared gradients, in [0, 1].
    eps : float, default 1e-8
        Added to the denominator for numerical stability, >= 0.
    weight_decay : float, default 0
        L2 penalty coefficient, >= 0.
    momentum : float, default 0
        Momentum factor in [0, 1].
    centered : bool, default False
        Divide by an estimate of the gradient's standard deviation (subtract the squared running
        mean of the gradient) instead of its root mean square.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    With gradient g::

        g    <- g + weight_decay * p
        v    <- alpha * v + (1 - alpha) * g * g
        gbar <- alpha * gbar + (1 - alpha) * g               (centered only)
        d     = sqrt(v - gbar * gbar) + eps   if centered   else   sqrt(v) + eps
        b    <- momentum * b + g / d,   p <- p - lr * b       (momentum > 0)
        p    <- p - lr * g / d                                (momentum = 0)

    State per parameter: ``step``, ``square_avg`` (v), ``grad_avg`` (gbar, centered only),
    ``momentum_buffer`` (b, momentum > 0 only).

    References
    ----------
    - Tieleman, T., & Hinton, G. (2012). Lecture 6.5, rmsprop. COURSERA: Neural Networks for
      Machine Learning.
    - Graves, A. (2013). Generating sequences with recurrent neural networks.
      arXiv:1308.0850 (the centered variant).
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_range("alpha", group["alpha"], 0.0, 1.0)
        check_range("eps", group["eps"])
        check_range("weight_decay", group["weight_decay"])
        check_range("momentum", group["momentum"], 0.0, 1.0)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p, g in self._params_with_grad(group, group["weight_decay"]):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                state["step"] += 1
                rmsprop_step.unchecked(
                    p,
                    g,
                    state["square_avg"],
                    lr,
                    alpha,
                    eps,
                    grad_avg=state.get("grad_avg"),
                    momentum=momentum,
                    momentum_buffer=state.get("momentum_buffer"),
                )
        return loss


class Adam(AdamFamily):
    """Adam: momentum and RMS scaling with bias-corrected moment estimates; optionally AMSGrad.

    Introduced in the chapter *Adam and its family*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates (beta1, beta2) of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator for numerical stability, >= 0.
    weight_decay : float, default 0
        Weight decay coefficient, >= 0: an L2 penalty added to the gradient, or decoupled weight
        decay (AdamW) if `decoupled_weight_decay` is True.
    amsgrad : bool, default False
        Use the running maximum of the second moment (AMSGrad).
    maximize : bool, default False
        Maximize the objective instead of minimizing it.
    decoupled_weight_decay : bool, default False
        Shrink the parameters directly, p <- (1 - lr * weight_decay) * p, as AdamW does.

    Notes
    -----
    At step t = 1, 2, ... with gradient g::

        g    <- g + weight_decay * p                  (or p <- (1 - lr * weight_decay) * p)
        m    <- beta1 * m + (1 - beta1) * g
        v    <- beta2 * v + (1 - beta2) * g * g
        vmax <- max(vmax, v),   v <- vmax             (amsgrad only)
        m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)
        p    <- p - lr * m_hat / (sqrt(v_hat) + eps)

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v),
    ``max_exp_avg_sq`` (vmax, amsgrad only).

    References
    ----------
    - Kingma, D. P., & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
    - Reddi, S. J., Kale, S., & Kumar, S. (2018). On the convergence of Adam and beyond. ICLR.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
            for p, g in self._gradients(group):
                state, t, m, v = self._moments(p)
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = torch.zeros_like(p)
                v_max = state.get("max_exp_avg_sq")  # AMSGrad only
                adam_step.unchecked(p, g, m, v, t, lr, beta1, beta2, eps, v_max=v_max)
        return loss


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, p <- (1 - lr * weight_decay) * p.

    Introduced in the chapter *Adam and its family*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates (beta1, beta2) of the moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator for numerical stability, >= 0.
    weight_decay : float, default 1e-2
        Decoupled weight decay coefficient, >= 0.
    amsgrad : bool, default False
        Use the running maximum of the second moment (AMSGrad).
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    The update of :class:`Adam` with ``decoupled_weight_decay=True``: the decay acts on the
    parameters, not through the gradient, so it is not rescaled by the adaptive denominator::

        p <- (1 - lr * weight_decay) * p
        (then the Adam update with the raw gradient g)

    References
    ----------
    Loshchilov, I., & Hutter, F. (2019). Decoupled weight decay regularization. ICLR.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


class NAdam(AdamFamily):
    """NAdam: Adam with Nesterov momentum and torch's momentum-decay schedule.

    Introduced in the chapter *Adam and its family*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 2e-3
        Learning rate, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates (beta1, beta2) of the moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator for numerical stability, >= 0.
    weight_decay : float, default 0
        Weight decay coefficient, >= 0 (L2 penalty, or decoupled if the next flag is set).
    momentum_decay : float, default 4e-3
        psi >= 0 in the momentum schedule mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi)).
    decoupled_weight_decay : bool, default False
        Shrink the parameters directly, p <- (1 - lr * weight_decay) * p (as in AdamW).
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    At step t = 1, 2, ... with gradient g::

        mu_t  = beta1 * (1 - 0.5 * 0.96^(t * psi)),   P_t = mu_1 * mu_2 * ... * mu_t
        m    <- beta1 * m + (1 - beta1) * g
        v    <- beta2 * v + (1 - beta2) * g * g
        d     = sqrt(v / (1 - beta2^t)) + eps
        p    <- p - lr * (1 - mu_t) / (1 - P_t) * g / d
                  - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    State per parameter: ``step``, ``mu_product`` (P_t, a Python float; torch keeps it in a
    0-d tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    References
    ----------
    Dozat, T. (2016). Incorporating Nesterov momentum into Adam. ICLR workshop.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        check_range("momentum_decay", group["momentum_decay"])

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
            psi = group["momentum_decay"]
            for p, g in self._gradients(group):
                state, t, m, v = self._moments(p)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))  # mu_t
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))  # mu_{t+1}
                mu_product = state["mu_product"] = state.get("mu_product", 1.0) * mu  # P_t
                m.lerp_(g, 1 - beta1)  # m <- beta1 * m + (1 - beta1) * g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v <- beta2 * v + (1 - beta2) * g^2
                d = v.div(1 - beta2**t).sqrt().add_(eps)  # d = sqrt(v / (1 - beta2^t)) + eps
                # p <- p - lr * (1 - mu_t) / (1 - P_t) * g / d
                #        - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d
                p.addcdiv_(g, d, value=-lr * (1.0 - mu) / (1.0 - mu_product))
                p.addcdiv_(m, d, value=(-lr * mu_next) / (1.0 - mu_product * mu_next))
        return loss


class Adamax(AdamFamily):
    """Adamax: the infinity-norm variant of Adam.

    Introduced in the chapter *Adam and its family*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 2e-3
        Learning rate, >= 0.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates (beta1, beta2) of the first moment and of the infinity norm, in [0, 1).
    eps : float, default 1e-8
        Added to abs(g) for numerical stability, >= 0.
    weight_decay : float, default 0
        L2 penalty coefficient, >= 0.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    At step t = 1, 2, ... with gradient g::

        g <- g + weight_decay * p
        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

    References
    ----------
    Kingma, D. P., & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR, sec. 7.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
            for p, g in self._gradients(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_inf"] = torch.zeros_like(p)
                state["step"] += 1
                m, u, t = state["exp_avg"], state["exp_inf"], state["step"]
                adamax_step.unchecked(p, g, m, u, t, lr, beta1, beta2, eps)
        return loss


class Adadelta(FromScratch):
    """Adadelta: step sizes from the ratio of running RMS of updates and of gradients.

    Introduced in the chapter *Adaptive methods*.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters to optimize, or dicts defining param groups.
    lr : float, default 1.0
        Coefficient that scales the update, >= 0 (the original method has no learning rate).
    rho : float, default 0.9
        Decay rate of both running averages, in [0, 1].
    eps : float, default 1e-6
        Added inside both square roots, >= 0.
    weight_decay : float, default 0
        L2 penalty coefficient, >= 0.
    maximize : bool, default False
        Maximize the objective instead of minimizing it.

    Notes
    -----
    With gradient g::

        g     <- g + weight_decay * p
        v     <- rho * v + (1 - rho) * g * g
        delta  = sqrt(u + eps) / sqrt(v + eps) * g
        u     <- rho * u + (1 - rho) * delta * delta
        p     <- p - lr * delta

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).

    References
    ----------
    Zeiler, M. D. (2012). ADADELTA: An adaptive learning rate method. arXiv:1212.5701.
    """

    __doc__ += METHODS_DOC

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        check_range("lr", group["lr"])
        check_range("rho", group["rho"], 0.0, 1.0)
        check_range("eps", group["eps"])
        check_range("weight_decay", group["weight_decay"])

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (see the class docstring for the update rule)."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            for p, g in self._params_with_grad(group, group["weight_decay"]):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    state["acc_delta"] = torch.zeros_like(p)
                state["step"] += 1
                v, u = state["square_avg"], state["acc_delta"]
                adadelta_step.unchecked(p, g, v, u, lr, rho, eps)
        return loss
