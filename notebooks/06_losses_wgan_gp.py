# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/06_losses_wgan_gp.ipynb)
#
# # Lesson 6 — The losses: WGAN-GP, classification, reconstruction, attention
#
# Lessons 4 and 5 built LGP-GAN's generators and discriminators. This lesson builds what
# trains them: the objectives of LGP-GAN Section III.B, **Eq. 2-9**. Each term is one small
# function of `course_lib.losses`; we derive it, check it on toy tensors whose answer we
# know by hand, and assemble the full losses $\mathcal{L}_D$ (Eq. 8) and $\mathcal{L}_G$
# (Eq. 9) that Lesson 7's trainer minimises.

# %%
# Setup: in Colab, clone the course and install only what is missing; locally, nothing to do.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    REPO_GIT = "https://github.com/gan-expression-course/gan-expression-course.git"  # course_lib.REPO
    if not os.path.isdir("/content/course"):  # an uploaded /content/course is used as it is
        clone = subprocess.run(["git", "clone", "-q", REPO_GIT, "/content/course"], capture_output=True,
                               text=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        if clone.returncode != 0:
            why = (clone.stderr.strip().splitlines() or [f"git exit status {clone.returncode}"])[-1]
            raise SystemExit(f"Could not clone {REPO_GIT} ({why}): set REPO_GIT in this "
                             "cell to your fork of the course (course_lib.REPO), or upload the course folder "
                             "to /content/course, then run this cell again.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/course"], check=True)
    sys.path.insert(0, "/content/course")
    from course_lib.setup_env import ensure_packages

    ensure_packages()

# %% [markdown]
# ## Learning objectives
#
# After this lesson you can
#
# - explain why LGP-GAN trains with the **WGAN-GP** adversarial loss rather than the original
#   GAN loss, and show the difference on a 2-D toy problem;
# - derive the **gradient penalty** of Eq. 2 and verify it with the closed form of a linear
#   critic, $(\lVert w \rVert_2 - 1)^2$;
# - compute the classification (Eq. 3-4), cycle (Eq. 5), self-reconstruction (Eq. 6) and
#   attention (Eq. 7) losses by hand and with `course_lib.losses`;
# - assemble $\mathcal{L}_D$ (Eq. 8) and $\mathcal{L}_G$ (Eq. 9) with the paper's weights,
#   summed over the local and global discriminators, and read their parts.
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 10 s,
# normal mode 8 s (the two-Gaussians toy runs its full 200 steps in both), with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/06_losses_wgan_gp.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from course_lib import losses
from course_lib.discriminators import PatchDiscriminator
from course_lib.exercises import check
from course_lib.exercises.lesson06 import CCE_LABELS, CCE_LOGITS, G_PARTS, GP_W
from course_lib.lesson import torch_threads

torch.manual_seed(0)
torch.set_num_threads(min(4, torch.get_num_threads()))

# %% [markdown]
# ## The objective at a glance
#
# | term | paper | `course_lib.losses` | weight (Section III.B.5) |
# | --- | --- | --- | --- |
# | adversarial + gradient penalty | Eq. 2 | `critic_adv_loss`, `generator_adv_loss`, `gradient_penalty` | 1, $\lambda_{gp} = 10$ |
# | expression classification (D: real, $f_x$; G: fake, $f_y$) | Eq. 3, 4 | `classification_loss` | $\lambda_1 = 1$ |
# | cycle reconstruction | Eq. 5 | `cycle_loss` | $\lambda_2 = 10$ |
# | self reconstruction | Eq. 6 | `self_reconstruction_loss` | $\lambda_3 = 10$ |
# | attention | Eq. 7 | `attention_loss` | $\lambda_4 = 0.1$ |
# | full losses | Eq. 8, 9 | `discriminator_loss`, `generator_loss` | `LossWeights()` |

# %%
print(losses.LossWeights())

