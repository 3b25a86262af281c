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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/11_landmark_gan.ipynb)
#
# # Lesson 11 — Landmarks and labels as the condition: the landmark-guided GAN
#
# Li, Qi and Sun, "Facial Landmarks and Expression Label Guided Photorealistic Facial
# Expression Synthesis" (IEEE Access 2021) tell the generator *where* the target face's
# features are - its 68 facial landmarks, drawn as heatmaps - and *which* expression it
# shows - its label, drawn as constant maps. The generator is trained on **pairs** of the
# same person, so it can be compared pixel by pixel with the real target face.

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
# - turn 68 facial landmarks into **Gaussian heatmaps** and an expression label into
#   **label maps** in [-1, 1] (**Fig. 4**), and say why geometry given as images suits a
#   convolutional generator;
# - write one **migration unit block** (**Eq. 1-3**, **Table 1**): a mask computed from the
#   landmark features decides where the image features are updated;
# - build the generator (feature initialise networks E_ini, blocks, **Table 2**'s decoder)
#   and the two PatchGAN critics of **Table 3**, and say what the critic's last BatchNorm does;
# - compute the losses **Eq. 4-7** (adversarial, L1 pixel, perceptual on conv1_2) with
#   lambda = 5, 10, 10 (**Section IV.B**), and explain why paired supervision needs the
#   *target's* landmarks;
# - train the model, transfer one person's landmarks to another (**Fig. 8**), and read the
#   course's versions of **Tables 4-7** beside the paper's.

# %%
import tempfile
from pathlib import Path

import torch
from IPython.display import Markdown, display

from course_lib import cli, datasets, facs, landmark_gan as lg, landmark_gan_runs, methods
from course_lib.exercises import check
from course_lib.images import unit_from_uint8
from course_lib.lesson import fast_mode, pick, repo_root

_ = torch.manual_seed(0)
torch.set_num_threads(pick(2, 1))

# %% [markdown]
# ## 1. Geometry as a condition: landmark heatmaps
#
# Earlier lessons conditioned a generator on a label or on AU intensities: numbers with no
# place in the image. Landmarks *have* a place. The paper gives the generator the target's
# 68 landmarks (found by dlib on real photos, **IV.A**; exact on our synthetic faces) as
# images: one channel per landmark, a Gaussian bump centred on it,
#
# $$H_k(u, v) = \exp\!\Big(-\frac{(u - x_k)^2 + (v - y_k)^2}{2\sigma^2}\Big),$$
#
# so a convolution sees the geometry at the position where it must paint. The paper gives
# no $\sigma$; the course uses 3 px at 128x128 (1.5 px at 64x64), close enough to keep
# neighbouring lip and eye points apart (`lg.heatmap_sigma`). We load a few synthetic
# people with all 8 expressions each.

# %%
SIZE = 64
faces = datasets.SyntheticFaces(identities=pick(12, 2), size=SIZE, split="all")
tensors = datasets.decode(faces, SIZE, progress=False)
print({k: tuple(v.shape) for k, v in tensors.items()})
image = unit_from_uint8(tensors["image"][4])          # identity 0, expression 4
landmarks = tensors["landmarks"][4]
print("expression:", facs.EXPRESSIONS[int(tensors["label"][4])])

# %%
lg.plot_heatmaps(image, landmarks);

# %% [markdown]
# **Exercise 1 (code).** Write the heatmaps yourself: `landmarks` (B, K, 2) pixel
# coordinates (x = column, y = row), an image side `size` and `sigma` -> (B, K, size, size),
# the formula above over integer pixel positions, and an all-zero channel for a landmark
# that is NaN (unknown). The checker runs your function and `lg.landmark_heatmaps` on
# random and edge-case inputs.

# %%
def gaussian_heatmaps(landmarks, size, sigma):
    ...  # your code here


check("11.heatmaps_function", gaussian_heatmaps)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def gaussian_heatmaps(landmarks, size, sigma):
    grid = torch.arange(size, dtype=torch.float32)
    dx = (grid.view(1, 1, 1, size) - landmarks[..., 0, None, None]) ** 2
    dy = (grid.view(1, 1, size, 1) - landmarks[..., 1, None, None]) ** 2
    return torch.nan_to_num(torch.exp(-(dx + dy) / (2 * sigma ** 2)), nan=0.0)


