"""helpers.distributed: real worker processes, real gloo sockets on 127.0.0.1.

Every launch starts new Python processes (a second or more each), so the tests share launches
where they can. The workers that the tests run are defined at the top level of this module, as
the workers of a launch must be.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from helpers import distributed
from helpers.distributed import WorkerError, launch
from helpers.models import mlp

pytestmark = pytest.mark.timeout(300)
#: tests that start worker processes (seconds each): ``make unit`` leaves them to ``make test``
slow_launch = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TRAINING = {"sizes": [2, 8, 2], "lr": 0.5, "local_batch_size": 8, "epochs": 2}


# Workers (top level, so that a new process can import them) ----------------------------------


def where_am_i():
    return dist.get_rank(), dist.get_world_size(), torch.get_num_threads()


def rank_one_raises():
    if dist.get_rank() == 1:
        raise ValueError("rank 1 broke on purpose")
    dist.all_reduce(torch.ones(1))  # rank 0 waits here for a partner that never comes
    return "unreachable"


def rank_one_dies():
    if dist.get_rank() == 1:
        os._exit(3)
    dist.barrier()


def sleeps():
    time.sleep(120)


# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    return distributed._demo_data(num_examples=96, seed=3)


@pytest.fixture(scope="module")
def trained(data):
    """One launch: DDP and the all-reduce by hand, for two seeds."""
    X, y = data
    tasks = [
        functools.partial(worker, X, y, seed=seed, **TRAINING)
        for seed in (0, 1)
        for worker in (distributed.train_data_parallel, distributed.train_by_hand)
    ]
    tasks.append(functools.partial(distributed.time_communication, [8, 64], repeats=2))
    tasks.append(where_am_i)
    return launch(distributed.run_tasks, tasks, nprocs=2, timeout=120)


@slow_launch
def test_every_rank_runs_once_with_one_thread(trained):
    assert [result[-1] for result in trained.results] == [(0, 2, 1), (1, 2, 1)]
    assert 0 < trained.startup_seconds < trained.total_seconds
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("seed", [0, 1])
@slow_launch
def test_ddp_equals_single_process_training_on_the_combined_batch(trained, data, seed):
    X, y = data
    single = distributed.train_single_process(X, y, seed=seed, world_size=2, **TRAINING)
    for rank in (0, 1):
        ddp = trained.results[rank][2 * seed]
        assert len(ddp["losses"]) == len(single["losses"]) == 2 * (96 // 2 // 8)
        torch.testing.assert_close(ddp["losses"], single["losses"], rtol=1e-5, atol=1e-6)
        for a, b in zip(ddp["parameters"], single["parameters"], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # and it moved, so the comparison means something
    start = mlp(TRAINING["sizes"], seed=seed)
    assert not torch.allclose(single["parameters"][0], start[0].weight, atol=1e-3)


@pytest.mark.parametrize("seed", [0, 1])
@slow_launch
def test_the_all_reduce_by_hand_equals_ddp(trained, seed):
    ddp, by_hand = trained.results[0][2 * seed], trained.results[0][2 * seed + 1]
    for a, b in zip(ddp["parameters"], by_hand["parameters"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


@slow_launch
def test_the_ranks_see_disjoint_shards_and_end_with_equal_weights(trained):
    first, second = (trained.results[rank][0] for rank in (0, 1))
    assert not set(first["examples"]) & set(second["examples"])
    assert len(first["examples"]) == len(second["examples"]) == 48
    for a, b in zip(first["parameters"], second["parameters"], strict=True):
        assert torch.equal(a, b)


@slow_launch
def test_communication_timing_has_one_entry_per_width(trained):
    timing = trained.results[0][4]
    assert timing["num_parameters"] == [64 * 8 + 8 + 8 * 8 + 8 + 8 * 10 + 10, 8970]
    assert all(t > 0 for t in timing["compute_seconds"] + timing["allreduce_seconds"])


@slow_launch
def test_a_worker_that_raises_fails_the_call_with_its_traceback_and_no_hang():
    start = time.time()
    with pytest.raises(WorkerError) as caught:
        launch(rank_one_raises, nprocs=2, timeout=60)
    message = str(caught.value)
    assert "worker 1 of 2 failed" in message
    assert "Traceback" in message and "ValueError: rank 1 broke on purpose" in message
    assert "rank_one_raises" in message
    assert time.time() - start < 45  # did not wait for the 60 s collective timeout
    assert not multiprocessing.active_children()


@slow_launch
def test_a_worker_that_dies_fails_the_call():
    with pytest.raises(WorkerError, match="worker 1 of 2 died without a result"):
        launch(rank_one_dies, nprocs=2, timeout=60)
    assert not multiprocessing.active_children()


@slow_launch
def test_a_worker_that_hangs_is_stopped_at_the_timeout():
    start = time.time()
    with pytest.raises(TimeoutError, match="did not finish within the timeout"):
        launch(sleeps, nprocs=1, timeout=10)
    assert time.time() - start < 10 + 15
    assert not multiprocessing.active_children()


@slow_launch
def test_a_port_already_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ValueError, match=f"port {port} on 127.0.0.1 is already in use"):
            launch(where_am_i, nprocs=1, port=port)
    assert not multiprocessing.active_children()


@slow_launch
def test_two_launches_at_once_pick_different_free_ports():
    results = {}

    def run(name):
        results[name] = launch(where_am_i, nprocs=1, timeout=120).results

    threads = [threading.Thread(target=run, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"a": [(0, 1, 1)], "b": [(0, 1, 1)]}


def notebook_function():
    return 0


notebook_function.__module__ = "__main__"


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"worker": lambda: 0}, "worker"),
        ({"worker": notebook_function}, "worker"),
        ({"worker": 3}, "worker"),
        ({"worker": where_am_i, "nprocs": 0}, "nprocs"),
        ({"worker": where_am_i, "nprocs": 2.0}, "nprocs"),
        ({"worker": where_am_i, "timeout": 0.0}, "timeout"),
        ({"worker": where_am_i, "port": 70000}, "port"),
    ],
)
def test_bad_arguments_are_rejected_before_any_process_starts(arguments, parameter):
    worker = arguments.pop("worker")
    with pytest.raises(ValueError, match=parameter):
        launch(worker, **arguments)
    assert not multiprocessing.active_children()


def test_unpicklable_arguments_are_rejected():
    with pytest.raises(ValueError, match="args"):
        launch(where_am_i, threading.Lock())


def test_the_workers_check_their_arguments(data):
    X, y = data
    with pytest.raises(ValueError, match="local_batch_size"):
        distributed.train_single_process(X, y, sizes=[2, 2], local_batch_size=0)
    with pytest.raises(ValueError, match="sizes"):
        distributed.train_single_process(X, y, sizes=[2])
    with pytest.raises(ValueError, match="tasks"):
        distributed.run_tasks([3])


@slow_launch
def test_the_same_training_runs_under_torchrun(data):
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "helpers.distributed",
        "--epochs",
        "2",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "world size 2" in done.stdout
    checksum = float(re.search(r"parameter checksum (\S+)", done.stdout).group(1))

    X, y = distributed._demo_data(seed=0)
    single = distributed.train_single_process(
        X, y, sizes=[2, 16, 2], seed=0, lr=0.5, local_batch_size=16, epochs=2, world_size=2
    )
    expected = sum(p.double().sum().item() for p in single["parameters"])
    assert checksum == pytest.approx(expected, rel=1e-5, abs=1e-5)