# %% [markdown]
# ## 1. Why WGAN-GP and not the original GAN loss
#
# The original GAN (Goodfellow et al. 2014) trains a discriminator $D(x) = \sigma(\ell(x))$
# to tell real from fake, $\min_D -\mathbb{E}[\log D(x)] - \mathbb{E}[\log(1 - D(G(z)))]$,
# and the generator to fool it. With an optimal $D$ the generator minimises the
# Jensen-Shannon divergence between the real and generated distributions. When the two
# distributions barely overlap — the normal case early in training, for images on thin
# manifolds — the JS divergence is stuck at $\log 2$ whatever the distance between them,
# $D$ separates them perfectly, saturates, and the generator's gradient vanishes.
#
# WGAN (Arjovsky et al. 2017) replaces JS by the **Wasserstein-1 distance**,
# $W(P_r, P_g) = \sup_{\lVert f \rVert_L \le 1} \mathbb{E}_{P_r}[f] - \mathbb{E}_{P_g}[f]$: a
# *critic* $f$ with unbounded real output, restricted to 1-Lipschitz functions. $W$ shrinks
# smoothly as $P_g$ approaches $P_r$, so the critic's gradient keeps pointing the generator
# the right way. WGAN-GP (Gulrajani et al. 2017, LGP-GAN's reference [26]) enforces the
# Lipschitz constraint softly: the optimal critic has gradient norm 1 on the lines between
# real and fake samples, so it penalises $(\lVert \nabla_{\tilde x} f(\tilde x) \rVert_2 - 1)^2$
# at random points $\tilde x$ on those lines.
#
# **A discrepancy in the paper.** LGP-GAN's Eq. 2 is printed with logarithms,
# $\mathbb{E}[\log D_i(I_i)] - \mathbb{E}[\log D_i(G_i(I_i, f_y))] - \lambda_{gp}\,\mathrm{GP}$,
# but the text says it is the WGAN-GP loss, and a gradient penalty belongs to a Wasserstein
# critic. We implement WGAN-GP, as StarGAN does: no logarithms, the critic outputs raw scores.
# The logarithmic (original GAN) form is kept as `gan_discriminator_loss` /
# `gan_generator_loss` for the comparison below.
#
# ### A toy: two Gaussians far apart
#
# Real data is a Gaussian blob at $(2, 0)$. The "generator" is the simplest possible one: a
# blob of the same shape whose centre $\mu$ is its only parameter, starting at $(-2, 0)$
# and moved by plain gradient descent (so the gradient's size matters). A small MLP — three
# linear layers, two hidden layers of 32 units — plays the discriminator / critic, trained five times per generator step (as in LGP-GAN
# Section IV.B). We compare the original GAN with the minimax generator loss
# $\mathbb{E}[\log(1 - D(G(z)))]$, its usual non-saturating fix $-\mathbb{E}[\log D(G(z))]$,
# and WGAN-GP, all built from `course_lib.losses`.

# %%
REAL_MU, STD = torch.tensor([2.0, 0.0]), 0.2
CRITERIA = {
    "GAN (minimax)": (losses.gan_discriminator_loss, lambda out: losses.gan_generator_loss(out, non_saturating=False)),
    "GAN (non-saturating)": (losses.gan_discriminator_loss, losses.gan_generator_loss),
    "WGAN-GP": (None, losses.generator_adv_loss),
}


