"""Cascade EF-GAN (course_lib.ef_gan, methods ef-gan / cascade-ef-gan): shapes, stitching, Eq. 1,
SN + orthogonal init, Eq. 3-8 on known inputs, the interpolator, the cascade's initialisation,
one training iteration and exact resume."""
import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import ef_gan as E
from course_lib import facs, methods, regions, trainer
from course_lib.config import preset

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py
N_AUS = len(facs.AU_NUMBERS)


def centred(G, size):
    """Give ``G`` the centres of an aligned face of ``size`` (eyes, nose, mouth) as if trained."""
    c = torch.tensor([[0.5, 0.40], [0.5, 0.55], [0.5, 0.72]], dtype=torch.float64) * size
    G.centre_sum.copy_(c)
    G.centre_count.fill_(1)
    return G


# ----------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("size,want", [(128, {"eyes": (40, 92), "nose": (40, 48), "mouth": (40, 60)}),
                                       (64, {"eyes": (20, 46), "nose": (20, 24), "mouth": (20, 30)})])
def test_every_branch_and_patch_has_its_shape(size, want):
    """Section 4.1: 40x92 / 40x48 / 40x60 at 128x128 (scaled at 64); every branch's output, mask and
    colour map has its patch's size, the stitched image and the final output the face's."""
    G = centred(E.CascadeGenerator(N_AUS, size, 4, 1, 1, n_stages=1), size)
    x, c = torch.rand(2, 3, size, size) * 2 - 1, torch.rand(2, N_AUS)
    with torch.no_grad():
        o = G(x, c)["stages"][0]
    boxes = G.boxes()
    assert {k: boxes[k][2:] for k in E.LOCAL} == want
    for k, hw in {"face": (size, size), **want}.items():
        assert tuple(o["init"][k].shape) == (2, 3, *hw), k
        assert tuple(o["colours"][k].shape) == (2, 3, *hw), k
        assert tuple(o["masks"][k].shape) == (2, 1, *hw), k
    assert tuple(o["stitched"].shape) == tuple(o["out"].shape) == (2, 3, size, size)
    assert torch.equal(o["out"], o["init"]["face"])   # an untrained Refiner returns the global output
    with torch.no_grad():
        G.stages[0].refiner.out[0].weight.normal_()
        o = G(x, c)["stages"][0]
    assert not torch.allclose(o["out"], o["init"]["face"]) and float(o["out"].abs().max()) <= 1
    # the Baseline: the global branch alone, its Eq. 1 output is the final image
    B = E.CascadeGenerator(N_AUS, size, 4, 1, 1, local_focuses=False)
    with torch.no_grad():
        ob = B(x, c)["stages"][0]
    assert set(ob["init"]) == {"face"} and ob["out"] is ob["init"]["face"] and B.stages[0].refiner is None


def test_boxes_are_centred_on_the_training_set_mean(faces):
    """Section 4.1: the patch centres are the mean over all training images of their landmarks."""
    m = methods.get("ef-gan")(size="cpu")
    m.bind_data(faces)
    want = regions.region_boxes(faces["landmarks"][0].numpy(), "efgan", 64,
                                centres=regions.mean_region_centres(faces["landmarks"].numpy()))
    assert m.nets["G"].boxes() == {k: tuple(int(v) for v in want[k]) for k in E.LOCAL}
    known = torch.ones(len(faces["label"]), dtype=torch.bool)
    known[3] = False                       # one image without AU annotations: said, not silent
    with pytest.warns(UserWarning, match="1 of 16 training images have no AU"):
        m.bind_data({**faces, "aus_known": known})


