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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/04_attention_generator.ipynb)
#
# # Lesson 4 — The attention generator and LGP-GAN's two-stage cascade
#
# A facial expression generator must change a few regions (brows, eyes, mouth) and leave
# everything else — identity, hair, background — untouched. LGP-GAN (Xia et al. 2021)
# builds it from one network design used three times: an encoder–decoder whose output is
# split into a **colour image** and an **attention mask** (Table II, Eq. 1), applied first to
# the eye and mouth crops (Stage I) and then to the whole face (Stage II).

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
# - build the generator of LGP-GAN **Table II** from three shared blocks (conv–IN–ReLU,
#   residual block, transposed conv) and follow the tensor shapes layer by layer;
# - explain how a target label is fed to a convolutional network (tiled over the image: the
#   $3 + n$ input channels);
# - write down **Eq. 1**, $I_{out} = (1 - M) \odot C + M \odot I_{in}$, say what a mask value
#   of 0 or 1 means, and show that Cascade EF-GAN's opposite convention is the same model;
# - count the parameters of a generator from the table;
# - run LGP-GAN's cascade: local generators on the eye and mouth crops (Stage I), their
#   outputs pasted back, the global generator on the whole face (Stage II).
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 61 s,
# normal mode 56 s, with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/04_attention_generator.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %%
import torch
from torch import nn

from course_lib import blocks, regions
from course_lib.datasets import SyntheticFaces
from course_lib.exercises import check
from course_lib.facs import EXPRESSIONS, expression_index
from course_lib.generators import AttentionGenerator, blend, flip_mask_convention, plot_attention
from course_lib.lesson import pick
from course_lib.lgp_gan import LGPGenerator, plot_cascade

SIZE = pick(128, 64)          # the paper's 128x128 faces; 64x64 in fast mode
DIM = pick(64, 16)            # Table II's 64 base channels
torch.manual_seed(0);

# %% [markdown]
# ## Table II, block by block
#
# LGP-GAN takes its generator from StarGAN ("the parameters of layers ... are set referring
# to [42]"). Every row of Table II is one of three blocks from `course_lib.blocks`:
#
# | Table II row | block |
# | --- | --- |
# | Conv+IN+ReLU, K7x7 S1 P3 / K4x4 S2 P1 | `blocks.conv_norm_relu`, `blocks.down` |
# | Residual Block, K3x3 S1 P1 | `blocks.ResidualBlock` (6 in $G_{global}$, 3 in $G_{eye}$, $G_{mouth}$) |
# | DeConv, K4x4 S2 P1 | `blocks.up` (transposed conv + IN + ReLU) |
#
# (`blocks.up(..., mode="resize")` replaces the transposed conv by nearest-neighbour
# upsampling and a 3x3 conv, which cannot paint a checkerboard on flat regions; the `cpu`
# training preset's LGP-GAN uses it, a documented departure from Table II, see
# `course_lib/presets.py`. This lesson builds Table II as written.)
#
# InstanceNorm (IN) normalises each channel of each image separately — the statistics of
# one face do not leak into another's — with a learnt scale and shift ("affine"). The
# convolutions have no bias: IN would subtract it again.

# %%
print(nn.Sequential(*blocks.conv_norm_relu(11, 64, 7, 1, 3)))
print(blocks.ResidualBlock(256))

# %% [markdown]
# `blocks.trunk` chains them: everything of Table II above the output layer. Let us push a
# face-sized tensor through it and print the shape after every layer. The input has
# $3 + n = 11$ channels: RGB plus the 8 label channels.

# %%
trunk = nn.Sequential(*blocks.trunk(3 + 8, DIM, repeat_num=6))
print(f"   {'input':<28} {(1, 3 + 8, SIZE, SIZE)}")
for i, layer, shape in blocks.trace_shapes(trunk, torch.randn(1, 3 + 8, SIZE, SIZE)):
    print(f"{i:>2} {layer:<28} {shape}")