def train_two_gaussians(name, steps, n_critic=5, batch=64, lr_d=1e-3, lr_g=0.05, seed=0):
    """Train mu (the generator) against a small MLP; return the path of mu and the gradient norms."""
    with torch_threads(1):   # tiny tensors: one thread is many times faster (course_lib.lesson.torch_threads)
        torch.manual_seed(seed)
        d_loss, g_loss = CRITERIA[name]
        mu = nn.Parameter(torch.tensor([-2.0, 0.0]))
        D = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
        opt_d = torch.optim.Adam(D.parameters(), lr_d, betas=(0.5, 0.9))
        opt_g = torch.optim.SGD([mu], lr_g)
        path, grad_norms = [mu.detach().clone()], []
        for _ in range(steps):
            for _ in range(n_critic):
                real, fake = REAL_MU + STD * torch.randn(batch, 2), (mu + STD * torch.randn(batch, 2)).detach()
                if d_loss is None:  # WGAN-GP, Eq. 2 as a loss
                    loss = losses.critic_adv_loss(D(real), D(fake)) + 10 * losses.gradient_penalty(D, real, fake)
                else:
                    loss = d_loss(D(real), D(fake))
                opt_d.zero_grad()
                loss.backward()
                opt_d.step()
            opt_g.zero_grad()
            g_loss(D(mu + STD * torch.randn(batch, 2))).backward()
            grad_norms.append(mu.grad.norm().item())
            opt_g.step()
            path.append(mu.detach().clone())
        return torch.stack(path), np.array(grad_norms)


steps = 200   # the full run in every mode, the book included: seconds on one thread
toy = {name: train_two_gaussians(name, steps) for name in CRITERIA}
for name, (path, g) in toy.items():
    print(f"{name:22s} final mu = ({path[-1, 0]:+.2f}, {path[-1, 1]:+.2f}); distance to the real mean "
          f"{(path[-1] - REAL_MU).norm():.2f}; generator gradient norm, mean of the last 20 steps: {g[-20:].mean():.1e}")


# %% [markdown]
# The figure shows, per criterion, how far the generator's centre is from the real one, and
# the size of the gradient it received.

# %%
def plot_toy(results):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
    for name, (path, g) in results.items():
        ax1.plot((path - REAL_MU).norm(dim=1), label=name)
        ax2.semilogy(np.maximum(g, 1e-12), label=name)
    ax1.set(xlabel="generator step", ylabel="|mu - real mean|", title="distance to the real data")
    ax2.set(xlabel="generator step", ylabel="|d loss_G / d mu|", title="generator gradient (log scale)")
    ax1.legend()
    fig.tight_layout()


plot_toy(toy)

# %% [markdown]
# What to look for (run it: the printed numbers above are this run's). With the **minimax**
# loss, the discriminator quickly separates the blobs, its sigmoid saturates and the
# generator's gradient collapses by orders of magnitude: the fake blob stops far from the real
# one. The **non-saturating** loss repairs the gradient in this easy 2-D case, but its size
# still depends on how confident $D$ is. The **WGAN-GP** critic's gradient stays close to
# norm 1 — exactly what the penalty asks for — so the generator keeps moving towards the
# data until it reaches it (with a constant step it then oscillates around it; the trainer's
# linearly decaying learning rate damps that). A second advantage, visible in Lesson 7:
# $-$`critic_adv_loss` estimates the Wasserstein distance, a loss curve that falls as the
# samples improve.

# %% [markdown]
# ## 2. The adversarial terms and the gradient penalty (Eq. 2)
#
# Written as losses to *minimise* (the form Eq. 8 and 9 need, see Section 6):
#
# $$\mathcal{L}^{D}_{adv} = -\mathbb{E}[D(I_i)] + \mathbb{E}[D(G_i(I_i, f_y))] + \lambda_{gp}\,\mathbb{E}_{\tilde I}\big[(\lVert\nabla_{\tilde I} D(\tilde I)\rVert_2 - 1)^2\big],\qquad
# \mathcal{L}^{G}_{adv} = -\mathbb{E}[D(G_i(I_i, f_y))],$$
#
# with $\tilde I = \alpha I_i + (1 - \alpha)\, G_i(I_i, f_y)$, **one $\alpha \sim U[0, 1]$ per
# sample**. Our discriminators are PatchGANs: $D$ returns a map of scores, and the means run
# over the batch and all patches.

