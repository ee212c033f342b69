"""The spiral toy set and the DataLoader."""

from __future__ import annotations

import numpy as np
import pytest

from reverse.datasets import DataLoader, spiral


def test_spiral_shapes_labels_and_determinism():
    x, t = spiral()
    assert x.shape == (300, 2) and x.dtype == np.float64
    assert t.shape == (300,) and t.dtype.kind == "i"
    assert np.bincount(t).tolist() == [100, 100, 100]
    x2, t2 = spiral(seed=0)
    assert np.array_equal(x, x2) and np.array_equal(t, t2)
    x3, _ = spiral(seed=1)
    assert not np.array_equal(x, x3)
    assert np.all(np.hypot(x[:, 0], x[:, 1]) < 1.0)


def test_spiral_geometry_without_noise():
    x, t = spiral(n_per_class=50, n_classes=4, noise=0.0, shuffle=False)
    r = np.arange(50) / 50
    for j in range(4):
        theta = 4.0 * j + 4.0 * r
        np.testing.assert_allclose(x[t == j], np.c_[r * np.sin(theta), r * np.cos(theta)],
                                   atol=1e-15)
    assert t.tolist() == np.repeat(np.arange(4), 50).tolist()


def test_spiral_bad_arguments():
    with pytest.raises(ValueError, match="n_per_class"):
        spiral(n_per_class=0)
    with pytest.raises(ValueError, match="n_classes"):
        spiral(n_classes=1.5)
    with pytest.raises(ValueError, match="noise"):
        spiral(noise=-1)
    with pytest.raises(TypeError, match="noise"):
        spiral(noise="a")


@pytest.mark.parametrize("n, batch", [(300, 30), (301, 30), (7, 3), (5, 10), (4, 1)])
def test_every_sample_once_per_epoch(n, batch):
    x = np.arange(n, dtype=float).reshape(n, 1) * 10
    t = np.arange(n)
    loader = DataLoader(x, t, batch_size=batch, seed=0)
    assert len(loader) == -(-n // batch)
    orders = []
    for _ in range(3):
        seen = []
        count = 0
        for xb, tb in loader:
            assert len(xb) == len(tb) <= batch
            np.testing.assert_array_equal(xb[:, 0], tb * 10)  # pairs stay together
            seen.extend(tb.tolist())
            count += 1
        assert count == len(loader)
        assert sorted(seen) == list(range(n))
        orders.append(seen)
    if n > 3:
        assert orders[0] != orders[1]  # reshuffled every epoch
    assert loader.epoch == 3


def test_reproducible_with_seed_and_in_order_without_shuffle():
    x, t = spiral()
    a = [tb.tolist() for _ in range(2) for _, tb in DataLoader(x, t, 32, seed=5)]
    b = [tb.tolist() for _ in range(2) for _, tb in DataLoader(x, t, 32, seed=5)]
    assert a == b
    ordered = DataLoader(np.arange(6), None, batch_size=4, shuffle=False)
    assert [b.tolist() for b in ordered] == [[0, 1, 2, 3], [4, 5]]


def test_loader_with_seeded_epochs_matches_across_instances():
    x = np.arange(10)
    l1 = DataLoader(x, batch_size=4, seed=1)
    l2 = DataLoader(x, batch_size=4, seed=1)
    for _ in range(3):
        assert [b.tolist() for b in l1] == [b.tolist() for b in l2]


def test_drop_last_next_and_reset():
    loader = DataLoader(np.arange(10), np.arange(10), batch_size=4, shuffle=False,
                        drop_last=True)
    assert len(loader) == 2
    assert [tb.tolist() for _, tb in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    first = next(loader)  # DeZero-style use without for
    assert first[1].tolist() == [0, 1, 2, 3]
    loader.reset()
    assert next(loader)[1].tolist() == [0, 1, 2, 3]


def test_loader_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.arange(3), batch_size=0)
    with pytest.raises(ValueError, match="3 samples"):
        DataLoader(np.arange(3), np.arange(4))
    with pytest.raises(ValueError, match="sample axis"):
        DataLoader(np.float64(1.0))
    assert list(DataLoader(np.zeros((0, 2)), batch_size=2)) == []
