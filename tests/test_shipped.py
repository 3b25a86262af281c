"""The shipped checkpoints (data/checkpoints): each loads, carries its record, and reproduces its
recorded G accuracy on the fixed subset (course_lib.shipped)."""
import pytest
import torch

from course_lib import methods, shipped

pytestmark = pytest.mark.usefixtures("one_thread")
NAMES = shipped.available()
RECORD_KEYS = {"method", "command", "config", "commit", "wall_time_s", "size_bytes", "sha256", "evaluation",
               "references", "subset_g"}


def test_every_registered_method_is_shipped_and_the_folder_is_small():
    assert set(NAMES) == set(methods.names()), "python -m course_lib checkpoints build --methods <missing>"
    total = sum(shipped.path(n).stat().st_size for n in NAMES)
    assert total < 50e6


@pytest.mark.parametrize("name", NAMES)
def test_record_matches_the_file(name):
    import hashlib

    rec = shipped.info(name)
    assert RECORD_KEYS <= set(rec)
    assert rec["method"] == name and rec["config"]["model"] == name
    data = shipped.path(name).read_bytes()
    assert rec["size_bytes"] == len(data) and rec["sha256"] == hashlib.sha256(data).hexdigest()
    state = torch.load(shipped.path(name), map_location="cpu", weights_only=False)
    assert set(state["nets"]) == set(methods.get(name).translate_networks)   # no critic, no optimiser
    assert {"copy (input unchanged)", "oracle (ground truth)"} <= set(rec["references"])


@pytest.mark.parametrize("name", NAMES)
def test_reproduces_its_recorded_subset_g(name):
    rec = shipped.info(name)
    got = shipped.subset_g(shipped.load(name))
    assert got["translations"] == rec["subset_g"]["translations"]
    assert abs(got["correct"] - rec["subset_g"]["correct"]) <= 1, (got, rec["subset_g"])


def test_missing_checkpoint_names_the_file_and_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lgp-gan\.pt.*checkpoints build --methods lgp-gan"):
        shipped.load("lgp-gan", directory=tmp_path)
    assert shipped.available(tmp_path) == []


def test_load_or_train_prefers_the_shipped_file(tmp_path, monkeypatch):
    calls = []
    monkeypatch.delenv("COURSE_TRAIN", raising=False)
    out, how = shipped.load_or_train("lgp-gan", lambda: calls.append(1) or "trained model", directory=tmp_path)
    assert (out, how, calls) == ("trained model", "trained", [1])
    if "lgp-gan" in NAMES:
        out, how = shipped.load_or_train("lgp-gan", lambda: calls.append(2))
        assert how == "shipped" and calls == [1]
        monkeypatch.setenv("COURSE_TRAIN", "1")
        assert shipped.load_or_train("lgp-gan", lambda: "t")[1] == "trained"