# %%
src_real = torch.tensor([[1.0], [3.0]])
src_fake = torch.tensor([[0.5], [-0.5], [1.0]])
print("critic loss:", losses.critic_adv_loss(src_real, src_fake).item(), " by hand:", -(1 + 3) / 2 + (0.5 - 0.5 + 1) / 3)
print("generator loss:", losses.generator_adv_loss(src_fake).item(), " by hand:", -(0.5 - 0.5 + 1) / 3)

# %% [markdown]
# **The closed form of a linear critic.** For $D(x) = \langle w, x\rangle + b$ the gradient
# is $w$ at every point, so whatever the interpolation, $\mathrm{GP} = (\lVert w\rVert_2 - 1)^2$.
# The library computes the gradient with autograd (`create_graph=True`, so that the penalty
# itself can be back-propagated into the critic); the closed form checks it:

# %%
w = torch.randn(3 * 8 * 8, dtype=torch.float64)
linear_critic = lambda x: x.flatten(1) @ w + 0.5  # noqa: E731
real, fake = torch.randn(4, 3, 8, 8, dtype=torch.float64), torch.randn(4, 3, 8, 8, dtype=torch.float64)
for alpha in (None, torch.zeros(4), torch.ones(4), torch.tensor([0.1, 0.4, 0.7, 0.9])):
    gp = losses.gradient_penalty(linear_critic, real, fake, alpha=alpha)
    print(f"alpha={'random' if alpha is None else [round(a, 2) for a in alpha.tolist()]}: GP = {gp.item():.6f}")
print(f"closed form (||w|| - 1)^2 = {(w.norm().item() - 1) ** 2:.6f}")

# %% [markdown]
# For a PatchGAN map the penalty uses the gradient of the *sum* of the patch scores (as
# StarGAN does). For a 1x1-convolution critic $v \cdot x$ applied at each of the $H W$
# positions, that gradient is $v$ at every position, so $\mathrm{GP} = (\sqrt{HW}\,\lVert v\rVert - 1)^2$:

# %%
conv = nn.Conv2d(3, 1, kernel_size=1).double()
x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
print(losses.gradient_penalty(conv, x, x.flip(0)).item(), (math.sqrt(5 * 4) * conv.weight.norm().item() - 1) ** 2)

# %% [markdown]
# **Sum or mean: what the penalty asks of each critic.** The adversarial terms *average*
# the patch scores, so the critic whose value enters the Wasserstein estimate is the mean
# $\bar D = \frac{1}{P}\sum_p D_p$ over the $P$ patches. The penalty, however, differentiates
# the *sum* $\sum_p D_p$: StarGAN's `gradient_penalty` passes `grad_outputs=torch.ones(...)`
# to `torch.autograd.grad`, and we keep that choice (LGP-GAN's text is silent, and its
# networks come from StarGAN's; for StarGAN's single critic the choice only rescales its
# one adversarial term). Since $\nabla \bar D = \frac{1}{P} \nabla \sum_p D_p$,
# a penalty that drives $\lVert \nabla \sum_p D_p \rVert$ to 1 drives $\bar D$ towards a
# $\frac{1}{P}$-Lipschitz function, so each critic estimates $W/P$ rather than $W$. $P$
# depends on the critic: the patch maps of LGP-GAN's three critics, at the paper's sizes
# and at the `cpu` preset's (a thin 4-channel copy; the map size does not depend on the
# channels):

# %%
from course_lib import presets

for preset_name in ("paper", "cpu"):
    mp = presets.get_preset(preset_name)
    size = mp.image_size
    for name, shape, n_layers in (("global", (size, size), mp.d_layers_global),
                                  ("eye", mp.region_sizes["eye"], mp.d_layers_local),
                                  ("mouth", mp.region_sizes["mouth"], mp.d_layers_local)):
        D = PatchDiscriminator(shape, n_classes=8, conv_dim=4, n_layers=n_layers).double()
        probe = torch.randn(1, 3, *shape, dtype=torch.float64, requires_grad=True)
        src, _ = D(probe)
        (g_sum,) = torch.autograd.grad(src.sum(), probe, retain_graph=True)
        (g_mean,) = torch.autograd.grad(src.mean(), probe)
        P = src[0, 0].numel()
        print(f"{preset_name:5s} D_{name:<6} {shape[0]:>3}x{shape[1]:<3} map {src.shape[2]}x{src.shape[3]}, P = {P:>2}: "
              f"|grad of the mean| / |grad of the sum| = {(g_mean.norm() / g_sum.norm()).item():.4f} "
              f"(1/P = {1 / P:.4f})")

