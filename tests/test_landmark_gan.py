"""course_lib.landmark_gan and the ``landmark-gan`` method (Li, Qi and Sun 2021): Tables 1-3, Eq. 1-7, IV.B.

Expectations come from the paper's tables (shapes, layer order), closed forms (Gaussians,
BCE of known probabilities, Eq. 1-3 with weights that make every path a known constant) or
hand counts, never from the code's own output.
"""
import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import landmark_gan as lg
from course_lib.images import unit_from_uint8

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# ----------------------------------------------------------------------------- inputs
def test_heatmaps_peak_at_the_landmarks_with_the_stated_sigma():
    g = torch.Generator().manual_seed(0)
    lm = torch.randint(4, 60, (2, 68, 2), generator=g).float()
    h = lg.landmark_heatmaps(lm, 64)
    assert h.shape == (2, 68, 64, 64) and float(h.max()) == pytest.approx(1.0) and float(h.min()) >= 0
    flat = h.flatten(2).argmax(-1)                               # row-major: y * 64 + x
    assert torch.equal(flat % 64, lm[..., 0].long()) and torch.equal(flat // 64, lm[..., 1].long())
    s = lg.heatmap_sigma(64)
    assert s == 1.5 and lg.heatmap_sigma(128) == 3.0
    x, y = int(lm[0, 5, 0]), int(lm[0, 5, 1])
    assert float(h[0, 5, y, x + 1]) == pytest.approx(math.exp(-1 / (2 * s * s)), rel=1e-5)
    assert float(h[0, 5, y + 2, x - 1]) == pytest.approx(math.exp(-5 / (2 * s * s)), rel=1e-5)
    lm[1, 7] = float("nan")                                      # an unknown landmark: an empty channel
    assert float(lg.landmark_heatmaps(lm, 64)[1, 7].abs().sum()) == 0
    img = lg.landmark_image(h)
    assert img.shape == (2, 1, 64, 64) and float(img.max()) == pytest.approx(1) and float(img.min()) == pytest.approx(-1)


def test_label_maps_are_plus_one_in_the_label_channel_and_minus_one_elsewhere():
    m = lg.label_maps(torch.tensor([3, 0]), 5)
    assert m.shape == (2, 8, 5, 5)
    want = -torch.ones(2, 8)
    want[0, 3] = want[1, 0] = 1
    assert torch.equal(m, want[:, :, None, None].expand(-1, -1, 5, 5))
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        lg.label_maps(torch.tensor([8]), 4)


# ----------------------------------------------------------------------------- Table 1, Eq. 1-3
def test_migration_unit_layers_follow_table_1():
    mu = lg.MigrationUnit(16)
    image_path = [type(m) for m in mu.conv_p]
    landmark_path = [type(m) for m in mu.conv_s]
    row = [nn.ReflectionPad2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Dropout, nn.ReflectionPad2d, nn.Conv2d]
    assert image_path == row + [nn.BatchNorm2d] and landmark_path == row       # 1_1-1_8 and 2_1-2_7
    for path in (mu.conv_p, mu.conv_s):
        convs = [m for m in path if isinstance(m, nn.Conv2d)]
        assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) for c in convs)
        assert all(p.padding == (1, 1, 1, 1) for p in path if isinstance(p, nn.ReflectionPad2d))
    later = lg.MigrationUnit(16, first=False)                    # F^S has 2 dim channels after Eq. 3
    assert later.conv_s[1].in_channels == 32 and later.conv_s[-1].out_channels == 16


def test_migration_unit_equations_1_to_3_on_fixed_weights():
    """conv_s made the constant b (its last conv: zero weights, bias b) and conv_p the constant beta
    (its last BatchNorm: scale 0, shift beta): Eq. 1-3 then have a closed form."""
    torch.manual_seed(0)
    mu = lg.MigrationUnit(3).eval()
    b = torch.tensor([-1.0, 0.0, 2.0])
    beta = torch.tensor([0.5, -2.0, 3.0])
    with torch.no_grad():
        mu.conv_s[-1].weight.zero_()
        mu.conv_s[-1].bias.copy_(b)
        mu.conv_p[-1].weight.zero_()
        mu.conv_p[-1].bias.copy_(beta)
    fp, fs = torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5)
    fp_t, fs_t, m = mu(fp, fs)
    mask = torch.sigmoid(b).view(1, 3, 1, 1)                     # Eq. 1
    assert torch.allclose(m, mask.expand_as(m))
    assert torch.allclose(fp_t, mask * beta.view(1, 3, 1, 1) + fp, atol=1e-6)          # Eq. 2
    assert torch.allclose(fs_t, torch.cat([b.view(1, 3, 1, 1).expand(2, 3, 5, 5), fp_t], 1), atol=1e-6)  # Eq. 3


