"""Data-parallel training with ``torch.distributed``, on one machine or many.

:func:`launch` starts worker processes on this machine, joins them into a process group with
the gloo backend (real sockets, on 127.0.0.1 only), runs a function in each and returns what
each returned. It is what ``torchrun`` does for a script, made callable from a notebook:

- the workers are new processes, forked from a server process that imported torch once at the
  first launch of the session (``forkserver``; where there is none, each worker is a new
  interpreter, ``spawn``), so the function they run must live at the top level of an
  importable module, such as the workers below (a function defined in a notebook cannot be
  sent to a new process);
- the rendezvous port is chosen free by the operating system at run time, so several launches
  (notebooks, parallel test workers) never collide;
- every worker is joined; a worker that raises fails the call with that worker's traceback,
  and every collective operation has a timeout, so a failure never ends in a hang;
- each worker uses one thread (``torch.set_num_threads(1)``), so that two workers on two cores
  do not oversubscribe them.

The workers the chapter *Scaling out* runs: :func:`train_data_parallel`
(``DistributedDataParallel`` with a ``DistributedSampler``), :func:`train_by_hand` (the same
step with ``all_reduce``), :func:`time_communication` (all-reduce against compute as the model
grows) and :func:`run_tasks` (several of them in one launch). :func:`train_single_process`
trains the same network on the combined batches in this process, for comparison.

The same training runs under ``torchrun``, on one machine or several::

    python -m torch.distributed.run --nproc-per-node 2 -m helpers.distributed
"""

from __future__ import annotations

import argparse
import datetime
import os
import pickle
import socket
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from helpers import _checks as check
from helpers.models import mlp

__all__ = [
    "LaunchResult",
    "WorkerError",
    "launch",
    "run_tasks",
    "time_communication",
    "train_by_hand",
    "train_data_parallel",
    "train_single_process",
]

HOST = "127.0.0.1"
MAX_WORKERS = 16
_JOIN_SECONDS = 5.0  # how long a worker may take to exit after it has sent its result


class WorkerError(RuntimeError):
    """A worker process failed; the message holds its traceback (or its exit code).

    Introduced in the chapter *Scaling out*.
    """


@dataclass
class LaunchResult:
    """What :func:`launch` returns.

    Introduced in the chapter *Scaling out*.

    Attributes
    ----------
    results : list
        What the worker function returned in each process, by rank.
    startup_seconds : float
        Wall-clock time from the call until the last worker had joined the process group:
        starting the Python processes, importing torch, the rendezvous.
    total_seconds : float
        Wall-clock time of the whole call, start-up included.
    """

    results: list
    startup_seconds: float
    total_seconds: float


# ---------------------------------------------------------------------------------------------
# Launching workers
# ---------------------------------------------------------------------------------------------


def launch(
    worker: Callable,
    *args,
    nprocs: int = 2,
    timeout: float = 60.0,
    port: int | None = None,
) -> LaunchResult:
    """Run ``worker(*args)`` in `nprocs` new processes that form a gloo process group.

    Introduced in the chapter *Scaling out*. Inside the worker, ``torch.distributed`` is
    ready: ``dist.get_rank()``, ``dist.get_world_size()``, ``dist.all_reduce(...)`` and
    ``DistributedDataParallel`` work as under ``torchrun``.

    Parameters
    ----------
    worker : callable
        A function defined at the top level of an importable module (not in a notebook);
        what it returns must be picklable.
    *args
        Passed to `worker` in every process (pickled, so tensors are copied).
    nprocs : int, default 2
        Number of worker processes, from 1 to 16.
    timeout : float, default 60
        Seconds, from 10 to 3600, that the whole call, and each collective operation inside a
        worker, may take; past it the workers are stopped and ``TimeoutError`` is raised.
    port : int or None, default None
        The rendezvous port on 127.0.0.1; None lets the operating system choose a free one.

    Returns
    -------
    LaunchResult
        The workers' results by rank, and the start-up and total times.

    Raises
    ------
    WorkerError
        A worker raised (the message holds its traceback) or died without a result.
    TimeoutError
        The workers did not finish within `timeout` seconds.

    Notes
    -----
    From a notebook, call it anywhere. From a script, call it under
    ``if __name__ == "__main__":``: each new process imports the script's main module again,
    as every ``multiprocessing`` start method but ``fork`` does.
    """
    started = time.time()
    _check_launch_arguments(worker, args, nprocs, timeout, port)
    store = _rendezvous_store(port, timeout)
    context = _start_method()
    pipes = [context.Pipe(duplex=False) for _ in range(nprocs)]
    processes = [
        context.Process(
            target=_worker_main,
            args=(rank, nprocs, store.port, timeout, worker, args, pipes[rank][1]),
            daemon=True,
            name=f"helpers.distributed worker {rank}",
        )
        for rank in range(nprocs)
    ]
    finished = False
    try:
        for process in processes:
            process.start()
        for _, sender in pipes:
            sender.close()  # the parent only reads
        messages = _collect([reader for reader, _ in pipes], processes, started + timeout)
        finished = True
    finally:
        _stop(processes, finished=finished)
        for reader, _ in pipes:
            reader.close()
        del store
    ready = max(message["ready"] for message in messages)
    results = [message["result"] for message in messages]
    return LaunchResult(results, ready - started, time.time() - started)


