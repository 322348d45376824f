"""helpers.training.fit_copies: N copies trained side by side equal N separate fit runs.

Each case trains 3 copies (their own seeds, batch orders and learning rates, and a schedule)
with fit_copies, and the same 3 networks one at a time with fit, in float64 and float32, and
compares weights and histories. Muon and Adafactor couple the entries of a matrix: they pass
only if fit_copies applies them per copy.
"""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch import nn

from helpers import optim
from helpers.data import make_loader
from helpers.training import ELEMENTWISE, TrainingDiagnostics, evaluate, fit, fit_copies

SEEDS = (0, 1, 2)
LRS = (0.05, 0.02, 0.1)
NUM_EPOCHS = 3
#: float64 differs from separate runs by the rounding of batched against single matmuls
TOLERANCE = {
    torch.float64: {"rtol": 1e-10, "atol": 1e-12},
    torch.float32: {"rtol": 5e-5, "atol": 5e-6},
}

OPTIMIZERS = {
    "torch SGD momentum": functools.partial(torch.optim.SGD, momentum=0.9),
    "torch Adam": torch.optim.Adam,
    "torch AdamW": functools.partial(torch.optim.AdamW, weight_decay=0.1),
    "torch RMSprop": torch.optim.RMSprop,
    "torch NAdam": torch.optim.NAdam,
    "torch Adafactor": torch.optim.Adafactor,
    "torch Muon": torch.optim.Muon,
    "helpers SGD nesterov": functools.partial(optim.SGD, momentum=0.9, nesterov=True),
    "helpers Adam": optim.Adam,
    "helpers AdamW": functools.partial(optim.AdamW, weight_decay=0.1),
    "helpers RMSprop": optim.RMSprop,
    "helpers NAdam": optim.NAdam,
    "helpers Adagrad": optim.Adagrad,
    "helpers LARS": functools.partial(optim.LARS, momentum=0.9, trust_coefficient=0.01),
    "helpers LAMB": optim.LAMB,
}
MATRIX_ONLY = {"torch Muon"}


def _data(dtype):
    generator = torch.Generator().manual_seed(7)
    X = torch.randn(60, 4, generator=generator, dtype=dtype)
    y = (X[:, 0] * X[:, 1] > 0).long()
    return X, y


def _model(seed: int, dtype, bias: bool = True) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8, bias=bias), nn.Tanh(), nn.Linear(8, 2, bias=bias))
    return model.to(dtype)


def _loaders(X, y):
    return [make_loader(X, y, batch_size=20, seed=seed) for seed in SEEDS]


def _halving(optimizer):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5**epoch)


def _assert_records_close(history, expected, fields, dtype):
    """The side-by-side run's records `fields` (batch_loss, ...) equal those of `fit` alone."""
    for field in fields:
        torch.testing.assert_close(
            torch.tensor(getattr(history, field)),
            torch.tensor(getattr(expected, field)),
            **TOLERANCE[dtype],
        )


