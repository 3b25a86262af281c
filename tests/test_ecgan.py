"""ECGAN and its baselines (issue 17): network shapes, the condition at the bottleneck, Eq. 1-6 on known
inputs, the face mask, the image pool, how an iteration draws x and y (pairs for pix2pix), one training
iteration of ecgan / cyclegan / pix2pix, and exact resume."""
import csv

import numpy as np
import pytest
import torch

from course_lib import ecgan as E
from course_lib import facs, trainer
from course_lib.config import preset

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py
NEUTRAL = facs.EXPRESSIONS.index("neutral")


def tiny(model, **kw):
    hyper = {"content_weights": "in-domain"} if model == "ecgan" else {}
    values = dict(model=model, steps=2, decay_start=1, log_every=1, sample_every=1000, checkpoint_every=1000,
                  n_samples=1, hyper=hyper)
    values.update(kw)
    return preset("cpu", **values)


# ----------------------------------------------------------------------------- networks
def test_network_shapes():
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    z = E.one_hot(torch.tensor([1, 3]))
    assert E.ResnetGenerator(64, 8, 2, 8)(x, z).shape == x.shape
    assert E.ResnetGenerator(64, 8, 2)(x).shape == x.shape
    # 70x70 PatchGAN: 64 -> 32 -> 16 -> 8 -> 7 -> 6 (three stride-2 convs, two stride-1 4x4 convs)
    assert E.PatchDiscriminator(3 + 8, 16)(x, z).shape == (2, 1, 6, 6)
    assert E.PatchDiscriminator(6 + 8, 16)(x, x, z).shape == (2, 1, 6, 6)
    assert E.UnetGenerator(64, 8)(x, z).shape == x.shape
    assert E.UnetGenerator(32, 8)(x[..., :32, :32], z).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"expected z of shape \(2, 8\)"):
        E.ResnetGenerator(64, 8, 2, 8)(x)


def test_cyclegan_has_seven_pairs_and_counts_them():
    from course_lib import methods

    m = methods.get("cyclegan")(size="cpu")
    others = [e for e in facs.EXPRESSIONS if e != "neutral"]
    assert sorted(m.nets["G"]) == sorted(f"{k}_{e}" for k in ("XY", "YX") for e in others)
    built = {k: sum(p.numel() for p in m.nets[k].parameters()) for k in ("G", "D")}
    assert methods.get("cyclegan").parameter_counts("cpu") == built


def test_the_condition_reaches_the_bottleneck():
    torch.manual_seed(0)
    G = E.init_weights(E.ResnetGenerator(64, 8, 2, n_cond=8)).eval()
    x = (torch.rand(1, 3, 64, 64) * 2 - 1).expand(2, -1, -1, -1)
    with torch.no_grad():
        out = G(x, E.one_hot(torch.tensor([1, 5])))
        assert (out[0] - out[1]).abs().max() > 1e-4              # same image, other z: another output
        # the only way z enters is the fully connected layer at the bottleneck: cut it and z stops mattering
        G.cond_fc.weight.zero_(), G.cond_fc.bias.zero_()
        cut = G(x, E.one_hot(torch.tensor([1, 5])))
        assert torch.allclose(cut[0], cut[1], atol=1e-6)
    assert G.cond_fc.out_features == 8 * 16 * 16               # cond_channels maps of the 16x16 bottleneck


def test_swapped_condition():
    z = E.one_hot(torch.tensor([0, 4]))                          # angry, happy
    assert torch.equal(E.swap(z, torch.tensor([0, 4]), NEUTRAL), E.one_hot(torch.tensor([NEUTRAL, NEUTRAL])))
    z2 = E.swap(E.one_hot(torch.tensor([2])), torch.tensor([2]), torch.tensor([5]))
    assert z2.tolist() == [[0, 0, 0, 0, 0, 1, 0, 0]]