def _start_method():
    """Fork the workers from a server that has imported torch once, where the system can.

    The fork server (Linux, macOS) starts at the first launch of a session, imports this
    module, torch and ``torch._dynamo`` (which ``torch.optim`` imports at its first use), and
    forks every worker from there in milliseconds. Elsewhere each worker is
    a fresh interpreter (``spawn``) that imports torch itself.
    """
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    # torch.optim and DDP import torch._dynamo at their first use: import it once, here too
    context.set_forkserver_preload([__name__, "torch._dynamo"])
    return context


def _check_launch_arguments(worker, args, nprocs, timeout, port) -> None:
    check.check_callable("worker", worker)
    if getattr(worker, "__module__", None) in (None, "__main__") or "<" in getattr(
        worker, "__qualname__", "<"
    ):
        raise ValueError(
            f"Invalid worker: {check.short_repr(worker)}; worker must be a function defined "
            "at the top level of an importable module (one defined in a notebook or a lambda "
            "cannot be sent to a new process)"
        )
    try:
        pickle.dumps(worker)
    except Exception as exc:
        raise ValueError(f"Invalid worker: it cannot be pickled: {exc}") from None
    try:
        pickle.dumps(args)
    except Exception as exc:
        raise ValueError(
            f"Invalid args: the worker's arguments cannot be pickled: {exc}"
        ) from None
    check.check_int("nprocs", nprocs, low=1, high=MAX_WORKERS)
    check.check_real("timeout", timeout, 10.0, 3600.0)
    if port is not None:
        check.check_int("port", port, low=1, high=65535)


def _rendezvous_store(port: int | None, timeout: float) -> dist.TCPStore:
    """The key-value store the workers meet at, served by this process on 127.0.0.1."""
    try:
        return dist.TCPStore(
            HOST,
            0 if port is None else port,
            is_master=True,
            timeout=datetime.timedelta(seconds=timeout),
            wait_for_workers=False,
        )
    except (RuntimeError, OSError) as exc:
        if port is None:
            raise
        raise ValueError(
            f"Invalid port: {port}; port {port} on {HOST} is already in use or not allowed "
            f"({type(exc).__name__}); pass port=None to let the system pick a free one"
        ) from None


def _collect(readers, processes, deadline: float) -> list[dict]:
    """Each worker's message, by rank; raise as soon as one fails or time runs out.

    A worker that dies closes its end of the pipe, so its reader becomes ready too (with no
    message): waiting on the readers alone sees every outcome.
    """
    messages: dict[int, dict] = {}
    pending = dict(enumerate(readers))
    while pending:
        remaining = deadline - time.time()
        if remaining <= 0:
            raise TimeoutError(
                f"the workers {sorted(pending)} did not finish within the timeout and were "
                "stopped (pass a larger timeout=... if the work needs longer)"
            )
        wait(list(pending.values()), timeout=remaining)
        for rank, reader in list(pending.items()):
            if not reader.poll():
                continue
            del pending[rank]
            try:
                message = pickle.loads(reader.recv_bytes())
            except EOFError:
                processes[rank].join(timeout=_JOIN_SECONDS)
                raise WorkerError(
                    f"worker {rank} of {len(readers)} died without a result (exit code "
                    f"{processes[rank].exitcode}); what it printed to stderr may say why"
                ) from None
            if message["status"] == "error":
                raise WorkerError(
                    f"worker {rank} of {len(readers)} failed:\n{message['traceback']}"
                )
            messages[rank] = message
    return [messages[rank] for rank in range(len(readers))]


