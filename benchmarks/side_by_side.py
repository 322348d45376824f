"""Time helpers.training.fit_copies against a loop of fit calls, for 5, 10 and 30 copies.

Usage::

    python benchmarks/side_by_side.py          # about a minute and a half on 2 CPU cores

Two workloads, as the chapters run them: the schedules chapter's network (2-32-32-2, tanh) on
800 two-moons points in batches of 100 with SGD and momentum, one learning rate per copy
(one param group per rate); and the comparison chapter's digits network (64-64-10, ReLU)
in batches of 256 with Adam at one shared learning rate (the copies' weights stacked). Each
time is the best of five runs, on one thread; the two ways take turns, so that a drift of the
host's speed affects both.
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the helpers next to this file
from helpers.data import digits, make_loader, two_moons
from helpers.models import mlp
from helpers.training import fit, fit_copies


def moons_net(seed: int) -> nn.Module:
    return mlp((2, 32, 32, 2), nn.Tanh, seed=seed)


def digits_net(seed: int) -> nn.Module:
    return mlp((64, 64, 10), seed=seed)


WORKLOADS = {
    "schedules chapter (SGD, own lr per copy)": dict(
        data=two_moons(n_samples=1000, noise=0.25, seed=0),
        net=moons_net,
        optimizer=torch.optim.SGD,
        kwargs={"momentum": 0.9},
        lrs=lambda n: [0.01 * (1 + k % 6) for k in range(n)],
        batch_size=100,
        num_epochs=20,
    ),
    "comparison chapter (Adam, shared lr)": dict(
        data=digits(seed=0),
        net=digits_net,
        optimizer=torch.optim.Adam,
        kwargs={},
        lrs=lambda n: [1e-3] * n,
        batch_size=256,
        num_epochs=20,
    ),
}


def best_of_interleaved(functions, repeats: int = 5) -> list[float]:
    """The fastest of ``repeats`` runs of each function, run in turn: a drift of the host's
    speed affects all of them alike."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for run_times, function in zip(times, functions, strict=True):
            start = time.perf_counter()
            function()
            run_times.append(time.perf_counter() - start)
    return [min(run_times) for run_times in times]


def side_by_side(w: dict, n: int) -> None:
    X, y = w["data"].X_train, w["data"].y_train
    models = [w["net"](seed) for seed in range(n)]
    loaders = [make_loader(X, y, w["batch_size"], seed=seed) for seed in range(n)]
    fit_copies(
        models,
        nn.CrossEntropyLoss(),
        w["optimizer"],
        loaders,
        w["num_epochs"],
        hyperparameters=[{"lr": lr} for lr in w["lrs"](n)],
        **w["kwargs"],
    )


def one_at_a_time(w: dict, n: int) -> None:
    X, y = w["data"].X_train, w["data"].y_train
    for seed, lr in zip(range(n), w["lrs"](n), strict=True):
        model = w["net"](seed)
        optimizer = w["optimizer"](model.parameters(), lr=lr, **w["kwargs"])
        loader = make_loader(X, y, w["batch_size"], seed=seed)
        fit(model, nn.CrossEntropyLoss(), optimizer, loader, w["num_epochs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[5, 10, 30])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; best of 5 runs, taken in turn")
    print(f"{'workload':<42} {'copies':>6} {'fit loop':>9} {'fit_copies':>10} {'speed-up':>8}")
    for name, w in WORKLOADS.items():
        for n in args.copies:
            loop, together = best_of_interleaved(
                [lambda w=w, n=n: one_at_a_time(w, n), lambda w=w, n=n: side_by_side(w, n)]
            )
            print(f"{name:<42} {n:>6} {loop:>8.2f}s {together:>9.2f}s {loop / together:>7.2f}x")


if __name__ == "__main__":
    main()
