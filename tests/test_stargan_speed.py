"""StarGAN's speed levers (course_lib.methods.stargan, measured by ``bench train --levers``) change no
result: the joint critic forward, the reused fake, the frozen critic in the G step and fused Adam give
the losses and weights of the plain implementation (float rounding aside), and each lever does what
it says (no generator graph in a critic-only step, one G forward less per G step, no critic weight
gradients in the G step)."""
import pytest
import torch

from course_lib import losses, stargan, trainer
from course_lib.config import preset
from course_lib.methods import get
from course_lib.methods._wgan import loss_weights

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

LEVERS_OFF = {"no_generator_graph": False, "batch_critic": False, "reuse_fake": False, "freeze_critic": False,
              "fused_adam": False, "split_label_conv": False}


def test_joint_critic_forward_equals_two_forwards():
    """critic_loss (real and fake in one forward) = losses.discriminator_loss (two), values and gradients."""
    torch.manual_seed(0)
    D = stargan.Discriminator(32, 8, 8, 4)
    real, fake = torch.rand(4, 3, 32, 32) * 2 - 1, torch.rand(4, 3, 32, 32) * 2 - 1
    labels = torch.tensor([0, 3, 5, 7])
    w = loss_weights(get("stargan").Hyper(lambda_cls_d=6.0), True)
    results = []
    for fn in (lambda: stargan.critic_loss(D, real, fake, labels, w),
               lambda: losses.discriminator_loss({"global": D}, {"global": real}, {"global": fake}, labels, w)):
        torch.manual_seed(1)  # the penalty's interpolation weights
        D.zero_grad(set_to_none=True)
        total, parts = fn()
        total.backward()
        results.append((total.detach(), parts, [p.grad.clone() for p in D.parameters()]))
    (t1, p1, g1), (t2, p2, g2) = results
    assert set(p1) == set(p2) == {"adv", "gp", "cls"}
    torch.testing.assert_close(t1, t2, rtol=1e-5, atol=1e-6)
    for k in p1:
        torch.testing.assert_close(p1[k], p2[k], rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("condition", ["indices", "soft"])
def test_split_label_conv_equals_the_tiled_input(condition):
    """label_conv (the constant label planes' share once per batch) = the official conv of tile(x, c):
    outputs and the gradients of the weights and of the images, for labels and for soft conditions."""
    torch.manual_seed(0)
    G = stargan.Generator(8, 8, 2)
    x = (torch.rand(3, 3, 32, 32) * 2 - 1).requires_grad_(True)
    c = torch.tensor([1, 4, 7]) if condition == "indices" else torch.softmax(torch.randn(3, 8), 1)
    got = []
    for split in (True, False):
        G.zero_grad(set_to_none=True)
        x.grad = None
        out = G(x, c, split=split).out
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        got.append((out.detach(), x.grad.clone(), G.main[0].weight.grad.clone()))
    for a, b in zip(*got):  # float rounding, amplified where InstanceNorm divides by a small deviation
        assert float((a - b).norm() / b.norm()) < 1e-4
    assert not G.split_label_conv  # translation keeps the official forward by default
    with pytest.raises(ValueError, match="11 channels"):
        stargan.label_conv(x[:, :2], torch.eye(8)[:3], G.main[0])


def test_split_label_conv_is_exact_in_float64():
    """Two passes (the cycle), labels then soft conditions: outputs and every weight gradient agree to
    float64 rounding, so the float32 differences are rounding, not a different function."""
    torch.manual_seed(0)
    G = stargan.Generator(8, 8, 2).double()
    x = torch.rand(3, 3, 32, 32, dtype=torch.float64) * 2 - 1
    got = []
    for split in (True, False):
        G.zero_grad(set_to_none=True)
        out = G(x, torch.tensor([1, 4, 7]), split=split).out
        rec = G(out, torch.softmax(torch.randn(3, 8, generator=torch.Generator().manual_seed(2)), 1).double(),
                split=split).out
        (rec * torch.linspace(-1, 1, rec.numel(), dtype=torch.float64).view_as(rec)).sum().backward()
        got.append([rec.detach()] + [p.grad.clone() for p in G.parameters()])
    for a, b in zip(*got):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def _one_iteration(faces, levers, eps=0.0):
    """One critic and one G loss (n_critic 1) from the same weights and draws: parts and gradients
    (``eps``: the images scaled by 1 + eps, a change of a few float roundings)."""
    torch.manual_seed(0)
    m = get("stargan")(size="cpu")
    for k, v in levers.items():
        setattr(m, k, v)
    torch.manual_seed(1)
    b = m.prepare({"image": (faces["image"][:4].float() / 127.5 - 1) * (1 + eps), "label": faces["label"][:4]})
    assert m.updates(0, preset("cpu", model="stargan", n_critic=1)) == ("D", "G")
    G, D = m.nets["G"], m.nets["D"]["global"]
    d_total, d_parts = m.loss("D", b)
    d_total.backward()
    d_grads = [p.grad.clone() for p in D.parameters()]
    G.zero_grad(set_to_none=True)
    g_total, g_parts = m.loss("G", b)
    g_total.backward()
    flat = lambda grads: torch.cat([g.flatten() for g in grads])
    return {**{f"D/{k}": v for k, v in d_parts.items()}, **{f"G/{k}": v for k, v in g_parts.items()},
            "D/total": d_total.detach(), "G/total": g_total.detach()}, [flat(d_grads), flat(p.grad for p in G.parameters())]


def test_levers_change_no_update(faces):
    """The levers on (default) and off: the same losses (relative 1e-5), the same critic gradient
    (relative to its norm 1e-5) and a generator gradient no further from the plain one than float
    rounding takes it: G's gradient at this point jumps at rounding scale (ReLU masks flip where an
    activation sits within a rounding of 0; InstanceNorm divides by the deviation), so its tolerance is
    twice the change that scaling the images by 1 + 1e-6 makes to the plain gradient (measured: 0.5 %
    with the levers, 0.7 % for that scaling, 5e-6 for a scaling by 1 + 1e-7).  The split convolution is
    exact in float64 (test_split_label_conv_is_exact_in_float64)."""
    (fast, fast_grads), (plain, plain_grads) = _one_iteration(faces, {}), _one_iteration(faces, LEVERS_OFF)
    _, nudged_grads = _one_iteration(faces, LEVERS_OFF, eps=1e-6)
    assert set(fast) == set(plain) == {"D/adv", "D/gp", "D/cls", "D/total", "G/adv", "G/cls", "G/cycle", "G/total"}
    for k in fast:
        assert float(fast[k]) == pytest.approx(float(plain[k]), rel=1e-5, abs=1e-6), k
    rel = lambda a, b: float((a - b).norm() / b.norm())
    assert rel(fast_grads[0], plain_grads[0]) < 1e-5
    assert rel(fast_grads[1], plain_grads[1]) <= 2 * rel(nudged_grads[1], plain_grads[1])
    assert rel(fast_grads[1], plain_grads[1]) < 0.05


def test_fused_adam_takes_the_same_step():
    torch.manual_seed(0)
    params = [torch.randn(64, 32, requires_grad=True), torch.randn(7, requires_grad=True)]
    twins = [p.detach().clone().requires_grad_(True) for p in params]
    opts = [torch.optim.Adam(params, 2e-4, (0.5, 0.999), fused=True), torch.optim.Adam(twins, 2e-4, (0.5, 0.999))]
    for step in range(5):
        grads = [torch.randn_like(p) * 10 ** -step for p in params]
        for ps, opt in zip((params, twins), opts):
            for p, g in zip(ps, grads):
                p.grad = g.clone()
            opt.step()
    for a, b in zip(params, twins):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def _train(faces, tmp_path, levers, steps=10):
    cfg = preset("cpu", model="stargan", steps=steps, batch_size=4, n_critic=5, sample_every=1000,
                 checkpoint_every=1000, n_samples=1)
    tr = trainer.Trainer(cfg, tmp_path, faces, progress=False)
    for k, v in levers.items():
        setattr(tr.method, k, v)
    tr.optimizers = tr.method.optimizers(tr.config)
    rows = []
    for _ in range(steps):
        rows.append(tr.iteration(tr.stream.next()))
        tr.step += 1
    return rows, tr


def test_levers_through_the_trainer(faces, tmp_path):
    """Two cycles (10 iterations, 2 G steps) through the trainer, levers on and off: fused optimisers,
    the same schedule, the same first iteration; afterwards the runs drift apart by amplified float
    noise (Adam's m / sqrt(v) makes a step of up to lr of a near-zero gradient's rounding), so the
    computation itself is compared one update at a time by test_levers_change_no_update."""
    import math

    fast, tf = _train(faces, tmp_path / "on", {})
    plain, tp = _train(faces, tmp_path / "off", LEVERS_OFF)
    assert tf.optimizers["G"].defaults["fused"] and not tp.optimizers["G"].defaults.get("fused")
    assert [set(r) for r in fast] == [set(r) for r in plain] and sum("G/total" in r for r in fast) == 2
    for k in plain[0]:
        assert fast[0][k] == pytest.approx(plain[0][k], rel=1e-5, abs=1e-6), k
    assert all(math.isfinite(v) for r in fast for v in r.values())


def _counting(G):
    calls = []
    G.register_forward_hook(lambda m, i, o: calls.append(o.out.requires_grad))
    return calls


def test_critic_step_builds_no_generator_graph_and_the_g_step_reuses_its_fake(faces):
    m = get("stargan")(size="cpu")
    calls = _counting(m.nets["G"])
    cfg = preset("cpu", model="stargan")
    b = m.prepare({"image": faces["image"][:4].float() / 127.5 - 1, "label": faces["label"][:4]})
    assert m.updates(0, cfg) == ("D",)
    m.loss("D", b)
    assert calls == [False]  # critic-only iteration: G without a graph
    calls.clear()
    assert m.updates(4, cfg) == ("D", "G")
    m.loss("D", b)
    m.loss("G", b)
    assert calls == [True, True]  # G(x, c_trg) once with its graph, reused; then G(fake, c_org)
    m.reuse_fake = False
    calls.clear()
    m.loss("D", b)
    m.loss("G", b)
    assert calls == [False, True, True]  # as the solver: G(x, c_trg) again in the G step


def test_g_step_computes_no_critic_weight_gradients(faces):
    m = get("stargan")(size="cpu")
    b = m.prepare({"image": faces["image"][:4].float() / 127.5 - 1, "label": faces["label"][:4]})
    D = m.nets["D"]["global"]
    total, _ = m.loss("G", b)
    total.backward()
    assert all(p.grad is None for p in D.parameters())
    assert all(p.requires_grad for p in D.parameters())  # restored for the next critic step
    assert all(p.grad is not None for p in m.nets["G"].parameters())
    m.freeze_critic = False
    total, _ = m.loss("G", b)
    total.backward()
    assert all(p.grad is not None for p in D.parameters())