@pytest.mark.parametrize(
    "lrs", [LRS, (0.05,) * 3, (0.05, 0.1, 0.05)], ids=["own lrs", "shared lr", "two lrs"]
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_side_by_side_equals_one_at_a_time(name, dtype, lrs):
    X, y = _data(dtype)
    loss_fn = nn.CrossEntropyLoss()
    bias = name not in MATRIX_ONLY
    make = OPTIMIZERS[name]

    together = [_model(seed, dtype, bias) for seed in SEEDS]
    histories = fit_copies(
        together,
        loss_fn,
        make,
        _loaders(X, y),
        NUM_EPOCHS,
        hyperparameters=[{"lr": lr} for lr in lrs],
        scheduler=_halving,
        val_data=(X, y),
    )
    moved = [
        not torch.equal(p, q)
        for p, q in zip(together[0].parameters(), _model(0, dtype, bias).parameters(), strict=True)
    ]
    assert all(moved)
    for seed, lr, model, history in zip(SEEDS, lrs, together, histories, strict=True):
        alone = _model(seed, dtype, bias)
        opt = make(alone.parameters(), lr=lr)
        loader = make_loader(X, y, batch_size=20, seed=seed)
        expected = fit(
            alone, loss_fn, opt, loader, NUM_EPOCHS, scheduler=_halving(opt), val_data=(X, y)
        )
        for got, want in zip(model.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(got, want, **TOLERANCE[dtype])
        _assert_records_close(
            history, expected, ("batch_loss", "train_loss", "val_loss", "lr"), dtype
        )
        assert history.val_accuracy == pytest.approx(expected.val_accuracy)
        assert history.best_epoch == expected.best_epoch
        assert len(history.time) == NUM_EPOCHS


def test_a_diverging_copy_stops_and_the_others_go_on():
    X, y = _data(torch.float64)
    loss_fn = nn.MSELoss()
    target = y.double()[:, None]
    models = [nn.Linear(4, 1).double() for _ in SEEDS]
    histories = fit_copies(
        models,
        loss_fn,
        torch.optim.SGD,
        [[(X, target)]] * 3,
        20,
        hyperparameters=[{"lr": 0.1}, {"lr": 50.0}, {"lr": 0.01}],
    )
    assert [h.diverged for h in histories] == [False, True, False]
    assert len(histories[1].train_loss) < 20 == len(histories[0].train_loss)
    frozen = [p.detach().clone() for p in models[1].parameters()]
    assert all(math.isfinite(v) for v in histories[0].train_loss)
    assert histories[0].train_loss[-1] < histories[0].train_loss[0]
    assert all(torch.equal(a, b) for a, b in zip(frozen, models[1].parameters(), strict=True))


def _valid():
    X, y = _data(torch.float64)
    return {
        "models": [_model(s, torch.float64) for s in SEEDS],
        "loss_fn": nn.CrossEntropyLoss(),
        "optimizer": torch.optim.SGD,
        "train_loaders": _loaders(X, y),
        "num_epochs": 1,
        "hyperparameters": [{"lr": 0.1}] * 3,
    }


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"models": []}, "models"),
        ({"train_loaders": []}, "train_loaders"),
        ({"hyperparameters": [{"lr": 0.1}]}, "hyperparameters"),
        ({"num_epochs": 0}, "num_epochs"),
        ({"scheduler": lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt)}, "scheduler"),
        ({"scheduler_interval": "batch"}, "scheduler_interval"),
        ({"val_data": [_data(torch.float64)] * 2}, "val_data"),
        ({"val_data": "X, y"}, "val_data"),
        ({"callbacks": [[]] * 2}, "callbacks"),
        ({"callbacks": [["not a callback"]] * 3}, "callbacks"),
        ({"callbacks": [[TrainingDiagnostics()]] * 3}, "on_after_backward"),
    ],
)
def test_bad_arguments_name_themselves(change, pattern):
    kwargs = {**_valid(), **change}
    with pytest.raises((ValueError, TypeError), match=pattern):
        fit_copies(**kwargs)


def test_loaders_over_an_empty_data_set_are_refused():
    kwargs = _valid()
    X, y = (t[:0] for t in _data(torch.float64))  # one empty data set for all the loaders
    kwargs["train_loaders"] = [make_loader(X, y, batch_size=20, seed=seed) for seed in SEEDS]
    with pytest.raises(ValueError, match="yielded no mini-batches"):
        fit_copies(**kwargs)


def test_copies_of_different_shapes_or_batch_counts_are_refused():
    kwargs = _valid()
    kwargs["models"] = [*kwargs["models"][:2], nn.Linear(4, 2).double()]
    with pytest.raises(ValueError, match="models"):
        fit_copies(**kwargs)
    kwargs = _valid()
    X, y = _data(torch.float64)
    kwargs["train_loaders"] = [*kwargs["train_loaders"][:2], make_loader(X, y, batch_size=30)]
    with pytest.raises(ValueError, match="train_loaders"):
        fit_copies(**kwargs)
    kwargs = _valid()
    widths = (2, 2, 3)  # equal parameters, unequal buffers
    kwargs["models"] = [
        nn.Sequential(nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 2)).double() for _ in SEEDS
    ]
    for model, width in zip(kwargs["models"], widths, strict=True):
        model.register_buffer("scale", torch.ones(width))
    with pytest.raises(ValueError, match="models"):
        fit_copies(**kwargs)


