"""The two numerics paths of a test run (see tests/conftest.py) really round differently.

A claim that rounding decides must fail ``make test`` on every machine. That needs the site
build (``SITE_NUMERICS``) and nbval (``CHECK_NUMERICS``) to give different numbers for a
chaotic computation, and the same numbers for a stable one. This file runs the learning-rate
chapter's network at a stable and at a chaotic learning rate under both paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import CHECK_NUMERICS, ROOT, SITE_NUMERICS

# Full-batch gradient descent on two moons, as in chapter 2; prints the final loss.
TRAIN = """
import json, sys, torch
from helpers.data import two_moons
split = two_moons(n_samples=400, noise=0.2, seed=0)
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
    torch.nn.Linear(16, 2),
)
opt = torch.optim.SGD(net.parameters(), lr=float(sys.argv[1]))
loss_fn = torch.nn.CrossEntropyLoss()
for _ in range(100):
    opt.zero_grad()
    loss = loss_fn(net(split.X_train), split.y_train)
    loss.backward()
    opt.step()
print(json.dumps(loss.item()))
"""

needs_mkl = pytest.mark.skipif(
    not torch.backends.mkl.is_available(),
    reason="MKL_CBWR selects MKL's code paths; this PyTorch build has no MKL",
)


def final_loss(lr: float, numerics: dict[str, str]) -> float:
    env = {k: v for k, v in os.environ.items() if k not in {*SITE_NUMERICS, *CHECK_NUMERICS}}
    env.update(numerics, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", TRAIN, str(lr)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def test_this_process_runs_on_the_check_path():
    # nbval's kernels inherit this environment, so they run on the check path too.
    for name, value in CHECK_NUMERICS.items():
        assert os.environ.get(name) == value, name


@pytest.mark.slow  # starts two Python processes
@needs_mkl
def test_a_chaotic_run_differs_between_the_two_paths():
    # Beyond the stability limit the loss is chaotic: rounding alone changes the result.
    site, check = final_loss(10.0, SITE_NUMERICS), final_loss(10.0, CHECK_NUMERICS)
    assert site != check, f"both paths gave {site}: they do not round differently here"
    assert abs(site - check) > 1e-3 * abs(site), (site, check)


@pytest.mark.slow  # starts two Python processes
@needs_mkl
def test_a_stable_run_agrees_between_the_two_paths():
    # Below the limit the same run agrees to rounding, so only fragile claims are caught.
    site, check = final_loss(0.1, SITE_NUMERICS), final_loss(0.1, CHECK_NUMERICS)
    assert site == pytest.approx(check, rel=1e-5)
