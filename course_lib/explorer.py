"""The interactive explorer (Lesson 12): every method with a shipped checkpoint, on one face.

One call in a notebook, ``explorer.show()``, returns the widget panel:

* **method**: every method with a shipped checkpoint (:func:`course_lib.shipped.available`);
  a clear message when there is none yet;
* **input**: a test face of the method's dataset (its own expression, AUs and landmarks
  known), one of the two offline real photos (``skimage.data.astronaut()``, matplotlib's
  ``grace_hopper.jpg``) or an uploaded photo, each aligned by dlib (:mod:`course_lib.align`;
  a message when dlib finds no face, or several and the largest is used);
* **source expression** (read from a test face; chosen for a photo) and **target expression**;
* **interpolation** ``t`` from the source's condition (t = 0) to the target's (t = 1), along
  the method's own path (:meth:`course_lib.methods.Method.interpolate_condition`: a one-hot mix
  for a label method, a straight AU path for an AU method, whatever a method overrides it with);
* **per-AU sliders** for AU-conditioned methods (``conditioning == "AUs"``): they show the
  interpolated AUs and, when moved, edit the condition directly;
* **view**: the difference to the input, the attention masks, and every named visual the
  method returns (colour maps, local outputs, cascade stages, ...);
* **side by side**: every shipped method on the same input and target.

The logic lives in :class:`Explorer`, whose widgets can be driven from Python (the tests set
``explorer.target.value`` and read ``explorer.output.value``).  :func:`preview` draws the
side-by-side view as a matplotlib figure, for the book (where widgets do not run).
Works with ipywidgets 7 (Colab) and 8 (JupyterLab); :func:`uploaded_files` reads both
FileUpload formats.  Nothing here names a method: everything comes from the method's
attributes and hooks.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib import facs

#: The inputs the explorer offers.
SOURCES = ("test face", "astronaut", "Grace Hopper", "uploaded photo")
#: Height in pixels of each displayed image (64 px images are scaled up, nearest neighbour).
DISPLAY = 160
#: How many test faces the face slider offers.
N_FACES = 8
DIFFERENCE, MASKS = "difference to the input", "attention masks"
NO_CHECKPOINT = ("No method has a shipped checkpoint in {dir} yet: build them with "
                 "<code>python -m course_lib checkpoints build</code> (or train one, Lesson 7), then run this cell again.")


# ------------------------------------------------------------------------------ inputs
@dataclass
class Face:
    """An explorer input: ``image`` (3, S, S) in [-1, 1], ``landmarks`` (68, 2) in pixels of S
    (or None), its expression ``label`` and ``aus`` when known (a test face), a ``name``."""
    image: object
    landmarks: object
    label: int | None
    aus: object
    name: str


def photo(name: str) -> np.ndarray:
    """One of the offline real photos as (H, W, 3) uint8: ``"astronaut"`` or ``"Grace Hopper"``."""
    if name == "astronaut":
        from skimage import data

        return data.astronaut()
    if name == "Grace Hopper":
        import matplotlib.cbook
        from PIL import Image

        with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
            return np.asarray(im.convert("RGB"))
    raise ValueError(f"photo {name!r}: expected 'astronaut' or 'Grace Hopper'")


def align_photo(image, name: str = "photo", size: int | None = None) -> tuple[Face, str]:
    """Detect the faces of ``image`` ((H, W, 3) uint8) with dlib and align the largest:
    ``(Face, note)``; ``note`` says when several faces were found.  No face:
    :class:`course_lib.landmarks.FaceNotFoundError` naming ``name``."""
    import torch

    from course_lib import align, landmarks
    from course_lib.images import to_tensor

    size = size or align.DEFAULT_SIZE
    faces = landmarks.detect_faces(image, name=name)
    if not faces:
        raise landmarks.FaceNotFoundError(
            f"{name}: dlib found no face. Use a photo with one frontal, well-lit face, at least about 80 px wide.")
    note = ""
    if len(faces) > 1:
        note = f"{name}: dlib found {len(faces)} faces; using the largest. Crop the photo to one face to choose another."
    a = align.align(image, faces[0].landmarks, size)
    return Face(to_tensor(a.image), torch.as_tensor(a.landmarks, dtype=torch.float32), None, None, name), note


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """``[(file name, content bytes)]`` of a FileUpload's ``value`` in either format: ipywidgets 8
    (a tuple of dicts with ``name`` and ``content``, a memoryview) or 7 (a dict
    ``{name: {"metadata": ..., "content": bytes}}``)."""
    if not value:
        return []
    if isinstance(value, dict):          # ipywidgets 7
        return [(str(name), bytes(v["content"])) for name, v in value.items()]
    return [(str(v["name"]), bytes(v["content"])) for v in value]      # ipywidgets 8


def decode_photo(data: bytes, name: str = "photo") -> np.ndarray:
    """The bytes of an image file -> (H, W, 3) uint8 RGB; a ValueError naming ``name`` otherwise."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{name}: not an image file PIL can read (PNG, JPEG, ...): {err}") from None


