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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/02_datasets.ipynb)
#
# # Lesson 2 — Data: a synthetic FACS face set with ground truth, and real datasets
#
# A GAN for expression synthesis is only as good as the faces it learns from. This lesson
# builds the course's embedded dataset, a procedural renderer of stylised faces driven by
# Action Units, and shows how to plug in a real dataset (RaFD) instead.

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
# %%
from course_lib import facs
from course_lib.exercises import check

# %% [markdown]
# ## Learning objectives
#
# After this lesson you can
#
# - explain why data is the bottleneck of facial expression synthesis, and what a synthetic
#   set with ground truth adds (paired targets, exact AU intensities, exact landmarks);
# - render a face from identity parameters and AU intensities with `course_lib.render`, and
#   name the iBUG-68 landmark groups (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67);
# - build the embedded dataset with `python -m course_lib data build-synthetic` and load it
#   with `SyntheticFaces` / `SyntheticFolder`, split 90/10 **by identity**;
# - read RaFD's file names and load it with `RaFDFolder` (frontal camera, as LGP-GAN Section IV.A),
#   or any folder-per-expression set with `ExpressionFolder`.
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 29 s,
# normal mode 19 s (with `data/synthetic` already built; building it is part of `python -m course_lib main`), with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/02_datasets.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %% [markdown]
# ## Why data is the bottleneck
#
# LGP-GAN's introduction starts from this problem: deep expression recognisers need many
# labelled faces, expression databases are small, and "facial expression synthesis is one
# of the most successful solutions to the problem of insufficient data". The papers
# themselves train on small laboratory sets: LGP-GAN uses RaFD's **1,608 frontal images of
# 67 people** (Section IV.A); ECGAN uses AR, Yale, JAFFE, 3DFE and FERG, the last a set of
# *cartoon* characters. None of these can be downloaded here: RaFD and CK+ need a signed
# licence.
#
# Real sets also lack ground truth. A GAN turns Alice-neutral into Alice-happy, but we
# rarely have *that* Alice-happy photo to compare with, and nobody measured which AUs
# she moved or by how much. So the papers fall back on distribution metrics (IS and FID,
# LGP-GAN **Table IV**). A renderer gives us what no camera can: the same identity under
# every expression, exact AU intensities and exact landmarks. Later lessons use it for
# paired metrics (PSNR/SSIM against the true target, AU error).

# %%
import numpy as np

from course_lib import datasets, facs, render
from course_lib.exercises import check
from course_lib.lesson import pick

SIZE = pick(128, 64)

# %% [markdown]
# ## The renderer
#
# An **identity** is a bundle of parameters: face shape and jaw, skin tone, hair style and
# colour, eye colour and spacing, brow thickness, nose size, lips, glasses, beard,
# background, and a small camera jitter (rotation up to ±10°, scale ±10 %, shift).
# `render.sample_identity(seed)` draws one.

# %%
alice = render.sample_identity(np.random.default_rng(4))
{k: v for k, v in alice.to_dict().items() if k in ("face_width", "skin", "hair_style", "eye_spacing", "glasses", "rotation")}

# %% [markdown]
# The **expression** is a vector of AU intensities in [0, 1] over `facs.AU_NUMBERS`. Each AU
# moves a fixed set of landmarks by a displacement proportional to its intensity (so the
# effect is monotone), and draws what the movement creates: teeth when the lips part,
# wrinkles on the nose for AU9, frown lines for AU4, cheek folds for AU12. The expression
# classes are the prototypes of LGP-GAN **Table I** (plus contempt, unilateral, and neutral)
# from `course_lib.facs`. Here are six identities under the eight expressions, in the
# canonical label order:

# %%
render.show_expression_grid(pick(6, 2), size=SIZE);

# %% [markdown]
# `render` returns three things: the image (uint8, H x W x 3), the **68 landmarks** in dlib's
# iBUG-68 order (pixel x, y) and the AU vector. The landmarks are exact, not detected:

# %%
image, landmarks, aus = render.render_expression(alice, "surprised", size=SIZE)
render.show_landmarks(image, landmarks, numbers=True);

# %% [markdown]
# An expression also has a continuous **intensity**: 0 is neutral, 1 the full prototype —
# the kind of continuous target GANimation conditions on (Lesson 5).