def test_image_pool_fills_then_mixes_history_and_keeps_it_in_its_state():
    torch.manual_seed(0)
    pool = E.ImagePool(8, n_cond=2, size=3)
    imgs = [torch.full((1, 3, 8, 8), float(i)) for i in range(40)]
    conds = [torch.tensor([[float(i), -float(i)]]) for i in range(40)]
    for i in range(3):                                           # not full: returns what it gets
        out, c = pool.query(imgs[i], conds[i])
        assert torch.equal(out, imgs[i]) and torch.equal(c, conds[i])
    returned = [pool.query(imgs[i], conds[i]) for i in range(3, 40)]
    old = [int(o[0, 0, 0, 0]) for o, _ in returned]
    assert any(v < i for v, i in zip(old, range(3, 40)))        # history comes back ...
    assert any(v == i for v, i in zip(old, range(3, 40)))       # ... and so do new images
    assert all(float(c[0, 0]) == v == -float(c[0, 1]) for (_, c), v in zip(returned, old))   # with their conditions
    copy = E.ImagePool(8, n_cond=2, size=3)
    copy.load_state_dict(pool.state_dict())
    assert int(copy.count) == 3 and torch.equal(copy.images, pool.images)


# ----------------------------------------------------------------------------- Losses (Eq. 1-6)
def test_lsgan_loss_on_known_values():
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert float(E.lsgan_loss(ones, zeros)) == 0.0                # a perfect discriminator
    assert float(E.lsgan_loss(zeros, ones)) == 2.0                # a fooled one: (0-1)^2 + 1^2
    half = torch.full((1, 1, 2, 2), 0.5)
    assert float(E.lsgan_loss(half, half)) == pytest.approx(0.5)
    assert float(E.lsgan_generator_loss(zeros)) == 1.0 and float(E.lsgan_generator_loss(ones)) == 0.0
    d = torch.tensor([0.0, 0.5, 2.0]).view(3, 1, 1, 1)
    assert float(E.lsgan_generator_loss(d)) == pytest.approx((1 + 0.25 + 1) / 3)


def test_cycle_identity_content_mask_and_full_objective_on_known_inputs():
    x, y = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    rec_x, rec_y = torch.full_like(x, 0.5), torch.full_like(y, 0.75)
    assert float(E.cycle_loss(x, rec_x, y, rec_y)) == pytest.approx(0.5 + 0.25)
    assert float(E.identity_loss(x, rec_x, y, y)) == pytest.approx(0.5)
    # content: features = the image itself and its double; mean squared differences per layer, summed
    feats = lambda t: {"a": t, "b": 2 * t}                       # noqa: E731
    assert float(E.content_loss(feats, x, rec_x, y, rec_y)) == pytest.approx((0.25 + 1.0) + (0.0625 + 0.25))
    # mask: only the left half of x's face counts, all of y's
    mask_x = torch.zeros(1, 1, 4, 4)
    mask_x[..., :2] = 1
    assert float(E.mask_term(x, rec_x, mask_x)) == pytest.approx(0.25)
    assert float(E.mask_loss(x, rec_x, mask_x, y, rec_y, torch.ones(1, 1, 4, 4))) == pytest.approx(0.25 + 0.25)
    parts = {"gan": torch.tensor(1.0), "cycle": torch.tensor(2.0), "content": torch.tensor(3.0),
             "identity": torch.tensor(4.0), "mask": torch.tensor(5.0)}
    assert float(E.full_objective(parts, 10, 1, 5, 10)) == 1 + 20 + 3 + 20 + 50


