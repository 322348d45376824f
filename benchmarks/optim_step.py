"""Time one ``step()`` of each helpers.optim optimizer against torch.optim on the same model.

Usage::

    python benchmarks/optim_step.py            # about a minute on 2 CPU cores
    python benchmarks/optim_step.py --quick    # fewer repeats, about 20 s
    python benchmarks/optim_step.py --only Adam SGD --repeats 50

For each optimizer and each model (an MLP of about 1M parameters in 6 tensors, and a stack of
many small layers: 400 tensors of 16 or 256 numbers), every variant gets its own copy of the
parameters and the same fixed gradients. Steps of the variants are interleaved, so they share
whatever load the machine has. The table gives the median time per step, and as ratio the
median over rounds of helpers time / torch time within the same round: on a busy shared
machine such paired ratios are much steadier than a ratio of two medians. torch runs on one
thread by default (``--threads``), as multi-threaded kernels make the timings far noisier.

The goal is a ratio of at most 1.2 against torch's *default* code path on a CPU (mostly its
single-tensor code, ``foreach=False``); ``foreach=True`` (torch's multi-tensor kernels, the
default on GPUs) is shown for information. The script runs with glibc's allocator told to
keep freed memory (``STEADY_ALLOCATOR``), so that page faults on fresh memory do not decide
the times. Muon updates matrices only: it gets the 2-D
parameters of each model, and torch's Muon has no ``foreach`` switch.
"""

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the helpers next to this file
from helpers import optim
from helpers.models import mlp

OPTIONS = {
    "SGD": dict(lr=0.01, momentum=0.9),
    "Adagrad": dict(lr=0.01),
    "RMSprop": dict(lr=0.01),
    "Adam": dict(lr=1e-3),
    "AdamW": dict(lr=1e-3),
    "NAdam": dict(lr=2e-3),
    "Adamax": dict(lr=2e-3),
    "Adadelta": dict(lr=1.0),
    "RAdam": dict(lr=1e-3),
    "Adafactor": dict(lr=1e-2),
    "Muon": dict(lr=0.02),
}
MATRIX_ONLY = {"Muon"}
GOAL = 1.2
# glibc gives large freed blocks back to the system and maps fresh ones later, so a step's
# temporaries (a 3 MB square root, say) cost page faults in some rounds and not in others,
# depending on the allocation history alone: the same Adagrad step then takes 1.5 or 3 ms.
# Keeping every block in the process's heap makes the times depend on the code only. glibc
# reads these settings when a process starts, so the script restarts itself with them.
STEADY_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(2**28), "MALLOC_TRIM_THRESHOLD_": str(2**28)}

VARIANTS = {
    "helpers": lambda name, params: getattr(optim, name)(params, **OPTIONS[name]),
    "foreach=False": lambda name, params: getattr(torch.optim, name)(
        params, foreach=False, **OPTIONS[name]
    ),
    "default": lambda name, params: getattr(torch.optim, name)(params, **OPTIONS[name]),
    "foreach=True": lambda name, params: getattr(torch.optim, name)(
        params, foreach=True, **OPTIONS[name]
    ),
}


def big_mlp() -> torch.nn.Module:
    """784-1024-256-10 MLP: 1,068,810 parameters in 6 tensors."""
    return mlp([784, 1024, 256, 10], seed=0)


def many_small() -> torch.nn.Module:
    """200 layers 16 -> 16: 54,400 parameters in 400 tensors."""
    return torch.nn.ModuleList(torch.nn.Linear(16, 16) for _ in range(200))


MODELS = {"MLP 1.07M": big_mlp, "400 small": many_small}


def step_times(make_model, name, repeats, warmup):
    """Seconds per step() of each variant: a list per variant, one entry per round.

    In each round every variant takes one step, in an order that rotates from round to round.
    """
    torch.manual_seed(0)
    model = make_model()
    grads = [0.01 * torch.randn_like(p) for p in model.parameters()]
    optimizers = {}
    for variant, make in VARIANTS.items():
        params = [p.detach().clone().requires_grad_() for p in model.parameters()]
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        if name in MATRIX_ONLY:
            params = [p for p in params if p.ndim == 2]
        try:
            optimizers[variant] = make(name, params)
        except TypeError:  # no foreach switch
            continue
    for _ in range(warmup):
        for opt in optimizers.values():
            opt.step()
    times = {variant: [] for variant in optimizers}
    order = list(optimizers)
    gc.collect()
    gc.disable()
    try:
        for r in range(repeats):
            for variant in order[r % len(order) :] + order[: r % len(order)]:
                opt = optimizers[variant]
                start = time.perf_counter()
                opt.step()
                times[variant].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return times


def paired_ratio(ours, theirs):
    """Median over rounds of ours / theirs: steps of one round ran close together in time."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def restart_with_steady_allocator() -> None:
    """Run this script again with STEADY_ALLOCATOR in its environment (glibc only)."""
    unset = any(os.environ.get(name) != value for name, value in STEADY_ALLOCATOR.items())
    if sys.platform.startswith("linux") and unset:
        os.execve(sys.executable, [sys.executable, *sys.argv], os.environ | STEADY_ALLOCATOR)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a few seconds)")
    parser.add_argument("--repeats", type=int, help="timed steps per variant (default 30)")
    parser.add_argument("--only", nargs="+", choices=list(OPTIONS), help="optimizers to time")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (default 1: steadier)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (8 if args.quick else 30)
    warmup = 2 if args.quick else 5
    names = args.only or list(OPTIONS)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); times: median of "
        f"{repeats} steps after {warmup} warm-up steps;\nratio: median over the {repeats} rounds "
        f"of helpers time / torch time in the same round (goal <= {GOAL} against the default)\n"
    )
    header = (
        f"{'optimizer':<9} {'model':<10} {'helpers':>9} {'foreach=False':>13} {'ratio':>5}"
        f" {'default':>9} {'ratio':>5} {'foreach=True':>12} {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in names:
        for model_name, make_model in MODELS.items():
            times = step_times(make_model, name, repeats, warmup)
            ms = {v: f"{1e3 * statistics.median(ts):.2f} ms" for v, ts in times.items()}
            ratio = {v: f"{paired_ratio(times['helpers'], ts):.2f}" for v, ts in times.items()}
            worst = max(worst, float(ratio["default"]))
            cells = [ms["helpers"]]
            for variant, width in (("foreach=False", 13), ("default", 9), ("foreach=True", 12)):
                cells.append(f"{ms.get(variant, '-'):>{width}} {ratio.get(variant, '-'):>5}")
            print(f"{name:<9} {model_name:<10} {cells[0]:>9} " + " ".join(cells[1:]), flush=True)
    verdict = "met" if worst <= GOAL else "NOT met"
    print(f"\nworst ratio vs torch's default: {worst:.2f} (goal <= {GOAL}: {verdict})")


if __name__ == "__main__":
    restart_with_steady_allocator()
    main()
