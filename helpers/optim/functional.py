"""One function per update rule: the step of each classic optimizer, on explicit tensors.

Each function takes the parameter ``p``, its gradient ``g``, the optimizer's state tensors for
that parameter (``v``, ``m``, ...) and, where the rule needs it, the step number ``t``
(counted from 1), then the hyperparameters, named as in the book (``lr``, ``beta1``,
``beta2``, ``eps``, ``weight_decay``). It updates ``p`` and the state tensors **in place** and
returns them, in the order of the arguments, as ``Tensor.add_`` returns its tensor: call it
for its effect, as the classes of :mod:`helpers.optim` do, or write
``p, v = rmsprop_step(p, g, v, lr=0.01)``. The functions check their arguments (a
``ValueError`` or ``TypeError`` names the one at fault) and run under ``torch.no_grad()``.

Each body is the formula of the chapter that introduces the rule, one line per line of the
formula; a class in :mod:`helpers.optim` reads its group's hyperparameters, sets up the state
and calls the function of its rule.

The learning rate may also be a tensor that broadcasts against ``p``, one learning rate per
entry: ``p`` with one row per learning rate and ``lr=lrs[:, None]`` run a whole sweep in one
call, as the chapters *Adaptive methods* and *Adam and its family* do. Every rule here moves
``p`` by ``lr`` times a step that does not depend on ``lr``, and no state tensor depends on
``lr``; so the function takes the step with ``lr = 1`` and then scales each entry's move by its
own learning rate (AdamW's decay ``-lr * weight_decay * p`` is part of that move). Each row of
the sweep follows the run with its learning rate as a number, to rounding.
"""

import functools
import inspect
import math

import torch
from torch import Tensor

from helpers._checks import ArgumentTypeError, check_bool, check_int, check_real

__all__ = [
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "adamax_step",
    "adamw_step",
    "momentum_step",
    "nesterov_step",
    "rmsprop_step",
    "sgd_step",
]

# The range of each hyperparameter (inf: the largest number of p's dtype); a public step's
# arguments are checked before it runs.
_RANGES = {
    "lr": (0.0, math.inf, False),
    "beta": (0.0, 1.0, False),
    "beta1": (0.0, 1.0, True),
    "beta2": (0.0, 1.0, True),
    "dampening": (0.0, 1.0, False),
    "alpha": (0.0, 1.0, False),
    "rho": (0.0, 1.0, False),
    "momentum": (0.0, 1.0, False),
    "eps": (0.0, math.inf, False),
    "weight_decay": (0.0, math.inf, False),
}


def _check_tensor(name: str, value, p: Tensor) -> None:
    """A tensor with the shape and dtype of `p` (and `p` itself a real floating tensor)."""
    if not isinstance(value, Tensor):
        raise ArgumentTypeError(f"Invalid {name}: it must be a torch.Tensor, not {type(value)}")
    if name == "p":
        if not value.is_floating_point():
            raise ValueError(f"Invalid p: it must be a floating-point tensor, not {value.dtype}")
    elif value.shape != p.shape or value.dtype != p.dtype:
        raise ValueError(
            f"Invalid {name}: it must have the shape and dtype of p, {tuple(p.shape)} and "
            f"{p.dtype}, not {tuple(value.shape)} and {value.dtype}"
        )


# The state tensors a step may go without (None): the variants' extra state.
_OPTIONAL_STATE = {"grad_avg", "momentum_buffer", "v_max"}


def _check_rates(lr: Tensor, p: Tensor) -> None:
    """A tensor `lr`: floating-point, broadcasting against `p`, every entry a valid lr."""
    if not lr.is_floating_point():
        raise ArgumentTypeError(f"Invalid lr: a tensor lr must be floating-point, not {lr.dtype}")
    try:
        lr.expand(p.shape)  # a view: fails unless lr broadcasts to p's shape
    except RuntimeError:
        raise ValueError(
            f"Invalid lr: a tensor lr must broadcast against p's shape {tuple(p.shape)}, "
            f"not {tuple(lr.shape)}"
        ) from None
    high = torch.finfo(p.dtype).max
    lowest, highest = lr.aminmax() if lr.numel() else (0.0, 0.0)
    if not 0 <= float(lowest) <= float(highest) <= high:  # NaN fails every comparison
        raise ValueError(f"Invalid lr: every entry of a tensor lr must be a number in [0, {high}]")