@pytest.mark.parametrize(
    ("optimizer", "lrs", "groups"),
    [
        (torch.optim.Adam, (0.1,) * 3, 1),  # stacked, one group
        (optim.ScheduleFreeAdamW, (0.1,) * 3, 1),  # elementwise too: stacked
        (functools.partial(optim.SGD, momentum=0.9), (0.1, 0.2, 0.1), 2),  # a group per lr
        (torch.optim.Muon, (0.1,) * 3, 3),  # orthogonalizes each copy's matrix: per copy
        (torch.optim.Adafactor, (0.1,) * 3, 3),  # factors each copy's matrix: per copy
        (lambda groups: torch.optim.Adam(groups), (0.1,) * 3, 3),  # unknown: per copy
    ],
)
def test_copies_are_stacked_only_for_elementwise_optimizers(optimizer, lrs, groups):
    from helpers.training import _Copies

    models = [_model(seed, torch.float64, bias=False) for seed in SEEDS]
    copies = _Copies(models, [{"lr": lr} for lr in lrs], optimizer)
    assert copies.stacked == (groups < len(SEEDS))
    assert len(copies.param_groups) == groups
    for k, model in enumerate(models):  # the forward pass sees every copy in its place
        for name, weight in model.named_parameters():
            assert torch.equal(copies.weights()[name][k], weight)


class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, kernel_size=3, padding=1)
        self.head = nn.Linear(3 * 4 * 4, 2)

    def forward(self, X):
        h = nn.functional.max_pool2d(self.conv(X).relu(), 2)
        return self.head(h.flatten(1))


class _Transformer(nn.Module):
    """A one-layer causal character model: tokens (batch, length) -> logits per position."""

    def __init__(self, vocab=5, width=8, length=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.layer = nn.TransformerEncoderLayer(width, 2, 16, dropout=0.0, batch_first=True)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(length))

    def forward(self, tokens):
        return self.head(self.layer(self.embed(tokens), src_mask=self.mask, is_causal=True))


def _next_token_loss(logits, targets):
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())


@pytest.mark.parametrize("kind", ["cnn", "transformer"])
def test_side_by_side_equals_one_at_a_time_for_a_cnn_and_a_transformer(kind):
    generator = torch.Generator().manual_seed(3)
    if kind == "cnn":
        X = torch.randn(24, 1, 8, 8, generator=generator, dtype=torch.float64)
        y = torch.randint(0, 2, (24,), generator=generator)
        make, loss_fn = _CNN, nn.CrossEntropyLoss()
    else:
        X = torch.randint(0, 5, (24, 6), generator=generator)
        y = torch.roll(X, -1, dims=1)
        make, loss_fn = _Transformer, _next_token_loss

    def model(seed):
        torch.manual_seed(seed)
        return make().double()

    together = [model(seed) for seed in SEEDS]
    loaders = [make_loader(X, y, batch_size=8, seed=seed) for seed in SEEDS]
    fit_copies(together, loss_fn, torch.optim.Adam, loaders, 2, hyperparameters=[{"lr": 0.01}] * 3)
    for seed, trained in zip(SEEDS, together, strict=True):
        alone = model(seed)
        opt = torch.optim.Adam(alone.parameters(), lr=0.01)
        fit(alone, loss_fn, opt, make_loader(X, y, batch_size=8, seed=seed), 2)
        for got, want in zip(trained.parameters(), alone.parameters(), strict=True):
            # attention's batched kernels round differently; Adam magnifies the rounding of
            # weights whose gradients are near zero: float64, but not to the last 1e-12
            torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10)


def _batch_norm_model(seed: int, dtype) -> nn.Module:
    torch.manual_seed(seed)
    # no bias before the BatchNorm: its gradient would be 0 up to rounding, which Adam and
    # LARS blow up to full-size steps, different in every run
    model = nn.Sequential(
        nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)
    )
    return model.to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["torch SGD momentum", "torch Adam", "torch Adafactor"])