# %% [markdown]
# So the penalty holds the global critic's mean score to about 1/4-Lipschitz, the eye
# critic's to 1/18 and the mouth critic's to 1/12. In $\mathcal{L}_G$ (Eq. 9) the three
# adversarial terms enter with weight 1 each, but their scale — and that of the gradients
# they send to the generators — follows these targets: relative to the global critic, the
# eye critic's adversarial signal is weighted about $4/18$ and the mouth critic's $4/12$.
# In effect the adversarial terms are weighted $1/4$, $1/18$ and $1/12$ against critics
# whose mean scores are 1-Lipschitz. Penalising the gradient of the mean instead would give
# the three critics one common scale and raise every adversarial term against the
# $\lambda$-weighted losses: a change of the balance that the `cpu` preset's measured runs
# were made with. We keep StarGAN's form and state its consequence here.

# %% [markdown]
# ## 3. Expression classification (Eq. 3 and 4)
#
# Each discriminator has an auxiliary classifier (Table III). $D$ learns it on **real**
# images with their labels $f_x$ (Eq. 3); $G$ is rewarded when its **fakes** are classified
# as the target $f_y$ (Eq. 4). Both are categorical cross-entropy,
# $-\log \mathrm{softmax}(\text{logits})_{\text{label}}$, averaged over the batch:

# %%
logits = torch.tensor([[0.0, math.log(2), math.log(3)]])  # softmax = (1/6, 2/6, 3/6)
for label in range(3):
    print(f"label {label}: CCE = {losses.classification_loss(logits, torch.tensor([label])).item():.4f}, "
          f"by hand -log({label + 1}/6) = {-math.log((label + 1) / 6):.4f}")
print("8 equal logits:", losses.classification_loss(torch.zeros(1, 8), torch.tensor([3])).item(), "= ln 8 =", math.log(8))

# %% [markdown]
# ## 4. Cycle and self reconstruction (Eq. 5 and 6)
#
# $\mathcal{L}_{cycle} = \lVert G(G(I_x, f_y), f_x) - I_x \rVert_1$ asks that translating to
# $f_y$ and back to $f_x$ returns the input — the identity must survive.
# $\mathcal{L}_{self} = \lVert G(I_x, f_x) - I_x\rVert_1$ asks that "translating" to the
# expression the face already has changes nothing. Both are mean absolute errors (L1:
# sharper than L2, Section III.B.3).
#
# Take a toy attention generator, Eq. 1: $I_{out} = (1 - M)\,C + M\,I_{in}$, with a colour
# image $C$ that depends on the target label. Watch what a **saturated mask** $M = 1$ does:

# %%
def toy_generator(x, label, mask_value):
    """Eq. 1 with a label-dependent colour image C = (label - 3.5) / 4 and a constant mask."""
    color = torch.full_like(x, (label - 3.5) / 4)
    mask = torch.full_like(x[:, :1], mask_value)
    return (1 - mask) * color + mask * x, mask


x = torch.rand(2, 3, 8, 8) * 2 - 1
f_x, f_y = 2, 6
for m in (1.0, 0.5, 0.0):
    y, mask = toy_generator(x, f_y, m)
    rec, _ = toy_generator(y, f_x, m)
    same, _ = toy_generator(x, f_x, m)
    print(f"M = {m}: change made |y - x| = {(y - x).abs().mean():.3f}, cycle = {losses.cycle_loss(rec, x):.3f}, "
          f"self = {losses.self_reconstruction_loss(same, x):.3f}, attention (Eq. 7) = {losses.attention_loss([mask]):.3f}")