# ----------------------------------------------------------------------------- Tables 2, 3; E_ini
def _shapes(seq, x):
    out = []
    for layer in seq:
        x = layer(x)
        out.append((type(layer).__name__, tuple(x.shape[1:])))
    return out


def test_decoder_follows_table_2_at_128():
    dec = lg.Decoder(256 + 8, 64)
    got = _shapes(dec.main, torch.randn(2, 264, 32, 32))
    want = [("ConvTranspose2d", (128, 64, 64)), ("BatchNorm2d", (128, 64, 64)), ("ReLU", (128, 64, 64)),
            ("ConvTranspose2d", (64, 128, 128)), ("BatchNorm2d", (64, 128, 128)), ("ReLU", (64, 128, 128)),
            ("ReflectionPad2d", (64, 134, 134)), ("Conv2d", (3, 128, 128)), ("Tanh", (3, 128, 128))]
    assert got == want
    kernels = [m.kernel_size for m in dec.main if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert kernels == [(3, 3), (3, 3), (7, 7)]


@pytest.mark.parametrize("size,side", [(128, 14), (64, 6)])
def test_critic_follows_table_3(size, side):
    D = lg.PatchCritic(6, 64)
    got = _shapes(D.main, torch.randn(2, 6, size, size))
    s = size
    want = [("Conv2d", (64, s // 2, s // 2)), ("LeakyReLU", (64, s // 2, s // 2)),
            ("Conv2d", (128, s // 4, s // 4)), ("BatchNorm2d", (128, s // 4, s // 4)), ("LeakyReLU", (128, s // 4, s // 4)),
            ("Conv2d", (256, s // 8, s // 8)), ("BatchNorm2d", (256, s // 8, s // 8)), ("LeakyReLU", (256, s // 8, s // 8)),
            ("Conv2d", (512, s // 8 - 1, s // 8 - 1)), ("BatchNorm2d", (512, s // 8 - 1, s // 8 - 1)),
            ("LeakyReLU", (512, s // 8 - 1, s // 8 - 1)),
            ("Conv2d", (1, side, side)), ("BatchNorm2d", (1, side, side)), ("Sigmoid", (1, side, side))]
    assert got == want and lg.output_size(size) == side
    assert all(c.kernel_size == (4, 4) for c in D.main if isinstance(c, nn.Conv2d))
    # parameters counted by hand: conv1 with bias, the others bias-free before their BatchNorm
    convs = [(6, 64, True), (64, 128, False), (128, 256, False), (256, 512, False), (512, 1, False)]
    n = sum(16 * ci * co + (co if bias else 0) for ci, co, bias in convs) + 2 * (128 + 256 + 512 + 1)
    assert lg.count_parameters(D) == n


def test_generator_shapes_at_the_paper_and_cpu_sizes():
    from course_lib.methods import get

    for size, ngf, blocks, s in (("paper", 64, 6, 128), ("cpu-wide", 16, 3, 64)):
        m = get("landmark-gan")(size=size)
        G, D = m.nets["G"], m.nets["D"]
        assert len(G.blocks) == blocks and G.ngf == ngf
        x = torch.randn(2, 3, s, s)
        h = G.heatmaps(torch.rand(2, 68, 2) * s)
        assert G.e_image(x).shape == (2, 4 * ngf, s // 4, s // 4) and G.e_geometry(h).shape == (2, 4 * ngf, s // 4, s // 4)
        assert G.e_geometry.main[1].in_channels == 68
        with torch.no_grad():
            o = G(x, h, torch.tensor([1, 5]))
        assert o["out"].shape == (2, 3, s, s) and len(o["masks"]) == blocks
        assert float(o["out"].abs().max()) <= 1
        assert G.decoder.main[0].in_channels == 4 * ngf + 8                   # label maps concatenated
        assert D["image"].main[0].in_channels == 6 and D["geometry"].main[0].in_channels == 4
        with torch.no_grad():
            assert D["image"](torch.randn(2, 6, s, s)).shape == (2, 1, lg.output_size(s), lg.output_size(s))


def test_ablation_switches_of_table_7():
    G = lg.LandmarkGenerator(64, 8, 1, feature_init=False, use_labels=False)
    assert isinstance(G.e_image, lg.PlainInit) and G.decoder.main[0].in_channels == 32
    x, h = torch.randn(2, 3, 64, 64), torch.rand(2, 68, 64, 64)
    assert G(x, h)["out"].shape == (2, 3, 64, 64)
    # w/o E_ini: pixel_unshuffle keeps every pixel (the 1x1 conv sees a 4x4 patch per position)
    assert G.e_image.proj.in_channels == 48 and G.e_image(x).shape == (2, 32, 16, 16)


def test_weights_are_initialised_from_normal_0_002():
    from course_lib.methods import get

    m = get("landmark-gan")(size="paper")
    w = torch.cat([mod.weight.detach().flatten() for net in m.nets.values() for mod in net.modules()
                   if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(float(w.mean())) < 1e-4 and float(w.std()) == pytest.approx(0.02, rel=0.01)
    biases = [mod.bias for net in m.nets.values() for mod in net.modules()
              if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)) and mod.bias is not None]
    assert biases and all(float(b.detach().abs().max()) == 0 for b in biases)
    g = torch.cat([mod.weight.detach() for net in m.nets.values() for mod in net.modules()
                   if isinstance(mod, nn.BatchNorm2d)])
    assert float(g.mean()) == pytest.approx(1, abs=2e-3) and float(g.std()) == pytest.approx(0.02, rel=0.1)


# ----------------------------------------------------------------------------- Eq. 4-7
def test_each_loss_on_known_inputs():
    p = torch.full((2, 1, 14, 14), 0.9)
    assert float(lg.adversarial_loss(p, True)) == pytest.approx(-math.log(0.9), rel=1e-5)     # Eq. 4, real = 1
    assert float(lg.adversarial_loss(p, False)) == pytest.approx(-math.log(0.1), rel=1e-5)    # fake = 0
    z = torch.zeros(3, 1, 6, 6)
    assert float(lg.adversarial_loss_logits(z, True)) == pytest.approx(math.log(2), rel=1e-6)
    a, b = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    b[:, :, :2] = 0.5                                             # half the pixels differ by 0.5
    assert float(lg.pixel_loss(a, b)) == pytest.approx(0.25)      # Eq. 5
    doubling = lambda x: {"conv1_2": 2 * x, "conv2_1": 0 * x}      # a feature network with a known layer
    assert float(lg.perceptual_loss(a, b, doubling)) == pytest.approx(0.5)   # Eq. 6
    assert float(lg.total_generator_loss(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(3.0))) == 55  # Eq. 7
    assert float(lg.total_generator_loss(1.0, 2.0, 3.0, lambdas=(1, 10, 100))) == 321   # lambda_1..3 in order
    assert lg.LAMBDAS == (5.0, 10.0, 10.0)


class _FirstChannel(nn.Module):
    """A stand-in critic whose logits are the first channel of its input pair."""
    def logits(self, pair):
        return pair[:, :1]


def test_critic_loss_bce_on_real_and_fake_maps():
    real = torch.cat([torch.full((2, 1, 3, 3), 2.0), torch.zeros(2, 3, 3, 3)], 1)
    fake = torch.cat([torch.full((2, 1, 3, 3), -1.0), torch.zeros(2, 3, 3, 3)], 1)
    loss, parts = lg.critic_loss(_FirstChannel(), real, fake)
    want_real, want_fake = math.log(1 + math.exp(-2)), math.log(1 + math.exp(-1))   # -log s(2), -log(1 - s(-1))
    assert float(parts["real"]) == pytest.approx(want_real, rel=1e-5)
    assert float(parts["fake"]) == pytest.approx(want_fake, rel=1e-5)
    assert float(loss) == pytest.approx(want_real + want_fake, rel=1e-5)
    g = lg.generator_adversarial_loss(_FirstChannel(), real, fake)                   # BCE(D(fake), 1)
    assert float(g) == pytest.approx(math.log(1 + math.exp(1)), rel=1e-5)


def test_critic_loss_scores_reals_and_fakes_in_one_batch():
    """With Table 3's BatchNorm5 the critic's loss must come from one forward pass over reals and fakes."""
    torch.manual_seed(1)
    D = lg.init_weights(lg.PatchCritic(4, 8)).train()
    reals, fakes = torch.rand(3, 4, 32, 32), -torch.rand(3, 4, 32, 32)
    _, parts = lg.critic_loss(D, reals, fakes)
    with torch.no_grad():
        joint = D.logits(torch.cat([reals, fakes]))
        apart = D.logits(reals), D.logits(fakes)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    want = bce(joint[:3], torch.ones_like(joint[:3])), bce(joint[3:], torch.zeros_like(joint[3:]))
    other = bce(apart[0], torch.ones_like(apart[0])), bce(apart[1], torch.zeros_like(apart[1]))
    assert float(parts["real"]) == pytest.approx(float(want[0]), rel=1e-5)
    assert float(parts["fake"]) == pytest.approx(float(want[1]), rel=1e-5)
    assert abs(float(other[0]) - float(want[0])) > 1e-3          # separate batches would give other numbers


def test_last_batchnorm_hides_real_versus_fake_in_separate_batches_not_in_one():
    """Table 3's BatchNorm5 in training mode: a batch of only reals and a batch of only fakes both come
    out with mean logit = the BN shift (0); scored together they differ."""
    torch.manual_seed(0)
    D = lg.init_weights(lg.PatchCritic(4, 8)).train()
    reals, fakes = torch.rand(4, 4, 32, 32), -torch.rand(4, 4, 32, 32)
    with torch.no_grad():
        assert abs(float(D.logits(reals).mean())) < 1e-5 and abs(float(D.logits(fakes).mean())) < 1e-5
        both = D.logits(torch.cat([reals, fakes]))
    assert abs(float(both[:4].mean() - both[4:].mean())) > 0.1


# ----------------------------------------------------------------------------- pairs and target landmarks
def test_partners_are_the_same_identity_with_another_expression():
    ids = torch.tensor([0, 0, 0, 1, 1, 2])
    labels = torch.tensor([0, 1, 2, 0, 3, 4])
    table, tl = lg.pair_table(ids, labels)
    torch.manual_seed(0)
    seen = set()
    for _ in range(200):
        j = lg.draw_partners(ids, labels, table, tl)
        for i in range(5):
            assert ids[j[i]] == ids[i] and labels[j[i]] != labels[i]
            seen.add((i, int(j[i])))
        assert j[5] == -1                                          # identity 2 has one image: no partner
    assert {(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (3, 4), (4, 3)} == seen


def test_fallback_target_landmarks_add_the_mean_displacement(faces):
    shapes = lg.expression_shapes(faces["landmarks"], faces["label"], 64)
    assert shapes.shape == (8, 68, 2) and torch.allclose(shapes[3], faces["landmarks"][[3, 11]].mean(0) / 64)
    src = faces["landmarks"][:8]
    assert torch.equal(lg.source_expression_from_landmarks(src, shapes * 64), torch.arange(8))
    t = torch.tensor([5, 0, 1, 2, 3, 4, 6, 7])
    got = lg.fallback_target_landmarks(src, t, shapes, 64)
    k = torch.arange(8)
    size = lambda p: (p - p.mean(1, keepdim=True)).pow(2).sum(-1).mean(-1).sqrt()[:, None, None]   # RMS radius
    assert torch.allclose(got, src + 64 * (shapes[t] - shapes[k]) * size(src) / size(64 * shapes[k]), atol=1e-4)
    with pytest.raises(ValueError, match="expression shapes"):
        lg.fallback_target_landmarks(src, t, torch.full((8, 68, 2), float("nan")), 64)


# ----------------------------------------------------------------------------- the method and the trainer
def _tiny(**kw):
    from course_lib.config import preset

    values = dict(model="landmark-gan", steps=2, batch_size=2, log_every=1, sample_every=1000,
                  checkpoint_every=1000, n_samples=1, hyper={"perceptual_weights": "in-domain", "n_blocks": 1})
    values.update(kw)
    return preset("cpu", **values)


def test_cpu_preset_trains_at_64_pixels_with_the_papers_learning_rate():
    from course_lib.config import preset

    c = preset("cpu", model="landmark-gan")
    assert (c.image_size, c.net_size, c.g_lr, c.d_lr, c.batch_size) == (64, "cpu-wide", 2e-4, 2e-4, 8)
    p = preset("paper", model="landmark-gan")
    assert (p.image_size, p.batch_size, p.g_lr, p.d_lr) == (128, 16, 2e-4, 2e-4)
    assert p.hyper["lambda_gan"] == 5 and p.hyper["lambda_per"] == 10 and p.hyper["lambda_pixel"] == 10


def test_one_training_iteration_updates_g_and_both_critics(faces, tmp_path):
    from course_lib import trainer

    tr = trainer.Trainer(_tiny(), tmp_path, faces, progress=False)
    before = {n: [p.detach().clone() for p in net.parameters()] for n, net in tr.nets.items()}
    batch = tr.method.prepare(tr.stream.next())
    same_id = batch["identity"]
    assert batch["target"].shape == batch["image"].shape and batch["heatmaps"].shape == (2, 68, 64, 64)
    assert bool((batch["target_label"] != batch["label"]).all())           # another expression ...
    for i in range(2):                                                      # ... of the same person
        k = int(same_id[i]) * 8 + int(batch["target_label"][i])
        assert torch.equal(batch["target_landmarks"][i], faces["landmarks"][k])
        assert torch.equal(unit_from_uint8(faces["image"][k]), batch["target"][i])
    assert torch.allclose(batch["heatmaps"], lg.landmark_heatmaps(batch["target_landmarks"], 64))  # G sees the target's
    parts = tr.iteration(tr.stream.next())
    assert {"D/image_real", "D/image_fake", "D/geometry_real", "D/geometry_fake", "G/adv", "G/perceptual",
            "G/pixel", "G/total"} <= set(parts) and all(np.isfinite(v) for v in parts.values())
    assert parts["G/total"] == pytest.approx(5 * parts["G/adv"] + 10 * parts["G/perceptual"] + 10 * parts["G/pixel"],
                                             rel=1e-5)
    for n in ("G", "D"):
        assert any(not torch.equal(a, b) for a, b in zip(before[n], tr.nets[n].parameters())), n
    for critic in ("image", "geometry"):
        params = list(tr.nets["D"][critic].parameters())
        i0 = [p for name, p in tr.nets["D"].named_parameters() if name.startswith(critic)]
        assert len(params) == len(i0)
    assert tr.method.feature_info["kind"] == "in-domain-judge"


def test_training_data_without_identities_is_refused(faces, tmp_path):
    from course_lib import trainer

    no_id = {k: v for k, v in faces.items() if k != "identity"}
    with pytest.raises(ValueError, match="same identity.*identity"):
        trainer.Trainer(_tiny(), tmp_path, no_id, progress=False)


@pytest.mark.slow
def test_resume_continues_exactly(faces, tmp_path):
    from course_lib import trainer

    cfg = _tiny(steps=4)
    straight = trainer.Trainer(cfg, tmp_path / "a", faces, progress=False)
    straight.train()
    first = trainer.Trainer(cfg, tmp_path / "b", faces, progress=False)
    first.train(until=2)
    torch.manual_seed(1234)  # disturb the global RNG: the checkpoint must restore it (the pairs are drawn from it)
    second = trainer.Trainer(cfg, tmp_path / "b", faces, resume=True, progress=False)
    assert second.step == 2
    second.train()
    rows = lambda d: list(csv.DictReader(open(d / "log.csv")))
    assert rows(tmp_path / "a") == rows(tmp_path / "b")
    for a, b in zip(straight.nets["G"].state_dict().values(), second.nets["G"].state_dict().values()):
        assert torch.equal(a, b)


def test_translate_with_given_or_fallback_target_landmarks(faces, tmp_path):
    from course_lib import trainer

    tr = trainer.Trainer(_tiny(steps=1), tmp_path, faces, progress=False)
    tr.train()
    t = trainer.load_translator(tmp_path)
    x = unit_from_uint8(faces["image"][:2])
    y = t(x, torch.tensor([3, 4]), faces["landmarks"][:2])                    # fallback from the label
    assert y.shape == (2, 3, 64, 64)
    r = t.method.translate(x, torch.tensor([3, 4]), {"target_landmarks": faces["landmarks"][[11, 12]]})
    assert torch.equal(r["target_landmarks"], faces["landmarks"][[11, 12]]) and "M_1" in r["visuals"]
    with pytest.raises(ValueError, match="landmarks"):
        t(x, torch.tensor([3, 4]), None)


def test_verification_scores_on_known_descriptors():
    """Table 6's measures on 1-D descriptors: gallery of 3 people at 0, 10, 20."""
    gallery, gids = np.array([[0.0], [10.0], [20.0]]), ["a", "b", "c"]
    probes = np.array([[1.0], [9.0], [14.0], [np.nan]])           # a, b, c (nearer to b), d: no face
    pids = ["a", "b", "c", "a"]
    s = lg.verification_scores(gallery, gids, probes, pids, fars=(0.5, 0.01))
    assert s["rank1"] == pytest.approx(2 / 4)                       # c is closer to b; the no-face probe misses
    assert s["no_face"] == 1 and s["n_impostor"] == 6 and s["n_probes"] == 4
    # impostor distances: a:{9, 19}, b:{9, 11}, c:{14, 4} -> sorted 4, 9, 9, 11, 14, 19; FAR 0.5 accepts 3 -> <= 9
    assert s["threshold@0.5"] == 9.0
    # genuine distances 1, 1, 6 (and the no-face probe, never accepted): 3 of 4 within 9
    assert s["tar@0.5"] == pytest.approx(3 / 4)
    assert s["tar@0.01"] == 0.0                                     # 6 impostor pairs: 1 % accepts none


@pytest.mark.slow
def test_reproduce_helpers_train_once_reuse_and_cache(faces, tmp_path):
    """The tables' shared model: trained once, then loaded; ground-truth translations cached; Table 4's
    generated set has other expressions than its sources."""
    from course_lib import datasets, evaluate, landmark_gan_runs as runs
    from course_lib.tables import landmark_gan_table4 as t4

    first = runs.train_or_load("cpu", runs=tmp_path, steps=1, data=faces, log=lambda *a: None)
    assert first["steps"] == 1 and (tmp_path / "full" / "landmark_gan.json").is_file()
    assert "stand-in" in first["feature_label"] or "VGG19" in first["feature_label"]
    stamp = (tmp_path / "full" / "checkpoints" / "last.pt").stat().st_mtime_ns
    again = runs.train_or_load("cpu", runs=tmp_path, steps=1, data=faces, log=lambda *a: None)
    assert (tmp_path / "full" / "checkpoints" / "last.pt").stat().st_mtime_ns == stamp and again["steps"] == 1
    split = evaluate.collect(datasets.SyntheticFaces(identities=2, size=64, split="all", jitter=False), 64)
    tr = again["translator"]
    gen, gt = runs.changed_with_truth(tr, split, tmp_path / runs.CACHE)
    assert len(gen.target) == 16 * 7 and bool((split.labels[gt] == gen.target).all())
    assert all(split.identities[int(g)] == split.identities[int(s)] for g, s in zip(gt, gen.source))
    cached, _ = runs.changed_with_truth(None, split, tmp_path / runs.CACHE)   # no translator needed: from the cache
    assert torch.equal(cached.images, gen.images)
    imgs, labels = t4.generated_set(tr, split, 2, seed=0)
    assert imgs.shape == (32, 3, 64, 64) and bool((labels != split.labels.repeat(2)).all())