def _with_rates(step, arguments: dict, lr: Tensor):
    """``step`` with one learning rate per entry of p: its move for lr = 1, scaled by lr."""
    p = arguments["p"]
    before = p.clone()
    result = step(**arguments | {"lr": 1.0})
    torch.lerp(before, p, lr, out=p)  # p <- before + lr * (its move for lr = 1)
    return result


def _checked(step):
    """``step`` with its arguments checked first; ``step.unchecked`` is the bare function.

    A tensor ``lr`` (one learning rate per entry of p) is run by :func:`_with_rates`. The
    classes of :mod:`helpers.optim` call ``unchecked``: their tensors are their own and their
    hyperparameters were checked when the param group was added.
    """
    signature = inspect.signature(step)
    parameters = signature.parameters
    positional = [name for name, q in parameters.items() if q.kind is q.POSITIONAL_OR_KEYWORD]
    required = {name for name, q in parameters.items() if q.default is q.empty}

    @functools.wraps(step)
    def checked(*args, **kwargs):
        # signature.bind(*args, **kwargs).arguments, without its cost for a valid call
        arguments = dict(zip(positional, args, strict=False)) | kwargs
        if (
            len(args) > len(positional)
            or len(arguments) < len(args) + len(kwargs)  # an argument given twice
            or not arguments.keys() <= parameters.keys()
            or not required <= arguments.keys()
        ):
            arguments = signature.bind(*args, **kwargs).arguments  # raises bind's TypeError
        p = arguments.get("p")
        _check_tensor("p", p, p)
        lr = arguments.get("lr")
        for name, value in arguments.items():
            if name == "lr" and isinstance(value, Tensor):
                _check_rates(value, p)
            elif name in _RANGES:
                low, high, high_open = _RANGES[name]
                high = min(high, torch.finfo(p.dtype).max)
                check_real(name, value, low, high, high_open=high_open)
            elif name == "t":
                check_int("t", value, low=1)
            elif name == "bias_correction":
                check_bool(name, value)
            elif name != "p" and (value is not None or name not in _OPTIONAL_STATE):
                _check_tensor(name, value, p)
        with torch.no_grad():
            if isinstance(lr, Tensor):
                return _with_rates(step, arguments, lr)
            try:
                return step(*args, **kwargs)
            except RuntimeError as error:  # a step size beyond the largest number of p's dtype
                if "overflow" not in str(error):
                    raise
                raise ValueError(f"Invalid lr: {lr!r} makes the step overflow {p.dtype}") from None

    checked.unchecked = step
    return checked


def sgd_step(p, g, lr=1e-3):
    """Gradient descent: one step against the gradient, the same learning rate everywhere.

    Introduced in the chapter *Gradient descent*::

        p <- p - lr * g

    Parameters
    ----------
    p : Tensor
        The parameters, updated in place.
    g : Tensor
        The gradient at ``p``.
    lr : float or Tensor, default 1e-3
        The learning rate, or a tensor of learning rates that broadcasts against ``p``: one
        per entry, a sweep in one call (see the module's notes).

    Returns
    -------
    Tensor
        ``p``, updated.
    """
    return p.add_(g, alpha=-lr)  # p <- p - lr * g


