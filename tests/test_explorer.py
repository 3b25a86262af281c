"""The explorer (course_lib.explorer) driven from Python: its widgets' values are set as a user
would set them and the callbacks' effects are checked, on a temporary shipped-checkpoint folder
of three methods (a label method with landmarks, a label method, an AU method) with randomly
initialised networks: the outputs are noise, but they depend on the condition, which is what
the explorer wires up."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import checkpoint, explorer, facs, methods, shipped
from course_lib import config as cfg
from course_lib.datasets import prototype_aus
from course_lib.translator import build_method

pytestmark = pytest.mark.usefixtures("one_thread")
NAMES = ("lgp-gan", "stargan", "ganimation")


def write_shipped(directory, names=NAMES, seed=0):
    """A shipped folder (``<name>.pt`` + ``<name>.json``) of randomly initialised cpu-size networks."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        torch.manual_seed(seed)
        c = cfg.preset("cpu", model=name)
        m = build_method(c)
        state = {"format": checkpoint.RUN_FORMAT, "config": c.to_dict(), "step": 0,
                 "nets": {n: m.nets[n].state_dict() for n in methods.get(name).translate_networks}}
        torch.save(state, directory / f"{name}.pt")
        (directory / f"{name}.json").write_text(json.dumps({"method": name}))
    return directory


@pytest.fixture(scope="module")
def ship(tmp_path_factory):
    return write_shipped(tmp_path_factory.mktemp("shipped"))


@pytest.fixture(scope="module")
def ex(ship):
    return explorer.Explorer(directory=ship, n_faces=4)


def set_method(e, name):
    e.method.value = name
    assert e.translator.method.name == name


def test_lists_every_shipped_method(ship, ex):
    assert sorted(ex.names) == sorted(NAMES) == sorted(shipped.available(ship))
    assert set(ex.method.options) == set(NAMES)
    assert ex.output.value and ex.input_image.value


def test_no_checkpoint_says_so_and_disables_the_controls(tmp_path):
    e = explorer.Explorer(directory=tmp_path)
    assert e.names == [] and "No method has a shipped checkpoint" in e.status.value
    assert str(tmp_path) in e.status.value and "checkpoints build" in e.status.value
    assert e.target.disabled and e.method.disabled and not e.output.value
    fig = explorer.preview(directory=tmp_path)
    assert "No method has a shipped checkpoint" in fig.axes[0].texts[0].get_text()


@pytest.mark.parametrize("name", NAMES)
def test_output_changes_when_the_target_changes(ex, name):
    set_method(ex, name)
    ex.t.value = 1.0
    ex.target.value = "happy"
    before, out_before = ex.output.value, ex.result["out"].clone()
    ex.target.value = "surprised"
    assert ex.output.value != before
    assert (ex.result["out"] - out_before).abs().max() > 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_interpolation_ends_and_middle(ex, name):
    set_method(ex, name)
    ex.source.value = "test face"
    ex.face.value = 1
    face = ex.current
    src, trg = face.label, (face.label + 3) % 8
    ex.target.value = facs.EXPRESSIONS[trg]
    # expected conditions, computed here: one-hot rows for a label method, AU vectors for an AU method
    if ex.translator.method.conditioning == "AUs":
        c_src, c_trg = face.aus[None], prototype_aus(torch.tensor([trg]))
    else:
        c_src, c_trg = F.one_hot(torch.tensor([src]), 8).float(), F.one_hot(torch.tensor([trg]), 8).float()
    ex.t.value = 0.0
    assert torch.allclose(ex.condition, c_src) and torch.allclose(ex.c_src, c_src)
    at_source = ex.result["out"].clone()
    ex.t.value = 0.5
    assert torch.allclose(ex.condition, (c_src + c_trg) / 2)
    ex.t.value = 1.0
    assert torch.allclose(ex.condition, c_trg)
    # the path's end is the plain translation to the target label
    x, lm = explorer.face_at(face, ex.translator.image_size)
    assert torch.allclose(ex.result["out"], ex.translator.run(x, torch.tensor([trg]), lm)["out"], atol=1e-6)
    assert (ex.result["out"] - at_source).abs().max() > 1e-4