# %% [markdown]
# With $M = 1$ both reconstruction losses are zero — and the generator changes nothing. That
# trivial optimum is why the attention mask "is very easy to saturate to 1" (Section III.B.4),
# and why Eq. 7 penalises it.
#
# ## 5. The attention loss (Eq. 7)
#
# $\mathcal{L}_{att} = \mathbb{E}[\lVert M_{eye}\rVert_2 + \lVert M_{mouth}\rVert_2 + \lVert M_y\rVert_2]$
# sums the L2 norms of the three masks of LGP-GAN (G_eye, G_mouth, G_global). The literal
# norm grows with the mask's size (a 128x128 mask of 0.5 has norm 64), so `course_lib`
# divides each norm by $\sqrt{\#\text{pixels}}$ — the root mean square, our choice — so
# that a constant mask $m$ costs $m$ whatever its size and $\lambda_4 = 0.1$ weighs the
# 48x96 eye mask and the 128x128 face mask alike. `normalized=False` gives the literal norm.
# GANimation's variant (`variant="ganimation"`) is $\mathrm{mean}(M) + \lambda_{TV}\,TV(M)$,
# where the total variation $TV$ (sum of absolute differences of neighbouring pixels) keeps
# the mask smooth.

# %%
eye, mouth, face = torch.full((1, 1, 48, 96), 0.5), torch.full((1, 1, 48, 64), 0.5), torch.full((1, 1, 128, 128), 0.5)
print("L2, normalised:", losses.attention_loss([eye, mouth, face]).item(), " (3 masks x 0.5)")
print("L2, literal   :", losses.attention_loss([eye, mouth, face], normalized=False).item(),
      " = 0.5 (sqrt(4608) + sqrt(3072) + 128) =", 0.5 * (math.sqrt(48 * 96) + math.sqrt(48 * 64) + 128))
checker = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]])
print("GANimation variant on a 2x2 checkerboard: mean 0.5 + 0.1 x TV 4 =",
      losses.attention_loss([checker], "ganimation", tv_weight=0.1).item())

# %% [markdown]
# ## 6. The full losses (Eq. 8 and 9), summed over the discriminators
#
# Eq. 8 and 9 read $\mathcal{L}_D = \mathcal{L}_{adv} + \lambda_1 \mathcal{L}^D_{cls}$ and
# $\mathcal{L}_G = -\mathcal{L}_{adv} + \lambda_1 \mathcal{L}^G_{cls} + \lambda_2 \mathcal{L}_{cycle} + \lambda_3 \mathcal{L}_{self} + \lambda_4 \mathcal{L}_{att}$.
# Both are minimised, so $\mathcal{L}_{adv}$ here must be the *critic's* loss
# $-\mathbb{E}[D(\text{real})] + \mathbb{E}[D(\text{fake})] + \lambda_{gp}\mathrm{GP}$ — the negative of Eq. 2 as
# printed — and in $-\mathcal{L}_{adv}$ only $-\mathbb{E}[D(\text{fake})]$ depends on $G$. Eq. 2
# sums over the discriminator/generator pairs: $D_{eye}$ judges the eye crop of $I_x$ against
# $G_{eye}$'s output, $D_{mouth}$ the mouth, $D_{global}$ the whole face against $I_y$.
#
# Below, tiny PatchGAN discriminators (Lesson 5, `conv_dim=4`, 2 layers) on 16x16 "faces"
# with an 8x16 eye crop and an 8x8 mouth crop; random tensors stand in for the generator.