# %% [markdown]
# The two strided convolutions halve the resolution twice (128 → 64 → 32) while the
# channels double (64 → 128 → 256); the residual blocks work at 1/4 resolution, where
# neighbouring units are 4 input pixels apart; the two transposed convolutions bring the
# resolution back. Since the network only ever halves twice, **height and width must be
# divisible by 4** — the 48x96 eye and 48x64 mouth crops are.
#
# ### How much of the input does one unit see?
#
# At 1/4 resolution a 3x3 kernel spans three units 4 pixels apart, but each of those units
# already sees a window of the input through the layers before it. The **receptive field**
# of a unit is the side of that window. Walking forward through the layers, a convolution
# with kernel $k$ widens it by $(k - 1) \cdot j$ pixels, where the *jump* $j$ is the distance
# in input pixels between neighbouring units, and multiplies $j$ by its stride; a 4x4
# stride-2 transposed convolution makes each output depend on 2 neighbouring inputs (it
# widens the field by $j$) and halves $j$. A residual block counts with its two 3x3
# convolutions (its skip path sees less). InstanceNorm is left out: its mean and variance
# run over the whole image, so strictly every output depends a little on every pixel; the
# convolutional window is what decides which details one unit can combine.
#
# `conv_field` walks the layers; a gradient probe checks it on the same convolutions with
# InstanceNorm and ReLU removed (so nothing zeroes a gradient inside the window), on a
# thin 4-channel copy of the generator and a 192x192 input, larger than every field.

# %%
import copy
import math


def conv_field(layers):
    """Receptive field (pixels) of one output unit of the convolutions in ``layers``."""
    r, jump = 1, 1
    for layer in layers:
        for conv in (m for m in layer.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))):
            k, s = conv.kernel_size[0], conv.stride[0]
            if isinstance(conv, nn.ConvTranspose2d):
                r, jump = r + (math.ceil(k / s) - 1) * jump, jump / s
            else:
                r, jump = r + (k - 1) * jump, jump * s
    return int(r)