def test_batch_norm_copies_update_their_running_statistics_as_separate_runs(name, dtype):
    """Stacked buffers: each copy's running mean and variance move as in its own fit run, and
    the validation loss is computed in eval mode (from the running statistics), as fit does."""
    X, y = _data(dtype)
    loss_fn = nn.CrossEntropyLoss()
    make = OPTIMIZERS[name]
    together = [_batch_norm_model(seed, dtype).eval() for seed in SEEDS]  # the mode is fit's
    histories = fit_copies(
        together,
        loss_fn,
        make,
        _loaders(X, y),
        NUM_EPOCHS,
        hyperparameters=[{"lr": lr} for lr in LRS],
        val_data=(X, y),
    )
    for seed, lr, model, history in zip(SEEDS, LRS, together, histories, strict=True):
        alone = _batch_norm_model(seed, dtype)
        loader = make_loader(X, y, batch_size=20, seed=seed)
        expected = fit(
            alone, loss_fn, make(alone.parameters(), lr=lr), loader, NUM_EPOCHS, val_data=(X, y)
        )
        assert model.training and alone.training
        state, want = model.state_dict(), alone.state_dict()
        for key in want:  # weights, running_mean, running_var, num_batches_tracked
            torch.testing.assert_close(state[key], want[key], **TOLERANCE[dtype])
        assert int(state["1.num_batches_tracked"]) == NUM_EPOCHS * 3
        _assert_records_close(history, expected, ("batch_loss", "train_loss", "val_loss"), dtype)
        assert history.val_loss[-1] == pytest.approx(evaluate(alone, loss_fn, X, y)[0])
        train_mode_loss = loss_fn(alone(X), y).item()  # batch statistics: not what fit records
        assert abs(history.val_loss[-1] - train_mode_loss) > 1e-6


class _Recorder:
    """A fit callback: the loss on a second data set after every step, and the calls made."""

    def __init__(self, X, y):
        self.data, self.losses, self.calls = (X, y), [], []

    def on_train_begin(self, model):
        self.calls.append("begin")

    def on_step_end(self, model):
        self.losses.append(evaluate(model, nn.CrossEntropyLoss(), *self.data)[0])

    def on_train_end(self, model):
        self.calls.append("end")


class _StepScheduler:
    """A fit callback that steps a scheduler after every update."""

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def on_step_end(self, model):
        self.scheduler.step()


