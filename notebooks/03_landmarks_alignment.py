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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/03_landmarks_alignment.ipynb)
#
# # Lesson 3 — Landmarks, alignment and region crops with dlib
#
# Every method in this course starts from the same preprocessing: find the face, find its
# 68 landmarks, rotate and scale it so the eyes sit at fixed positions in a 128x128 crop,
# and cut out the regions where expressions happen. LGP-GAN (Section IV.B) "aligned and
# cropped [the images] to the size of 128x128 according to the facial landmarks detected by
# Dlib", then took an eye region of 48x96 and a mouth region of 48x64 (same section);
# Cascade EF-GAN (Section 4.1) takes eyes 40x92, nose 40x48 and mouth 40x60 patches centred
# at the mean landmark positions of the training set. This lesson builds all of it, on
# real photos and on the course's synthetic faces.

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
# - detect faces and their 68 iBUG landmarks with dlib (HOG or CNN detector) and name the
#   landmark groups (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67);
# - align a face with a similarity transform estimated from the two eye centres, and map
#   its landmarks into the aligned frame;
# - compute the LGP-GAN (IV.B) and Cascade EF-GAN (4.1) region boxes, crop them, and blend
#   regions back into the background I_bg (LGP-GAN Stage II) with a feathered mask;
# - preprocess a folder of photos with `python -m course_lib preprocess` and read its report.
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 26 s,
# normal mode 23 s, with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/03_landmarks_alignment.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %%
import matplotlib.cbook
import numpy as np
from PIL import Image
from skimage import data

from course_lib import align, landmarks, regions
from course_lib.exercises import check
from course_lib.lesson import pick

with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
    grace = np.asarray(im.convert("RGB"))
photos = {"astronaut": data.astronaut(), "grace_hopper": grace}
{k: v.shape for k, v in photos.items()}

# %% [markdown]
# ## 1. Detection and 68 landmarks
#
# dlib ships two face detectors: a **HOG** (histogram of oriented gradients) + linear SVM
# sliding-window detector, fast on a CPU and good for frontal faces, and a **CNN** (MMOD)
# detector, more robust to pose and lighting but ~10-100x slower without a GPU
# (`cnn=True`, `--cnn` on the command line). Inside each face box, a cascade of regression
# trees (Kazemi & Sullivan 2014) places the 68 iBUG-300W points. The model files come with
# the `face_recognition_models` package; nothing is downloaded.

# %%
faces = {k: landmarks.detect_faces(im) for k, im in photos.items()}
for k, found in faces.items():
    print(f"{k}: {len(found)} face(s), box (left, top, right, bottom) = {found[0].box}, "
          f"score {found[0].score:.2f}, landmarks {found[0].landmarks.shape}")

# %% [markdown]
# `detect_faces` runs dlib without upsampling first and only doubles the image when nothing
# is found. Doubling finds smaller faces but also weak false positives: on the astronaut it
# reports a second "face" on the suit. The course's policy for several faces is to take the
# largest and warn:

# %%
many = landmarks.detect_faces(photos["astronaut"], upsample=1)
print([(f.box, round(f.score, 2)) for f in many])
face, n = landmarks.largest_face(photos["astronaut"], upsample=1, name="astronaut")

# %% [markdown]
# **Exercise 1.** Before we align it: by how many degrees is the astronaut's head tilted in
# the photo? Compute the angle of the line from the image-left eye centre (mean of points
# 36-41) to the image-right eye centre (mean of 42-47) of `faces["astronaut"][0].landmarks`,
# in degrees, with `np.arctan2` (image y grows downwards). The alignment figure below prints
# it in its title: compare.