def test_a_one_hot_mix_reaches_the_generator():
    """Translator.run_condition takes a label method's one-hot mix (B, 8): at a vertex it equals run(label)."""
    torch.manual_seed(0)
    from course_lib.translator import Translator

    c = cfg.preset("cpu", model="stargan")
    tr = Translator(build_method(c), c)
    x = torch.rand(2, 3, c.image_size, c.image_size) * 2 - 1
    one_hot = F.one_hot(torch.tensor([4, 6]), 8).float()
    assert torch.allclose(tr.run_condition(x, one_hot)["out"], tr.run(x, torch.tensor([4, 6]))["out"], atol=1e-6)
    mix = tr.method.interpolate_condition(one_hot, F.one_hot(torch.tensor([0, 0]), 8).float(), 0.3)
    assert torch.allclose(mix, 0.7 * one_hot + 0.3 * F.one_hot(torch.tensor([0, 0]), 8).float())
    assert not torch.allclose(tr.run_condition(x, mix)["out"], tr.run(x, torch.tensor([4, 6]))["out"], atol=1e-4)
    with pytest.raises(ValueError, match="condition: expected shape"):
        tr.run_condition(x, one_hot[:1])


def test_au_sliders_follow_the_path_and_edit_the_condition(ex):
    set_method(ex, "stargan")
    assert ex.au_box.layout.display == "none"          # a label method has no AU sliders
    set_method(ex, "ganimation")
    assert ex.au_box.layout.display != "none"
    ex.t.value = 0.5
    assert np.allclose([s.value for s in ex.au_sliders], ex.condition[0].numpy(), atol=1e-6)
    i = facs.AU_NUMBERS.index(12)
    before = ex.output.value
    ex.au_sliders[i].value = 0.95 if ex.au_sliders[i].value < 0.5 else 0.05
    assert ex.condition[0, i].item() == pytest.approx(ex.au_sliders[i].value)
    assert ex.output.value != before
    ex.t.value = 1.0                                     # moving along the path again resets the sliders
    assert torch.allclose(ex.condition, ex.c_trg)


def test_views_offer_masks_and_named_visuals(ex):
    set_method(ex, "lgp-gan")
    opts = list(ex.view.options)
    assert opts[0] == explorer.DIFFERENCE and explorer.MASKS in opts
    assert set(ex.result["visuals"]) <= set(opts)
    shown = {}
    for v in (explorer.DIFFERENCE, explorer.MASKS, "eye colour"):
        ex.view.value = v
        shown[v] = ex.view_image.value
    assert len(set(shown.values())) == 3
    set_method(ex, "stargan")                            # no masks, no visuals: only the difference
    assert list(ex.view.options) == [explorer.DIFFERENCE]


def test_side_by_side_covers_every_method(ship, ex):
    ex.target.value = "sad"
    ex.compare.value = True
    assert [r["name"] for r in ex.rows] == ex.names and all(not r["error"] for r in ex.rows)
    assert ex.comparison.value and ex.comparison.layout.display != "none"
    first = ex.comparison.value
    ex.target.value = "happy"                            # it follows the controls
    assert ex.comparison.value != first
    ex.compare.value = False
    fig = explorer.preview(directory=ship, face=0, target="happy")
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == list(shipped.available(ship))


def _astronaut_crop():
    from course_lib import landmarks

    a = explorer.photo("astronaut")
    l, t, r, b = landmarks.detect_faces(a)[0].box
    return a[max(0, t - 40):b + 40, max(0, l - 40):r + 40]