assert check("11.heatmaps_function", gaussian_heatmaps)

# %% [markdown]
# ## 2. The expression label as feature maps (Fig. 4)
#
# "The expression label is first represented by one-hot encoding then ... adjusted into
# [-1, 1], where -1 corresponds to 0": each of the 8 expressions is a constant channel,
# +1 for the target label and -1 for the others. These maps are concatenated to the
# features right before the decoder (`lg.label_maps`).

# %%
lg.plot_label_maps(facs.expression_index("happy"));

# %% [markdown]
# ## 3. The generator: E_ini, migration unit blocks, decoder
#
# **Feature initialise networks** (**III.A**, Fig. 1). The image and the heatmaps each pass
# through their own E_ini, which maps them to a latent feature map. The paper draws E_ini
# without a table; Table 2's decoder makes 64x64x128 out of a 32x32 map, so the latent map
# is a quarter of the image size. Our choice (said in `course_lib.landmark_gan`): the down
# half of CycleGAN's generator - reflection pad 3, 7x7 conv, BatchNorm, ReLU, two 3x3
# stride-2 convs - 64, 128, 256 channels at the paper's size.
#
# **Migration unit blocks** (Fig. 2, **Table 1**). Each block has two paths of Table 1's
# layers (reflection pad, 3x3 conv, BatchNorm, ReLU, dropout, reflection pad, 3x3 conv, and
# a last BatchNorm on the image path only). With image features $F^P$ and landmark
# features $F^S$:
#
# $$M_t = \sigma\big(\mathrm{conv}_s(F^S_{t-1})\big) \quad (1) \qquad
# F^P_t = M_t \odot \mathrm{conv}_p(F^P_{t-1}) + F^P_{t-1} \quad (2) \qquad
# F^S_t = \mathrm{conv}_s(F^S_{t-1}) \,\|\, F^P_t \quad (3)$$
#
# The landmark path decides, position by position and channel by channel, how much of the
# image path's update to let through (Eq. 1-2, a residual update, Fig. 3); then it reads
# the updated image features for the next block (Eq. 3). The paper does not say how many
# blocks: 6 at its size (CycleGAN's number for 128x128 images), 3 in the `cpu` preset.
# The shapes at the paper's size, stage by stage:

# %%
paper_method = methods.get("landmark-gan")(size="paper")
G = paper_method.nets["G"].eval()
x = torch.randn(2, 3, 128, 128)
h = G.heatmaps(torch.rand(2, 68, 2) * 128)
with torch.no_grad():
    fp, fs = G.e_image(x), G.e_geometry(h)
    print(f"image {tuple(x.shape)} -> E_ini -> F^P_0 {tuple(fp.shape)}")
    print(f"heatmaps {tuple(h.shape)} -> E_ini -> F^S_0 {tuple(fs.shape)}")
    for t, block in enumerate(G.blocks, start=1):
        fp, fs, m = block(fp, fs)
        print(f"block {t}: M_{t} {tuple(m.shape)}, F^P_{t} {tuple(fp.shape)}, F^S_{t} {tuple(fs.shape)}")
print(G.blocks[1].conv_s)

# %% [markdown]
# After the first block $F^S$ has twice the channels (Eq. 3 concatenates), so the landmark
# path of every later block reads 512 channels and writes 256.
#
# **Eq. 1-3 on toy tensors.** Make both paths known constants: the landmark path's last conv
# with zero weights and bias $b$ (so $\mathrm{conv}_s = b$), the image path's last
# BatchNorm with scale 0 and shift $\beta$ (so $\mathrm{conv}_p = \beta$). Then Eq. 1-3 say
# $M = \sigma(b)$, $F^P_t = \sigma(b)\,\beta + F^P_{t-1}$ and $F^S_t = b \,\|\, F^P_t$:

# %%
unit = lg.MigrationUnit(2).eval()
b, beta = torch.tensor([-2.0, 2.0]), torch.tensor([1.0, 1.0])
with torch.no_grad():
    unit.conv_s[-1].weight.zero_()
    unit.conv_s[-1].bias.copy_(b)
    unit.conv_p[-1].weight.zero_()
    unit.conv_p[-1].bias.copy_(beta)
    fp0, fs0 = torch.zeros(1, 2, 3, 3), torch.randn(1, 2, 3, 3)
    fp1, fs1, m1 = unit(fp0, fs0)
print("M_t per channel:", m1[0, :, 0, 0].tolist(), " sigmoid(b):", torch.sigmoid(b).tolist())
print("F^P_t per channel:", fp1[0, :, 0, 0].tolist())
print("F^S_t channels:", fs1.shape[1], "=", fs1[0, :, 0, 0].tolist())

# %% [markdown]
# The channel with $b = -2$ lets only 12 % of the update through, the one with $b = 2$
# 88 %: the landmark path gates the image path.
#
# **Exercise 2 (code).** Write one block's update: given $F^P_{t-1}$, $F^S_{t-1}$ and the two
# paths (any callables `conv_p`, `conv_s`), return `(F^P_t, F^S_t, M_t)` per Eq. 1-3. The
# checker compares with `lg.migration_update` on random convolutions.

# %%
def migration_update(fp, fs, conv_p, conv_s):
    ...  # your code here


check("11.migration_unit_function", migration_update)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def migration_update(fp, fs, conv_p, conv_s):
    s = conv_s(fs)
    mask = torch.sigmoid(s)
    fp_t = mask * conv_p(fp) + fp
    return fp_t, torch.cat([s, fp_t], 1), mask


assert check("11.migration_unit_function", migration_update)

# %% [markdown]
# **The decoder (Table 2).** After the last block, the label maps are concatenated to
# $F^P_T$ and two transposed 3x3 convolutions (stride 2) double the size twice: 64x64x128,
# then 128x128x64; reflection pad 3, a 7x7 convolution to 3 channels, Tanh.

# %%
with torch.no_grad():
    z = torch.cat([fp, lg.label_maps(torch.tensor([4, 6]), fp.shape[-1])], 1)
    print("decoder input:", tuple(z.shape))
    for layer in G.decoder.main:
        z = layer(z)
        print(f"  {type(layer).__name__:16s} -> {tuple(z.shape[1:])}")

# %% [markdown]
# ## 4. Two critics (Table 3)
#
# Both critics are the same 70x70 PatchGAN (pix2pix): 4x4 convolutions, BatchNorm,
# LeakyReLU, and a map of probabilities. They differ in what they look at (**III.A**):
#
# - the **image critic** judges (source face, target or generated face) pairs: is this the
#   source person with a new expression?
# - the **geometry critic** judges (target or generated face, target landmark image) pairs:
#   does the face have these landmarks? (Our landmark image: the brightest heatmap at each
#   pixel, scaled to [-1, 1].)
#
# **Exercise 3.** Table 3 gives a 14x14 output map at 128x128. Before the next cell prints
# the shapes: what side would the map have for a 256x256 pair? (Follow the table's strides
# and paddings.)