# %%
answer = None  # your code here
check("03.eye_angle", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
lm = faces["astronaut"][0].landmarks.astype(float)
dx, dy = lm[42:48].mean(0) - lm[36:42].mean(0)
assert check("03.eye_angle", np.degrees(np.arctan2(dy, dx)))

# %% [markdown]
# ## 2. Alignment: a similarity transform from the eyes
#
# A similarity transform (rotation, uniform scale, translation: 4 parameters),
#
# $$\mathbf{x}' = s\,R(\theta)\,\mathbf{x} + \mathbf{t},$$
#
# is exactly determined by two point pairs. We map the two eye centres (means of points 36-41 and
# 42-47) to fixed positions: level, 44 px apart, at height 48 in a 128x128 crop. The
# papers do not give their canonical geometry; ours is chosen so that every LGP and EF-GAN
# box fits inside the crop with the face in the centre (see `course_lib.align`'s
# docstring). The same transform maps the landmarks, so the boxes can be computed in the
# aligned frame.

# %%
print("canonical eye centres at 128:", align.canonical_eyes(128).tolist())
aligned = {k: align.align(im, faces[k][0].landmarks) for k, im in photos.items()}
align.show_alignment(photos["astronaut"], aligned["astronaut"], faces["astronaut"][0].landmarks,
                     faces["astronaut"][0].box, "astronaut");

# %%
align.show_alignment(photos["grace_hopper"], aligned["grace_hopper"], faces["grace_hopper"][0].landmarks,
                     faces["grace_hopper"][0].box, "grace_hopper");

# %% [markdown]
# Are the eyes really level? The transformed landmarks are level by construction, so ask
# dlib again: run the predictor on the *aligned pixels* and measure.

# %%
for k, a in aligned.items():
    l, t, r, b = faces[k][0].box
    corners = a.transform(np.array([[l, t], [r, t], [l, b], [r, b]], float))
    box = (*np.round(corners.min(0)).astype(int), *np.round(corners.max(0)).astype(int))
    le, re = align.eye_centres(landmarks.predict_landmarks(a.image, box))
    print(f"{k}: re-detected eye centres {le.round(2)} {re.round(2)}, height difference {abs(le[1] - re[1]):.2f} px")

# %% [markdown]
# ## 3. The crucial regions
#
# LGP-GAN (Section III.A) divides the face into an eye region $I_{eye}$, a mouth region
# $I_{mouth}$ and the background $I_{bg}$ outside them; its local generators see only the
# crops. The reason is **Table I** (Lesson 1): nearly every AU of the six basic expressions
# acts inside the eye or the mouth region. Sizes are given at 128x128 (IV.B); `regions.region_sizes` scales them to other
# sizes, rounded to even integers. A box is `(top, left, height, width)`; it keeps exactly
# the paper's size and is shifted, never shrunk, to stay inside the image.

# %%
for method in ("lgp", "efgan"):
    print(method, "at 128:", regions.region_sizes(method, 128), " at 64:", regions.region_sizes(method, 64))
a, g = aligned["astronaut"], aligned["grace_hopper"]
regions.region_boxes(g.landmarks, "lgp")   # Grace Hopper's boxes (the astronaut's are Exercise 2's)

# %% [markdown]
# Cascade EF-GAN centres every patch at "the average position of the corresponding key
# points over all training samples" (4.1), so every face of a set gets the *same* boxes;
# `mean_region_centres` computes those means. Here the "training set" is our two photos.

# %%
train_lm = np.stack([a.landmarks for a in aligned.values()])
centres = regions.mean_region_centres(train_lm, "efgan")
print({k: v.round(1).tolist() for k, v in centres.items()})
regions.show_regions(a.image, a.landmarks, centres=centres);

# %% [markdown]
# ## 4. Crop, paste back, background
#
# `regions.crop` and `regions.paste` work on batched tensors (B, C, H, W) — what the
# networks of the next lessons use — and on single numpy images. LGP-GAN's Stage II blends
# the generated regions into the background; the paper does not say how, so `paste` uses a
# feathered mask (a linear ramp over `feather` pixels at the box border) that hides the
# seam. Pasting an unchanged crop back gives the image back bit for bit:

# %%
import torch

from course_lib.images import to_tensor

batch = torch.stack([to_tensor(x.image) for x in aligned.values()])
boxes = regions.region_boxes(torch.from_numpy(train_lm), "lgp")
out = batch
for name, b in boxes.items():
    out = regions.paste(out, regions.crop(batch, b), b, feather=6)
print("round trip exact:", torch.equal(out, batch))
print(regions.blend_mask(6, 10, 2))

# %% [markdown]
# To see the blend at work, paste Grace Hopper's eye and mouth regions into the astronaut's
# face: with `feather=0` the seams are hard edges; with a few pixels of feathering they fade.

# %%
regions.show_paste(a.image, g.image, regions.region_boxes(a.landmarks, "lgp"),
                   regions.region_boxes(g.landmarks, "lgp"), feathers=(0, 6));

# %% [markdown]
# ## 5. Synthetic faces: ground truth for the landmark detector
#
# The course's renderer (Lesson 2) draws faces *with* their exact 68 landmarks. That lets
# us check dlib — and our boxes — against ground truth: align once with the renderer's
# landmarks, once with dlib's, and compare the boxes.

# %%
from course_lib import render

rng = np.random.default_rng(0)
rows = []
for i in range(pick(6, 2)):
    img, gt, _ = render.render_expression(render.sample_identity(rng), ["happy", "surprised", "sad"][i % 3], size=160)
    by_gt = regions.region_boxes(align.align(img, gt).landmarks, "lgp")
    try:
        fit = align.align_face(img)
    except landmarks.FaceNotFoundError as err:
        print(err)
        continue
    by_dlib = regions.region_boxes(fit.landmarks, "lgp")
    rows.append((img, gt, {k: (by_gt[k][:2] - by_dlib[k][:2]).tolist() for k in by_gt}))
for _, _, d in rows:
    print("box offset ground truth - dlib (top, left):", d)
render.show_landmarks(rows[0][0], rows[0][1]);

# %% [markdown]
# ## 6. A whole folder: `python -m course_lib preprocess`
#
# The command aligns every photo of a folder, writes the crops and a landmarks cache, and
# lists in `report.csv` every file with no face, several faces (largest used), that it
# converted to 8-bit RGB (grayscale, 16-bit or RGBA photos such as CK+ and Oulu-CASIA's:
# status `converted`; `--no-convert` refuses them instead) or that could not be read.
# Originals are never written; a second run skips finished files.

# %%
import csv
import shutil
import tempfile
from pathlib import Path

from course_lib import cli

work = Path(tempfile.mkdtemp())
(work / "photos").mkdir()
Image.fromarray(photos["astronaut"]).save(work / "photos" / "astronaut.png")
shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), work / "photos" / "grace.jpg")
Image.fromarray(np.full((200, 200, 3), 100, np.uint8)).save(work / "photos" / "wall.png")
Image.fromarray(photos["astronaut"][:, :, 0]).save(work / "photos" / "gray.png")
cli.main(["preprocess", "--in", str(work / "photos"), "--out", str(work / "out")])
with open(work / "out" / "report.csv") as fh:
    for row in csv.DictReader(fh):
        print(row)