# ----------------------------------------------------------------------------- face mask (Eq. 5, Fig. 2)
def test_face_mask_covers_the_landmark_hull_and_forehead_and_excludes_the_corners(faces):
    lm = faces["landmarks"][:4]
    steps = E.face_mask_steps(lm, 64)
    m = steps["mask"]
    assert m.shape == (4, 1, 64, 64) and set(m.unique().tolist()) <= {0.0, 1.0}
    for b in range(4):
        px = lm[b].round().long().clamp(0, 63)
        assert bool((m[b, 0, px[:, 1], px[:, 0]] == 1).all())     # every landmark pixel
        assert bool((m[b] >= steps["hull"][b]).all())              # the whole hull
        for yy, xx in ((0, 0), (0, 63), (63, 0), (63, 63)):
            assert m[b, 0, yy, xx] == 0                            # the corners are background
        # the forehead: a point above the brows (up the face axis by 0.2 x bridge-to-chin) is covered
        axis = lm[b, 27] - lm[b, 8]
        brow = lm[b, 17:27].mean(0) + 0.2 * axis
        assert m[b, 0, int(brow[1].round()), int(brow[0].round())] == 1
        assert steps["hull"][b, 0, int(brow[1].round()), int(brow[0].round())] == 0
    assert 0.2 < float(m.mean()) < 0.7
    with pytest.raises(ValueError, match="NaN"):
        E.face_mask(torch.full((68, 2), float("nan")), 64)


def test_convex_fill_against_a_square():
    sq = E.convex_hull(np.array([[2, 2], [5, 2], [5, 5], [2, 5], [3, 3]]))
    assert len(sq) == 4
    m = E.fill_convex(sq, 8)
    want = torch.zeros(8, 8)
    want[2:6, 2:6] = 1
    assert torch.equal(m, want)


# ----------------------------------------------------------------------------- drawing x and y
def test_draws_x_neutral_y_expression_and_pix2pix_pairs_of_one_identity(faces):
    from course_lib import methods

    for name in ("ecgan", "pix2pix"):
        m = methods.get(name)(methods.make_hyper(name, {"content_weights": "in-domain"} if name == "ecgan" else {}))
        m.bind_data(faces)
        torch.manual_seed(0)
        for k in range(16):
            batch = {"image": torch.zeros(1, 3, 64, 64), "label": faces["label"][k:k + 1],
                     "identity": faces["identity"][k:k + 1]}
            d = m.draw(batch)
            xi, yi = int(d["x_index"]), int(d["y_index"])
            assert faces["label"][xi] == NEUTRAL and faces["label"][yi] != NEUTRAL
            assert k in (xi, yi)                                    # the batch image is one of them
            assert int(d["y_label"]) == int(faces["label"][yi])
            if name == "pix2pix":
                assert faces["identity"][xi] == faces["identity"][yi]
            else:
                assert torch.equal(d["mask_x"], E.face_mask(faces["landmarks"][xi:xi + 1], 64))
                z, z_swapped = m.conditions(d)                      # G_X->Y: y's expression; G_Y->X: swapped
                assert torch.equal(z, E.one_hot(faces["label"][yi:yi + 1]))
                assert torch.equal(z_swapped, E.one_hot(torch.tensor([NEUTRAL])))


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("model", ["ecgan", "cyclegan", "pix2pix"])
def test_one_training_iteration_updates_g_and_d(model, faces, tmp_path):
    tr = trainer.Trainer(tiny(model), tmp_path, faces, progress=False)
    assert tr.config.batch_size == 1 and tr.config.g_lr == tr.config.d_lr == 2e-4 and tr.config.beta1 == 0.5
    g0 = [p.detach().clone() for p in tr.nets["G"].parameters()]
    d0 = [p.detach().clone() for p in tr.nets["D"].parameters()]
    parts = tr.iteration(tr.stream.next())
    assert all(np.isfinite(v) for v in parts.values())
    want = {"ecgan": {"G/gan", "G/cycle", "G/content", "G/identity", "G/mask", "D/D_X", "D/D_Y"},
            "cyclegan": {"G/gan", "G/cycle", "G/identity", "D/D_X", "D/D_Y"},
            "pix2pix": {"G/gan", "G/l1", "D/D"}}[model]
    assert want <= set(parts)
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.nets["G"].parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, tr.nets["D"].parameters()))
    if model == "ecgan":
        assert tr.method.feature_info["kind"] == "in-domain-judge"
        assert int(tr.nets["D"]["pool_X"].count) == 1 and int(tr.nets["D"]["pool_Y"].count) == 1
    out = tr.translator()(faces["image"][:2].float().div(127.5).sub(1), torch.tensor([4, NEUTRAL]))
    assert out.shape == (2, 3, 64, 64)