def _stop(processes, *, finished: bool) -> None:
    """Join every worker; stop the ones still running (at once if the launch failed)."""
    for process in processes:
        if process.pid is None:
            continue  # never started
        if finished:
            process.join(timeout=_JOIN_SECONDS)
        if process.is_alive():
            process.terminate()
            process.join(timeout=_JOIN_SECONDS)
        if process.is_alive():
            process.kill()
        process.join()


def _loopback_interface() -> str | None:
    """The name of the loopback network interface ("lo" on Linux, "lo0" on macOS)."""
    names = [name for _, name in socket.if_nameindex()]
    return next((name for name in ("lo", "lo0") if name in names), None)


def _worker_main(rank, world_size, port, timeout, worker, args, sender) -> None:
    """Entry point of a worker process: join the group, run the worker, send the result."""
    torch.set_num_threads(1)
    interface = _loopback_interface()
    if interface is not None:
        os.environ["GLOO_SOCKET_IFNAME"] = interface  # gloo's own sockets on 127.0.0.1 too
    limit = datetime.timedelta(seconds=timeout)
    try:
        store = dist.TCPStore(HOST, port, is_master=False, timeout=limit)
        dist.init_process_group(
            "gloo", store=store, rank=rank, world_size=world_size, timeout=limit
        )
        ready = time.time()
        message = {"status": "ok", "ready": ready, "result": worker(*args)}
        payload = pickle.dumps(message)
    except BaseException:
        payload = pickle.dumps({"status": "error", "traceback": traceback.format_exc()})
    try:
        sender.send_bytes(payload)
    finally:
        sender.close()
        if dist.is_initialized():
            dist.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# The workers of the chapter
# ---------------------------------------------------------------------------------------------


def run_tasks(tasks: Sequence[Callable]) -> list:
    """Run several workers one after the other in one launch; return what each returned.

    Introduced in the chapter *Scaling out*: starting processes costs seconds, so one launch
    runs every experiment. Each task is a callable without arguments, such as
    ``functools.partial(train_data_parallel, X, y, sizes=[2, 16, 2])``.
    """
    if isinstance(tasks, str | bytes) or not isinstance(tasks, Sequence):
        raise check.ArgumentTypeError("Invalid tasks: tasks must be a list of callables")
    for i, task in enumerate(tasks):
        check.check_callable(f"tasks[{i}]", task)
    return [task() for task in tasks]


def _check_training(X, y, sizes, seed, lr, local_batch_size, epochs, world_size) -> None:
    check.check_examples(X, y)
    mlp(sizes, seed=seed)  # checks sizes and seed
    if X.ndim != 2 or X.shape[1] != sizes[0] or X.dtype != torch.float32:
        raise ValueError(
            f"Invalid X: X must be a float32 tensor of shape (examples, {sizes[0]}), "
            f"got {X.dtype} of shape {tuple(X.shape)}"
        )
    if y.ndim != 1 or y.dtype != torch.int64 or not ((y >= 0) & (y < sizes[-1])).all():
        raise ValueError(
            f"Invalid y: y must be a 1-D int64 tensor of class labels 0 to {sizes[-1] - 1}"
        )
    check.check_real("lr", lr, 0.0, 1e6)
    check.check_int("local_batch_size", local_batch_size, low=1, high=max(len(X), 1))
    check.check_int("epochs", epochs, low=1, high=100)
    check.check_int("world_size", world_size, low=1, high=MAX_WORKERS)


def _shards(num_examples, world_size, seed, epoch) -> list[list[int]]:
    """The examples each rank's ``DistributedSampler`` gives it in `epoch`."""
    dataset = range(num_examples)
    samplers = [
        DistributedSampler(dataset, world_size, rank, shuffle=True, seed=seed, drop_last=True)
        for rank in range(world_size)
    ]
    for sampler in samplers:
        sampler.set_epoch(epoch)
    return [list(sampler) for sampler in samplers]