# ----------------------------------------------------------------------------- stitching
def test_stitch_places_each_patch_at_its_box_pixel_exact():
    H, W = 64, 64
    pattern = torch.arange(3 * H * W, dtype=torch.float64).reshape(1, 3, H, W)
    boxes = {"eyes": (21, 9, 20, 46), "nose": (28, 20, 20, 24), "mouth": (38, 17, 20, 30)}
    patches = {k: pattern[:, :, t:t + h, l:l + w].clone() for k, (t, l, h, w) in boxes.items()}
    out, count = E.stitch(patches, boxes, (H, W))
    inside = np.zeros((H, W), int)
    for t, l, h, w in boxes.values():
        inside[t:t + h, l:l + w] += 1
    want = pattern[0].numpy() * (inside > 0)
    assert np.array_equal(out[0].numpy(), want) and np.array_equal(count[0, 0].numpy(), inside)
    # overlaps hold the mean of the patches there: constants 1, 2, 4
    const = {k: torch.full_like(p, v) for (k, p), v in zip(patches.items(), (1.0, 2.0, 4.0))}
    out, _ = E.stitch(const, boxes, (H, W))
    exp = np.zeros((H, W))
    n = np.zeros((H, W))
    for (t, l, h, w), v in zip(boxes.values(), (1.0, 2.0, 4.0)):
        exp[t:t + h, l:l + w] += v
        n[t:t + h, l:l + w] += 1
    exp = np.where(n > 0, exp / np.maximum(n, 1), 0)
    assert np.allclose(out[0, 1].numpy(), exp)
    assert out[0, 0, 30, 30] == pytest.approx((1 + 2) / 2) and out[0, 0, 45, 30] == pytest.approx((2 + 4) / 2)
    assert out[0, 2, 40, 30] == pytest.approx((1 + 2 + 4) / 3) and out[0, 0, 5, 5] == 0
    with pytest.raises(ValueError, match="patch 'eyes'"):
        E.stitch({"eyes": torch.zeros(1, 3, 5, 5)}, boxes, (H, W))


# ----------------------------------------------------------------------------- Eq. 1, SN, init
def test_eq1_mask_one_means_the_colour_map():
    """Cascade EF-GAN Eq. 1: I_init = M_A * M_C + (1 - M_A) * I_in, for a padded patch too."""
    torch.manual_seed(0)
    b = E.Branch(N_AUS, 4, 1)
    x, c = torch.rand(2, 3, 20, 46) * 2 - 1, torch.rand(2, N_AUS)
    with torch.no_grad():
        o = b(x, c)
    assert tuple(o.out.shape) == (2, 3, 20, 46)
    assert torch.allclose(o.out, o.mask * o.color + (1 - o.mask) * x, atol=1e-6)
    assert not torch.allclose(o.out, (1 - o.mask) * o.color + o.mask * x, atol=1e-3)  # not LGP-GAN's Eq. 1


def test_spectral_norm_and_orthogonal_init_everywhere_but_the_output_layers():
    """Section 8: orthogonal init + SN in all convs except the output layers (critics and generators)."""
    m = methods.get("cascade-ef-gan")(size="cpu")
    G, D = m.nets["G"], m.nets["D"]
    for net, outputs in [(G.stages[k], G.stages[k].output_layers) for k in range(3)] + \
                        [(D[k], D[k].output_layers) for k in E.CRITICS]:
        out_ids = {id(o) for o in outputs}
        convs = [mod for mod in net.modules() if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d))]
        assert len(convs) > len(outputs) >= 1
        for conv in convs:
            assert E.has_spectral_norm(conv) == (id(conv) not in out_ids), conv
            if id(conv) not in out_ids:
                W = conv.parametrizations.weight.original.detach().flatten(1)  # rows: dim 0 (Saxe et al.)
                gram = W @ W.T if W.shape[0] <= W.shape[1] else W.T @ W
                assert torch.allclose(gram, torch.eye(len(gram)), atol=1e-4), conv
    assert len(D["final"].output_layers) == 2 and D["final"].au is not None and D["eyes"].au is None
    assert sum(isinstance(l, nn.Conv2d) for l in D["final"].main) == E.FACE_LAYERS
    assert sum(isinstance(l, nn.Conv2d) for l in D["nose"].main) == E.LOCAL_LAYERS
    assert all(isinstance(l, nn.LeakyReLU) and l.negative_slope == 0.01 for l in D["mouth"].main[1::2])
    plain = methods.get("ef-gan")(methods.make_hyper("ef-gan", {"sn_generator": False}), "cpu")
    assert not any(E.has_spectral_norm(mod) for mod in plain.nets["G"].stages.modules())


# ----------------------------------------------------------------------------- Eq. 3-8
class Linear(nn.Module):
    """D(x) = sum of x per sample: its gradient is all ones, so ||grad|| = sqrt(#elements)."""

    def forward(self, x):
        return x.flatten(1).sum(1, keepdim=True), None