def dataset_faces(config, n: int = N_FACES) -> list[Face]:
    """``n`` faces of the test split of ``config``'s dataset, spread over the split (identities
    and expressions vary), at the dataset's own size."""
    import torch

    from course_lib import trainer

    ds = trainer.open_dataset(config, "test")
    step = max(1, len(ds) // n)
    faces = []
    for i in range(min(n, len(ds))):
        k = min(len(ds) - 1, i * step + i % len(facs.EXPRESSIONS))
        item = ds[k]
        lm = item.get("landmarks")
        aus = item.get("aus")
        faces.append(Face(torch.as_tensor(item["image"]).float(),
                          None if lm is None else torch.as_tensor(lm, dtype=torch.float32),
                          int(item["label"]), None if aus is None else torch.as_tensor(aus, dtype=torch.float32),
                          f"test face {i} ({facs.EXPRESSIONS[int(item['label'])]})"))
    return faces


def face_at(face: Face, size: int):
    """``face``'s image (1, 3, size, size) and landmarks (1, 68, 2) (or None) at ``size``."""
    from course_lib.datasets import resize_item

    x, lm = resize_item(face.image, face.landmarks, size)
    return x[None], (None if face.landmarks is None else lm[None])


# ------------------------------------------------------------------------------ conditions
def source_condition(method, face: Face, label: int):
    """The input's own condition as a :meth:`~course_lib.methods.Method.condition_vector` row
    (1, D): the method's :meth:`condition` of the face (its AUs when known) with the expression
    ``label``; :meth:`label_condition` of ``label`` when the method needs more than that."""
    import torch

    from course_lib.datasets import prototype_aus

    labels = torch.tensor([int(label)])
    batch = {"image": face.image[None], "label": labels,
             "aus": face.aus[None] if face.aus is not None else prototype_aus(labels),
             "landmarks": None if face.landmarks is None else face.landmarks[None]}
    try:
        c = method.condition(batch)
    except (KeyError, TypeError):
        c = method.label_condition(labels)
    return method.condition_vector(c)


def target_condition(method, label: int):
    """The condition of target expression ``label`` as a (1, D) row."""
    import torch

    return method.condition_vector(method.label_condition(torch.tensor([int(label)])))


def path_condition(method, face: Face, source_label: int, target_label: int, t: float):
    """The condition a fraction ``t`` of the way from the input's to the target's (the method's
    :meth:`interpolate_condition`)."""
    return method.interpolate_condition(source_condition(method, face, source_label),
                                        target_condition(method, target_label), float(t))


def translate(translator, face: Face, condition) -> dict:
    """``translator``'s translation of ``face`` to ``condition`` (a (1, D) row).  A condition that is
    exactly one expression's goes through :meth:`Translator.run` with that label (so a method
    whose translation needs a label, not a mix, works at the path's ends); any other through
    :meth:`Translator.run_condition`."""
    import torch

    x, lm = face_at(face, translator.image_size)
    m = translator.method
    c = torch.as_tensor(condition, dtype=torch.float32)
    for k in range(len(facs.EXPRESSIONS)):
        if torch.equal(target_condition(m, k).float(), c):
            return translator.run(x, torch.tensor([k]), lm)
    return translator.run_condition(x, c, lm)


# ------------------------------------------------------------------------------ pictures
def to_rgb(t, kind: str = "image") -> np.ndarray:
    """A (3|1, H, W) tensor -> (H, W, 3) uint8: an image in [-1, 1] (3 channels), a map in
    [0, 1] (1 channel, grey) or, with ``kind="heat"``, a [0, 1] map in the magma colour map."""
    import matplotlib

    from course_lib.images import to_uint8

    t = t.detach().float().cpu()
    if t.dim() == 4:
        t = t[0]
    if kind == "heat":
        return (matplotlib.colormaps["magma"](t.mean(0).clamp(0, 1).numpy())[..., :3] * 255).astype(np.uint8)
    if t.shape[0] != 3:      # a mask in [0, 1], or a multi-channel map (landmark heat maps): its mean, scaled
        g = t.mean(0)
        if t.shape[0] > 1:
            g = (g - g.min()) / max(float(g.max() - g.min()), 1e-8)
        return to_uint8(g.clamp(0, 1).mul(2).sub(1).expand(3, -1, -1))
    return to_uint8(t)


def difference(out, x):
    """Per-pixel mean absolute difference of two (1, 3, H, W) images in [-1, 1], (1, 1, H, W), clipped
    at 1 (half the range: a change from mid-grey to black or white shows at full brightness)."""
    return (out.clamp(-1, 1) - x.to(out.device)).abs().mean(1, keepdim=True).clamp(0, 1)


def strip(arrays, height: int = DISPLAY, gap: int = 4) -> np.ndarray:
    """(H, W, 3) uint8 arrays side by side, each scaled (nearest) to ``height``, white gaps."""
    from PIL import Image

    tiles = []
    for a in arrays:
        h, w = a.shape[:2]
        width = max(1, round(w * height / h))
        tiles.append(np.asarray(Image.fromarray(a).resize((width, height), Image.NEAREST)))
        tiles.append(np.full((height, gap, 3), 255, np.uint8))
    return np.concatenate(tiles[:-1], 1) if tiles else np.full((height, height, 3), 255, np.uint8)


def png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def view_names(result: dict) -> list[str]:
    """The views a translation offers: the difference, the masks (if any), its named visuals."""
    return [DIFFERENCE] + ([MASKS] if result.get("masks") else []) + list(result.get("visuals") or {})


def view_image(result: dict, x, view: str) -> np.ndarray:
    """The picture of view ``view`` of ``result`` (a translation of ``x``) as (H, W, 3) uint8."""
    if view == DIFFERENCE:
        return strip([to_rgb(difference(result["out"], x), "heat")])
    if view == MASKS:
        return strip([to_rgb(m) for m in result["masks"]])
    v = result["visuals"][view]
    return strip([to_rgb(v)])


# ------------------------------------------------------------------------------ side by side
def side_by_side(translators: dict, face: Face, source_label: int, target_label: int, t: float = 1.0) -> list[dict]:
    """Every translator (``{name: Translator}``) on ``face`` to the condition a fraction ``t`` of
    the way to ``target_label``: ``[{"name", "input", "output", "difference", "error"}]``."""
    rows = []
    for name, tr in translators.items():
        x, _ = face_at(face, tr.image_size)
        try:
            r = translate(tr, face, path_condition(tr.method, face, source_label, target_label, t))
        except Exception as err:  # one method's failure must not hide the others
            rows.append({"name": name, "input": to_rgb(x), "output": None, "difference": None,
                         "error": f"{type(err).__name__}: {err}"})
            continue
        rows.append({"name": name, "input": to_rgb(x), "output": to_rgb(r["out"].clamp(-1, 1)),
                     "difference": to_rgb(difference(r["out"], x), "heat"), "error": ""})
    return rows


def comparison_figure(rows: list[dict], title: str = ""):
    """The side-by-side rows as one matplotlib figure: a row per method (input, output, difference)."""
    import matplotlib.pyplot as plt

    if not rows:
        fig, ax = plt.subplots(figsize=(6, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, title or "no method to show", ha="center", va="center", wrap=True)
        return fig
    fig, axes = plt.subplots(len(rows), 3, figsize=(6.3, 2.1 * len(rows)), squeeze=False)
    for row, axs in zip(rows, axes):
        for ax, key in zip(axs, ("input", "output", "difference")):
            ax.set_xticks([])
            ax.set_yticks([])
            if row[key] is not None:
                ax.imshow(row[key], interpolation="nearest")
            elif key == "output":
                ax.text(0.5, 0.5, row["error"][:60], ha="center", va="center", fontsize=7, wrap=True)
        axs[0].set_ylabel(row["name"], fontsize=10)
    for ax, key in zip(axes[0], ("input", "output", "|output - input|")):
        ax.set_title(key, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _load(names, directory, device="cpu"):
    from course_lib import shipped

    return {n: shipped.load(n, device, directory) for n in names}


def preview(names=None, directory: Path | None = None, face: int = 0, target: str = "happy", t: float = 1.0,
            source: str = "test face"):
    """The explorer's side-by-side view as a matplotlib figure (for the book, where widgets do
    not run): every method with a shipped checkpoint (or ``names``) on test face ``face`` (or
    ``source`` "astronaut" / "Grace Hopper"), to ``target`` at interpolation ``t``."""
    from course_lib import shipped

    names = list(shipped.available(directory) if names is None else names)
    if not names:
        return comparison_figure([], NO_CHECKPOINT.format(dir=directory or shipped.SHIPPED_DIR)
                                 .replace("<code>", "").replace("</code>", ""))
    translators = _load(names, directory)
    if source == "test face":
        the_face = dataset_faces(_config_of(translators))[face]
        label = the_face.label
    else:
        the_face, _ = align_photo(photo(source), source)
        label = facs.expression_index("neutral")
    k = facs.expression_index(target)
    rows = side_by_side(translators, the_face, label, k, t)
    return comparison_figure(rows, f"{the_face.name} -> {target}" + (f" (t = {t:g})" if t != 1 else ""))


def interpolation_figure(names=None, directory: Path | None = None, face: int = 0, target: str = "happy",
                         steps: int = 5):
    """Outputs along each method's path from test face ``face``'s own condition (t = 0) to
    ``target`` (t = 1), ``steps`` + 1 columns, a row per method with a shipped checkpoint (or
    ``names``): the explorer's interpolation slider, drawn for the book."""
    import matplotlib.pyplot as plt

    from course_lib import shipped

    names = list(shipped.available(directory) if names is None else names)
    if not names:
        return comparison_figure([], NO_CHECKPOINT.format(dir=directory or shipped.SHIPPED_DIR)
                                 .replace("<code>", "").replace("</code>", ""))
    translators = _load(names, directory)
    the_face = dataset_faces(_config_of(translators))[face]
    k = facs.expression_index(target)
    ts = [i / steps for i in range(steps + 1)]
    fig, axes = plt.subplots(len(names), len(ts), figsize=(1.5 * len(ts), 1.6 * len(names)), squeeze=False)
    for axs, (name, tr) in zip(axes, translators.items()):
        for ax, t in zip(axs, ts):
            ax.set_xticks([])
            ax.set_yticks([])
            try:
                r = translate(tr, the_face, path_condition(tr.method, the_face, the_face.label, k, t))
                ax.imshow(to_rgb(r["out"].clamp(-1, 1)), interpolation="nearest")
            except Exception as err:  # one method's failure must not hide the others
                ax.text(0.5, 0.5, f"{type(err).__name__}", ha="center", va="center", fontsize=7)
        axs[0].set_ylabel(name, fontsize=9)
    for ax, t in zip(axes[0], ts):
        ax.set_title(f"t = {t:.2g}", fontsize=9)
    fig.suptitle(f"{the_face.name} -> {target} along each method's path", fontsize=10)
    fig.tight_layout()
    return fig


def _config_of(translators: dict):
    from course_lib import config as cfg

    for tr in translators.values():
        if tr.config is not None:
            return tr.config
    return cfg.preset("cpu")


# ------------------------------------------------------------------------------ the widget
class Explorer:
    """The explorer's state and callbacks, its widgets as attributes (``method``, ``source``,
    ``face``, ``upload``, ``source_expression``, ``target``, ``t``, ``au_sliders``, ``view``,
    ``compare``, ``status``, ``input_image``, ``output``, ``view_image``, ``comparison``) and the
    whole panel as ``box``.  ``names`` (default: every shipped method) are the methods offered,
    ``method`` the one shown first (a method lesson's own, when it is shipped).

    State: ``translator``, ``current`` (the :class:`Face`), ``condition`` (the (1, D) condition
    row translated), ``c_src`` / ``c_trg`` (the path's ends), ``result`` (the last translation),
    ``rows`` (the last side-by-side)."""

    def __init__(self, names=None, directory: Path | None = None, n_faces: int = N_FACES, target: str = "happy",
                 device="cpu", method: str | None = None):
        import ipywidgets as W

        from course_lib import shipped

        self.directory, self.device, self.n_faces = directory, device, n_faces
        self.names = list(shipped.available(directory) if names is None else names)
        self.translators: dict = {}
        self._faces = None
        self._photos: dict = {}
        self._uploaded: tuple | None = None    # (Face, note) of the last uploaded photo
        self._syncing = False
        self._note = ""     # what the status says about the current input (several faces)
        self.translator = self.current = self.condition = self.c_src = self.c_trg = self.result = None
        self.rows: list = []

        wide = {"description_width": "initial"}
        self.method = W.Dropdown(options=self.names, description="method", style=wide,
                                 value=method if method in self.names else (self.names[0] if self.names else None))
        self.source = W.Dropdown(options=list(SOURCES), value="test face", description="input", style=wide)
        self.face = W.IntSlider(value=0, min=0, max=max(0, n_faces - 1), description="test face",
                                continuous_update=False, style=wide)
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="upload photo")
        self.source_expression = W.Dropdown(options=list(facs.EXPRESSIONS), value="neutral",
                                            description="source expression", style=wide)
        self.target = W.Dropdown(options=list(facs.EXPRESSIONS), value=target, description="target", style=wide)
        self.target.add_class("course-explorer-target")
        self.t = W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="source \u2192 target",
                               continuous_update=False, style=wide, readout_format=".2f")
        self.au_sliders = [W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05,
                                         description=f"AU{a} {facs.AU_TABLE[a].name}", continuous_update=False,
                                         style={"description_width": "140px"}, layout=W.Layout(width="300px"))
                           for a in facs.AU_NUMBERS]
        self.au_box = W.VBox([W.HTML("<b>AU intensities</b> (set by the path; move one to edit the condition)"),
                              W.GridBox(self.au_sliders, layout=W.Layout(grid_template_columns="repeat(3, 305px)"))])
        self.view = W.Dropdown(options=[DIFFERENCE], value=DIFFERENCE, description="view", style=wide)
        self.compare = W.Checkbox(value=False, description="side by side: every method", indent=False)
        self.status = W.HTML()
        self.input_image = W.Image(format="png")
        self.output = W.Image(format="png")
        self.output.add_class("course-explorer-output")
        self.view_image = W.Image(format="png")
        self.comparison = W.Image(format="png", layout=W.Layout(max_width="560px"))
        self.comparison.layout.display = "none"
        pictures = W.HBox([W.VBox([W.Label("input"), self.input_image]),
                           W.VBox([W.Label("output"), self.output]),
                           W.VBox([W.Label("view"), self.view_image])])
        self.box = W.VBox([W.HBox([self.method, self.source, self.face, self.upload]),
                           W.HBox([self.source_expression, self.target, self.t]),
                           self.au_box, W.HBox([self.view, self.compare]), self.status, pictures, self.comparison])
        self.box.explorer = self   # a handle for tests and exercises
        if not self.names:
            self.status.value = NO_CHECKPOINT.format(dir=directory or shipped.SHIPPED_DIR)
            for w in (self.method, self.source, self.face, self.upload, self.source_expression, self.target,
                      self.t, self.view, self.compare, *self.au_sliders):
                w.disabled = True
            self.au_box.layout.display = "none"
            return
        self.method.observe(self._on_method, names="value")
        self.source.observe(self._on_input, names="value")
        self.face.observe(self._on_input, names="value")
        self.upload.observe(self._on_upload, names="value")
        for w in (self.source_expression, self.target, self.t):
            w.observe(self._on_path, names="value")
        for i, s in enumerate(self.au_sliders):
            s.observe(lambda change, i=i: self._on_au(i, change), names="value")
        self.view.observe(self._on_view, names="value")
        self.compare.observe(self._on_compare, names="value")
        self._use_method(self.method.value)
        self._load_input()
        self._recompute()

    # -- state ------------------------------------------------------------------------
    def load(self, name: str):
        """The translator of method ``name`` (loaded once)."""
        if name not in self.translators:
            self.translators.update(_load([name], self.directory, self.device))
        return self.translators[name]

    @property
    def au_conditioned(self) -> bool:
        return self.translator is not None and self.translator.method.conditioning == "AUs"

    def _use_method(self, name):
        self.translator = self.load(name)
        dim = int(target_condition(self.translator.method, 0).shape[-1])
        show_aus = self.au_conditioned and dim == len(self.au_sliders)
        self.au_box.layout.display = None if show_aus else "none"

    def faces(self) -> list[Face]:
        if self._faces is None:
            self._faces = dataset_faces(_config_of({self.method.value: self.translator}), self.n_faces)
            self.face.max = max(0, len(self._faces) - 1)
        return self._faces

    def _say(self, text: str, error: bool = False):
        colour = "#b00020" if error else "#333"
        self.status.value = f"<span style='color:{colour}'>{text}</span>" if text else ""

    def _load_input(self) -> bool:
        """Set ``current`` from the input controls; False (and a message) when there is none."""
        from course_lib.landmarks import FaceNotFoundError

        src = self.source.value
        self.face.layout.display = None if src == "test face" else "none"
        note = ""
        if src == "test face":
            self.current = self.faces()[self.face.value]
        elif src == "uploaded photo":
            if self._uploaded is None:
                self._say("Choose a photo with the <i>upload photo</i> button.", error=True)
                return False
            self.current, note = self._uploaded
        else:
            if src not in self._photos:
                try:
                    self._photos[src] = align_photo(photo(src), src)
                except FaceNotFoundError as err:
                    self._say(str(err), error=True)
                    return False
            self.current, note = self._photos[src]
        if self.current.label is not None:
            self._set_quietly(self.source_expression, facs.EXPRESSIONS[self.current.label])
        self._note = note
        self._say(note)
        return True

    def _set_quietly(self, widget, value):
        self._syncing = True
        try:
            widget.value = value
        finally:
            self._syncing = False

    def _recompute(self):
        """The path's ends and the condition at ``t``; the AU sliders follow; then render."""
        if self.current is None:
            return
        m = self.translator.method
        s, k = facs.expression_index(self.source_expression.value), facs.expression_index(self.target.value)
        self.c_src = source_condition(m, self.current, s)
        self.c_trg = target_condition(m, k)
        self.condition = m.interpolate_condition(self.c_src, self.c_trg, float(self.t.value))
        if self.au_conditioned and self.condition.shape[-1] == len(self.au_sliders):
            self._syncing = True
            try:
                for sl, v in zip(self.au_sliders, self.condition[0].tolist()):
                    sl.max = max(1.0, float(v))
                    sl.value = float(v)
            finally:
                self._syncing = False
        self.render()

    def render(self):
        """Translate ``current`` to ``condition`` with the current method; update the pictures."""
        import torch

        tr = self.translator
        x, _ = face_at(self.current, tr.image_size)
        try:
            self.result = translate(tr, self.current, self.condition)
        except Exception as err:
            self.result = None
            self.output.value = self.view_image.value = b""     # no stale picture beside the message
            vertex = any(torch.equal(target_condition(tr.method, k).float(), self.condition.float())
                         for k in range(len(facs.EXPRESSIONS)))
            hint = "" if vertex else (" It may take whole expressions only: set t to 0 or 1 (or give the method "
                                      "its own <code>interpolate_condition</code>).")
            self._say(f"{self.method.value} could not translate this condition: {type(err).__name__}: {err}.{hint}",
                      error=True)
            return
        self._say(self._note)
        with torch.no_grad():
            self.input_image.value = png(strip([to_rgb(x)]))
            self.output.value = png(strip([to_rgb(self.result["out"].clamp(-1, 1))]))
            names = view_names(self.result)
            self._syncing = True
            try:
                keep = self.view.value if self.view.value in names else (MASKS if MASKS in names else DIFFERENCE)
                if list(self.view.options) != names:
                    self.view.options = names
                self.view.value = keep
            finally:
                self._syncing = False
            self.view_image.value = png(view_image(self.result, x, self.view.value))
        if self.compare.value:
            self.render_comparison()

    def render_comparison(self):
        """The side-by-side view of every method for the current input, target and ``t``."""
        import matplotlib.pyplot as plt

        translators = {n: self.load(n) for n in self.names}
        s, k = facs.expression_index(self.source_expression.value), facs.expression_index(self.target.value)
        self.rows = side_by_side(translators, self.current, s, k, float(self.t.value))
        fig = comparison_figure(self.rows, f"{self.current.name}: {self.source_expression.value} -> "
                                           f"{self.target.value}, t = {self.t.value:g}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        self.comparison.value = buf.getvalue()

    # -- callbacks --------------------------------------------------------------------
    def _on_method(self, change):
        self._use_method(change["new"])
        self._recompute()

    def _on_input(self, change):
        if self._load_input():
            self._recompute()

    def upload_photo(self, name: str, data: bytes) -> bool:
        """Use the photo file ``data`` (what the FileUpload callback does); False and a message
        when it is not an image or dlib finds no face."""
        from course_lib.landmarks import FaceNotFoundError

        try:
            face, note = align_photo(decode_photo(data, name), name)
        except (ValueError, FaceNotFoundError) as err:
            self._say(str(err), error=True)
            return False
        self._uploaded = (face, note)
        if self.source.value != "uploaded photo":
            self._set_quietly(self.source, "uploaded photo")
        if self._load_input():
            self._recompute()
        return True

    def _on_upload(self, change):
        files = uploaded_files(change["new"])
        if files:
            self.upload_photo(*files[0])

    def _on_path(self, change):
        if not self._syncing:
            self._recompute()

    def _on_au(self, i, change):
        if self._syncing or self.condition is None:
            return
        self.condition = self.condition.clone()
        self.condition[0, i] = float(change["new"])
        self.render()

    def _on_view(self, change):
        if not self._syncing and self.result is not None:
            x, _ = face_at(self.current, self.translator.image_size)
            self.view_image.value = png(view_image(self.result, x, change["new"]))

    def _on_compare(self, change):
        self.comparison.layout.display = None if change["new"] else "none"
        if change["new"] and self.current is not None:
            self.render_comparison()


def show(names=None, directory: Path | None = None, **kwargs):
    """The explorer's widget panel (see :class:`Explorer`); ``box.explorer`` is its state."""
    return Explorer(names, directory, **kwargs).box


explore = show
