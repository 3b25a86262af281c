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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/05_patchgan_classifier.ipynb)
#
# # Lesson 5 — PatchGAN discriminators with an auxiliary classifier, and the baselines
#
# A generator learns only as well as its critic judges. LGP-GAN uses three critics —
# $D_{eye}$, $D_{mouth}$ and $D_{global}$ — with one design (**Table III**): a fully
# convolutional *PatchGAN* that scores every patch of the image as real or fake, plus an
# *auxiliary classifier* that names the expression. This lesson builds them, measures what
# one score "sees", and meets the two baselines the course compares against: StarGAN and
# GANimation.

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
# - build the discriminators of LGP-GAN **Table III** (6 layers global, 4 local) and follow
#   their shapes on square and non-square inputs;
# - compute the **receptive field** of one PatchGAN score by hand, and check it empirically;
# - explain the **auxiliary classifier** head (kernel $h/2^L \times w/2^L$) and the two
#   classification losses it serves (Eqs. 3 and 4);
# - count a discriminator's parameters from the table and predict which input sizes it accepts;
# - describe how StarGAN and GANimation differ from LGP-GAN, and load an official StarGAN
#   checkpoint into the course's layer-for-layer copy.
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 43 s,
# normal mode 28 s, with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/05_patchgan_classifier.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %%
import torch
import torch.nn.functional as F

from course_lib import blocks, ganimation, regions, stargan
from course_lib.datasets import SyntheticFaces
from course_lib.discriminators import PatchDiscriminator, plot_patch_scores, receptive_field
from course_lib.exercises import check
from course_lib.facs import EXPRESSIONS, expression_index
from course_lib.generators import plot_attention
from course_lib.lesson import pick, repo_root
from course_lib.lgp_gan import LGPDiscriminator

SIZE = pick(128, 64)          # the paper's faces; 64x64 in fast mode
DIM = pick(64, 16)            # Table III's 64 channels in the first layer
torch.manual_seed(0);

# %% [markdown]
# ## Table III, layer by layer
#
# Every layer is a 4x4 convolution with stride 2 and padding 1 — it halves height and width
# and doubles the channels — followed by LeakyReLU with slope 0.01. There is **no
# normalisation** (the WGAN-GP gradient penalty of Lesson 6 is defined per sample, and batch
# statistics would couple the samples). $D_{global}$ has 6 such layers, the local
# discriminators 4 ("based on the size of the local regions").

# %%
D_global = PatchDiscriminator(SIZE, n_classes=8, conv_dim=DIM, n_layers=6)
for i, layer, shape in blocks.trace_shapes(D_global.main, torch.randn(1, 3, SIZE, SIZE)):
    print(f"{i:>2} {layer:<26} {shape}")
print("heads:", blocks.describe(D_global.conv1), "|", blocks.describe(D_global.conv2))

# %% [markdown]
# The local discriminators judge non-square crops — 48x96 eyes, 48x64 mouth at 128x128 —
# and nothing in a convolution cares about squareness. Only the classifier head does: its
# kernel is the *whole* last feature map, $h/2^L \times w/2^L$ (Table III), which for the eye
# crop is a 3x6 kernel.

# %% [markdown]
# **Exercise 1.** Before the next cell builds them: what is the kernel size
# `(height, width)` of the classifier head of $D_{mouth}$ at the paper's sizes (48x64 crop,
# 4 layers)?