def test_each_loss_on_known_inputs():
    ones, zeros = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    # Eq. 3, critics: -D(real) + D(fake) + 10 (||grad|| - 1)^2 = -4 + 0 + 10 (2 - 1)^2, per critic
    total, parts = E.adversarial_critic_loss({"a": Linear(), "b": Linear()}, {"a": ones, "b": ones},
                                             {"a": zeros, "b": zeros}, 10.0)
    assert float(total) == pytest.approx(2 * 6.0) and float(parts["adv"]) == pytest.approx(-8.0)
    assert float(parts["gp"]) == pytest.approx(2.0)
    # Eq. 3, generator: -mean D(fake)
    assert float(E.adversarial_generator_loss({"a": Linear()}, {"a": ones * 0.5})) == pytest.approx(-2.0)
    # Eq. 4: squared error averaged over the AUs
    assert float(E.conditional_loss(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.0, 1.0]]))) == pytest.approx(0.25)
    # Eq. 5: mean absolute difference
    assert float(E.content_loss(torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4))) == pytest.approx(0.5)
    # Eq. 6: root mean square of each mask, summed over the four
    masks = {"face": torch.full((2, 1, 8, 8), 0.5), "eyes": torch.ones(2, 1, 2, 6), "nose": torch.zeros(2, 1, 2, 2),
             "mouth": torch.tensor([3.0, 4.0, 0.0, 0.0]).reshape(1, 1, 2, 2).expand(2, 1, 2, 2)}
    assert float(E.attention_loss(masks)) == pytest.approx(0.5 + 1.0 + 0.0 + 5.0 / 2.0)
    # Eq. 7: ||y_hat - y_p||_2 (not squared) - lambda_int mean D_interp(y_hat)
    y_hat, y_p = torch.tensor([[0.3, 0.4], [0.0, 0.0]]), torch.zeros(2, 2)
    assert float(E.interpolation_loss(y_hat, y_p, torch.tensor([[2.0], [4.0]]), 0.1)) == pytest.approx(0.25 - 0.3)
    # Eq. 7's critic: WGAN-GP on AU vectors, D(y) = sum(y): -4 + 0 + 10 (2 - 1)^2
    total, parts = E.interpolation_critic_loss(lambda y: y.sum(1, keepdim=True), torch.ones(3, 4), torch.zeros(3, 4), 10.0)
    assert float(total) == pytest.approx(6.0) and float(parts["gp"]) == pytest.approx(1.0)
    # Eq. 8 with Section 8's weights
    parts = {"adv": 1.0, "cond": 0.001, "cont": 0.1, "attn": 2.0, "interp": 0.5}
    assert E.total_loss(parts) == pytest.approx(1.0 + 3.0 + 1.0 + 0.2 + 0.5)


def test_the_methods_defaults_are_the_papers_weights():
    h = methods.make_hyper("cascade-ef-gan")
    assert (h.lambda_cond, h.lambda_cont, h.lambda_attn, h.lambda_interp, h.lambda_int, h.lambda_gp) == \
        (3000.0, 10.0, 0.1, 1.0, 0.1, 10.0)
    assert methods.get("cascade-ef-gan")(size="cpu").n_stages == 3 and methods.get("ef-gan")(size="cpu").n_stages == 1
    p = preset("paper", model="ef-gan")
    assert (p.batch_size, p.g_lr, p.d_lr, p.beta1, p.beta2, p.decay_start * 2) == (2, 1e-4, 1e-4, 0.5, 0.999, p.steps)