# %%
B, n = 2, 8
sizes = {"eye": (8, 16), "mouth": (8, 8), "global": (16, 16)}
critics = {k: PatchDiscriminator(s, n_classes=n, conv_dim=4, n_layers=2) for k, s in sizes.items()}
reals = {k: torch.rand(B, 3, *s) * 2 - 1 for k, s in sizes.items()}
fakes = {k: (torch.rand(B, 3, *s) * 2 - 1).requires_grad_() for k, s in sizes.items()}
f_x, f_y = torch.tensor([4, 5]), torch.tensor([0, 7])

d_total, d_parts = losses.discriminator_loss(critics, reals, fakes, f_x)
print(f"L_D = {d_total.item():.4f}")
print({k: round(v.item(), 4) for k, v in d_parts.items()})

# %% [markdown]
# The total is exactly the weighted sum of the parts (the parts are unweighted and summed over
# the three discriminators):

# %%
w = losses.LossWeights()
print(d_total.item(), d_parts["adv"].item() + w.lambda_gp * d_parts["gp"].item() + w.lambda_cls * d_parts["cls"].item())

# %%
x = reals["global"]
cycle = x + 0.1 * torch.randn_like(x)       # stands for G(G(x, f_y), f_x)
self_rec = x + 0.05 * torch.randn_like(x)   # stands for G(x, f_x)
masks = [torch.rand(B, 1, *s) for s in sizes.values()]  # M_eye, M_mouth, M_y
g_total, g_parts = losses.generator_loss(critics, fakes, f_y, x=x, cycle=cycle, self_rec=self_rec, masks=masks)
print(f"L_G = {g_total.item():.4f}")
print({k: round(v.item(), 4) for k, v in g_parts.items()})
g_total.backward()
print("gradient reaches the generator's outputs:", all(f.grad is not None for f in fakes.values()))

# %% [markdown]
# `discriminator_loss` detaches the fakes (the critic step must not update $G$);
# `generator_loss` does not. Lesson 7's trainer calls exactly these two functions, five critic
# steps per generator step. Every loss lets a NaN through unchanged, so the trainer can stop
# with the name of the loss that diverged.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** A linear critic on 4-D inputs has weights `GP_W` (printed below) and bias
# 0.7. What is its gradient penalty (Eq. 2, without $\lambda_{gp}$) for any real and fake
# batch? Compute it by hand.

