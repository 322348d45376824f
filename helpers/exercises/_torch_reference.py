"""Ground truth for the optimizer exercises: run ``torch.optim`` from a given state.

The learner writes an update rule in NumPy; the checker compares it with one step (or a
path of steps) of the ``torch.optim`` optimizer of the same name, in float64.
"""

import numpy as np
import torch


def _tensor(value) -> torch.Tensor:
    return torch.tensor(np.asarray(value, dtype=float), dtype=torch.float64)


def torch_step(optimizer_class, w, grad, state=None, **hyper):
    """One step of ``optimizer_class`` on parameter ``w`` with gradient ``grad``.

    ``state`` maps torch's per-parameter state names (``"momentum_buffer"``, ``"exp_avg"``,
    ``"step"``, ...) to values; they replace the optimizer's initial state. Returns the
    new parameter and the new state, as NumPy arrays (``"step"`` as a float).
    """
    p = _tensor(w).requires_grad_(True)
    optimizer = optimizer_class([p], **hyper)
    if state:
        optimizer.state[p].update({k: _tensor(v) for k, v in state.items()})
    p.grad = _tensor(grad)
    optimizer.step()
    new_state = {k: v.detach().numpy().copy() for k, v in optimizer.state[p].items()}
    return p.detach().numpy().copy(), new_state


def torch_path(optimizer_class, grad, x0, num_steps, **hyper):
    """The path of ``optimizer_class`` from ``x0`` with gradients ``grad(x)`` (NumPy in, out).

    Returns an array of shape ``(num_steps + 1, len(x0))``: the start, then each step.
    """
    p = _tensor(x0).requires_grad_(True)
    optimizer = optimizer_class([p], **hyper)
    path = [p.detach().numpy().copy()]
    for _ in range(num_steps):
        p.grad = _tensor(grad(p.detach().numpy().copy()))
        optimizer.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)