# ----------------------------------------------------------------------------- interpolator
def test_pseudo_targets_and_the_interpolator():
    y0, y1 = torch.tensor([[0.0, 0.9, 0.3]]), torch.tensor([[0.6, 0.0, 0.3]])
    p = E.pseudo_targets(y0, y1, 3)
    assert torch.allclose(p[0], torch.tensor([[0.2, 0.6, 0.3]])) and torch.allclose(p[1], torch.tensor([[0.4, 0.3, 0.3]]))
    assert torch.equal(p[2], y1)
    G = E.CascadeGenerator(3, 64, 4, 1, 1, n_stages=3)
    targets, pseudo = G.stage_targets(y0, y1)
    # untrained: the interpolator returns the linear pseudo target (its last layer starts at zero);
    # the last stage's target is the target itself
    assert torch.allclose(targets[0], p[0]) and torch.allclose(targets[1], p[1]) and torch.equal(targets[2], y1)
    with torch.no_grad():
        G.interp.mlp[-1].bias.fill_(0.05)
    targets, _ = G.stage_targets(y0, y1)
    assert torch.allclose(targets[0], (p[0] + 0.05).clamp(0, 1))
    with torch.no_grad():
        G.interp.mlp[-1].bias.fill_(5.0)
    assert float(G.stage_targets(y0, y1)[0][0].detach().max()) == 1.0  # clamped to [0, 1]


# ----------------------------------------------------------------------------- the cascade's initialisation
def test_copy_stage_one_copies_its_weights_into_every_stage():
    G = E.CascadeGenerator(N_AUS, 64, 4, 1, 1, n_stages=3)
    s0 = G.stages[0].state_dict()
    assert any(not torch.equal(s0[k], G.stages[1].state_dict()[k]) for k in s0)
    G.copy_stage_one()
    for stage in G.stages[1:]:
        s = stage.state_dict()
        assert set(s) == set(s0) and all(torch.equal(s0[k], s[k]) for k in s0)
    assert int(G.assembled) == 1


def tiny(model, **kw):
    values = dict(model=model, steps=1, batch_size=2, n_critic=1, log_every=1, sample_every=1000,
                  checkpoint_every=1000, n_samples=1)
    values.update(kw)
    return preset("cpu", **values)


def test_one_iteration_of_ef_gan_then_cascade_initialised_from_it(faces, tmp_path):
    """One training iteration of ``ef-gan`` updates G and every critic; ``cascade-ef-gan`` with
    ``init_from`` that run starts with its weights in all three stages (Section 3.3), and one
    iteration then updates all three stages."""
    tr = trainer.Trainer(tiny("ef-gan"), tmp_path / "ef", faces, progress=False)
    g0 = {k: v.clone() for k, v in tr.nets["G"].state_dict().items()}
    parts = tr.iteration(tr.stream.next())
    tr.step += 1
    assert all(math.isfinite(v) for v in parts.values())
    assert {"D/adv", "D/gp", "D/cond", "D/interp", "G/adv", "G/cond", "G/cont", "G/attn", "G/interp"} <= set(parts)
    changed = {k.split(".")[3] for k, v in tr.nets["G"].state_dict().items() if k.startswith("stages.0.branches")
               and v.is_floating_point() and not torch.equal(v, g0[k])}
    assert changed == set(E.BRANCHES)
    tr.save_checkpoint()
    ef_g = tr.nets["G"].state_dict()

    cfg = tiny("cascade-ef-gan", hyper={"init_from": str(tmp_path / "ef"), "pretrain_fraction": 0.0})
    ct = trainer.Trainer(cfg, tmp_path / "cascade", faces, progress=False)
    G = ct.nets["G"]
    assert int(G.assembled) == 0
    ct.method.updates(0, ct.config)           # the first iteration initialises the stages
    for k in range(3):
        s = G.stages[k].state_dict()
        assert all(torch.equal(v, ef_g[f"stages.0.{n}"]) for n, v in s.items()), k
    assert all(torch.equal(G.interp.state_dict()[n], ef_g[f"interp.{n}"]) for n in G.interp.state_dict())
    assert all(torch.equal(v, tr.nets["D"].state_dict()[n]) for n, v in ct.nets["D"].state_dict().items())
    before = [s.state_dict() for s in G.stages]
    before = [{n: v.clone() for n, v in s.items()} for s in before]
    parts = ct.iteration(ct.stream.next())
    assert all(math.isfinite(v) for v in parts.values())
    for k in range(3):
        assert any(not torch.equal(v, before[k][n]) for n, v in G.stages[k].state_dict().items()
                   if v.is_floating_point()), f"stage {k + 1} not updated"
    ct.step += 1
    ct.save_checkpoint()
    bad = tiny("cascade-ef-gan", hyper={"init_from": str(tmp_path / "cascade"), "pretrain_fraction": 0.0})
    with pytest.raises(ValueError, match="one-stage ef-gan"):
        trainer.Trainer(bad, tmp_path / "bad", faces, progress=False).method.updates(0, bad)