cache = np.load(work / "out" / "landmarks.npz")
print(cache["names"], cache["landmarks"].shape)

# %% [markdown]
# ## Exercises
#
# **Exercise 2.** Without `regions.region_boxes`, compute the LGP-GAN mouth box
# `(top, left, height, width)` of the *aligned* astronaut (`aligned["astronaut"].landmarks`):
# centre = mean of points 48-67, size 48x64 (IV.B), corner rounded half up.

# %%
answer = None  # e.g. (top, left, 48, 64)
check("03.mouth_box", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
cx, cy = aligned["astronaut"].landmarks[48:68].mean(0)
assert check("03.mouth_box", (int(np.floor(cy - 24 + 0.5)), int(np.floor(cx - 32 + 0.5)), 48, 64))

# %% [markdown]
# **Exercise 3.** How many pixels of the aligned astronaut (128x128) belong to LGP-GAN's
# background region $I_{bg}$, i.e. to neither the eye box nor the mouth box? (Print the
# boxes first: do they overlap?)

# %%
answer = None
check("03.background_pixels", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# paint both boxes into a boolean image and count what is left
taken = np.zeros((128, 128), bool)
for t, l, h, w in regions.region_boxes(aligned["astronaut"].landmarks, "lgp").values():
    taken[t:t + h, l:l + w] = True
assert check("03.background_pixels", int((~taken).sum()))

# %% [markdown]
# **Exercise 4 (code).** Write `region_box(landmarks, region)` for LGP-GAN's regions of a
# 128x128 aligned face: `landmarks` is a (68, 2) array of (x, y) points, `region` is `"eye"`
# or `"mouth"`; return `(top, left, height, width)` as integers. The box has the size of
# `regions.LGP_REGION_SIZES[region]` (height, width), is centred on the mean of the points
# `regions.REGION_LANDMARKS["lgp"][region]`, its corner is `round(centre - size / 2)` rounded
# half *up*, and it is shifted (never shrunk) to stay inside the image. The checker
# compares with `regions.region_boxes` on random faces and on edge cases (a centre that
# rounds half up, a mouth near the bottom edge, eyes near a corner).

# %%
import math


def region_box(landmarks, region):
    ...  # your code here


check("03.region_box_function", region_box)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def region_box(landmarks, region):
    h, w = regions.LGP_REGION_SIZES[region]
    cx, cy = np.asarray(landmarks, np.float64)[regions.REGION_LANDMARKS["lgp"][region]].mean(0)
    top = min(max(math.floor(cy - h / 2 + 0.5), 0), 128 - h)     # half up; Python's round() rounds half to even
    left = min(max(math.floor(cx - w / 2 + 0.5), 0), 128 - w)
    return top, left, h, w


assert check("03.region_box_function", region_box)

# %% [markdown]
# ## Summary
#
# - dlib finds faces (HOG by default, CNN/MMOD by flag) and their 68 iBUG landmarks; the
#   course takes the largest face when there are several and says so.
# - A similarity transform from the two eye centres aligns the face: eyes level at
#   (42, 48) and (86, 48) in a 128x128 crop; the landmarks follow the same transform.
# - LGP-GAN's regions (IV.B: eye 48x96, mouth 48x64) are centred on the eye and mouth
#   landmarks; Cascade EF-GAN's (4.1: eyes 40x92, nose 40x48, mouth 40x60) on the mean
#   landmark positions of the training set. Boxes keep their size and are shifted inside.
# - `crop`/`paste` are batched and differentiable; a feathered paste blends generated
#   regions into the background I_bg (LGP-GAN Stage II) and an unchanged crop pastes back
#   exactly.
# - `python -m course_lib preprocess` does all of this for a folder, resumably, with a report.
#
# **Next:** the generators of the following lessons take these crops and boxes as input.

# %% [markdown]
# ## Questions
#
# 1. Why align faces before training at all? What would the generator have to learn
#    otherwise?
# 2. Alignment uses only the two eye centres. What does a similarity transform keep, and
#    what kind of head pose can it not undo?
# 3. LGP-GAN centres its boxes on each face's landmarks, Cascade EF-GAN on the training set's
#    mean landmarks. Give one advantage of each choice.
# 4. Why are boxes shifted into the image rather than shrunk when they cross the border?
# 5. Why must `crop` and `paste` be differentiable for LGP-GAN's Stage II?
# 6. dlib can miss a face or find two. What does the course do in each case, and why should
#    such cases be reported rather than skipped silently?