# %%
answer = None  # your code
check("11.critic_side", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
side = 256
for stride in (2, 2, 2):
    side = (side + 2 - 4) // stride + 1
for _ in range(2):
    side = side + 2 - 4 + 1
assert check("11.critic_side", side)

# %%
D = paper_method.nets["D"]
pair = torch.randn(2, 6, 128, 128)
with torch.no_grad():
    y = pair
    for layer in D["image"].main:
        y = layer(y)
        print(f"{type(layer).__name__:12s} -> {tuple(y.shape[1:])}")
print("geometry critic input channels:", D["geometry"].main[0].in_channels, "(3 image + 1 landmark image)")

# %% [markdown]
# **What the last BatchNorm does.** Table 3 puts a BatchNorm between the last conv and the
# sigmoid. In training mode it normalises the one-channel map over the batch and all
# positions, then applies a learned scale and shift. A batch of only real pairs and a batch
# of only fakes would then come out with the *same* mean score (the shift): the critic
# could not tell them apart by level. The course therefore always scores real and fake
# pairs together, in one batch (`lg.critic_loss`; our choice). The next cell shows it on a
# fresh critic:

# %%
critic = lg.init_weights(lg.PatchCritic(4, 8)).train()
reals, fakes = torch.rand(4, 4, 32, 32), -torch.rand(4, 4, 32, 32)
with torch.no_grad():
    print("mean logit, reals alone:", round(float(critic.logits(reals).mean()), 4),
          " fakes alone:", round(float(critic.logits(fakes).mean()), 4))
    both = critic.logits(torch.cat([reals, fakes]))
    print("together: reals", round(float(both[:4].mean()), 4), " fakes", round(float(both[4:].mean()), 4))

# %% [markdown]
# ## 5. The losses (Eq. 4-7) and paired supervision
#
# - **Eq. 4**, adversarial: binary cross-entropy on each critic's patch map, real pairs
#   labelled 1 and generated ones 0; the generator wants its pairs scored 1 by both critics.
# - **Eq. 5**, pixel: the mean absolute difference between the generated face and the
#   **real target face**.
# - **Eq. 6**, perceptual: the same on the feature maps of VGG19's conv1_2 (ImageNet
#   weights, **IV.B**). Offline the course uses its labelled stand-in
#   (`course_lib.features`): the feature network always says which it is.
# - **Eq. 7**: $L = \lambda_1 L_{GAN} + \lambda_2 L_{Per} + \lambda_3 L_{pixel}$ with
#   $\lambda = 5, 10, 10$.
#
# **Exercise 4.** A generator step measures $L_{GAN} = 0.7$, $L_{Per} = 0.3$ and
# $L_{pixel} = 0.1$. What is its Eq. 7 total?

# %%
answer = None  # your code
check("11.total_loss", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
assert check("11.total_loss", 5 * 0.7 + 10 * 0.3 + 10 * 0.1)

# %% [markdown]
# Eq. 5 and 6 need the *real target face*, and the generator must have been told that
# face's geometry: otherwise it would be punished for not guessing where this person's
# mouth corners go when they smile. So training uses **pairs of the same person** (Fig. 9):
# the target is another expression of the source's identity, and its landmarks are the
# generator's input. The method draws such a target for every face of a batch
# (`prepare`); the synthetic set has every expression of every person with exact landmarks.

# %%
hyper = methods.make_hyper("landmark-gan", {"perceptual_weights": "in-domain"})   # the offline stand-in, said below
method = methods.get("landmark-gan")(hyper, size="cpu-wide")
method.bind_data(tensors)
batch = {k: v[:4] for k, v in tensors.items()}
batch["image"] = unit_from_uint8(batch["image"])
prepared = method.prepare(batch)
print("source labels:", [facs.EXPRESSIONS[i] for i in prepared["label"].tolist()])
print("target labels:", [facs.EXPRESSIONS[i] for i in prepared["target_label"].tolist()])

# %%
lg.plot_triplets(prepared["image"], prepared["target"], prepared["landmark_image"],
                 titles=("source", "target: same person", "its landmark image"));

# %% [markdown]
# One loss of each kind on this batch, with the untrained networks (the method's `loss`, the
# same call the trainer makes): the critics' step first, then the generator's Eq. 7.

# %%
d_total, d_parts = method.loss("D", prepared)
g_total, g_parts = method.loss("G", prepared)
print("critics:", {k: round(float(v), 3) for k, v in d_parts.items()})
print("generator:", {k: round(float(v), 3) for k, v in g_parts.items()}, " total:", round(float(g_total), 3))

# %% [markdown]
# ## 6. Train it: load the model if present, else train
#
# `python -m course_lib reproduce landmark-table5 --preset cpu` (or any of Tables 4-7) trains
# the model once into `runs/reproduce/landmark-gan-cpu/full/` with the `cpu` preset (64x64,
# 16 base channels, 3 blocks, batch 8, Adam 2e-4; `python -m course_lib methods` lists it)
# and every table reuses it. This cell loads that run when it exists, else the course's
# shipped checkpoint of the same preset (`data/checkpoints/landmark-gan.pt`, also in fast
# mode), and trains otherwise (in fast mode: two iterations on the faces above, into a
# temporary folder).

# %%
from course_lib import shipped

have_run = (repo_root() / "runs" / "reproduce" / "landmark-gan-cpu" / "full" / "checkpoints" / "last.pt").is_file()
if (fast_mode() or not have_run) and shipped.path("landmark-gan").is_file():
    # the course's checkpoint of the cpu preset (python -m course_lib checkpoints build)
    rec = shipped.info("landmark-gan")
    model = {"translator": shipped.load("landmark-gan"), "run": shipped.path("landmark-gan"),
             "steps": rec["config"]["steps"], "train_s": rec["wall_time_s"],
             "feature_label": rec["config"]["hyper"].get("perceptual_weights")}
elif fast_mode():
    model = landmark_gan_runs.train_or_load("cpu", runs=Path(tempfile.mkdtemp()), steps=2, data=tensors)
    print(shipped.fast_note("landmark-gan", 2))
else:
    model = landmark_gan_runs.train_or_load("cpu")
translator = model["translator"]
print(model["run"], "-", model["steps"], "iterations,", model["train_s"], "s of training")
print("perceptual loss on conv1_2 of:", model["feature_label"])

# %% [markdown]
# What the blocks do in the trained model: each block's mask $M_t$ (Eq. 1), averaged over its
# channels, for one source face and another expression's landmarks of the same person.

# %%
src, tgt = 0, 7                                            # identity 0: angry -> surprised
out = translator.method.translate(unit_from_uint8(tensors["image"][[src]]), tensors["label"][[tgt]],
                                  {"target_landmarks": tensors["landmarks"][[tgt]]})
lg.plot_migration_masks(unit_from_uint8(tensors["image"][src]), [m[0] for m in out["raw"]["masks"]],
                        out["out"][0].clamp(-1, 1));

# %% [markdown]
# ## 7. Landmark transfer (Fig. 8)
#
# Fig. 8 gives the generator *another person's* landmarks: "convert [a face] to another
# person's landmark information". Each row: a source face, a target face of another
# identity (its landmarks drawn), and the source person with the target's geometry and
# expression.

# %%
n_ids = len(tensors["label"]) // len(facs.EXPRESSIONS)
rows = [(0 * 8 + 5, (1 % n_ids) * 8 + 4), (1 * 8 + 5, (2 % n_ids) * 8 + 7), (0 * 8 + 0, (1 % n_ids) * 8 + 6)]
source_idx = torch.tensor([s for s, _ in rows])
target_idx = torch.tensor([t for _, t in rows])
with torch.no_grad():
    moved = translator.method.translate(unit_from_uint8(tensors["image"][source_idx]), tensors["label"][target_idx],
                                        {"target_landmarks": tensors["landmarks"][target_idx]})["out"].clamp(-1, 1)

# %%
lg.plot_triplets(unit_from_uint8(tensors["image"][source_idx]), unit_from_uint8(tensors["image"][target_idx]), moved,
                 titles=("source", "target (another person)", "generated"),
                 target_landmarks=tensors["landmarks"][target_idx]);

# %% [markdown]
# ## 8. The paper's tables on the embedded data
#
# One command per table; each writes `runs/reproduce/<table>/<table>.md` (our numbers beside
# the paper's, notes saying what differs) and, with `--publish`, copies it to
# `data/results/` for the book's Results page:
#
# ```
# python -m course_lib reproduce landmark-table4 --preset cpu   # augmentation x0, x1, x5, x10
# python -m course_lib reproduce landmark-table5 --preset cpu   # PSNR, SSIM (gain over copy), FID
# python -m course_lib reproduce landmark-table6 --preset cpu   # identity: Rank-1, TAR at FAR 1 % / 0.1 %
# python -m course_lib reproduce landmark-table7 --preset cpu   # ablation: w/o E_ini, w/o label maps
# ```
#
# What cannot be reproduced here: the paper's data (CK+ and Oulu-CASIA photographs; ours are
# synthetic faces, so only comparisons *within* our rows mean something), its Inception FID
# (our FID uses the course's in-domain judge features, labelled), its two face recognisers
# (VGG-Face and Light CNN; we have dlib's), and the x100 augmentation by default. The next
# cell shows each table from the command's output: the published copy when there is one,
# else the last local run, else the command to run.

# %%
for name in ("landmark-table4", "landmark-table5", "landmark-table6", "landmark-table7"):
    published = repo_root() / "data" / "results" / f"{name}.md"
    local = repo_root() / "runs" / "reproduce" / name / f"{name}.md"
    found = next((p for p in (published, local) if p.is_file()), None)
    if found is not None:
        display(Markdown(f"*From `{found.relative_to(repo_root())}`:*\n\n" + found.read_text()))
    else:
        print(f"{name}: not run yet here: python -m course_lib reproduce {name} --preset cpu")

# %% [markdown]
# How to read them. **Table 5**: the *gain over copy* columns say whether the translations
# are closer to the true target faces than the unchanged input is; the two rows of ours
# separate what the generator does with the true target landmarks from what it does when
# the landmarks are guessed from the label. **Table 6**: the "original" row (the real faces
# of the other expressions as probes) is the ceiling a perfect generator could reach.
# **Table 7**: the rows differ only in one module each, trained alike, so their differences
# are the modules' effect on these data (one seed: small differences are noise).
# **Table 4**: the accuracy of a classifier trained on few real faces, with and without
# generated ones; the per-seed column shows the spread.
#
# **Runtime.** CPU: in fast mode (`COURSE_FAST=1`) this notebook ran in 7 s on 2 cores, 30 s while
# other jobs shared them (`COURSE_FAST=1 pytest --nbval-lax --nbval-current-env
# notebooks/11_landmark_gan.ipynb`, one thread); the full run loads the tables' model, or trains it first (Table 7's "training s"
# column gives the measured seconds of each model). GPU (Colab): not measured.

# %% [markdown]
# ## Explore the trained model
#
# The course's explorer (Lesson 12) with the shipped checkpoint of the landmark- and
# label-guided GAN selected: pick an input face, a target expression and a point on the path
# from the source's condition to the target's, and look at the output and its difference to
# the input; the *side by side* box puts every method with a shipped checkpoint next to it.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib import explorer

explorer.show(method="landmark-gan")

# %% [markdown]
# ## Summary
#
# - The target's **geometry** enters as 68 Gaussian heatmaps, its **expression** as label
#   maps in [-1, 1] (Fig. 4); both are images, aligned with the face.
# - **E_ini** maps image and heatmaps to latent maps; each **migration unit block** gates a
#   residual update of the image features with a mask computed from the landmark features
#   (Eq. 1-3, Table 1); the **decoder** (Table 2) paints the face after the label maps are
#   concatenated.
# - Two **PatchGAN critics** (Table 3) judge (source, face) and (face, landmark image) pairs;
#   their last BatchNorm makes scoring reals and fakes in one batch necessary.
# - **Paired** training (same person, another expression) lets the L1 pixel loss and the
#   perceptual loss compare with the real target face (Eq. 5-7, lambda = 5, 10, 10).
# - Given another person's landmarks, the same generator **transfers** geometry (Fig. 8);
#   given only a label, the course places the landmarks by the mean displacement between
#   expressions.
#
# ## Questions
#
# 1. The heatmaps use one channel per landmark. What would grouping them (one channel per
#    eye, brow, mouth...) gain and lose, for the generator and for the geometry critic?
# 2. Eq. 2 is residual: $F^P_t = M_t \odot \mathrm{conv}_p(F^P_{t-1}) + F^P_{t-1}$. What
#    happens to the image features if every mask is 0? What does that say about a model
#    that has not yet learnt to use the landmarks?
# 3. Why does paired training make the pixel loss possible, and what would go wrong with
#    Eq. 5 if the target landmarks came from another person (Fig. 8) during training?
# 4. The critics' last BatchNorm normalises over the batch. Which other ways of feeding
#    reals and fakes would let a critic learn anyway, and which would not?
# 5. Table 4 enlarges a small training set with generated faces. When can generated data
#    *lower* a classifier's accuracy on real faces?