def test_ecgan_translates_from_neutral_with_g_xy_and_otherwise_through_neutral(faces):
    from course_lib import methods

    torch.manual_seed(0)
    m = methods.get("ecgan")().train(False)
    x = faces["image"][[NEUTRAL, 0]].float().div(127.5).sub(1)          # a neutral and an angry face
    t = torch.tensor([4, 4])
    with torch.no_grad():
        r = m.translate(x, t, {"source": torch.tensor([NEUTRAL, 0])})["out"]
        direct = m.nets["G"]["XY"](x, E.one_hot(t))
        via = m.nets["G"]["XY"](m.nets["G"]["YX"](x, E.one_hot(torch.tensor([NEUTRAL] * 2))), E.one_hot(t))
    assert torch.allclose(r[0], direct[0], atol=1e-6) and torch.allclose(r[1], via[1], atol=1e-6)


def test_resume_is_exact_with_the_image_pools(faces, tmp_path):
    cfg = tiny("ecgan", steps=4, decay_start=2)
    straight = trainer.Trainer(cfg, tmp_path / "a", faces, progress=False)
    straight.train()
    first = trainer.Trainer(cfg, tmp_path / "b", faces, progress=False)
    first.train(until=2)
    torch.manual_seed(1234)                   # disturb the global RNG: the checkpoint must restore it
    second = trainer.Trainer(cfg, tmp_path / "b", faces, resume=True, progress=False)
    assert second.step == 2 and int(second.nets["D"]["pool_Y"].count) == 2
    second.train()
    rows = lambda d: list(csv.DictReader(open(d / "log.csv")))  # noqa: E731
    assert rows(tmp_path / "a") == rows(tmp_path / "b")
    for net in ("G", "D"):
        for a, b in zip(straight.nets[net].state_dict().values(), second.nets[net].state_dict().values()):
            assert torch.equal(a, b)


def test_batch_one_is_allowed_for_these_methods_only():
    from course_lib.config import ConfigError, TrainConfig

    assert TrainConfig(model="ecgan", batch_size=1).batch_size == 1
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(model="stargan", batch_size=1)
    with pytest.raises(ValueError, match="expressions"):
        TrainConfig(model="cyclegan", hyper={"expressions": "happy,neutral"})


# ----------------------------------------------------------------------------- Table 2's helpers
def test_table2_scores_probe_and_generated_sets(faces):
    from course_lib import methods
    from course_lib.tables import ecgan_table2 as T

    proba = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    acc, vgg = T.scores(proba, torch.tensor([0, 2, 1]))
    assert acc == pytest.approx(200 / 3) and vgg == pytest.approx(100 * (0.7 + 0.6 + 0.4) / 3)
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(60, 5, generator=g)
    labels = (feats[:, 0] > 0).long() + 2 * (feats[:, 1] > 0).long()      # linearly separable, 4 classes
    predict = T.train_probe(feats, labels, n_classes=4)
    assert T.scores(predict(feats), labels)[0] > 90
    # every neutral face to the 7 other expressions, with the source given as neutral
    torch.manual_seed(0)
    tr = type("T", (), {"method": methods.get("pix2pix")().train(False), "device": torch.device("cpu")})()
    neutral = faces["image"][faces["label"] == NEUTRAL]
    images, targets, source = T.generate(tr, neutral)
    assert images.shape == (14, 3, 64, 64) and images.dtype == torch.uint8
    assert targets.tolist() == [t for t in range(8) if t != NEUTRAL] * 2 and source.tolist() == [0] * 7 + [1] * 7