def momentum_step(p, g, v, lr=1e-3, beta=0.9, dampening=0.0):
    """Heavy-ball momentum in PyTorch's form: the velocity sums the past gradients.

    Introduced in the chapter *Momentum and Nesterov*::

        v <- beta * v + (1 - dampening) * g
        p <- p - lr * v

    Starting from ``v = 0`` the first step is a plain gradient step (``torch.optim.SGD`` sets
    ``v = g`` on its first step, which is the same when ``dampening = 0``).

    Parameters
    ----------
    p : Tensor
        The parameters, updated in place.
    g : Tensor
        The gradient at ``p``.
    v : Tensor
        The velocity (``torch.optim.SGD``'s ``momentum_buffer``), updated in place.
    lr : float or Tensor, default 1e-3
        The learning rate (a tensor: one per entry of ``p``, as for :func:`sgd_step`).
    beta : float, default 0.9
        The momentum coefficient (``momentum`` in ``torch.optim.SGD``).
    dampening : float, default 0
        The share of the gradient left out of the velocity.

    Returns
    -------
    tuple of Tensor
        ``(p, v)``, updated.
    """
    v.mul_(beta).add_(g, alpha=1 - dampening)  # v <- beta * v + (1 - dampening) * g
    p.add_(v, alpha=-lr)  # p <- p - lr * v
    return p, v


def nesterov_step(p, g, v, lr=1e-3, beta=0.9):
    """Nesterov momentum in PyTorch's form: the heavy-ball velocity, a step along g + beta v.

    Introduced in the chapter *Momentum and Nesterov*::

        v <- beta * v + g
        p <- p - lr * (g + beta * v)

    Parameters
    ----------
    p, g, v, lr, beta
        As for :func:`momentum_step`.

    Returns
    -------
    tuple of Tensor
        ``(p, v)``, updated.
    """
    v.mul_(beta).add_(g)  # v <- beta * v + g
    p.add_(g.add(v, alpha=beta), alpha=-lr)  # p <- p - lr * (g + beta * v)
    return p, v


def adagrad_step(p, g, state_sum, lr=1e-2, eps=1e-10):
    """AdaGrad: each coordinate's step divided by the root of its sum of squared gradients.

    Introduced in the chapter *Adaptive methods*::

        G <- G + g * g
        p <- p - lr * g / (sqrt(G) + eps)

    Parameters
    ----------
    p : Tensor
        The parameters, updated in place.
    g : Tensor
        The gradient at ``p``.
    state_sum : Tensor
        The sum G of all squared gradients so far (``torch.optim.Adagrad``'s ``sum``),
        updated in place.
    lr : float or Tensor, default 1e-2
        The learning rate (a tensor: one per entry of ``p``, as for :func:`sgd_step`).
        ``torch.optim.Adagrad`` divides it by ``1 + (t - 1) * lr_decay`` before the step.
    eps : float, default 1e-10
        Added to the root, against division by zero.

    Returns
    -------
    tuple of Tensor
        ``(p, state_sum)``, updated.
    """
    state_sum.addcmul_(g, g)  # G <- G + g^2
    p.addcdiv_(g, state_sum.sqrt().add_(eps), value=-lr)  # p <- p - lr * g / (sqrt(G) + eps)
    return p, state_sum