# %%
print("w =", GP_W)
answer = None  # a number
check("06.gp_linear", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# the gradient of <w, x> + b is w everywhere; ||w|| = sqrt(9 + 16 + 0 + 144) = 13.
assert check("06.gp_linear", (math.sqrt(sum(v * v for v in GP_W)) - 1) ** 2)

# %% [markdown]
# **Exercise 2.** Compute the classification loss (Eq. 3) of the logits `CCE_LOGITS` (two
# images, three classes) with labels `CCE_LABELS`, with numpy only (no `course_lib.losses`).

# %%
print("logits =", CCE_LOGITS, " labels =", CCE_LABELS)
answer = None  # a number
check("06.cross_entropy", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# log-softmax with the log-sum-exp, then the mean of -log p[label].
z = np.array(CCE_LOGITS)
log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
assert check("06.cross_entropy", -np.mean(log_p[np.arange(len(CCE_LABELS)), CCE_LABELS]))

# %% [markdown]
# **Exercise 3.** At some training step the unweighted parts of $\mathcal{L}_G$ are `G_PARTS`
# (printed below; `adv` is already $-\mathbb{E}[D(\text{fake})]$ summed over the
# discriminators). What is $\mathcal{L}_G$ (Eq. 9) with the paper's weights?

# %%
print(G_PARTS)
answer = None  # a number
check("06.generator_total", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# Eq. 9 with lambda_1 = 1, lambda_2 = 10, lambda_3 = 10, lambda_4 = 0.1.
p = G_PARTS
assert check("06.generator_total", p["adv"] + 1 * p["cls"] + 10 * p["cycle"] + 10 * p["self"] + 0.1 * p["att"])

# %% [markdown]
# **Exercise 4 (code).** Write the gradient penalty of Eq. 2 yourself:
# `gradient_penalty(critic, real, fake, alpha)` with one mixing weight per sample in `alpha`
# (shape (B,)); interpolate $\tilde I = \alpha\, I_{real} + (1 - \alpha)\, I_{fake}$ per
# sample (the fakes detached: the penalty trains the critic, not the generator), take the
# gradient of the critic's scores with respect to $\tilde I$ (for a PatchGAN map, of their
# sum), and return the batch mean of $(\lVert \nabla \rVert_2 - 1)^2$ with the norm over
# each sample. The checker compares the value *and its gradient with respect to the
# critic's weights* with `losses.gradient_penalty` on a linear, an MLP and a PatchGAN critic
# and on edge cases ($\alpha$ = 0 or 1, a batch of one). The penalty must train the
# critic: keep the graph of the gradient (`torch.autograd.grad(..., create_graph=True)`).

# %%
def gradient_penalty(critic, real, fake, alpha):
    ...  # your code here


check("06.gradient_penalty_function", gradient_penalty)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def gradient_penalty(critic, real, fake, alpha):
    a = alpha.view(-1, *[1] * (real.dim() - 1))                      # (B, 1, 1, ...) broadcasts per sample
    x = (a * real + (1 - a) * fake.detach()).detach().requires_grad_(True)
    scores = critic(x)
    (grad,) = torch.autograd.grad(scores, x, grad_outputs=torch.ones_like(scores), create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


assert check("06.gradient_penalty_function", gradient_penalty)

# %% [markdown]
# ## Summary
#
# - LGP-GAN's adversarial loss is **WGAN-GP** (Eq. 2; the logarithms in the printed equation
#   are a slip): a critic with raw scores, $-\mathbb{E}[D(\text{real})] + \mathbb{E}[D(\text{fake})]$,
#   plus $\lambda_{gp} = 10$ times the penalty $(\lVert\nabla D(\tilde I)\rVert_2 - 1)^2$ at
#   per-sample interpolates. Its gradient does not vanish when real and fake are far apart,
#   unlike the original (minimax) GAN loss — the two-Gaussian toy shows it.
# - For a linear critic the penalty is $(\lVert w\rVert_2 - 1)^2$ exactly: a closed form the
#   tests use to check the autograd implementation.
# - Classification (Eq. 3-4) is cross-entropy on real images with $f_x$ for $D$ and on fakes
#   with $f_y$ for $G$; cycle (Eq. 5) and self (Eq. 6) reconstruction are L1 means; the
#   attention loss (Eq. 7) keeps the masks from saturating at 1, the trivial optimum of the
#   reconstruction losses.
# - $\mathcal{L}_D$ (Eq. 8) and $\mathcal{L}_G$ (Eq. 9) sum each term over $D_{eye}$,
#   $D_{mouth}$ and $D_{global}$ with $\lambda_1 = 1$, $\lambda_2 = 10$, $\lambda_3 = 10$,
#   $\lambda_4 = 0.1$ (`losses.LossWeights()`).
#
# **Next:** Lesson 7 puts these losses into the training loop — five critic steps per
# generator step, Adam, a linearly decaying learning rate — and trains LGP-GAN.

# %% [markdown]
# ## Questions
#
# 1. In the two-Gaussian toy, why does the minimax generator stop moving while the WGAN-GP
#    generator keeps going? Answer in terms of the gradient the generator receives.
# 2. Why is the gradient penalty taken at points *between* real and fake samples rather than
#    at the real samples only?
# 3. What happens to the critic's training if the penalty is computed without
#    `create_graph=True`? Would the loss value change?
# 4. Why is $-$`critic_adv_loss` an estimate of the Wasserstein distance only when the
#    critic is (close to) 1-Lipschitz?
# 5. Which two terms of Eq. 9 would both be minimised by a generator that copies its input,
#    and which terms prevent that?
# 6. Why is the classification loss applied to real images in Eq. 8 but to fakes in Eq. 9?