def train_single_process(
    X, y, *, sizes, seed=0, lr=0.1, local_batch_size=16, epochs=1, world_size=2
) -> dict:
    """Train on the combined batches of `world_size` data-parallel workers, in this process.

    Introduced in the chapter *Scaling out*: at step ``s``, the batch is the union of every
    rank's ``s``-th local batch from :func:`train_data_parallel`, so plain SGD on its mean
    loss is what data-parallel training computes.

    Parameters
    ----------
    X, y : torch.Tensor
        Inputs and integer class labels.
    sizes : sequence of int
        Layer widths of the network (:func:`helpers.models.mlp`).
    seed : int
        Seed of the initial weights and of the samplers' shuffling.
    lr : float
        Learning rate of SGD.
    local_batch_size : int
        Examples per worker and step; the combined batch has ``world_size`` times as many.
    epochs : int
        Passes over the data.
    world_size : int
        Number of workers whose batches are combined.

    Returns
    -------
    dict
        ``losses`` (the mean loss of each step's combined batch) and ``parameters`` (the final
        parameters, a list of tensors).
    """
    _check_training(X, y, sizes, seed, lr, local_batch_size, epochs, world_size)
    model = mlp(sizes, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        shards = _shards(len(X), world_size, seed, epoch)
        for start in range(0, len(shards[0]) - local_batch_size + 1, local_batch_size):
            batch = [i for shard in shards for i in shard[start : start + local_batch_size]]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return {"losses": losses, "parameters": [p.detach().clone() for p in model.parameters()]}


def _local_loader(X, y, local_batch_size, seed) -> DataLoader:
    """This rank's loader: its shard of every epoch, from a ``DistributedSampler``."""
    sampler = DistributedSampler(TensorDataset(X, y), shuffle=True, seed=seed, drop_last=True)
    generator = torch.Generator().manual_seed(seed)  # the loader's own: global RNG untouched
    return DataLoader(
        TensorDataset(X, y),
        batch_size=local_batch_size,
        sampler=sampler,
        drop_last=True,
        generator=generator,
    )


def _mean_over_ranks(values: list[float]) -> list[float]:
    """Each step's loss averaged over the ranks (an all-reduce of the list)."""
    total = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(total)
    return (total / dist.get_world_size()).tolist()


def train_data_parallel(X, y, *, sizes, seed=0, lr=0.1, local_batch_size=16, epochs=1) -> dict:
    """Data-parallel SGD with ``DistributedDataParallel`` and ``DistributedSampler``.

    Introduced in the chapter *Scaling out*. Run it in every worker (through :func:`launch`
    or under ``torchrun``): each rank trains on its own shard of every batch, and DDP
    averages the gradients over the ranks during ``backward()``.

    Parameters
    ----------
    X, y, sizes, seed, lr, local_batch_size, epochs
        As in :func:`train_single_process`; the world size is the process group's.

    Returns
    -------
    dict
        ``losses`` (each step's loss averaged over the ranks), ``parameters`` (the final
        parameters, a list of tensors), ``examples`` (the indices this rank saw in the first
        epoch) and ``rank``.
    """
    _check_training(X, y, sizes, seed, lr, local_batch_size, epochs, dist.get_world_size())
    model = DistributedDataParallel(mlp(sizes, seed=seed))  # broadcasts rank 0's weights
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loader = _local_loader(X, y, local_batch_size, seed)
    losses = []
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        if epoch == 0:
            examples = list(loader.sampler)  # this rank's shard of the first epoch
        for X_local, y_local in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X_local), y_local)
            loss.backward()  # DDP all-reduces the gradients here, bucket by bucket
            optimizer.step()
            losses.append(loss.item())
    return {
        "losses": _mean_over_ranks(losses),
        "parameters": [p.detach().clone() for p in model.module.parameters()],
        "examples": examples,
        "rank": dist.get_rank(),
    }


def train_by_hand(X, y, *, sizes, seed=0, lr=0.1, local_batch_size=16, epochs=1) -> dict:
    """The same training as :func:`train_data_parallel`, with the all-reduce written out.

    Introduced in the chapter *Scaling out*: broadcast rank 0's weights, then at every step
    sum the gradients of all ranks with ``all_reduce`` and divide by the number of ranks.

    Returns
    -------
    dict
        ``losses`` and ``parameters``, as in :func:`train_data_parallel`.
    """
    world_size = dist.get_world_size()
    _check_training(X, y, sizes, seed, lr, local_batch_size, epochs, world_size)
    model = mlp(sizes, seed=seed)
    for p in model.parameters():
        dist.broadcast(p.data, src=0)  # every rank starts from rank 0's weights
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loader = _local_loader(X, y, local_batch_size, seed)
    losses = []
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        for X_local, y_local in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X_local), y_local)
            loss.backward()
            for p in model.parameters():
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)  # g <- g_0 + g_1 + ...
                p.grad /= world_size  # g <- mean over the ranks
            optimizer.step()
            losses.append(loss.item())
    return {
        "losses": _mean_over_ranks(losses),
        "parameters": [p.detach().clone() for p in model.parameters()],
    }