# %%
render.show_images(render.intensity_strip(alice, "happy", 6, SIZE),
                   [f"happy {t:.1f}" for t in np.linspace(0, 1, 6)]);

# %% [markdown]
# ### Try it: AU sliders
#
# Move the AU sliders to re-render the face live, or pick an expression and its intensity
# (set *identity seed* to another number for another person). Which AUs make the face
# look afraid rather than surprised? (Compare the two rows of Table I.)

# %%
# NBVAL_IGNORE_OUTPUT
render.au_widget(alice, size=SIZE);

# %% [markdown]
# ### Exercise 1: what does AU12 move?
#
# Render a **frontal** face (`render.sample_identity(0, pose=False)`) with no AU and with
# AU12 at 1 (use `render.landmarks_batch([identity], render.au_array({...})[None], 128)`).
# Which landmark indices move by more than 0.5 pixel? Answer with a list of indices.

# %%
answer = None  # your code
check("02.au12_landmarks", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
ident = render.sample_identity(0, pose=False)
lm0 = render.landmarks_batch([ident], render.au_array({})[None], 128)[0]
lm1 = render.landmarks_batch([ident], render.au_array({12: 1.0})[None], 128)[0]
solution = [i for i in range(68) if np.linalg.norm(lm1[i] - lm0[i]) > 0.5]
assert check("02.au12_landmarks", solution)

# %% [markdown]
# All of them are mouth landmarks (48-67): AU12 belongs to the mouth region in
# `facs.AU_TABLE`. The tests of `course_lib.render` check this locality for every AU.

# %% [markdown]
# ## The embedded dataset
#
# `SyntheticFaces` renders identities x 8 expressions on the fly, deterministic for a
# seed, with a per-image jitter of the AU intensities (so two "happy" faces are never
# identical). It is split **90/10 by identity**: no person is in both the training and the
# test set. Each item is a dict: the image in [-1, 1], the label index, the landmarks, the
# identity and the AU vector.

# %%
train = datasets.SyntheticFaces(identities=pick(200, 20), size=SIZE, split="train")
test = datasets.SyntheticFaces(identities=pick(200, 20), size=SIZE, split="test")
print(len(train), "training images,", len(test), "test images")
print("shared identities:", set(train.identities) & set(test.identities))
item = test[0]
{k: (tuple(v.shape) if hasattr(v, "shape") else v) for k, v in item.items()}

# %% [markdown]
# `find(identity, expression)` returns the index of the ground truth: the same person
# under another expression. This is the pair a real dataset rarely has.

# %%
who = test.identities[0]
pair = [test.render_item(test.find(who, e))[0] for e in ("neutral", "happy", "disgusted")]
render.show_images(pair, [f"{who} neutral", f"{who} happy", f"{who} disgusted"]);

# %% [markdown]
# Rendering is cheap, but training reads every image many times, so the course writes the
# set to disk once. From a terminal:
#
# ```
# python -m course_lib data build-synthetic --out data/synthetic --identities 200 --size 128 --seed 0
# ```
#
# It writes RaFD-style names (`Synth090_007_happy_frontal.png`) and `metadata.json`
# (identity, expression, split, AU intensities, landmarks); it does nothing when the folder
# is already built and refuses a non-empty folder it did not create. The same from Python
# (the README measured 17 s for the full set, 200 identities at 128x128, with one worker on
# a 2-core machine; once the folder is built, the call returns at once):

# %%
from course_lib.lesson import repo_root

folder = datasets.build_synthetic(repo_root() / "data" / pick("synthetic", "synthetic_fast"),
                                  identities=pick(200, 4), size=SIZE, seed=0, workers=2)
on_disk = datasets.SyntheticFolder(folder, split="train")
print(len(on_disk), "training images in", folder)

# %% [markdown]
# ### Exercise 2: how big are the splits?
#
# For `SyntheticFaces(identities=50)`, how many images are in the training split and how
# many in the test split? Answer `(n_train, n_test)`; reason it out before you construct
# the datasets.

# %%
answer = None  # your code
check("02.split_sizes", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
solution = (len(datasets.SyntheticFaces(50, split="train")), len(datasets.SyntheticFaces(50, split="test")))
assert check("02.split_sizes", solution)

# %% [markdown]
# ## Real data: RaFD
#
# The Radboud Faces Database is free for research, but only after you accept its licence:
# request access on the RaFD website (Radboud University, Behavioural Science Institute),
# download the archive, and unpack it into one folder, e.g. `data/rafd/`. Every file name
# encodes the shot:
#
# ```
# Rafd090_01_Caucasian_female_angry_frontal.jpg
# ^^^^^^^ camera angle (090 is the frontal camera)
#         ^^ subject   ^^^^^^^^^ ethnicity  ^^^^^^ gender  ^^^^^ expression  ^^^^^^^ gaze
# ```
#
# LGP-GAN keeps the frontal camera only, "about 1,608" images (Section IV.A), aligns and
# crops them to 128 x 128 and splits 90/10 at random over *images*. `RaFDFolder` keeps
# camera 090, centre-crops to a square, resizes, and splits by *subject* by default
# (`split_by="image"` reproduces the paper). Switching the whole course to RaFD is one line:
#
# ```python
# train = datasets.RaFDFolder("data/rafd", split="train", size=128)
# ```
#
# Any other labelled set works if you sort it into one folder per expression
# (`happy/`, `sad/`, ...): `datasets.ExpressionFolder("data/myfaces")`. All loaders yield
# the same dict, so nothing else changes. Bad input is never skipped silently: an unknown
# expression in a name, a corrupt file or a grayscale/RGBA/16-bit image raises an error that
# names the file (`convert=True` applies the documented conversions).

# %% [markdown]
# ### Exercise 3: read a RaFD file name
#
# Parse `Rafd090_23_Moroccan_male_surprised_left.jpg` into a dict with the keys
# `camera` (int), `subject` (str), `expression` and `gaze`, using plain string methods.

# %%
answer = None  # your code
check("02.rafd_fields", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
fields = "Rafd090_23_Moroccan_male_surprised_left.jpg".rsplit(".", 1)[0].split("_")
solution = {"camera": int(fields[0][4:]), "subject": fields[1], "expression": fields[4], "gaze": fields[5]}
assert check("02.rafd_fields", solution)

# %% [markdown]
# ### Exercise 4 (code): a parser for every RaFD file name
#
# Write `parse_rafd(path)`: from a RaFD file name (possibly with folders in front and any
# extension), return a dict with `camera` (an `int`: `90` for `Rafd090`), and `subject`,
# `ethnicity`, `gender`, `expression` and `gaze` as strings (the subject keeps its leading
# zero: `"07"`). The checker compares your function with `datasets.parse_rafd_name` on random
# names and on edge cases (camera 000, a folder whose name has underscores, an upper-case
# extension) and shows the first name where they differ.

# %%
from pathlib import Path


def parse_rafd(path):
    ...  # your code here


check("02.parse_function", parse_rafd)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def parse_rafd(path):
    camera, subject, ethnicity, gender, expression, gaze = Path(path).stem[len("Rafd"):].split("_")
    return {"camera": int(camera), "subject": subject, "ethnicity": ethnicity, "gender": gender,
            "expression": expression, "gaze": gaze}


assert check("02.parse_function", parse_rafd)

# %% [markdown]
# ## Summary
#
# - Expression datasets are small and licensed, and they have no ground truth for the
#   target expression; the papers therefore evaluate with IS/FID (LGP-GAN Table IV).
# - `course_lib.render` draws stylised faces from identity parameters and AU intensities,
#   with exact iBUG-68 landmarks; the expressions are LGP-GAN Table I's AU prototypes, with
#   a continuous intensity and per-sample jitter.
# - `SyntheticFaces` (on the fly) and `SyntheticFolder` (after `data build-synthetic`)
#   split 90/10 by identity and give the paired ground truth through `find`.
# - `RaFDFolder` and `ExpressionFolder` load real data with the same item format: switching
#   datasets is one line.

# %% [markdown]
# ## Questions
#
# 1. Why do expression datasets have no ground truth for a *translation*, and what does the
#    synthetic set give instead?
# 2. Why is the train/test split made by identity rather than by image? What would a split by
#    image let a model do?
# 3. Name two ways in which the synthetic faces differ from real photos, and one conclusion
#    drawn on them that might therefore not carry over to RaFD.
# 4. RaFD photographs every subject from five camera angles with three gaze directions. Which
#    of these images should a frontal-face model train on, and why?
# 5. Why is the parser of a file name a place where silent mistakes are likely (think of the
#    subject `"07"` and of folder names)? How does the course make such mistakes loud?