def _warmup(optimizer):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: min((t + 1) / 4, 1.0))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["torch SGD momentum", "helpers LARS"])
def test_per_copy_validation_callbacks_and_a_per_step_schedule_as_in_fit(name, dtype):
    """Copy k with its own validation set, a callback on a test set, and the lr set every step:
    fit does the same with val_data, the callback and one more that steps the scheduler."""
    X, y = _data(dtype)
    val_sets = [(X[10 * k : 10 * k + 30], y[10 * k : 10 * k + 30]) for k in range(len(SEEDS))]
    X_test, y_test = X.flip(0)[:25], y.flip(0)[:25]
    loss_fn = nn.CrossEntropyLoss()
    make = OPTIMIZERS[name]
    together = [_batch_norm_model(seed, dtype) for seed in SEEDS]
    recorders = [_Recorder(X_test, y_test) for _ in SEEDS]
    histories = fit_copies(
        together,
        loss_fn,
        make,
        _loaders(X, y),
        NUM_EPOCHS,
        hyperparameters=[{"lr": lr} for lr in LRS],
        scheduler=_warmup,
        scheduler_interval="step",
        val_data=val_sets,
        callbacks=[[r] for r in recorders],
    )
    for k, (seed, lr) in enumerate(zip(SEEDS, LRS, strict=True)):
        alone = _batch_norm_model(seed, dtype)
        opt = make(alone.parameters(), lr=lr)
        recorder = _Recorder(X_test, y_test)
        loader = make_loader(X, y, batch_size=20, seed=seed)
        callbacks = [recorder, _StepScheduler(_warmup(opt))]
        expected = fit(
            alone, loss_fn, opt, loader, NUM_EPOCHS, val_data=val_sets[k], callbacks=callbacks
        )
        for got, want in zip(together[k].parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(got, want, **TOLERANCE[dtype])
        _assert_records_close(histories[k], expected, ("batch_loss", "val_loss", "lr"), dtype)
        assert len(recorders[k].losses) == NUM_EPOCHS * 3 == len(recorder.losses)
        torch.testing.assert_close(
            torch.tensor(recorders[k].losses), torch.tensor(recorder.losses), **TOLERANCE[dtype]
        )
        assert recorders[k].calls == ["begin", "end"]


def test_layer_wise_optimizers_see_each_copys_layers_on_their_own():
    """LARS and LAMB scale each tensor's step by its own norms: one param group per copy, so
    the trust ratio of copy k's layer is computed from copy k's layer alone."""
    from helpers.training import _Copies

    assert not {"LARS", "LAMB"} & ELEMENTWISE
    models = [_model(seed, torch.float64) for seed in SEEDS]
    for make in (OPTIMIZERS["helpers LARS"], optim.LAMB):
        copies = _Copies(models, [{"lr": 0.1}] * 3, make)
        assert not copies.stacked and len(copies.param_groups) == 3
        for group, model in zip(copies.param_groups, models, strict=True):
            assert all(p is q for p, q in zip(group["params"], model.parameters(), strict=True))
    # a weight 10 times larger gets a 10 times larger LARS step: the ratio is per layer per copy
    big = [_model(0, torch.float64), _model(0, torch.float64)]
    with torch.no_grad():
        for p in big[1].parameters():
            p.mul_(10)
    before = [[p.detach().clone() for p in m.parameters()] for m in big]
    X, y = _data(torch.float64)
    lars = functools.partial(optim.LARS, momentum=0.0, trust_coefficient=0.01)
    fit_copies(
        big, nn.CrossEntropyLoss(), lars, [[(X, y)]] * 2, 1, hyperparameters=[{"lr": 1.0}] * 2
    )
    steps = [
        [
            torch.linalg.vector_norm(p.detach() - b).item() / torch.linalg.vector_norm(b).item()
            for p, b in zip(m.parameters(), bs, strict=True)
        ]
        for m, bs in zip(big, before, strict=True)
    ]
    for small_copy, large_copy in zip(*steps, strict=True):  # |step| / |w| <= lr * 0.01 each
        assert 0 < small_copy <= 0.01 + 1e-12 and 0 < large_copy <= 0.01 + 1e-12


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_schedule_free_copies_train_at_y_and_are_evaluated_at_x(dtype):
    """Schedule-Free AdamW, stacked: each epoch's updates in train mode (at y), its validation
    loss and the final weights in eval mode (at x), as a loop that calls train() and eval()."""
    X, y = _data(dtype)
    loss_fn = nn.CrossEntropyLoss()
    together = [_model(seed, dtype) for seed in SEEDS]
    histories = fit_copies(
        together,
        loss_fn,
        optim.ScheduleFreeAdamW,
        _loaders(X, y),
        NUM_EPOCHS,
        hyperparameters=[{"lr": lr} for lr in LRS],
        val_data=(X, y),
    )
    for seed, lr, model, history in zip(SEEDS, LRS, together, histories, strict=True):
        alone = _model(seed, dtype)
        opt = optim.ScheduleFreeAdamW(alone.parameters(), lr=lr)
        loader = make_loader(X, y, batch_size=20, seed=seed)
        batch_loss, val_loss = [], []
        for _ in range(NUM_EPOCHS):
            opt.train()
            for X_batch, y_batch in loader:
                opt.zero_grad()
                loss = loss_fn(alone(X_batch), y_batch)
                loss.backward()
                opt.step()
                batch_loss.append(loss.item())
            opt.eval()
            val_loss.append(evaluate(alone, loss_fn, X, y)[0])
        for got, want in zip(model.parameters(), alone.parameters(), strict=True):  # at x
            torch.testing.assert_close(got, want, **TOLERANCE[dtype])
        for got, want in ((history.batch_loss, batch_loss), (history.val_loss, val_loss)):
            torch.testing.assert_close(torch.tensor(got), torch.tensor(want), **TOLERANCE[dtype])
        fitted = _model(seed, dtype)  # fit switches the modes as the loop does
        opt = optim.ScheduleFreeAdamW(fitted.parameters(), lr=lr)
        loader = make_loader(X, y, batch_size=20, seed=seed)
        history = fit(fitted, loss_fn, opt, loader, NUM_EPOCHS, val_data=(X, y))
        assert (history.batch_loss, history.val_loss) == (batch_loss, val_loss)
        for got, want in zip(fitted.parameters(), alone.parameters(), strict=True):
            assert torch.equal(got, want)


class _StopAfterOneStep:
    def on_step_end(self, model):
        raise KeyboardInterrupt


def test_an_interrupted_fit_leaves_schedule_free_at_x():
    X, y = _data(torch.float64)
    model = _model(0, torch.float64)
    opt = optim.ScheduleFreeAdamW(model.parameters(), lr=0.1)
    with pytest.raises(KeyboardInterrupt):
        fit(model, nn.CrossEntropyLoss(), opt, [(X, y)], 3, callbacks=[_StopAfterOneStep()])
    assert not opt.param_groups[0]["train_mode"]
    at_x = [p.clone() for p in model.parameters()]
    opt.train()  # the weights move to y and back: they were at x
    opt.eval()
    for got, want in zip(model.parameters(), at_x, strict=True):
        torch.testing.assert_close(got, want)