def probed_field(layers, size=192):
    """Rows of a size x size input with a non-zero gradient of the centre output unit."""
    net = copy.deepcopy(nn.Sequential(*layers)).double()
    for parent in net.modules():
        for name, child in parent.named_children():
            if isinstance(child, (nn.InstanceNorm2d, nn.ReLU)):
                setattr(parent, name, nn.Identity())
    x = torch.randn(1, net[0].in_channels, size, size, dtype=torch.float64, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero()
    return int(rows.max() - rows.min() + 1)


thin = {n: AttentionGenerator(cond_dim=8, conv_dim=4, repeat_num=n) for n in (6, 3)}
m6, m3 = list(thin[6].main), list(thin[3].main)
chains = {
    "7x7 conv + two strided convs": m6[:9],
    "+ the first 3x3 conv of the residual blocks": m6[:9] + [m6[9].main[0]],
    "+ 6 residual blocks (G_global)": m6[:15],
    "G_global output (+ 2 deconvs, 7x7 head)": m6 + list(thin[6].color_head),
    "G_eye / G_mouth output (3 residual blocks)": m3 + list(thin[3].color_head),
}
for name, layers in chains.items():
    print(f"{name:<45} conv_field {conv_field(layers):>4}   gradient probe {probed_field(layers):>4}")

# %% [markdown]
# So the first 3x3 convolution at 1/4 resolution sees 24x24 input pixels, not 12x12: its
# three units are 4 pixels apart, and each of them already sees 16x16. Every residual
# block adds two 3x3 convolutions, $2 \cdot 2 \cdot 4 = 16$ pixels, 112 after the six blocks of
# $G_{global}$. One output pixel of $G_{global}$ depends on a 124x124 window, almost the
# whole 128x128 face; one of a local generator on 76x76, the full 48-pixel height of its
# crop but only 76 of the eye crop's 96 columns.

# %% [markdown]
# ## Conditioning on the target label
#
# A convolution sees only local neighbourhoods, so the target expression must be present
# *everywhere*: the one-hot label $f_y \in \{0,1\}^n$ is tiled into $n$ constant planes and
# concatenated to the image (StarGAN's trick; LGP-GAN: "the input channel of each
# generator is $3 + n$"). GANimation conditions on a vector of continuous AU intensities in
# exactly the same way (`AttentionGenerator(cond="au")`).

# %%
from course_lib.generators import condition_vector, tile

c = condition_vector(torch.tensor([expression_index("happy")]), 8, batch=1)
print("one-hot happy:", c.tolist())
stacked = tile(torch.zeros(1, 3, 4, 4), c)
print("tiled input:", tuple(stacked.shape), "- channel of 'happy' is all ones:",
      bool((stacked[0, 3 + expression_index("happy")] == 1).all()))

# %% [markdown]
# ## Two heads and Eq. 1
#
# Table II ends in two parallel 7x7 convolutions on the last 64-channel feature map:
#
# - **colour image** $C$ = Conv + Tanh, 3 channels in $[-1, 1]$;
# - **attention mask** $M$ = Conv + Sigmoid, 1 channel in $[0, 1]$.
#
# LGP-GAN **Eq. 1** (borrowed from GANimation) combines them with the input:
#
# $$I_{output} = (1 - M) \odot C + M \odot I_{input}$$
#
# Where $M = 1$ the output *is* the input pixel; where $M = 0$ it is the generated colour.
# The network therefore only has to paint the pixels that change — and an attention loss
# (Lesson 6) keeps $M$ from saturating at 1, the lazy solution that changes nothing.
#
# A fresh (untrained) generator: the colour image is noise, the mask hovers around 0.5, so
# the output is a half-and-half blend.

# %%
faces = SyntheticFaces(identities=4, size=SIZE, split="all")
items = [faces[faces.find(faces.identities[k], e)] for k, e in ((0, "neutral"), (1, "sad"))]
x = torch.stack([it["image"] for it in items])
landmarks = torch.stack([it["landmarks"] for it in items])
targets = torch.tensor([expression_index("happy"), expression_index("surprised")])

G = AttentionGenerator(cond_dim=8, conv_dim=DIM, repeat_num=6)
with torch.no_grad():
    fresh = G(x, targets)
print("mask range:", round(float(fresh.mask.min()), 3), "...", round(float(fresh.mask.max()), 3))
plot_attention(x, fresh, [EXPRESSIONS[t] for t in targets]);

# %% [markdown]
# ### The other convention: Cascade EF-GAN Eq. 1
#
# Cascade EF-GAN (Wu et al. 2020, Eq. 1) writes $I_{init} = M_A \odot M_C + (1 - M_A) \odot I_{in}$:
# its mask says where to *use* the colour image. Nothing else differs. Because
# $\mathrm{sigmoid}(-z) = 1 - \mathrm{sigmoid}(z)$, negating the mask head's weights turns one
# convention into the other with identical outputs — `flip_mask_convention` does exactly that:

# %%
G_ef = flip_mask_convention(G)
with torch.no_grad():
    ef = G_ef(x, targets)
print("conventions:", G.mask_convention, "->", G_ef.mask_convention)
print("max |output difference|:", float((ef.out - fresh.out).abs().max()))
print("max |M_efgan - (1 - M_lgp)|:", float((ef.mask - (1 - fresh.mask)).abs().max()))

# %% [markdown]
# So "lgp" vs "efgan" is a choice of *reading* the mask (`AttentionGenerator(mask_convention=...)`),
# not a different model. It matters for the losses: LGP-GAN's attention loss (Eq. 7)
# penalises $\|M\|_2$, which in its convention pushes *against* the lazy $M = 1$ (keep
# everything); the same penalty in EF-GAN's convention pushes towards a sparse mask that
# changes little. A mask loss is only meaningful together with its convention.

# %% [markdown]
# ## Counting parameters from Table II
#
# A bias-free $k \times k$ convolution from $c_{in}$ to $c_{out}$ channels has
# $k^2 c_{in} c_{out}$ weights; an affine InstanceNorm $2 c_{out}$. The generator's count:

# %%
def table_ii_count(n=8, d=64, repeat=6):
    rows = [(7, 3 + n, d), (4, d, 2 * d), (4, 2 * d, 4 * d)] + [(3, 4 * d, 4 * d)] * (2 * repeat) \
        + [(4, 4 * d, 2 * d), (4, 2 * d, d)]
    return sum(k * k * ci * co + 2 * co for k, ci, co in rows) + 7 * 7 * d * (3 + 1)

count = lambda m: sum(p.numel() for p in m.parameters())
print("G_global: table", table_ii_count(), " library", count(AttentionGenerator(8, 64, 6)))

# %% [markdown]
# ## LGP-GAN: the two-stage cascade (Fig. 1)
#
# **Stage I.** The eye region (48x96 at 128x128) and the mouth region (48x64) are cut out
# around the landmarks (Lesson 3's `course_lib.regions`), each concatenated with the tiled
# label and translated by its own local generator — Table II with 3 residual blocks.
#
# **Stage II.** The generated regions are blended back into the background ("after padding
# the generated local facial regions ... we blend [them] and background region $I_{bg}$"),
# the label is concatenated again and the global generator (6 residual blocks) produces the
# final face $I_y$, again by Eq. 1. The paper does not say *how* it blends: `LGPGenerator`
# pastes each region into the input with a feathered border (our choice, see its docstring).
#
# `LGPGenerator.forward` returns every intermediate, because the losses of Lesson 6 need
# them: the local outputs go to $D_{eye}$ and $D_{mouth}$, all three masks to the attention loss.
#
# **Where the two regions overlap.** Both boxes keep the paper's sizes, so on a face with a
# short distance between eyes and mouth they overlap: on the course's synthetic faces by
# 3-9 rows at 64×64 (6-18 at 128×128). The paper does not say what happens there. The
# course pastes the eye region first and the mouth region over it, so in the overlap the
# aggregated image carries $G_{mouth}$'s output, while $D_{eye}$ still judges all of
# $G_{eye}$'s Stage I output; `--set region_overlap=separate` shifts the boxes apart
# instead (the reasons and the trade-off: `course_lib/methods/lgp_gan.py`).

# %%
boxes = regions.region_boxes(landmarks, "lgp", SIZE)
print({name: b[0].tolist() for name, b in boxes.items()}, "(top, left, height, width)")
lgp = LGPGenerator(n_classes=8, conv_dim=DIM, repeat_global=6, repeat_local=3)
with torch.no_grad():
    result = lgp(x, targets, boxes)
for key, value in result.items():
    print(f"{key:<13} {tuple(value.shape)}")

# %%
plot_cascade(result, title="A fresh LGP-GAN: Stage I (rows 1-2), Stage II (row 3); masks: white = keep input");

# %% [markdown]
# ### A trained model
#
# Lesson 7 trains LGP-GAN; the course also ships a trained checkpoint of its `cpu` preset
# (`data/checkpoints/lgp-gan.pt`). The cell below shows the same picture for it (or, without
# it, for a trained LGP-GAN run under `runs/`): masks that are white (keep) over most of the
# face and dark where the expression changes.

# %%
from course_lib import shipped, trainer
from course_lib.lesson import repo_root

trained = None
candidates = ([shipped.path("lgp-gan")] if shipped.path("lgp-gan").is_file() else []) + \
    sorted((repo_root() / "runs").glob("*/checkpoints/last.pt"))
for ck in candidates:
    try:
        tr = trainer.load_translator(ck)
    except Exception as err:  # an unfinished or foreign run: skip it
        print(f"skipping {ck}: {err}")
        continue
    run_faces = SyntheticFaces(identities=4, size=tr.image_size, split="all")
    batch = [run_faces[run_faces.find(run_faces.identities[k], e)] for k, e in ((0, "neutral"), (1, "sad"))]
    out = tr.run(torch.stack([b["image"] for b in batch]), targets, torch.stack([b["landmarks"] for b in batch]))
    if "aggregated" in out["visuals"]:  # a two-stage cascade (LGP-GAN's Stage II input), not a one-generator baseline
        trained = out["raw"]
        where = ck.name if ck.parent == shipped.SHIPPED_DIR else ck.parent.parent.name
        plot_cascade(trained, title=f"Trained LGP-GAN ({where}), targets happy and surprised")
        break
if trained is None:
    print("No shipped checkpoint and no trained LGP-GAN run under runs/ yet: train one in Lesson 7 "
          "(or `python -m course_lib main`) and re-run this cell.")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** By hand (as in `table_ii_count` above, but write it yourself), how many
# parameters does a *local* generator of Table II have (3 residual blocks, 64 base channels,
# $n = 8$)?

# %%
answer = None  # your code here
check("04.local_params", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# conv weights k*k*c_in*c_out, IN 2*c_out, two heads without IN
rows = [(7, 11, 64), (4, 64, 128), (4, 128, 256)] + [(3, 256, 256)] * 6 + [(4, 256, 128), (4, 128, 64)]
solution = sum(k * k * ci * co + 2 * co for k, ci, co in rows) + 7 * 7 * 64 * 3 + 7 * 7 * 64 * 1
assert check("04.local_params", solution)
print("G_eye of the paper:", solution, "parameters; this lesson's cascade:", count(lgp.g_eye), "per local generator")

# %% [markdown]
# **Exercise 2.** What is the shape `(channels, height, width)` of the feature map entering the
# residual blocks of $G_{eye}$, for a 48x96 eye crop at the paper's sizes?

# %%
answer = None  # e.g. (c, h, w)
check("04.bottleneck_shape", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# two stride-2 convs: 48x96 -> 24x48 -> 12x24, channels 64 -> 128 -> 256
assert check("04.bottleneck_shape", (256, 12, 24))

# %% [markdown]
# **Exercise 3.** Compute Eq. 1 for the tensors below (no library call: write the formula).

# %%
from course_lib.exercises.lesson04 import eq1_inputs

x_in, C, M = eq1_inputs()
answer = None  # your code here, a tensor shaped like x_in
check("04.eq1", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
assert check("04.eq1", (1 - M) * C + M * x_in)

# %% [markdown]
# **Exercise 4.** Which mask $M_A$ makes Cascade EF-GAN's Eq. 1,
# $M_A \odot C + (1 - M_A) \odot I_{in}$, give exactly the output of Exercise 3?

# %%
answer = None  # your code here
check("04.efgan_mask", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
assert check("04.efgan_mask", 1 - M)

# %% [markdown]
# **Exercise 5 (code).** Write Eq. 1 as a function, `attention_blend(x, color, mask)`, for
# batches: images `x` and `color` of shape (B, 3, H, W), a mask of shape (B, 1, H, W) that
# applies to all three channels. The checker compares it with LGP-GAN's convention in
# `generators.blend` on random batches of several sizes and on the two edge cases where the
# answer is one of the inputs.

# %%
def attention_blend(x, color, mask):
    ...  # your code here


check("04.blend_function", attention_blend)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def attention_blend(x, color, mask):
    return (1 - mask) * color + mask * x      # the (B, 1, H, W) mask broadcasts over the channels


assert check("04.blend_function", attention_blend)

# %% [markdown]
# ## Summary
#
# - Table II's generator is StarGAN's encoder–decoder: Conv7x7, two strided convs, residual
#   blocks (6 global, 3 local), two transposed convs, each with InstanceNorm and ReLU;
#   inputs must be divisible by 4.
# - The target label enters as $n$ constant planes concatenated to the RGB image ($3 + n$
#   channels); GANimation does the same with AU intensities.
# - Two heads — colour $C$ (Tanh) and mask $M$ (Sigmoid) — give the output by Eq. 1,
#   $(1 - M)C + M I_{in}$; Cascade EF-GAN's convention is the same model with $M \to 1 - M$.
# - LGP-GAN runs this generator three times: on the eye and mouth crops (Stage I), then on
#   the face with the generated regions pasted in (Stage II); every intermediate is kept
#   for the losses.
#
# **Next:** Lesson 5 builds the critics — PatchGAN discriminators with an auxiliary
# expression classifier — and the StarGAN and GANimation baselines.

# %% [markdown]
# ## Questions
#
# 1. What does the attention mask buy over a generator that outputs the whole image
#    directly? Think of the background and of the identity.
# 2. In LGP-GAN's convention, what does a mask of all ones produce, and which loss term would
#    push the generator towards it if nothing stopped it?
# 3. Why does the target label enter as $n$ constant planes rather than, say, as a bias of
#    the first layer? Is there a difference in what the network can compute?
# 4. Why must the input size be divisible by 4 for Table II's generator? What would happen
#    to a 130x130 face on its way down and up again?
# 5. LGP-GAN runs the same generator design three times. What does Stage II see that Stage I
#    does not, and why not generate the whole face in one stage?
# 6. Where do most of Table II's parameters sit, and what does that say about where the
#    network spends its capacity?