# %%
answer = None  # (kh, kw)
check("05.cls_kernel", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# h / 2**4 x w / 2**4
assert check("05.cls_kernel", (48 // 16, 64 // 16))

# %%
sizes = regions.region_sizes("lgp", SIZE)
L_local = pick(4, 3)           # 4 in the paper; 64x64 crops are 24 px high: 3 layers (24 / 8 = 3)
for name, (h, w) in sizes.items():
    D = PatchDiscriminator((h, w), 8, DIM, L_local)
    src, cls = D(torch.randn(2, 3, h, w))
    print(f"D_{name:<5} input {h}x{w}: real/fake map {tuple(src.shape)}, class logits {tuple(cls.shape)}, "
          f"classifier kernel {tuple(D.conv2.kernel_size)}")

# %% [markdown]
# A size that does not divide by $2^L$ would leave a fractional feature map; the
# constructor refuses it with the reason:

# %%
try:
    PatchDiscriminator((48, 96), n_layers=6)
except ValueError as err:
    print(err)

# %% [markdown]
# ## What does one score see? The receptive field
#
# A PatchGAN does not output *one* real/fake verdict but a map of them (Isola et al.'s
# "PatchGAN", LGP-GAN [27]): each cell scores the patch of input that can influence it. Walk
# backwards from the 3x3 head: a layer with kernel $k$ and stride $s$ turns a field of $r$
# cells into $(r - 1)s + k$ cells of its input.

# %% [markdown]
# **Exercise 2.** Before the next cell prints it, by hand: how many input pixels (side of
# the square) does one real/fake score of a *local* discriminator of Table III (4 layers,
# then the 3x3 head) see?

# %%
answer = None  # an integer
check("05.receptive_field", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# r = 3, then r <- (r - 1) * 2 + 4 four times: 8, 18, 38, 78
r = 3
for _ in range(4):
    r = (r - 1) * 2 + 4
assert check("05.receptive_field", r)

# %%
for L in range(1, 7):
    print(f"{L} layers: one score sees {receptive_field(L):>3} x {receptive_field(L):<3} input pixels")

# %% [markdown]
# The closed form can be checked without any algebra: back-propagate from one score and
# see which input pixels get a non-zero gradient.

# %%
D_small = PatchDiscriminator(64, 8, 4, n_layers=2)
probe = torch.randn(1, 3, 64, 64, requires_grad=True)
D_small(probe)[0][0, 0, 8, 8].backward()
rows = probe.grad.abs().sum(dim=(0, 1, 3)).nonzero()
print("empirical:", int(rows.max() - rows.min() + 1), " closed form:", receptive_field(2))

# %% [markdown]
# With 6 layers (the global critic) one score's field is 318 pixels, more than the 128x128
# face; with 4 layers (the local critics) it is 78 pixels: more than a crop's 48 rows, but
# fewer than the eye crop's 96 columns. Near a border part of the window falls on the
# zero padding, so what a score sees *of the crop* is smaller still. The same probe, per
# score of each critic at the paper's sizes (a thin 4-channel copy; the field does not
# depend on the channels):

# %%
def seen(size, n_layers):
    """Input rows and columns (first, last) each real/fake score of a critic depends on."""
    D = PatchDiscriminator(size, 8, 4, n_layers).double()
    crop = torch.randn(1, 3, *size, dtype=torch.float64, requires_grad=True)
    src, _ = D(crop)
    spans = {}
    for i in range(src.shape[2]):
        for j in range(src.shape[3]):
            (g,) = torch.autograd.grad(src[0, 0, i, j], crop, retain_graph=True)
            rows, cols = g.abs().sum(dim=(0, 1, 3)).nonzero(), g.abs().sum(dim=(0, 1, 2)).nonzero()
            spans[i, j] = (int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max()))
    return spans, tuple(src.shape[2:])


for name, size, n_layers in (("global", (128, 128), 6), ("eye", (48, 96), 4), ("mouth", (48, 64), 4)):
    spans, grid = seen(size, n_layers)
    heights = sorted({r1 - r0 + 1 for r0, r1, _, _ in spans.values()})
    widths = sorted({c1 - c0 + 1 for _, _, c0, c1 in spans.values()})
    print(f"D_{name:<6} {size[0]}x{size[1]} input, {grid[0]}x{grid[1]} scores: each sees {heights} rows "
          f"and {widths} columns")
    print("         columns seen by each column of scores:",
          ", ".join(f"{spans[0, j][2]}-{spans[0, j][3]}" for j in range(grid[1])))

# %% [markdown]
# Only the global critic's scores each see the whole image. A score of $D_{eye}$ sees 47
# or 48 of the crop's 48 rows but at most 78 of its 96 columns: the two middle columns of
# scores see 78, the outermost ones only 47, about half of the crop. No eye score sees the
# whole eye region; the critic's verdict, the mean of its 3x6 map, combines 18 overlapping
# views of parts of it. $D_{mouth}$'s scores see 47 or 63 of the
# mouth crop's 64 columns. Below, a 3-layer critic on a face: the grid is the stride $2^L$
# between neighbouring scores, the red square what the yellow cell sees.

# %%
faces = SyntheticFaces(identities=4, size=SIZE, split="all")
items = [faces[faces.find(faces.identities[k], e)] for k, e in ((0, "happy"), (1, "surprised"))]
x = torch.stack([it["image"] for it in items])
labels = torch.tensor([it["label"] for it in items])
landmarks = torch.stack([it["landmarks"] for it in items])
plot_patch_scores(x, PatchDiscriminator(SIZE, 8, 8, n_layers=3));

# %% [markdown]
# ## The auxiliary classifier
#
# The second head turns the critic into an expression classifier too (AC-GAN style, as in
# StarGAN). It is trained on **real** images with their true labels (Eq. 3,
# $\mathcal{L}^D_{cls} = \mathbb{E}[-\log D(f_x \mid I)]$), and the generator is trained so
# that its **fakes** are classified as the *target* label (Eq. 4,
# $\mathcal{L}^G_{cls} = \mathbb{E}[-\log D(f_y \mid G(I, f_y))]$). In LGP-GAN each of the three
# critics carries one, so the eye and mouth crops alone must already show the expression.
# Both losses are cross-entropies on the logits:

# %%
D_lgp = LGPDiscriminator(SIZE, sizes, 8, DIM, layers_global=6, layers_local=L_local)
boxes = regions.region_boxes(landmarks, "lgp", SIZE)
crops = {"global": x, **regions.crop_regions(x, boxes)}
with torch.no_grad():
    outputs = D_lgp(crops)
for name, (src, cls) in outputs.items():
    print(f"D_{name:<6} real/fake map {tuple(src.shape)}  L_cls^D (Eq. 3) = "
          f"{F.cross_entropy(cls, labels).item():.3f}  (untrained: about ln 8 = 2.079)")

# %% [markdown]
# ## Counting parameters from Table III
#
# The convolutions of `main` keep their bias (as in StarGAN); the heads do not. A 4x4
# conv from $c_{in}$ to $c_{out}$ therefore has $16 c_{in} c_{out} + c_{out}$ parameters.

# %% [markdown]
# **Exercise 3.** Before the next cell prints them, count the parameters of $D_{global}$ at
# the paper's sizes (128x128, 64 → 2048 channels, 8 classes) from Table III, without
# building it.

# %%
answer = None  # an integer
check("05.global_params", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
channels = [3] + [64 * 2 ** i for i in range(6)]
solution = sum(16 * ci * co + co for ci, co in zip(channels, channels[1:]))
solution += 9 * 2048 * 1 + (128 // 64) * (128 // 64) * 2048 * 8
assert check("05.global_params", solution)

# %%
count = lambda m: sum(p.numel() for p in m.parameters())
with torch.device("meta"):  # shapes only, no memory
    paper = LGPDiscriminator(128)
for name in ("global", "eye", "mouth"):
    print(f"D_{name:<6} (paper sizes): {count(paper[name]):>12,} parameters")

# %% [markdown]
# The global critic's last two layers (512 → 1024 → 2048 channels) hold most of its
# parameters (printed above) — one reason the course's `cpu` network size shrinks the channels (`course_lib.presets`).

# %% [markdown]
# ## The baselines: StarGAN and GANimation
#
# **StarGAN** (Choi et al. 2018) is where Table II and III come from: the same generator
# *without* the attention head (it outputs the image directly through Tanh) and the same
# PatchGAN + classifier. `course_lib.stargan` reproduces the official `model.py` layer for
# layer — same module names, bias-free convs, InstanceNorm *with running statistics* — so
# the released checkpoints load unchanged.

# %%
G_star = stargan.Generator(conv_dim=DIM, c_dim=8, repeat_num=6)
keys = list(G_star.state_dict())
print(len(keys), "tensors, e.g.", keys[:3], "...", keys[-1])
D_star = stargan.Discriminator(image_size=SIZE, conv_dim=DIM, c_dim=8, repeat_num=6)
print("D heads:", blocks.describe(D_star.conv1), "|", blocks.describe(D_star.conv2))

# %% [markdown]
# To evaluate StarGAN with the course's metrics (Lesson 8) you need a generator trained
# with the official StarGAN solver (yunjey/stargan) on RaFD (`--dataset RaFD --c_dim 8`,
# the course's 8 expressions): put its `*-G.ckpt`, e.g. `200000-G.ckpt`, under
# `data/stargan/` and the cell below loads it. No such RaFD checkpoint has been published
# (RaFD's licence does not allow it), so you have to train it yourself. The official
# repository publishes only CelebA generators (128 and 256 px) conditioned on 5 attributes
# (black, blond, brown hair, male, young): `from_official_checkpoint` reads the sizes from
# the file, so they load too, with `c_dim = 5`, but they cannot be asked for our
# expressions. Nothing is downloaded.

# %%
official = repo_root() / "data" / "stargan" / "200000-G.ckpt"
if official.is_file():
    G_official, _ = stargan.from_official_checkpoint(official)
    config = stargan.infer_generator_config(G_official.state_dict())
    print("loaded", official, config)
    if config["c_dim"] != len(EXPRESSIONS):
        print(f"c_dim = {config['c_dim']}: not conditioned on the course's {len(EXPRESSIONS)} expressions "
              f"(CelebA's published models have 5 attributes), so it cannot translate to them")
else:
    print(f"{official} not found - skipping (see the text above to get it)")

# %% [markdown]
# **GANimation** (Pumarola et al. 2018) introduced the colour + attention output that
# LGP-GAN's Eq. 1 borrows, but conditions on a continuous vector of **AU intensities**
# instead of a one-hot expression — so it can render "a bit of AU12". Its critic's second
# head *regresses* the AUs (trained with an L2 loss) instead of classifying.
#
# The course trains it as its official code (albertpumarola/GANimation) does, not only as
# the paper describes: the AU regression is weighted `MSE / B × 4000`; each target is another
# face's AU vector plus uniform noise in ±0.1; the mask penalty `mean(M)` (here M = 1 keeps
# the input) pushes *both* masks — of the translation and of its cycle reconstruction — towards
# change, so the generator cannot just copy its input; and the gradient penalty is a critic
# step of its own after the adversarial one. `python -m course_lib methods` lists the values,
# and `GANimation.presets_doc` (in `course_lib/methods/ganimation.py`) says where the `cpu`
# preset departs and why.

# %%
from course_lib import facs, render

aus = torch.tensor(render.expression_aus("happy").mean(0), dtype=torch.float32)[None].repeat(2, 1)
print("AU vector of 'happy' over", len(facs.AU_NUMBERS), "AUs:", [round(v, 2) for v in aus[0].tolist()])
G_gan = ganimation.Generator(conv_dim=DIM, c_dim=aus.shape[1], repeat_num=6)
D_gan = ganimation.Discriminator(image_size=SIZE, conv_dim=DIM, c_dim=aus.shape[1], repeat_num=6)
with torch.no_grad():
    out = G_gan(x, aus)
    src, au_pred = D_gan(out.out)
print("critic map", tuple(src.shape), " AU regression", tuple(au_pred.shape))
plot_attention(x, out, ["AUs of happy"] * 2);

# %% [markdown]
# | | StarGAN | GANimation | LGP-GAN |
# | --- | --- | --- | --- |
# | condition | one-hot label | AU intensities | one-hot label |
# | generator output | image (Tanh) | colour + mask, Eq. 1 | colour + mask, Eq. 1, three generators |
# | critics | 1 PatchGAN + classifier | 1 PatchGAN + AU regressor | 3 PatchGANs + classifiers |
#
# `course_lib.presets.build_models("stargan" | "ganimation" | "lgp-gan", size)` builds
# each at a network size: `paper`, `cpu`, or `cpu-wide` (LGP-GAN's size in the `cpu`
# training preset: wider generators with resize-convolution; `python -m course_lib methods`
# lists the methods and their parameters at each size); `python -m course_lib bench models` prints their sizes and the time of one
# update of each network on your machine.

# %% [markdown]
# ## Coding exercise
#
# **Exercise 4 (code).** Write `rf(n_layers, kernel, stride, head_kernel)`: the side of the
# input patch that one score of a PatchGAN map depends on, for `n_layers` convolutions of
# size `kernel` and stride `stride` followed by a `head_kernel` x `head_kernel` head (stride
# 1). The checker compares it with `discriminators.receptive_field` on Table III's critics,
# random architectures and edge cases (no strided layer, stride 1, a 1x1 head).

# %%
def rf(n_layers, kernel, stride, head_kernel):
    ...  # your code here


check("05.receptive_field_function", rf)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def rf(n_layers, kernel, stride, head_kernel):
    r = head_kernel                      # the head's own window, in units of the last feature map
    for _ in range(n_layers):            # walk back through each strided conv
        r = (r - 1) * stride + kernel
    return r


assert check("05.receptive_field_function", rf)

# %% [markdown]
# ## Explore the trained model
#
# The course's explorer (Lesson 12) with the shipped checkpoint of StarGAN and GANimation selected: pick
# an input face, a target expression and a point on the path from the source's condition to
# the target's, and look at the output, its masks and its difference to the input; the
# *side by side* box puts every method with a shipped checkpoint next to it.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib import explorer

explorer.show(method="stargan")

# %% [markdown]
# ## Summary
#
# - Table III's critic: 4x4 stride-2 convs with LeakyReLU(0.01), no normalisation; 6 layers
#   for the face, 4 for the eye and mouth crops; inputs must divide by $2^L$ and may be
#   non-square.
# - The real/fake head is a *map*: each score sees $r$ pixels, $r \leftarrow 2(r-1) + 4$ per
#   layer from the 3x3 head (78 px for 4 layers, 318 for 6).
# - The auxiliary classifier's kernel spans the whole last feature map
#   ($h/2^L \times w/2^L$): one logit per expression, trained on real images (Eq. 3) and used
#   to steer the generator (Eq. 4).
# - StarGAN is the same design without attention (its official checkpoints load into
#   `course_lib.stargan`); GANimation adds attention and conditions on AU intensities.
#
# **Next:** Lesson 6 puts generator and critics together: the losses of Eqs. 2–9 and training.

# %% [markdown]
# ## Questions
#
# 1. Why score *patches* instead of the whole image? What kind of error does a PatchGAN
#    critic see best, and which can it miss?
# 2. The global critic's scores see 318 px of a 128 px face. Is it still a "patch"
#    discriminator? What do the local critics add?
# 3. Why is the auxiliary classifier trained on *real* images only (Eq. 3), and what would go
#    wrong if it were also trained on the generator's fakes with their target labels?
# 4. Why does Table III's critic use no normalisation layer, given the gradient penalty of
#    Lesson 6?
# 5. StarGAN and GANimation differ from LGP-GAN in two design choices each. Name them and
#    say which failure of the other methods each choice addresses.
