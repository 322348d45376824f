"""Shared code of the course *Optimization for Neural Networks*.

Modules
-------
objectives
    Test functions (bowls, ravines, Rosenbrock, ...) with their minima and plot windows.
training
    Run an optimizer on a test function; train a model (``fit``), many copies side by side
    (``fit_copies``), early stopping, LR finder, gradient clipping and training diagnostics.
data
    Small seeded data sets that ship with the packages, and reproducible loaders.
models
    Networks for the experiments (``mlp``), initialized from a seed of their own.
plotting
    The course's figure style, contour plots with paths, loss curves, animations.
optim
    Optimizers written from scratch, each equal to its reference: SGD, Adagrad, RMSprop, Adam,
    AdamW, NAdam, Adamax, Adadelta, RAdam, Muon and Adafactor (``torch.optim``), Lion,
    Schedule-Free AdamW, SAM, LARS and LAMB (their papers' reference implementations).
schedules
    Learning-rate schedules as plain functions of the step, equal to ``torch.optim.lr_scheduler``.
distributed
    Launch local worker processes for ``torch.distributed`` (gloo): data-parallel and
    all-reduce workers, and a ``torchrun`` entry point.
interactive
    Figures a reader drives with sliders, from precomputed frames, on the static site.
benchmark
    Benchmarking optimizers as AlgoPerf does: workloads, time to target, quasi-random tuning,
    performance profiles.
notebook
    ``glue``: numbers computed in a chapter, quoted by its prose.
exercises
    Checkers for the exercise notebooks: ``q1.check()``, ``q1.hint()``, ``q1.solution()``.
"""

__version__ = "0.3.0"
