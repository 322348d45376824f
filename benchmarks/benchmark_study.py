"""The course's AlgoPerf-style benchmark study: every optimizer, every workload, equal budgets.

Usage::

    python benchmarks/benchmark_study.py                   # the full study (make benchmark)
    python benchmarks/benchmark_study.py --studies 1 --trials 2 --output reduced.json

What it runs, in three stages:

1. **Targets.** On each workload of :func:`helpers.benchmark.workloads.course_workloads`,
   the target-setting optimizers (AdamW, NAdamW, Nesterov and heavy-ball momentum, as in
   AlgoPerf) each search 16 Sobol points of learning rate and ``1 - beta1`` for half the
   step budget; the best point is rerun from 5 new seeds and the target is
   the median of their best validation metrics.
2. **The comparison.** Each submission of ``SUBMISSIONS`` (an optimizer and the learning-rate
   range it declares, the same on every workload) runs 5 studies of 5 trials per workload.
3. **The budget pools.** Adam with larger search spaces (adding ``1 - beta1``, then
   ``epsilon``) runs the same 25 trials, for the tuning playbook's advice on what to tune at
   which trial budget.

A reduced run (``--studies 1 --trials 2``) takes the targets from the committed results and
runs the first trials of the same plans, so its trials are the committed ones again.

The results go to ``helpers/benchmark/results/study.json`` (text, a few hundred kB; it ships
with the helpers package, so that the chapter runs anywhere): the targets,
the search spaces, and for every trial its point, seed, validation curve and times to target.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the helpers next to this file
from helpers import optim
from helpers.benchmark import Hyperparameter, Submission, run_study, set_target, study_plan
from helpers.benchmark.workloads import course_workloads

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "helpers" / "benchmark" / "results" / "study.json"  # shipped with helpers
NUM_STUDIES, TRIALS_PER_STUDY = 5, 5
TARGET_TRIALS, TARGET_RERUNS = 16, 5

ADAPTIVE_LR = Hyperparameter(3e-4, 3e-1)  # Adam and its relatives: 3 decades around 1e-2
MOMENTUM_LR = Hyperparameter(1e-4, 1.0)  # SGD's rate has the gradient's units: wider
ONE_MINUS_BETA1 = Hyperparameter(0.01, 0.5)


def _betas(one_minus_beta1: float) -> tuple[float, float]:
    return (1 - one_minus_beta1, 0.999)


class MuonWithAdamW:
    """Muon for the matrices (2-D weights), AdamW for every other parameter, one rate.

    Muon's rate is scaled to match AdamW's update size (``adjust_lr_fn="match_rms_adamw"``,
    as in Moonshot AI's recipe), so both share one learning rate to tune. On the test
    functions, whose one parameter is a vector, this is AdamW.
    """

    def __init__(self, params, lr: float):
        params = list(params)
        matrices = [p for p in params if p.ndim == 2]
        others = [p for p in params if p.ndim != 2]
        self.optimizers = [optim.AdamW(others, lr=lr)] if others else []
        if matrices:
            self.optimizers.append(optim.Muon(matrices, lr=lr, adjust_lr_fn="match_rms_adamw"))

    def zero_grad(self) -> None:
        for optimizer in self.optimizers:
            optimizer.zero_grad()

    def step(self) -> None:
        for optimizer in self.optimizers:
            optimizer.step()


#: The competitors: each tunes only its learning rate (the playbook's advice below 10
#: trials), every other hyperparameter at its default.
SUBMISSIONS = [
    Submission(
        "Momentum",
        lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
        {"lr": MOMENTUM_LR},
    ),
    Submission("Adam", lambda params, lr: optim.Adam(params, lr=lr), {"lr": ADAPTIVE_LR}),
    Submission(
        "AdamW",
        lambda params, lr: optim.AdamW(params, lr=lr, weight_decay=0.01),
        {"lr": ADAPTIVE_LR},
    ),
    Submission("NAdam", lambda params, lr: optim.NAdam(params, lr=lr), {"lr": ADAPTIVE_LR}),
    Submission("RMSprop", lambda params, lr: optim.RMSprop(params, lr=lr), {"lr": ADAPTIVE_LR}),
    Submission(
        "Adafactor",
        lambda params, lr: optim.Adafactor(params, lr=lr),
        {"lr": Hyperparameter(1e-3, 1.0)},  # a relative step: a fraction of the weights' size
    ),
    Submission(
        "Lion",
        lambda params, lr: optim.Lion(params, lr=lr),
        {"lr": Hyperparameter(3e-5, 3e-2)},  # sign updates: 3 to 10 times below Adam's rate
    ),
    Submission("Muon", lambda params, lr: MuonWithAdamW(params, lr), {"lr": ADAPTIVE_LR}),
    Submission(
        "Schedule-Free AdamW",
        lambda params, lr: optim.ScheduleFreeAdamW(params, lr=lr),
        {"lr": ADAPTIVE_LR},
    ),
]

#: AlgoPerf's target-setting optimizers, tuned in learning rate and 1 - beta1 (momentum).
TARGET_SETTERS = [
    Submission(
        "AdamW",
        lambda params, lr, one_minus_beta1: torch.optim.AdamW(
            params, lr=lr, betas=_betas(one_minus_beta1), weight_decay=0.01
        ),
        {"lr": ADAPTIVE_LR, "one_minus_beta1": ONE_MINUS_BETA1},
    ),
    Submission(
        "NAdamW",
        lambda params, lr, one_minus_beta1: torch.optim.NAdam(
            params,
            lr=lr,
            betas=_betas(one_minus_beta1),
            weight_decay=0.01,
            decoupled_weight_decay=True,
        ),
        {"lr": ADAPTIVE_LR, "one_minus_beta1": ONE_MINUS_BETA1},
    ),
    Submission(
        "Nesterov",
        lambda params, lr, one_minus_beta1: torch.optim.SGD(
            params, lr=lr, momentum=1 - one_minus_beta1, nesterov=True
        ),
        {"lr": MOMENTUM_LR, "one_minus_beta1": ONE_MINUS_BETA1},
    ),
    Submission(
        "Heavy ball",
        lambda params, lr, one_minus_beta1: torch.optim.SGD(
            params, lr=lr, momentum=1 - one_minus_beta1
        ),
        {"lr": MOMENTUM_LR, "one_minus_beta1": ONE_MINUS_BETA1},
    ),
]

#: Adam with more to tune, for the playbook's budget advice (the lr-only Adam is above).
BUDGET_POOLS = [
    Submission(
        "Adam (lr, β1)",
        lambda params, lr, one_minus_beta1: optim.Adam(
            params, lr=lr, betas=_betas(one_minus_beta1)
        ),
        {"lr": ADAPTIVE_LR, "one_minus_beta1": ONE_MINUS_BETA1},
    ),
    Submission(
        "Adam (lr, β1, ε)",
        lambda params, lr, one_minus_beta1, eps: optim.Adam(
            params, lr=lr, betas=_betas(one_minus_beta1), eps=eps
        ),
        {"lr": ADAPTIVE_LR, "one_minus_beta1": ONE_MINUS_BETA1, "eps": Hyperparameter(1e-9, 1e-1)},
    ),
]


class ProgressBar:
    """A one-line text progress bar with the elapsed time (no dependency needed)."""

    def __init__(self, total: int, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.start = time.perf_counter()
        self.stage = ""

    def __call__(self) -> None:
        self.done += 1
        filled = round(self.width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        bar = "#" * filled + "." * (self.width - filled)
        print(
            f"\r[{bar}] {self.done}/{self.total} runs  {elapsed / 60:4.1f} min  {self.stage:<28}",
            end="",
            flush=True,
        )


def _rounded(values, digits: int = 4) -> list:
    return [None if not math.isfinite(v) else float(f"{v:.{digits}g}") for v in values]


def _finite_or_none(value: float):
    return value if math.isfinite(value) else None


def _trial_record(workload, submission, study_index, trial_index, trial) -> dict:
    return {
        "workload": workload.name,
        "submission": submission.name,
        "study": study_index,
        "trial": trial_index,
        "seed": trial.seed,
        "hyperparameters": {k: float(f"{v:.6g}") for k, v in trial.hyperparameters.items()},
        "metrics": _rounded(trial.metrics, 3),
        "last_step": int(trial.steps[-1]),
        "train_seconds": round(float(trial.seconds[-1]), 4),
        "steps_to_target": _finite_or_none(trial.steps_to_target),
        "seconds_to_target": _finite_or_none(round(trial.seconds_to_target, 4)),
        "diverged": trial.diverged,
    }


def _space_record(submission) -> dict:
    return {
        name: {"low": h.low, "high": h.high, "log": h.log}
        for name, h in submission.search_space.items()
    }


def run(num_studies: int, trials_per_study: int, targets_from: Path | None) -> dict:
    """Run the study (or a reduced one) and return its results as a JSON-ready dict."""
    workloads = course_workloads()
    submissions = SUBMISSIONS + BUDGET_POOLS
    runs = len(workloads) * len(submissions) * num_studies * trials_per_study
    if targets_from is None:
        runs += len(workloads) * (len(TARGET_SETTERS) * TARGET_TRIALS + TARGET_RERUNS)
    progress = ProgressBar(runs)
    start = time.perf_counter()
    targets = {}
    if targets_from is not None:
        committed = json.loads(Path(targets_from).read_text())
        targets = {name: w["target_setting"] for name, w in committed["workloads"].items()}
    record = {"workloads": {}, "submissions": {}, "trials": []}
    for index, workload in enumerate(workloads):
        progress.stage = f"targets: {workload.name}"
        if workload.name not in targets:
            setting = set_target(
                workload,
                TARGET_SETTERS,
                TARGET_TRIALS,
                TARGET_RERUNS,
                seed=index,
                progress=progress,
            )
            targets[workload.name] = {
                "target": float(f"{setting.target:.6g}"),
                "submission": setting.submission,
                "hyperparameters": {
                    k: float(f"{v:.6g}") for k, v in setting.hyperparameters.items()
                },
                "rerun_best": _rounded(setting.rerun_best, 6),
                "num_trials": setting.num_trials,
                "num_steps": setting.num_steps,
            }
        workload = dataclasses.replace(workload, target=targets[workload.name]["target"])
        record["workloads"][workload.name] = {
            "target": workload.target,
            "metric": workload.metric,
            "step_budget": workload.step_budget,
            "eval_every": workload.eval_every,
            "target_setting": targets[workload.name],
        }
        for submission in submissions:
            progress.stage = f"{workload.name}: {submission.name}"
            plan = study_plan(submission.search_space, NUM_STUDIES, TRIALS_PER_STUDY, seed=index)
            plan = [study[:trials_per_study] for study in plan[:num_studies]]
            study = run_study(workload, submission, plan, progress=progress)
            for j, trials in enumerate(study.trials):
                for i, trial in enumerate(trials):
                    record["trials"].append(_trial_record(workload, submission, j, i, trial))
    for submission in submissions:
        record["submissions"][submission.name] = {
            "search_space": _space_record(submission),
            "budget_pool": submission in BUDGET_POOLS,
        }
    seconds = time.perf_counter() - start
    print()
    record["meta"] = {
        "num_studies": num_studies,
        "trials_per_study": trials_per_study,
        "target_setters": [s.name for s in TARGET_SETTERS],
        "target_trials": TARGET_TRIALS,
        "target_reruns": TARGET_RERUNS,
        "seconds": round(seconds, 1),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s)",
        "torch": torch.__version__,
    }
    return record


def to_json(record: dict) -> str:
    """The results as JSON text: the header indented, then one line per trial."""
    header = {key: value for key, value in record.items() if key != "trials"}
    trials = ",\n".join(
        json.dumps(trial, ensure_ascii=False, separators=(",", ":")) for trial in record["trials"]
    )
    head = json.dumps(header, ensure_ascii=False, indent=1)[:-2]
    return f'{head},\n "trials": [\n{trials}\n ]\n}}\n'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, default=NUM_STUDIES)
    parser.add_argument("--trials", type=int, default=TRIALS_PER_STUDY)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    full = (args.studies, args.trials) == (NUM_STUDIES, TRIALS_PER_STUDY)
    output = args.output or (RESULTS if full else Path("reduced_study.json"))
    record = run(args.studies, args.trials, targets_from=None if full else RESULTS)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(to_json(record))
    minutes, seconds = divmod(record["meta"]["seconds"], 60)
    print(f"{len(record['trials'])} trials in {int(minutes)} min {seconds:.0f} s -> {output}")


if __name__ == "__main__":
    main()