def test_learning_rate_schedule_of_the_training_scheme():
    """Section 8: EF-GAN constant then linear to 0; the cascade's fine-tuning from a tenth of it to 0."""
    from course_lib.methods.ef_gan import lr_scale

    h = methods.make_hyper("cascade-ef-gan", {"pretrain_fraction": 100 / 120})
    assert [lr_scale(s, 120, 3, h) for s in (0, 49, 75, 100, 110)] == pytest.approx([1, 1, 0.5, 0.1, 0.05])
    h = methods.make_hyper("cascade-ef-gan", {"init_from": "x"})
    assert [lr_scale(s, 200, 3, h) for s in (0, 100, 199)] == pytest.approx([0.1, 0.05, 0.0005])
    assert lr_scale(7, 10, 1, h) == 1.0
    # the optimiser steps with lr * scale
    w1, w2 = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    a = E.ScaledAdam([w1], 1e-2, (0.5, 0.999), lambda: 0.25)
    b = torch.optim.Adam([w2], 2.5e-3, (0.5, 0.999))
    for opt, w in ((a, w1), (b, w2)):
        (w * torch.tensor([1.0, -2.0, 3.0])).sum().backward()
        opt.step()
    assert torch.allclose(w1, w2) and a.param_groups[0]["lr"] == 1e-2


@pytest.mark.slow
def test_one_run_scheme_switches_and_resumes_exactly(faces, tmp_path):
    """The cascade's one-run scheme: stage 1 alone for the pre-training, copied into every stage at
    its end (Section 3.3); a run interrupted after the switch and resumed equals an uninterrupted one."""
    cfg = tiny("cascade-ef-gan", steps=4, decay_start=4, hyper={"pretrain_fraction": 0.5, "local_focuses": False})
    straight = trainer.Trainer(cfg, tmp_path / "a", faces, progress=False)
    straight.train(until=2)
    G = straight.nets["G"]
    assert int(G.assembled) == 0
    assert any(not torch.equal(v, G.stages[1].state_dict()[n]) for n, v in G.stages[0].state_dict().items())
    straight.train()
    assert int(G.assembled) == 1
    first = trainer.Trainer(cfg, tmp_path / "b", faces, progress=False)
    first.train(until=3)                     # interrupted one iteration after the switch
    torch.manual_seed(1234)
    second = trainer.Trainer(cfg, tmp_path / "b", faces, resume=True, progress=False)
    assert second.step == 3 and int(second.nets["G"].assembled) == 1
    second.train()
    rows = lambda d: list(csv.DictReader(open(d / "log.csv")))  # noqa: E731
    assert rows(tmp_path / "a") == rows(tmp_path / "b") and len(rows(tmp_path / "a")) == 4
    for a, b in zip(straight.nets["G"].state_dict().values(), second.nets["G"].state_dict().values()):
        assert torch.equal(a, b)


def test_translate_runs_every_stage_with_the_readers_or_given_aus(faces):
    m = methods.get("cascade-ef-gan")(size="cpu")
    m.bind_data(faces)
    m.nets["G"].copy_stage_one()
    x = faces["image"][:2].float() / 127.5 - 1
    with torch.no_grad():
        r = m.translate(x, m.label_condition(torch.tensor([4, 4])), {"aus": faces["aus"][:2]})
    assert [k for k in r["visuals"] if k.startswith("stage")] == ["stage 1", "stage 2", "stage 3"]
    assert torch.equal(r["out"], r["visuals"]["stage 3"]) and len(r["masks"]) == 4
    assert len(r["raw"]["targets"]) == 3 and torch.equal(r["raw"]["targets"][2], m.label_condition(torch.tensor([4, 4])))
    with torch.no_grad():
        r2 = m.translate(x, m.label_condition(torch.tensor([4, 4])))   # source AUs from the reader
    assert not torch.allclose(r2["raw"]["targets"][0], r["raw"]["targets"][0])
    mid = m.interpolate_condition(faces["aus"][:1], faces["aus"][1:2], 0.5)
    assert torch.allclose(mid, (faces["aus"][:1] + faces["aus"][1:2]) / 2, atol=1e-6)  # untrained = linear
