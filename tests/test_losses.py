"""course_lib.losses: LGP-GAN Eq. 2-9 on known inputs; expectations computed by hand or with numpy."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import losses as L


class LinearCritic(nn.Module):
    """D(x) = <w, x> + b and cls logits = x W: the gradient of src is w everywhere."""

    def __init__(self, shape, n=3, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d = int(np.prod(shape))
        self.w = nn.Parameter(torch.randn(d, generator=g, dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(0.3, dtype=torch.float64))
        self.W = nn.Parameter(torch.randn(d, n, generator=g, dtype=torch.float64) * 0.5)

    def forward(self, x):
        f = x.flatten(1)
        return (f @ self.w + self.b).view(-1, 1), f @ self.W

    def numpy(self, x):
        f = x.detach().numpy().reshape(len(x), -1)
        return f @ self.w.detach().numpy() + self.b.item(), f @ self.W.detach().numpy()


def cce(logits, labels):
    logits = np.asarray(logits, dtype=float)
    lse = np.log(np.exp(logits).sum(1))
    return float(np.mean(lse - logits[np.arange(len(labels)), labels]))


def t(a):
    return torch.tensor(a, dtype=torch.float64)


# ------------------------------------------------------------------ adversarial terms

def test_critic_and_generator_adv_loss_hand_values():
    real, fake = t([[1.0], [3.0]]), t([[0.5], [-0.5], [1.0]])
    assert L.critic_adv_loss(real, fake).item() == pytest.approx(-2 + 1 / 3)
    assert L.generator_adv_loss(t([[2.0], [4.0]])).item() == pytest.approx(-3.0)
    # PatchGAN maps: the mean runs over batch and positions
    assert L.critic_adv_loss(t([[[[1.0, 2.0], [3.0, 6.0]]]]), t([[[[0.0, 0.0], [0.0, 4.0]]]])).item() == pytest.approx(-3 + 1)


def test_original_gan_losses_hand_values():
    z = torch.zeros(4)
    assert L.gan_discriminator_loss(z, z).item() == pytest.approx(2 * math.log(2))
    assert L.gan_generator_loss(z).item() == pytest.approx(math.log(2))
    assert L.gan_generator_loss(z, non_saturating=False).item() == pytest.approx(-math.log(2))
    a = math.log(3)  # sigmoid(ln 3) = 0.75
    assert L.gan_discriminator_loss(t([a]), t([a])).item() == pytest.approx(-math.log(0.75) - math.log(0.25))
    assert L.gan_generator_loss(t([a])).item() == pytest.approx(-math.log(0.75))


# ------------------------------------------------------------------ gradient penalty

@pytest.mark.parametrize("alpha", [[0.0, 0.0], [1.0, 1.0], [0.2, 0.9], None])
def test_gradient_penalty_of_a_linear_critic_is_closed_form(alpha):
    torch.manual_seed(1)
    real, fake = torch.randn(2, 3, 4, 4, dtype=torch.float64), torch.randn(2, 3, 4, 4, dtype=torch.float64)
    D = LinearCritic((3, 4, 4))
    gp = L.gradient_penalty(D, real, fake, alpha=None if alpha is None else t(alpha))
    w = D.w.detach().numpy()
    assert gp.item() == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-10)


def test_gradient_penalty_backpropagates_into_the_critic():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    D = LinearCritic((2, 2, 2), seed=3)
    L.gradient_penalty(D, torch.randn(3, 2, 2, 2, dtype=torch.float64), torch.randn(3, 2, 2, 2, dtype=torch.float64)).backward()
    w = D.w.detach().numpy()
    n = np.linalg.norm(w)
    np.testing.assert_allclose(D.w.grad.numpy(), 2 * (n - 1) * w / n, rtol=1e-10)


def test_gradient_penalty_of_a_patch_critic_uses_the_sum_over_positions():
    # a 1x1 conv critic v.x at every position: d(sum of the map)/dx = v at each of the H*W positions
    conv = nn.Conv2d(3, 1, 1, bias=True).double()
    v = conv.weight.detach().numpy().ravel()
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    gp = L.gradient_penalty(conv, x, x.flip(0))
    assert gp.item() == pytest.approx((math.sqrt(20) * np.linalg.norm(v) - 1) ** 2, rel=1e-10)


def test_gradient_penalty_of_a_quadratic_critic_at_given_interpolates():
    # D(x) = ||x||^2 / 2 -> grad = x~ = a real + (1 - a) fake, so GP = mean (||x~|| - 1)^2
    real = t([[1.0, 0.0], [0.0, 2.0]])
    fake = t([[0.0, 1.0], [0.0, 0.0]])
    alpha = t([0.5, 0.25])
    gp = L.gradient_penalty(lambda x: (x ** 2).sum(1) / 2, real, fake, alpha=alpha)
    expected = ((math.hypot(0.5, 0.5) - 1) ** 2 + (0.5 - 1) ** 2) / 2
    assert gp.item() == pytest.approx(expected)


def test_interpolation_is_per_sample_and_between_real_and_fake():
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return (x ** 2).sum((1, 2, 3)), None

    real, fake = torch.ones(6, 1, 2, 2), torch.zeros(6, 1, 2, 2)
    L.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    a = seen[0]
    per_sample = a.flatten(1)
    assert torch.all(per_sample == per_sample[:, :1]), "one alpha per sample, shared by its pixels"
    assert torch.all((a >= 0) & (a <= 1))
    assert len(torch.unique(per_sample[:, 0])) == 6, "each sample draws its own alpha"
    # same generator seed -> same penalty
    real2, fake2 = torch.randn(4, 2), torch.randn(4, 2)
    q = lambda x: (x ** 3).sum(1)  # noqa: E731
    g1 = L.gradient_penalty(q, real2, fake2, generator=torch.Generator().manual_seed(5))
    g2 = L.gradient_penalty(q, real2, fake2, generator=torch.Generator().manual_seed(5))
    assert g1.item() == g2.item()


def test_interpolate_rejects_bad_shapes():
    with pytest.raises(ValueError, match="fake"):
        L.interpolate(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="alpha"):
        L.interpolate(torch.zeros(2, 3), torch.zeros(2, 3), alpha=torch.zeros(3))


# ------------------------------------------------------------------ classification and reconstruction

def test_classification_loss_hand_values():
    assert L.classification_loss(torch.zeros(2, 8), torch.tensor([0, 5])).item() == pytest.approx(math.log(8))
    logits = t([[0.0, math.log(2), math.log(3)]] * 2)  # softmax = 1/6, 2/6, 3/6
    assert L.classification_loss(logits, torch.tensor([2, 0])).item() == pytest.approx((math.log(2) + math.log(6)) / 2)
    # Table III's classifier is a conv: (B, n, 1, 1) is accepted
    assert L.classification_loss(logits.view(2, 3, 1, 1), torch.tensor([2, 2])).item() == pytest.approx(math.log(2))


def test_classification_loss_rejects_float_or_misshaped_labels():
    with pytest.raises(ValueError, match="labels"):
        L.classification_loss(torch.zeros(2, 8), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="labels"):
        L.classification_loss(torch.zeros(2, 8), torch.tensor([0, 1, 2]))


def test_reconstruction_losses_are_mean_absolute_errors():
    x = torch.zeros(2, 3, 2, 2)
    rec = x.clone()
    rec[0] = 1.0
    rec[1] = -0.5
    assert L.cycle_loss(rec, x).item() == pytest.approx(0.75)
    assert L.self_reconstruction_loss(x + 0.25, x).item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="rec"):
        L.cycle_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 2, 2))


# ------------------------------------------------------------------ attention (Eq. 7)

def test_attention_l2_on_known_masks():
    eye = torch.full((2, 1, 3, 6), 0.2)
    mouth = torch.full((2, 1, 3, 4), 0.4)
    face = torch.cat([torch.ones(1, 1, 8, 8), torch.zeros(1, 1, 8, 8)])
    # normalised (root mean square): constant m costs m; batch mean of (1, 0) = 0.5
    assert L.attention_loss([eye, mouth, face]).item() == pytest.approx(0.2 + 0.4 + 0.5)
    # literal Eq. 7 norm: 0.2 sqrt(18) + 0.4 sqrt(12) + (8 + 0) / 2
    assert L.attention_loss([eye, mouth, face], normalized=False).item() == pytest.approx(
        0.2 * math.sqrt(18) + 0.4 * math.sqrt(12) + 4.0, rel=1e-6)
    checker = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]])
    assert L.attention_loss(checker).item() == pytest.approx(math.sqrt(0.5))
    assert L.attention_loss(checker[:, 0]).item() == pytest.approx(math.sqrt(0.5))  # (B, H, W)


def test_attention_ganimation_mean_plus_total_variation():
    checker = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]])  # mean 0.5, TV = 2 vertical + 2 horizontal
    assert L.total_variation(checker).item() == pytest.approx(4.0)
    assert L.attention_loss([checker], "ganimation", tv_weight=0.1).item() == pytest.approx(0.5 + 0.4)
    step = torch.zeros(2, 1, 4, 4)
    step[0, :, :, 2:] = 1.0  # sample 0: one vertical edge, 4 rows long; sample 1: flat zero
    assert L.total_variation(step).item() == pytest.approx(2.0)
    assert L.attention_loss(step, "ganimation", tv_weight=1.0).item() == pytest.approx(0.25 + 2.0)
    assert L.GANIMATION_TV_WEIGHT * 0.1 == pytest.approx(1e-5)  # GANimation's lambda_mask_smooth inside lambda_4


def test_attention_loss_rejects_unknown_variant_and_bad_masks():
    with pytest.raises(ValueError, match="l2, ganimation"):
        L.attention_loss([torch.zeros(1, 1, 2, 2)], "l1")
    with pytest.raises(ValueError, match="mask 1"):
        L.attention_loss([torch.zeros(1, 1, 2, 2), torch.zeros(4)])
    with pytest.raises(ValueError, match="at least one"):
        L.attention_loss([])


# ------------------------------------------------------------------ full objectives (Eq. 8, 9)

def test_loss_weights_are_the_papers_and_validated():
    w = L.LossWeights()
    assert (w.lambda_cls, w.lambda_cycle, w.lambda_self, w.lambda_att, w.lambda_gp) == (1, 10, 10, 0.1, 10)
    for bad in (-1.0, float("nan"), float("inf"), "10", True):
        with pytest.raises(ValueError, match="lambda_cycle"):
            L.LossWeights(lambda_cycle=bad)


def _setup():
    torch.manual_seed(0)
    shapes = {"eye": (3, 2, 4), "global": (3, 4, 4)}
    critics = {k: LinearCritic(s, n=3, seed=i) for i, (k, s) in enumerate(shapes.items())}
    reals = {k: torch.randn(2, *s, dtype=torch.float64) for k, s in shapes.items()}
    fakes = {k: torch.randn(2, *s, dtype=torch.float64, requires_grad=True) for k, s in shapes.items()}
    return critics, reals, fakes


def test_discriminator_loss_equals_hand_sum_with_paper_lambdas():
    critics, reals, fakes = _setup()
    f_x = torch.tensor([1, 2])
    total, parts = L.discriminator_loss(critics, reals, fakes, f_x)
    adv = gp = cls = 0.0
    for k, D in critics.items():
        src_r, cls_r = D.numpy(reals[k])
        src_f, _ = D.numpy(fakes[k])
        adv += -src_r.mean() + src_f.mean()
        gp += (np.linalg.norm(D.w.detach().numpy()) - 1) ** 2  # linear critic: closed form
        cls += cce(cls_r, f_x.numpy())
    assert total.item() == pytest.approx(adv + 10 * gp + 1 * cls, rel=1e-9)
    assert parts["adv"].item() == pytest.approx(adv) and parts["gp"].item() == pytest.approx(gp)
    assert parts["cls"].item() == pytest.approx(cls)
    assert {"adv_eye", "gp_global", "cls_eye"} <= set(parts) and not parts["adv"].requires_grad
    assert L.discriminator_loss(nn.ModuleDict(critics), reals, fakes, f_x)[0].item() == pytest.approx(total.item())
    total.backward()
    assert all(f.grad is None for f in fakes.values()), "the critic step must not reach G"
    assert all(D.w.grad is not None for D in critics.values())


def test_generator_loss_equals_hand_sum_with_paper_lambdas():
    critics, reals, fakes = _setup()
    f_y = torch.tensor([0, 2])
    x = reals["global"]
    cycle, self_rec = x + 0.5, x - 0.1
    masks = [torch.full((2, 1, 2, 4), 0.3, dtype=torch.float64), torch.full((2, 1, 4, 4), 0.6, dtype=torch.float64)]
    total, parts = L.generator_loss(critics, fakes, f_y, x=x, cycle=cycle, self_rec=self_rec, masks=masks)
    adv = cls = 0.0
    for k, D in critics.items():
        src_f, cls_f = D.numpy(fakes[k])
        adv += -src_f.mean()
        cls += cce(cls_f, f_y.numpy())
    expected = adv + 1 * cls + 10 * 0.5 + 10 * 0.1 + 0.1 * (0.3 + 0.6)
    assert total.item() == pytest.approx(expected, rel=1e-9)
    assert parts["cycle"].item() == pytest.approx(0.5) and parts["self"].item() == pytest.approx(0.1)
    assert parts["att"].item() == pytest.approx(0.9)
    total.backward()
    assert all(f.grad is not None for f in fakes.values()), "the generator step reaches G's outputs"
    # other weights, GANimation attention, and a single critic (StarGAN: no self term, no masks)
    w = L.LossWeights(lambda_cls=2, lambda_cycle=3, lambda_att=1)
    D = critics["global"]
    total1, parts1 = L.generator_loss(D, fakes["global"], f_y, x=x, cycle=cycle, weights=w)
    src_f, cls_f = D.numpy(fakes["global"])
    assert total1.item() == pytest.approx(-src_f.mean() + 2 * cce(cls_f, f_y.numpy()) + 3 * 0.5)
    assert set(parts1) == {"adv", "cls", "cycle"}
    total2, _ = L.generator_loss(D, fakes["global"], f_y, masks=masks[1:], weights=w, attention="ganimation")
    assert total2.item() == pytest.approx(-src_f.mean() + 2 * cce(cls_f, f_y.numpy()) + 0.6)  # constant mask: TV = 0


def test_full_objectives_reject_mismatched_inputs():
    critics, reals, fakes = _setup()
    with pytest.raises(ValueError, match="fakes must have the same keys"):
        L.discriminator_loss(critics, reals, {"global": fakes["global"]}, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="pass x"):
        L.generator_loss(critics, fakes, torch.tensor([0, 1]), cycle=fakes["global"])


# ------------------------------------------------------------------ NaN / inf reach the result (the trainer's guard)

def test_nan_and_inf_propagate_everywhere():
    nan = float("nan")
    bad = lambda v: not math.isfinite(v.item())  # noqa: E731
    assert bad(L.critic_adv_loss(t([[1.0], [nan]]), t([[0.0]])))
    assert bad(L.critic_adv_loss(t([[1.0]]), t([[float("inf")]])))
    assert bad(L.generator_adv_loss(t([[nan]])))
    assert bad(L.classification_loss(t([[0.0, nan]]), torch.tensor([0])))
    assert bad(L.cycle_loss(t([[nan, 0.0]]), t([[0.0, 0.0]])))
    assert bad(L.self_reconstruction_loss(t([[0.0, 0.0]]), t([[nan, 0.0]])))
    m = torch.zeros(1, 1, 2, 2)
    m[0, 0, 1, 1] = nan
    assert bad(L.attention_loss([torch.zeros(1, 1, 2, 2), m]))
    assert bad(L.attention_loss([m], "ganimation"))
    assert bad(L.gradient_penalty(lambda x: (x ** 2).sum(1), t([[nan, 1.0]]), t([[0.0, 1.0]])))
    assert bad(L.gan_discriminator_loss(t([nan]), t([0.0])))
    critics, reals, fakes = _setup()
    reals["eye"][0, 0, 0, 0] = nan
    assert bad(L.discriminator_loss(critics, reals, fakes, torch.tensor([0, 1]))[0])
    fakes["global"].data[1, 2, 3, 3] = nan
    assert bad(L.generator_loss(critics, fakes, torch.tensor([0, 1]))[0])