def _fastest_seconds(function: Callable, repeats: int) -> float:
    """Shortest wall-clock time of `repeats` calls of ``function()``, all ranks starting together.

    The shortest, not the mean: on a busy machine a call can only be slowed down (by other
    processes), never sped up, so the fastest repeat is the closest to the cost itself.
    """
    times = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def time_communication(
    widths: Sequence[int], local_batch_size: int = 64, repeats: int = 5
) -> dict:
    """All-reduce time of the gradients against compute time, as the network grows.

    Introduced in the chapter *Scaling out*. For each width ``w``, a network with two hidden
    layers of ``w`` units (64 inputs, 10 outputs) does a forward and backward pass on
    `local_batch_size` examples, and the ranks all-reduce a gradient of the same size.

    Parameters
    ----------
    widths : sequence of int
        Hidden widths to time.
    local_batch_size : int
        Examples per rank in the timed forward and backward pass.
    repeats : int
        Timings per width; the fastest is reported.

    Returns
    -------
    dict
        ``num_parameters``, ``compute_seconds`` and ``allreduce_seconds``: lists, one entry
        per width (rank 0's fastest repeats).
    """
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence) or not widths:
        raise check.ArgumentTypeError("Invalid widths: widths must be a non-empty list")
    for i, width in enumerate(widths):
        check.check_int(f"widths[{i}]", width, low=1, high=4096)
    check.check_int("local_batch_size", local_batch_size, low=1, high=100_000)
    check.check_int("repeats", repeats, low=1, high=100)
    out = {"num_parameters": [], "compute_seconds": [], "allreduce_seconds": []}
    generator = torch.Generator().manual_seed(0)
    for width in widths:
        model = mlp([64, width, width, 10], seed=0)
        X = torch.randn(local_batch_size, 64, generator=generator)
        y = torch.randint(0, 10, (local_batch_size,), generator=generator)
        flat = torch.zeros(sum(p.numel() for p in model.parameters()))

        def compute(model=model, X=X, y=y):
            model.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()

        out["num_parameters"].append(flat.numel())
        out["compute_seconds"].append(_fastest_seconds(compute, repeats))
        all_reduce = lambda flat=flat: dist.all_reduce(flat)  # noqa: E731
        out["allreduce_seconds"].append(_fastest_seconds(all_reduce, repeats))
    return out


# ---------------------------------------------------------------------------------------------
# torchrun entry point: python -m torch.distributed.run --nproc-per-node 2 -m helpers.distributed
# ---------------------------------------------------------------------------------------------


def _demo_data(num_examples: int = 512, seed: int = 0):
    """Two Gaussian blobs in 2-D, labels 0 and 1 (no download, no scikit-learn)."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(num_examples) % 2
    X = torch.randn(num_examples, 2, generator=generator) + 2.0 * y[:, None] - 1.0
    return X, y


def main(argv: Sequence[str] | None = None) -> int:
    """Train with :func:`train_data_parallel` in a process group that ``torchrun`` set up.

    ``torchrun`` starts the processes and sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
    ``MASTER_PORT``; without it, this runs as a world of one process.
    """
    parser = argparse.ArgumentParser(prog="python -m helpers.distributed")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--local-batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0)
    options = parser.parse_args(argv)
    torch.set_num_threads(1)
    if "RANK" not in os.environ:
        os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR=HOST, MASTER_PORT="0")
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=options.timeout))
    try:
        X, y = _demo_data(seed=options.seed)
        out = train_data_parallel(
            X,
            y,
            sizes=[2, 16, 2],
            seed=options.seed,
            lr=options.lr,
            local_batch_size=options.local_batch_size,
            epochs=options.epochs,
        )
        if dist.get_rank() == 0:
            print(
                f"world size {dist.get_world_size()}: {len(out['losses'])} steps, "
                f"loss {out['losses'][0]:.4f} -> {out['losses'][-1]:.4f}"
            )
            checksum = sum(p.double().sum().item() for p in out["parameters"])
            print(f"parameter checksum {checksum:.10f}")
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
