"""course_lib.checkpoint: atomic writes survive an interrupted save; RNG states round-trip."""
import random

import numpy as np
import pytest
import torch

from course_lib import checkpoint


def test_save_load_round_trip(tmp_path):
    state = {"step": 3, "w": torch.arange(6.0).reshape(2, 3), "names": ["a", "b"]}
    path = checkpoint.save(state, tmp_path / "ck" / "last.pt")
    back = checkpoint.load(path)
    assert back["step"] == 3 and back["names"] == ["a", "b"] and torch.equal(back["w"], state["w"])


def test_interrupted_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = checkpoint.save({"step": 1, "w": torch.ones(100)}, tmp_path / "last.pt")
    real_save = torch.save

    def dying_save(obj, f, *a, **k):
        f.write(b"PK\x03\x04 partial bytes of a checkpoint")  # half a file, then the crash
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save({"step": 2, "w": torch.zeros(100)}, path)
    monkeypatch.setattr(torch, "save", real_save)
    back = checkpoint.load(path)
    assert back["step"] == 1 and torch.equal(back["w"], torch.ones(100))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"], "the temp file must be removed"


def test_corrupt_file_error_names_it(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match="bad.pt"):
        checkpoint.load(bad)
    with pytest.raises(checkpoint.CheckpointError, match="no such"):
        checkpoint.load(tmp_path / "nope.pt")


def test_rng_states_round_trip_through_a_file(tmp_path):
    checkpoint.seed_everything(5)
    checkpoint.save({"rng": checkpoint.rng_state()}, tmp_path / "r.pt")
    expected = (random.random(), np.random.rand(), torch.rand(3))
    checkpoint.seed_everything(99)
    checkpoint.set_rng_state(checkpoint.load(tmp_path / "r.pt")["rng"])
    got = (random.random(), np.random.rand(), torch.rand(3))
    assert got[0] == expected[0] and got[1] == expected[1] and torch.equal(got[2], expected[2])
