"""Shared code of the course *Optimization for Neural Networks*.

Modules
-------
objectives
    Test functions (bowls, ravines, Rosenbrock, ...) with their minima and plot windows.
training
    Run an optimizer on a test function; train a model (``fit``), early stopping, LR finder.
data
    Small seeded data sets that ship with the packages, and reproducible loaders.
plotting
    The course's figure style, contour plots with paths, loss curves, animations.
optim
    Optimizers written from scratch (SGD, Adagrad, RMSprop, Adam, AdamW, NAdam, Adamax,
    Adadelta), numerically equal to ``torch.optim``.
schedules
    Learning-rate schedules as plain functions of the step, equal to ``torch.optim.lr_scheduler``.
notebook
    ``glue``: numbers computed in a chapter, quoted by its prose.
exercises
    Checkers for the exercise notebooks: ``q1.check()``, ``q1.hint()``, ``q1.solution()``.
"""

__version__ = "0.2.0"
