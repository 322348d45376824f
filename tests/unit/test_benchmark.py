"""helpers.benchmark against hand computations: time to target, Sobol search, studies, scores.

The slow test reruns a reduced study (1 study of 2 trials per workload and submission) and
checks that it reproduces the committed results file: its format, its trials and their
winners.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.benchmark import (
    Hyperparameter,
    Submission,
    Workload,
    algoperf_score,
    per_workload_time,
    performance_profile,
    performance_ratios,
    run_study,
    run_trial,
    set_target,
    sobol_search,
    study_plan,
    time_to_target,
)
from helpers.benchmark.workloads import course_text, course_workloads

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "helpers" / "benchmark" / "results" / "study.json"
INF = math.inf

# ---------------------------------------------------------------------------------------------
# Time to target
# ---------------------------------------------------------------------------------------------


def test_time_to_target_is_the_first_evaluation_at_or_below_the_target():
    steps = [0, 10, 20, 30, 40]
    metrics = [2.0, 0.9, 0.5, 0.6, 0.3]
    assert time_to_target(steps, metrics, 0.5) == 20  # equal counts as reached
    assert time_to_target(steps, metrics, 0.55) == 20
    assert time_to_target(steps, metrics, 0.4) == 40  # 0.6 after 0.5 does not undo it
    assert time_to_target(steps, metrics, 0.1) == INF
    assert time_to_target(steps, metrics, 5.0) == 0


def test_time_to_target_in_seconds_and_nan_never_reaches():
    seconds = [0.0, 0.25, 0.5, 0.75]
    assert time_to_target(seconds, [1.0, math.nan, 0.2, 0.1], 0.3) == 0.5
    assert time_to_target(seconds, [1.0, math.nan, math.nan, math.nan], 0.3) == INF


@pytest.mark.parametrize(
    ("times", "metrics", "argument"),
    [([0, 1], [1.0], "metrics"), ([0, 2, 1], [1.0, 1.0, 1.0], "times")],
)
def test_time_to_target_refuses_bad_curves(times, metrics, argument):
    with pytest.raises(ValueError, match=argument):
        time_to_target(times, metrics, 0.5)


# ---------------------------------------------------------------------------------------------
# Studies, profiles and the score
# ---------------------------------------------------------------------------------------------


def test_per_workload_time_is_the_median_over_studies_of_the_fastest_trial():
    times = [[30, INF, 50], [INF, INF, INF], [20, 80, 90]]  # fastest per study: 30, inf, 20
    assert per_workload_time(times) == 30
    assert per_workload_time([[30, 40], [INF, INF], [INF, INF]]) == INF  # median of 30, inf, inf
    assert per_workload_time([[30, 40], [60, INF]]) == 45  # even count: the mean of the two


# Three methods on four workloads; workload 4 is solved by no one.
TIMES = np.array(
    [
        [100.0, 50.0, INF, INF],
        [200.0, 25.0, 300.0, INF],
        [500.0, 100.0, 100.0, INF],
    ]
)


def test_performance_ratios_by_hand():
    expected = [[1, 2, INF, INF], [2, 1, 3, INF], [5, 4, 1, INF]]
    np.testing.assert_array_equal(performance_ratios(TIMES), expected)


def test_performance_profile_by_hand():
    # fraction of all 4 workloads within tau of the fastest
    profile = performance_profile(TIMES, [1.0, 2.0, 3.0, 4.0, 5.0])
    expected = [
        [1 / 4, 2 / 4, 2 / 4, 2 / 4, 2 / 4],
        [1 / 4, 2 / 4, 3 / 4, 3 / 4, 3 / 4],
        [1 / 4, 1 / 4, 1 / 4, 2 / 4, 3 / 4],
    ]
    np.testing.assert_allclose(profile, expected)


def test_algoperf_score_by_hand():
    # credit (4 - r) / 3 per workload with r <= 4, mean over the 4 workloads
    expected = [
        (3 / 3 + 2 / 3) / 4,  # r = 1, 2, inf, inf
        (2 / 3 + 3 / 3 + 1 / 3) / 4,  # r = 2, 1, 3, inf
        (0 + 0 + 3 / 3) / 4,  # r = 5 (beyond 4: nothing), 4 (nothing), 1
    ]
    np.testing.assert_allclose(algoperf_score(TIMES), expected)
    assert algoperf_score([[1.0, 2.0]]) == pytest.approx(1.0)  # alone: fastest everywhere


def test_algoperf_score_equals_the_area_under_the_profile():
    rng = np.random.default_rng(0)
    times = rng.uniform(1, 10, size=(4, 6))
    times[rng.random(times.shape) < 0.3] = INF
    taus = np.linspace(1, 4, 30_001)
    area = np.trapezoid(performance_profile(times, taus), taus, axis=1) / 3
    np.testing.assert_allclose(algoperf_score(times), area, atol=1e-3)
    # AlgoPerf's own recipe (100 points, trapezoidal rule) is close to the exact area
    coarse = np.linspace(1, 4, 100)
    algoperf = np.trapezoid(performance_profile(times, coarse), coarse, axis=1) / 3
    np.testing.assert_allclose(algoperf_score(times), algoperf, atol=0.02)


@pytest.mark.parametrize("bad", [[[0.0, 1.0]], [[-1.0, 1.0]], [[math.nan, 1.0]], [[]]])
def test_scores_refuse_times_that_are_not_positive(bad):
    with pytest.raises(ValueError, match="times"):
        algoperf_score(bad)


# ---------------------------------------------------------------------------------------------
# Sobol search and study plans
# ---------------------------------------------------------------------------------------------


def test_hyperparameter_maps_the_unit_interval_by_hand():
    assert Hyperparameter(1e-4, 1e-1).from_unit(0.5) == pytest.approx(10**-2.5)
    assert Hyperparameter(1e-4, 1e-1).from_unit(1.0) == pytest.approx(1e-1)
    assert Hyperparameter(0.0, 2.0, log=False).from_unit(0.25) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="low"):
        Hyperparameter(0.0, 1.0)  # log scale from 0


SPACE = {"lr": Hyperparameter(1e-4, 1e-1), "one_minus_beta1": Hyperparameter(0.01, 0.5)}


def test_sobol_search_is_torch_sobol_mapped_to_the_space():
    points = sobol_search(SPACE, 8, seed=3)
    unit = torch.quasirandom.SobolEngine(2, scramble=True, seed=3).draw(8, dtype=torch.float64)
    for point, (u_lr, u_beta) in zip(points, unit.tolist(), strict=True):
        assert point["lr"] == pytest.approx(10 ** (-4 + 3 * u_lr))
        assert point["one_minus_beta1"] == pytest.approx(0.01 * 50**u_beta)
    assert sobol_search(SPACE, 8, seed=3) == points  # seeded
    assert sobol_search(SPACE, 8, seed=4) != points


def test_sobol_points_fill_every_stratum_once():
    # 16 Sobol points: each sixteenth of each axis (in log space) holds exactly one point,
    # which 16 independent random draws almost never do.
    points = sobol_search(SPACE, 16, seed=0)
    for name, h in SPACE.items():
        u = [
            (math.log(p[name]) - math.log(h.low)) / (math.log(h.high) - math.log(h.low))
            for p in points
        ]
        assert sorted(int(16 * x) for x in u) == list(range(16))


def test_study_plan_deals_every_point_once_with_shared_seeds():
    plan = study_plan(SPACE, num_studies=5, trials_per_study=5, seed=1)
    assert len(plan) == 5 and all(len(study) == 5 for study in plan)
    dealt = [point["lr"] for study in plan for _, point in study]
    drawn = [point["lr"] for point in sobol_search(SPACE, 25, seed=1)]
    assert sorted(dealt) == sorted(drawn)
    assert [[seed for seed, _ in study] for study in plan] == [
        [100 * j + i for i in range(5)] for j in range(5)
    ]
    assert study_plan(SPACE, 5, 5, seed=1) == plan


# ---------------------------------------------------------------------------------------------
# Trials on a parabola, where every step is known
# ---------------------------------------------------------------------------------------------


class _Parabola(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))

    def forward(self, X=None):
        return (self.x**2).sum()


def _parabola(target=None, eval_every=1, step_budget=20):
    return Workload(
        name="parabola",
        make_model=lambda seed: _Parabola(),
        batches=lambda seed: itertools.repeat((None, None)),
        loss_fn=lambda value, y: value,
        validate=lambda model: model().item(),
        step_budget=step_budget,
        eval_every=eval_every,
        target=target,
    )


GD = Submission(
    "GD", lambda params, lr: torch.optim.SGD(params, lr=lr), {"lr": Hyperparameter(0.01, 0.4)}
)


def test_run_trial_steps_to_target_by_hand():
    # lr 0.25 on x^2: x_t = 0.5^t, f_t = 0.25^t; f_t <= 1e-3 first at t = 5
    trial = run_trial(_parabola(target=1e-3), GD, {"lr": 0.25}, seed=0)
    assert trial.steps_to_target == 5
    np.testing.assert_allclose(trial.metrics, 0.25 ** np.arange(6))
    assert trial.steps[-1] == 5  # stopped at the target
    coarse = run_trial(_parabola(target=1e-3, eval_every=2), GD, {"lr": 0.25}, seed=0)
    assert coarse.steps_to_target == 6  # seen only at the next validation
    assert 0 < coarse.seconds_to_target < INF


def test_run_trial_reports_divergence_and_keeps_the_random_state():
    before = torch.get_rng_state()
    trial = run_trial(_parabola(target=1e-3), GD, {"lr": 5e153}, seed=0)  # x_t = (1 - 2 lr)^t
    assert trial.diverged and trial.steps_to_target == INF
    assert torch.equal(torch.get_rng_state(), before)
    with pytest.raises(ValueError, match="hyperparameters"):
        run_trial(_parabola(target=1e-3), GD, {"learning_rate": 0.1}, seed=0)


def test_run_study_and_set_target_on_the_parabola():
    workload = _parabola(target=1e-3)
    plan = [[(0, {"lr": 0.25}), (1, {"lr": 0.01})], [(2, {"lr": 0.1}), (3, {"lr": 0.4})]]
    study = run_study(workload, GD, plan)
    # 0.25: 5 steps; 0.01: f = 0.98^(2t) never below 1e-3 in 20 steps; 0.1: 0.64^t, t = 16;
    # 0.4: 0.04^t, t = 3
    np.testing.assert_array_equal(study.times(), [[5, INF], [16, 3]])
    assert study.time() == 4  # median of the fastest per study, 5 and 3
    setting = set_target(_parabola(step_budget=8), [GD], num_trials=4, num_reruns=3)
    assert setting.num_steps == 4  # half the budget
    assert setting.target == pytest.approx(np.median(setting.rerun_best))
    best_lr = max(point["lr"] for point in sobol_search(GD.search_space, 4))
    assert setting.hyperparameters["lr"] == pytest.approx(best_lr)  # the fastest rate won


def test_workloads_are_offline_and_seeded():
    text = course_text()
    assert 30_000 < len(text) < 100_000
    for workload in course_workloads():
        first, again = workload.make_model(3), workload.make_model(3)
        for p, q in zip(first.parameters(), again.parameters(), strict=True):
            assert torch.equal(p, q), workload.name
        X, y = next(workload.batches(0))
        loss = workload.loss_fn(first(X), y)
        assert loss.ndim == 0 and math.isfinite(loss.item()), workload.name
        assert math.isfinite(workload.validate(first)), workload.name


# ---------------------------------------------------------------------------------------------
# The committed study, and a reduced rerun of it
# ---------------------------------------------------------------------------------------------


def _load_study_script():
    path = ROOT / "benchmarks" / "benchmark_study.py"
    spec = importlib.util.spec_from_file_location("benchmark_study", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _winners(trials, workload, keep):
    """Per workload: the submissions whose fastest kept trial is fastest (steps)."""
    best = {}
    for t in trials:
        if t["workload"] == workload and keep(t):
            steps = t["steps_to_target"] if t["steps_to_target"] is not None else INF
            best[t["submission"]] = min(best.get(t["submission"], INF), steps)
    fastest = min(best.values())
    return {name for name, steps in best.items() if steps == fastest and steps < INF}


def test_committed_results_have_the_expected_shape():
    committed = json.loads(RESULTS.read_text())
    meta = committed["meta"]
    assert (meta["num_studies"], meta["trials_per_study"]) == (5, 5)
    per_cell = {}
    for t in committed["trials"]:
        per_cell[t["workload"], t["submission"]] = (
            per_cell.get((t["workload"], t["submission"]), 0) + 1
        )
    assert set(per_cell.values()) == {25}
    assert len(per_cell) == len(committed["workloads"]) * len(committed["submissions"])


@pytest.mark.slow
def test_a_reduced_run_reproduces_the_committed_study(tmp_path):
    script = _load_study_script()
    output = tmp_path / "reduced.json"
    script.main(["--studies", "1", "--trials", "2", "--output", str(output)])
    reduced, committed = json.loads(output.read_text()), json.loads(RESULTS.read_text())
    assert set(reduced) == set(committed)
    assert reduced["workloads"] == committed["workloads"]  # targets taken from the file
    assert set(reduced["submissions"]) == set(committed["submissions"])
    assert set(reduced["trials"][0]) == set(committed["trials"][0])
    same = {}
    for t in committed["trials"]:
        if t["study"] == 0 and t["trial"] < 2:
            same[t["workload"], t["submission"], t["trial"]] = t
    assert len(same) == len(reduced["trials"])
    agree = 0
    for t in reduced["trials"]:
        c = same[t["workload"], t["submission"], t["trial"]]
        assert (t["seed"], t["hyperparameters"]) == (c["seed"], c["hyperparameters"])
        eval_every = committed["workloads"][t["workload"]]["eval_every"]
        a, b = (INF if x is None else x for x in (t["steps_to_target"], c["steps_to_target"]))
        agree += a == b or abs(a - b) <= eval_every  # rounding: at most one validation apart
    assert agree >= 0.9 * len(reduced["trials"])  # chaotic runs may differ a little
    for workload in committed["workloads"]:
        first_two = _winners(
            committed["trials"], workload, lambda t: t["study"] == 0 and t["trial"] < 2
        )
        rerun = _winners(reduced["trials"], workload, lambda t: True)
        assert not first_two or first_two & rerun or not rerun, workload