def rmsprop_step(
    p, g, v, lr=1e-2, alpha=0.99, eps=1e-8, *, grad_avg=None, momentum=0.0, momentum_buffer=None
):
    """RMSprop: each coordinate's step divided by a running root mean square of its gradients.

    Introduced in the chapter *Adaptive methods*::

        v <- alpha * v + (1 - alpha) * g * g
        p <- p - lr * g / (sqrt(v) + eps)

    With `grad_avg` (torch's ``centered=True``) the denominator is the running standard
    deviation, ``gbar <- alpha * gbar + (1 - alpha) * g`` and ``d = sqrt(v - gbar^2) + eps``;
    with `momentum_buffer` the step goes through a velocity, ``b <- momentum * b + g / d``
    and ``p <- p - lr * b``.

    Parameters
    ----------
    p : Tensor
        The parameters, updated in place.
    g : Tensor
        The gradient at ``p``.
    v : Tensor
        The running average of squared gradients (torch's ``square_avg``), updated in place.
    lr : float or Tensor, default 1e-2
        The learning rate (a tensor: one per entry of ``p``, as for :func:`sgd_step`).
    alpha : float, default 0.99
        The decay rate of the running averages.
    eps : float, default 1e-8
        Added to the root, against division by zero.
    grad_avg : Tensor, optional
        The running average of the gradients, updated in place (centered RMSprop).
    momentum : float, default 0
        The momentum coefficient applied to `momentum_buffer`.
    momentum_buffer : Tensor, optional
        The velocity, updated in place (RMSprop with momentum).

    Returns
    -------
    tuple of Tensor
        ``(p, v)``, updated.
    """
    v.mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v <- alpha * v + (1 - alpha) * g^2
    if grad_avg is None:
        d = v.sqrt().add_(eps)  # d = sqrt(v) + eps
    else:
        grad_avg.lerp_(g, 1 - alpha)  # gbar <- alpha * gbar + (1 - alpha) * g
        d = v.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)  # sqrt(v - gbar^2) + eps
    if momentum_buffer is None:
        p.addcdiv_(g, d, value=-lr)  # p <- p - lr * g / d
    else:
        momentum_buffer.mul_(momentum).addcdiv_(g, d)  # b <- momentum * b + g / d
        p.add_(momentum_buffer, alpha=-lr)  # p <- p - lr * b
    return p, v


def adadelta_step(p, g, square_avg, acc_delta, lr=1.0, rho=0.9, eps=1e-6):
    """Adadelta: the step in the units of p, the RMS of recent updates over that of gradients.

    Introduced in the chapter *Adaptive methods*::

        v     <- rho * v + (1 - rho) * g * g
        delta  = sqrt(u + eps) / sqrt(v + eps) * g
        u     <- rho * u + (1 - rho) * delta * delta
        p     <- p - lr * delta

    Parameters
    ----------
    p : Tensor
        The parameters, updated in place.
    g : Tensor
        The gradient at ``p``.
    square_avg : Tensor
        The running average v of squared gradients, updated in place.
    acc_delta : Tensor
        The running average u of squared updates, updated in place.
    lr : float or Tensor, default 1.0
        Scales the update (the method itself has no learning rate); a tensor: one per entry
        of ``p``, as for :func:`sgd_step`.
    rho : float, default 0.9
        The decay rate of both running averages.
    eps : float, default 1e-6
        Added inside both roots.

    Returns
    -------
    tuple of Tensor
        ``(p, square_avg, acc_delta)``, updated.
    """
    v, u = square_avg, acc_delta
    v.mul_(rho).addcmul_(g, g, value=1 - rho)  # v <- rho * v + (1 - rho) * g^2
    delta = u.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(g)  # sqrt(u + eps) / sqrt(v + eps) g
    u.mul_(rho).addcmul_(delta, delta, value=1 - rho)  # u <- rho * u + (1 - rho) * delta^2
    p.add_(delta, alpha=-lr)  # p <- p - lr * delta
    return p, square_avg, acc_delta


