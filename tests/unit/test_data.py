"""Tests of helpers.data: shapes, seeding, standardisation, loaders."""

from __future__ import annotations

import pytest
import torch

from helpers.data import Batches, digits, linear_data, make_loader, toy_regression, two_moons


def test_toy_regression_is_the_worked_example():
    x, y = toy_regression()
    assert x.tolist() == [1.0, 2.0, 3.0, 4.0] and y.tolist() == [2.0, 4.0, 6.0, 8.0]


def test_linear_data_is_seeded_and_near_its_line():
    x1, y1 = linear_data(n=500, w=2.0, c=0.5, noise=0.1, seed=3)
    x2, y2 = linear_data(n=500, w=2.0, c=0.5, noise=0.1, seed=3)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, linear_data(n=500, seed=4)[0])
    residual = y1 - (2.0 * x1 + 0.5)
    assert residual.std().item() == pytest.approx(0.1, rel=0.15)
    with pytest.raises(ValueError, match="noise"):
        linear_data(noise=-1.0)


@pytest.mark.parametrize(("make", "features", "classes"), [(two_moons, 2, 2), (digits, 64, 10)])
def test_classification_splits(make, features, classes):
    split = make(seed=0)
    assert split.num_features == features and split.num_classes == classes
    assert split.X_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    assert len(split.X_train) == len(split.y_train) and len(split.X_test) == len(split.y_test)
    assert set(split.y_train.unique().tolist()) == set(range(classes))
    assert split.X_train.mean(0).abs().max() < 1e-4
    assert torch.equal(make(seed=0).X_test, split.X_test)


def test_digits_has_all_images():
    split = digits(test_size=0.25)
    assert len(split.X_train) + len(split.X_test) == 1797


def test_loader_is_reproducible_and_covers_every_example_once_per_epoch():
    X, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    first = [b[1].tolist() for b in make_loader(X, y, batch_size=4, seed=1)]
    again = [b[1].tolist() for b in make_loader(X, y, batch_size=4, seed=1)]
    assert first == again
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(i for batch in first for i in batch) == list(range(10))
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(X, y, batch_size=0)
    with pytest.raises(ValueError, match="same length"):
        make_loader(X, y[:5], batch_size=2)


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (12, 4), (5, 8)])
def test_side_by_side_stacks_the_batches_each_loader_gives(n, batch_size):
    X = torch.arange(2 * n, dtype=torch.float32).reshape(n, 2)
    y = torch.arange(n)
    shuffles = [True, False, True]
    together = [make_loader(X, y, batch_size, s, seed=k) for k, s in enumerate(shuffles)]
    alone = [make_loader(X, y, batch_size, s, seed=k) for k, s in enumerate(shuffles)]
    for _ in range(3):  # each pass draws every loader's next order
        stacked = list(Batches.side_by_side(together))
        assert len(stacked) == len(alone[0])
        for (X_all, y_all), *batches in zip(stacked, *alone, strict=True):
            assert torch.equal(X_all, torch.stack([b[0] for b in batches]))
            assert torch.equal(y_all, torch.stack([b[1] for b in batches]))


def test_side_by_side_needs_one_data_set_and_batch_size():
    X, y = torch.zeros(6, 2), torch.zeros(6)
    same = make_loader(X, y, batch_size=2)
    assert same.shares_data(make_loader(X, y, batch_size=2, seed=1))
    for other in (make_loader(X.clone(), y, 2), make_loader(X, y, 3), [(X, y)]):
        assert not same.shares_data(other)
        with pytest.raises(ValueError, match="share X, y and batch_size"):
            list(Batches.side_by_side([same, other]))


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (12, 4), (5, 8)])
def test_loader_gives_the_batches_of_a_seeded_dataloader(n, batch_size, shuffle):
    from torch.utils.data import DataLoader, TensorDataset

    X = torch.arange(2 * n, dtype=torch.float32).reshape(n, 2)
    y = torch.arange(n)
    ours = make_loader(X, y, batch_size=batch_size, shuffle=shuffle, seed=3)
    theirs = DataLoader(
        TensorDataset(X, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(3),
    )
    assert len(ours) == len(theirs)
    for _ in range(3):  # three passes: each draws the next order, in both
        for (X1, y1), (X2, y2) in zip(ours, theirs, strict=True):
            assert torch.equal(X1, X2) and torch.equal(y1, y2)
