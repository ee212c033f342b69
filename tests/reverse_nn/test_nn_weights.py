"""Saved state: exact round trip, clear errors on bad files with the weights left
untouched, and atomic saves."""

from __future__ import annotations

import os

import numpy as np
import pytest

import reverse.functions as F
from reverse.core import Parameter
from reverse.layers import MLP, Layer, Linear, WeightsFileError


def make_model(seed: int = 0) -> MLP:
    m = MLP((6, 3), seed=seed)
    m(np.zeros((1, 2)))  # initialise
    return m


def snapshot(model: Layer) -> dict[str, np.ndarray]:
    return {n: p.data.copy() for n, p in model.named_params()}


def assert_unchanged(model: Layer, before: dict[str, np.ndarray]) -> None:
    now = {n: p.data for n, p in model.named_params()}
    assert now.keys() == before.keys()
    for n in before:
        assert now[n].dtype == before[n].dtype
        assert now[n].tobytes() == before[n].tobytes(), n


def leftovers(directory) -> list[str]:
    return sorted(f for f in os.listdir(directory) if f.endswith(".tmp"))


def test_round_trip_is_bitwise(tmp_path):
    src = make_model(0)
    # Awkward values: subnormals, -0.0, nan payload, inf.
    src.layers[0].b.data[:4] = [5e-324, -0.0, np.inf, np.nan]
    path = tmp_path / "w.npz"
    src.save_weights(path)
    dst = make_model(1)
    dst.load_weights(str(path))
    for (n1, p), (n2, q) in zip(src.named_params(), dst.named_params()):
        assert n1 == n2 and p.data.dtype == q.data.dtype and p.data.shape == q.data.shape
        assert p.data.tobytes() == q.data.tobytes()
    assert sorted(np.load(path).files) == sorted(n for n, _ in src.named_params())
    assert leftovers(tmp_path) == []


def test_round_trip_float32_and_lazy_target(tmp_path):
    src = Linear(3, in_size=2, dtype=np.float32, seed=0)
    path = tmp_path / "f32.npz"
    src.save_weights(path)
    dst = Linear(3, dtype=np.float32)  # not initialised yet: the file defines W
    dst.load_weights(path)
    assert dst.W.dtype == np.float32 and np.array_equal(dst.W.data, src.W.data)
    # The loaded layer works and backpropagates.
    F.sum(dst(np.ones((1, 2), dtype=np.float32))).backward()
    assert dst.W.grad.shape == (2, 3)


def test_loaded_arrays_are_independent_copies(tmp_path):
    src = make_model(0)
    path = tmp_path / "w.npz"
    src.save_weights(path)
    dst = make_model(1)
    dst.load_weights(path)
    dst.layers[0].W.data[0, 0] += 1.0
    assert src.layers[0].W.data[0, 0] != dst.layers[0].W.data[0, 0]