def adam_step(
    p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, v_max=None, bias_correction=True
):
    """Adam: a running mean of the gradients, divided by the root of that of their squares.

    Introduced in the chapter *Adam and its family*. At step t = 1, 2, ...::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g * g
        m_hat  = m / (1 - beta1^t)
        v_hat  = v / (1 - beta2^t)
        p     <- p - lr * m_hat / (sqrt(v_hat) + eps)

    With `v_max` (AMSGrad, torch's ``amsgrad=True``) the running maximum
    ``v_max <- max(v_max, v)`` takes the place of ``v`` in ``v_hat``; with
    ``bias_correction=False`` the raw ``m`` and ``v`` take the place of ``m_hat`` and ``v_hat``.

    Parameters
    ----------
    p : Tensor
        The parameters, updated in place.
    g : Tensor
        The gradient at ``p``.
    m : Tensor
        The first moment, the running mean of the gradients (torch's ``exp_avg``), updated
        in place.
    v : Tensor
        The second moment, the running mean of the squared gradients (torch's
        ``exp_avg_sq``), updated in place.
    t : int
        The number of this step, from 1.
    lr : float or Tensor, default 1e-3
        The learning rate (a tensor: one per entry of ``p``, as for :func:`sgd_step`).
    beta1, beta2 : float, default 0.9 and 0.999
        The decay rates of the first and second moments.
    eps : float, default 1e-8
        Added to the root, against division by zero.
    v_max : Tensor, optional
        The running maximum of ``v`` (torch's ``max_exp_avg_sq``), updated in place (AMSGrad).
    bias_correction : bool, default True
        Divide the moments by ``1 - beta^t``.

    Returns
    -------
    tuple of Tensor
        ``(p, m, v)``, updated.
    """
    m.lerp_(g, 1 - beta1)  # m <- beta1 * m + (1 - beta1) * g
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v <- beta2 * v + (1 - beta2) * g^2
    v_used = v if v_max is None else torch.maximum(v_max, v, out=v_max)  # AMSGrad: max(v_max, v)
    c1, c2 = (1 - beta1**t, 1 - beta2**t) if bias_correction else (1.0, 1.0)
    m_hat = m / c1  # m_hat = m / (1 - beta1^t)
    v_hat = v_used / c2  # v_hat = v / (1 - beta2^t)
    # p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    p.addcdiv_(m_hat, v_hat.sqrt_().add_(eps), value=-lr)
    return p, m, v


def adamw_step(
    p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, *, v_max=None
):
    """AdamW: Adam with decoupled weight decay, which shrinks p outside Adam's scaling.

    Introduced in the chapter *Adam and its family*::

        p <- (1 - lr * weight_decay) * p
        (then the step of :func:`adam_step`)

    Parameters
    ----------
    p, g, m, v, t, lr, beta1, beta2, eps, v_max
        As for :func:`adam_step`.
    weight_decay : float, default 1e-2
        The decay coefficient lambda: each step multiplies p by ``1 - lr * weight_decay``.

    Returns
    -------
    tuple of Tensor
        ``(p, m, v)``, updated.
    """
    p.mul_(1 - lr * weight_decay)  # p <- (1 - lr * weight_decay) * p
    return adam_step(p, g, m, v, t, lr, beta1, beta2, eps, v_max=v_max)


def adamax_step(p, g, m, u, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adamax: Adam with a decaying maximum of ``abs(g)`` in place of the root mean square.

    Introduced in the chapter *Adam and its family*. At step t = 1, 2, ...::

        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u

    Parameters
    ----------
    p, g, m, t, lr, beta1, eps
        As for :func:`adam_step` (``lr`` defaults to 2e-3).
    u : Tensor
        The decaying maximum of ``abs(g)`` (torch's ``exp_inf``), updated in place.
    beta2 : float, default 0.999
        The decay rate of ``u``.

    Returns
    -------
    tuple of Tensor
        ``(p, m, u)``, updated.
    """
    m.lerp_(g, 1 - beta1)  # m <- beta1 * m + (1 - beta1) * g
    torch.maximum(u.mul_(beta2), g.abs().add_(eps), out=u)  # u <- max(beta2 * u, |g| + eps)
    p.addcdiv_(m, u, value=-lr / (1 - beta1**t))  # p <- p - lr / (1 - beta1^t) * m / u
    return p, m, u


# The public steps check their arguments; the classes call the bare ``unchecked`` ones.
sgd_step = _checked(sgd_step)
momentum_step = _checked(momentum_step)
nesterov_step = _checked(nesterov_step)
adagrad_step = _checked(adagrad_step)
rmsprop_step = _checked(rmsprop_step)
adadelta_step = _checked(adadelta_step)
adam_step = _checked(adam_step)
adamw_step = _checked(adamw_step)
adamax_step = _checked(adamax_step)