def test_uploaded_photo_messages(ex):
    set_method(ex, "lgp-gan")
    ex.source.value = "test face"
    ex.source.value = "uploaded photo"
    assert "upload photo" in ex.status.value               # nothing uploaded yet
    ex.source.value = "test face"
    kept = ex.current
    assert not ex.upload_photo("wall.png", explorer.png(np.full((160, 160, 3), 128, np.uint8)))
    assert "wall.png" in ex.status.value and "no face" in ex.status.value and ex.current is kept
    assert not ex.upload_photo("notes.txt", b"not an image")
    assert "notes.txt" in ex.status.value and "not an image" in ex.status.value
    crop = _astronaut_crop()
    assert ex.upload_photo("two.png", explorer.png(np.concatenate([crop, crop], 1)))
    assert "two.png" in ex.status.value and "2 faces" in ex.status.value and "largest" in ex.status.value
    assert ex.source.value == "uploaded photo" and ex.current.name == "two.png"
    before = ex.output.value
    assert ex.upload_photo("one.png", explorer.png(crop))
    assert ex.status.value.count("faces") == 0 and ex.output.value != before
    assert ex.current.landmarks.shape == (68, 2)


def test_the_upload_widget_callback_reads_both_ipywidgets_formats(ex, monkeypatch):
    got = []
    monkeypatch.setattr(ex, "upload_photo", lambda name, data: got.append((name, data)))
    v8 = ({"name": "a.png", "type": "image/png", "size": 3, "content": memoryview(b"abc"), "last_modified": 0},)
    v7 = {"b.png": {"metadata": {"name": "b.png", "type": "image/png", "size": 3}, "content": b"xyz"}}
    ex._on_upload({"new": v8})
    ex._on_upload({"new": v7})
    ex._on_upload({"new": ()})
    assert got == [("a.png", b"abc"), ("b.png", b"xyz")]
    assert explorer.uploaded_files({}) == [] and explorer.uploaded_files(None) == []


def test_a_method_taking_whole_labels_only_gets_a_hint_not_a_stale_picture(ex, monkeypatch):
    set_method(ex, "stargan")
    ex.source.value = "test face"
    ex.t.value = 1.0
    m = ex.translator.method
    translate = m.translate

    def whole_labels_only(images, target, extra=None):
        if target.is_floating_point():
            raise ValueError("expected label indices")
        return translate(images, target, extra)

    monkeypatch.setattr(m, "translate", whole_labels_only)
    ex.t.value = 0.5
    assert "could not translate" in ex.status.value and "expected label indices" in ex.status.value
    assert "t to 0 or 1" in ex.status.value and ex.output.value == b"" and ex.result is None
    ex.t.value = 1.0                                     # a whole label again: the picture and a clean status
    assert ex.status.value == "" and ex.output.value and ex.result is not None


def test_a_lesson_can_open_it_on_its_own_method(ship):
    e = explorer.Explorer(directory=ship, n_faces=2, method="ganimation")
    assert e.method.value == "ganimation" and e.translator.method.name == "ganimation"
    assert explorer.Explorer(directory=ship, n_faces=2, method="not-shipped").method.value == e.names[0]


def test_the_offline_photos_are_aligned_by_dlib(ex):
    from course_lib import align

    set_method(ex, "lgp-gan")
    ex.source.value = "test face"
    before = ex.input_image.value
    ex.source.value = "Grace Hopper"
    face = ex.current
    assert face.name == "Grace Hopper" and face.label is None and ex.face.layout.display == "none"
    assert tuple(face.image.shape) == (3, align.DEFAULT_SIZE, align.DEFAULT_SIZE)
    left, right = align.eye_centres(face.landmarks.numpy())     # eyes where the alignment puts them
    assert np.allclose(np.stack([left, right]), align.canonical_eyes(align.DEFAULT_SIZE), atol=1.0)
    assert ex.input_image.value != before and ex.result is not None and "error" not in ex.status.value
    ex.source.value = "test face"


def test_interpolation_figure_draws_each_method_along_its_path(ship):
    fig = explorer.interpolation_figure(directory=ship, face=0, target="happy", steps=2)
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == list(shipped.available(ship)) and len(fig.axes) == 3 * len(rows)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["t = 0", "t = 0.5", "t = 1"]
    for r in range(len(rows)):
        first, last = (fig.axes[3 * r + c].get_images()[0].get_array() for c in (0, 2))
        assert np.abs(np.asarray(first, float) - np.asarray(last, float)).max() > 0