def test_save_uninitialised_raises(tmp_path):
    with pytest.raises(ValueError, match="not initialised"):
        Linear(3).save_weights(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_missing_file(tmp_path):
    m = make_model()
    before = snapshot(m)
    with pytest.raises(FileNotFoundError, match="no such file"):
        m.load_weights(tmp_path / "nope.npz")
    assert_unchanged(m, before)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, fraction):
    path = tmp_path / "w.npz"
    make_model(0).save_weights(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    m = make_model(1)
    before = snapshot(m)
    with pytest.raises(WeightsFileError) as info:
        m.load_weights(path)
    assert "w.npz" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert_unchanged(m, before)


def _first_member_payload(path) -> int:
    """Offset of the first array's data bytes (after the zip and .npy headers)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        info = z.infolist()[0]
    raw = path.read_bytes()
    name_len = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    npy = info.header_offset + 30 + name_len + extra_len
    hlen = int.from_bytes(raw[npy + 8: npy + 10], "little")
    return npy + 10 + hlen


@pytest.mark.parametrize("where", ["payload", "npy_header", "central_directory", "magic"])
def test_corrupted_bytes(tmp_path, where):
    path = tmp_path / "w.npz"
    make_model(0).save_weights(path)
    raw = bytearray(path.read_bytes())
    if where == "payload":  # caught by the zip CRC-32
        pos = _first_member_payload(path) + 3
        raw[pos] ^= 0xFF
    elif where == "npy_header":
        pos = _first_member_payload(path) - 20
        raw[pos: pos + 6] = b"\x00garb\x00"
    elif where == "central_directory":
        pos = raw.rfind(b"PK\x01\x02")
        raw[pos: pos + 4] = b"XXXX"
    else:
        raw[:4] = b"\x89PNG"
    path.write_bytes(bytes(raw))
    m = make_model(1)
    before = snapshot(m)
    with pytest.raises(WeightsFileError, match="w.npz"):
        m.load_weights(path)
    assert_unchanged(m, before)


def test_not_an_npz(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.ones(3))
    m = make_model()
    before = snapshot(m)
    with pytest.raises(WeightsFileError, match="not an .npz"):
        m.load_weights(path)
    assert_unchanged(m, before)


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "w.npz"
    good = make_model(0).state_dict()
    good["layers.0.b"] = np.array([object()] * 6, dtype=object)
    np.savez(path, **good)
    m = make_model(1)
    before = snapshot(m)
    with pytest.raises(WeightsFileError, match="w.npz"):
        m.load_weights(path)
    assert_unchanged(m, before)


def _save_modified(path, modify) -> None:
    arrays = make_model(0).state_dict()
    modify(arrays)
    np.savez(path, **arrays)


@pytest.mark.parametrize("case, message", [
    ("missing", r"missing parameter\(s\) \['layers.1.b'\]"),
    ("extra", r"unexpected parameter\(s\) \['bonus'\]"),
    ("shape", r"'layers.0.W' has shape \(3, 6\), expected \(2, 6\)"),
    ("dtype", r"'layers.1.W' has dtype float32, expected float64"),
])
def test_mismatched_file(tmp_path, case, message):
    path = tmp_path / "w.npz"

    def modify(a):
        if case == "missing":
            del a["layers.1.b"]
        elif case == "extra":
            a["bonus"] = np.zeros(2)
        elif case == "shape":
            a["layers.0.W"] = np.zeros((3, 6))
        else:
            a["layers.1.W"] = a["layers.1.W"].astype(np.float32)

    _save_modified(path, modify)
    m = make_model(1)
    before = snapshot(m)
    with pytest.raises(WeightsFileError, match=message) as info:
        m.load_weights(path)
    assert "w.npz" in str(info.value) and "unchanged" in str(info.value)
    assert_unchanged(m, before)


def test_all_problems_reported_and_nothing_assigned_on_partial_match(tmp_path):
    # The first parameters match; a later one does not: none may be assigned.
    path = tmp_path / "w.npz"
    _save_modified(path, lambda a: a.update({"layers.1.b": np.zeros(4)}))
    m = make_model(1)
    before = snapshot(m)
    with pytest.raises(WeightsFileError, match="layers.1.b"):
        m.load_weights(path)
    assert_unchanged(m, before)


def test_reserved_names_rejected(tmp_path):
    class Odd(Layer):
        def __init__(self):
            super().__init__()
            self.file = Parameter(np.ones(1))

    with pytest.raises(ValueError, match="clash"):
        Odd().save_weights(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------
# atomic save
# --------------------------------------------------------------------------


class Crash(Exception):
    pass


def test_crash_inside_savez_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    old = make_model(0)
    old.save_weights(path)
    old_bytes = path.read_bytes()

    real_savez = np.savez

    def half_then_crash(file, *args, **kwargs):
        real_savez(file, *args, **kwargs)
        file.seek(0)
        file.truncate(100)  # a half-written archive in the temporary file
        raise Crash("power cut")

    monkeypatch.setattr(np, "savez", half_then_crash)
    with pytest.raises(Crash):
        make_model(1).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert leftovers(tmp_path) == [] and os.listdir(tmp_path) == ["w.npz"]
    fresh = make_model(2)
    fresh.load_weights(path)  # still a valid file
    assert_unchanged(fresh, snapshot(old))


def test_crash_at_replace_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    make_model(0).save_weights(path)
    old_bytes = path.read_bytes()

    def no_replace(src, dst, *a, **k):
        raise Crash("killed before rename")

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(Crash):
        make_model(1).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["w.npz"]


def test_crash_on_first_save_leaves_nothing(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        make_model(0).save_weights(tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


def test_save_writes_via_temp_in_same_dir_and_fsyncs(tmp_path, monkeypatch):
    calls = []
    real_replace, real_fsync = os.replace, os.fsync

    def spy_replace(src, dst, *a, **k):
        calls.append(("replace", os.path.dirname(os.fspath(src)), os.fspath(dst)))
        return real_replace(src, dst, *a, **k)

    def spy_fsync(fd):
        calls.append(("fsync",))
        return real_fsync(fd)

    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    path = tmp_path / "w.npz"
    make_model(0).save_weights(path)
    kinds = [c[0] for c in calls]
    assert kinds.index("fsync") < kinds.index("replace")
    rep = next(c for c in calls if c[0] == "replace")
    assert rep[1] == str(tmp_path) and rep[2] == str(path)


def test_overwrite_keeps_permissions(tmp_path):
    path = tmp_path / "w.npz"
    make_model(0).save_weights(path)
    os.chmod(path, 0o640)
    make_model(1).save_weights(path)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_member_with_valid_crc_but_garbage_npy(tmp_path):
    import zipfile

    path = tmp_path / "w.npz"
    good = make_model(0).state_dict()
    with zipfile.ZipFile(path, "w") as z:
        for name, arr in good.items():
            if name == "layers.0.W":
                z.writestr(name + ".npy", b"\x93NUMPY\x01\x00garbage that is not a header")
            else:
                import io

                buf = io.BytesIO()
                np.save(buf, arr)
                z.writestr(name + ".npy", buf.getvalue())
    m = make_model(1)
    before = snapshot(m)
    with pytest.raises(WeightsFileError, match="w.npz"):
        m.load_weights(path)
    assert_unchanged(m, before)
