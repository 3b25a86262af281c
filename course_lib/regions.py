"""Crucial facial regions: boxes from landmarks, crop, feathered paste-back, background.

Two papers, two sets of regions (sizes are (height, width) in a 128x128 aligned face):

* LGP-GAN (Xia et al. 2021, III.A.1 and IV.B): an eye region of 48x96 around both eyes
  and a mouth region of 48x64; the rest of the face is the background region I_bg
  "outside of the crucial regions".  Stage II blends the generated regions back into the
  background, which :func:`paste` does with a feathered blend mask.
* Cascade EF-GAN (Wu et al. 2020, 4.1): eyes 40x92, nose 40x48 and mouth 40x60, "the
  center of each patch is the average position of the corresponding key points over all
  training samples" (:func:`mean_region_centres`).

Conventions: landmarks are (68, 2) or (B, 68, 2) (x, y) pixel coordinates in dlib's
iBUG-68 order (numpy or torch); a box is (top, left, height, width) in integers, shape
(4,) or (B, 4), of the same kind (numpy / torch) as the landmarks.  Boxes keep exactly the
paper's size and are shifted, never shrunk, to stay inside the image.  Images are torch
(B, C, H, W) tensors (any device, any float dtype) or, for one image, a numpy (H, W, C)
array; everything on tensors is batched and differentiable.
"""
from __future__ import annotations

import math

import numpy as np

#: LGP-GAN IV.B: eye and mouth region sizes (height, width) at 128x128.
LGP_REGION_SIZES = {"eye": (48, 96), "mouth": (48, 64)}
#: Cascade EF-GAN 4.1: eyes, nose and mouth patch sizes (height, width) at 128x128.
EFGAN_REGION_SIZES = {"eyes": (40, 92), "nose": (40, 48), "mouth": (40, 60)}
#: The image size both papers give their sizes at.
PAPER_IMAGE_SIZE = 128

#: iBUG-68 indices each region is centred on (our choice of points; the papers name the
#: regions, not the points).  LGP "eye": both eyes, 36-47 (eye corners and lids, not the
#: brows: the box is centred on the eyes, its 48 px height reaches the brows anyway);
#: "mouth": the outer and inner lip contours 48-67.  EF-GAN "nose": bridge and nostrils 27-35.
REGION_LANDMARKS = {
    "lgp": {"eye": list(range(36, 48)), "mouth": list(range(48, 68))},
    "efgan": {"eyes": list(range(36, 48)), "nose": list(range(27, 36)), "mouth": list(range(48, 68))},
}
_SIZES = {"lgp": LGP_REGION_SIZES, "efgan": EFGAN_REGION_SIZES}


def _check_method(method: str) -> str:
    if method not in _SIZES:
        raise ValueError(f"method={method!r}: expected one of {sorted(_SIZES)}")
    return method


def _even(x: float) -> int:
    return max(2, 2 * int(math.floor(x / 2.0 + 0.5)))


def region_sizes(method: str = "lgp", image_size: int = PAPER_IMAGE_SIZE) -> dict[str, tuple[int, int]]:
    """{region: (height, width)} for ``method`` ("lgp" or "efgan") in an ``image_size`` square face.

    At 128 these are exactly the papers' sizes (LGP-GAN IV.B, Cascade EF-GAN 4.1); for other
    sizes each side is scaled by ``image_size / 128`` and rounded to the nearest even
    integer (half up, at least 2; our choice: even sides keep a box centred on a pixel
    corner, and halving/doubling the image halves/doubles the box exactly).
    """
    sizes = _SIZES[_check_method(method)]
    if int(image_size) != image_size or image_size < 8:
        raise ValueError(f"image_size={image_size!r}: expected an integer >= 8")
    if image_size == PAPER_IMAGE_SIZE:
        return dict(sizes)
    s = image_size / PAPER_IMAGE_SIZE
    return {k: (_even(h * s), _even(w * s)) for k, (h, w) in sizes.items()}


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _check_landmarks(landmarks, name="landmarks"):
    shape = tuple(landmarks.shape)
    if len(shape) not in (2, 3) or shape[-2:] != (68, 2):
        raise ValueError(f"{name}: expected (68, 2) or (B, 68, 2) (x, y) points, got shape {shape}")


def region_centres(landmarks, method: str = "lgp"):
    """{region: (x, y) centre} of one face (68, 2) or a batch (B, 68, 2): the mean of the
    region's :data:`REGION_LANDMARKS` points (same kind as ``landmarks``)."""
    _check_landmarks(landmarks)
    groups = REGION_LANDMARKS[_check_method(method)]
    return {k: landmarks[..., idx, :].mean(-2) for k, idx in groups.items()}


def mean_region_centres(landmarks_array, method: str = "efgan") -> dict[str, np.ndarray]:
    """{region: (x, y)} averaged over a training set of landmarks (N, 68, 2).

    Cascade EF-GAN 4.1: "The center of each patch is the average position of the
    corresponding key points over all training samples."  Pass the result as
    ``region_boxes(..., centres=...)`` so every image of the set gets the same boxes.
    """
    lm = landmarks_array.detach().cpu().numpy() if _is_torch(landmarks_array) else np.asarray(landmarks_array)
    if lm.ndim != 3:
        raise ValueError(f"landmarks_array: expected (N, 68, 2) landmarks of a training set, got shape {lm.shape}")
    _check_landmarks(lm, "landmarks_array")
    if len(lm) == 0:
        raise ValueError("landmarks_array: empty; need the landmarks of at least one training image")
    return {k: c.mean(0).astype(np.float64) for k, c in region_centres(lm.astype(np.float64), method).items()}


def region_boxes(landmarks, method: str = "lgp", image_size: int = PAPER_IMAGE_SIZE, centres=None) -> dict:
    """{region: box} with box = (top, left, height, width), shape (4,) or (B, 4).

    Each box has exactly :func:`region_sizes` ``(method, image_size)`` and is centred on
    the mean of its landmark group (:data:`REGION_LANDMARKS`), or on ``centres[region]``
    when ``centres`` is given (Cascade EF-GAN 4.1: the training-set mean, see
    :func:`mean_region_centres`; the same box for every face).  The top-left corner is
    ``round(centre - size / 2)`` (half up), then shifted to stay inside the square image
    (never shrunk).  Returns numpy int64 for numpy landmarks, torch int64 on the
    landmarks' device for torch landmarks.
    """
    _check_landmarks(landmarks)
    sizes = region_sizes(method, image_size)
    torch_in = _is_torch(landmarks)
    # computed in float64 numpy on every path (the landmarks are small), so numpy and
    # torch inputs round to the same boxes
    lm = landmarks.detach().cpu().double().numpy() if torch_in else np.asarray(landmarks, np.float64)
    found = region_centres(lm, method) if centres is None else {}
    out = {}
    for name, (h, w) in sizes.items():
        if centres is not None:
            if name not in centres:
                raise ValueError(f"centres: no entry for region {name!r} (have {sorted(centres)})")
            c = centres[name]
            c = np.asarray(c.detach().cpu() if _is_torch(c) else c, np.float64)
            if c.shape != (2,):
                raise ValueError(f"centres[{name!r}]: expected an (x, y) pair, got shape {c.shape}")
            found[name] = np.broadcast_to(c, lm.shape[:-2] + (2,))
        c = found[name]
        top = np.clip(np.floor(c[..., 1] - h / 2 + 0.5), 0, image_size - h).astype(np.int64)
        left = np.clip(np.floor(c[..., 0] - w / 2 + 0.5), 0, image_size - w).astype(np.int64)
        out[name] = np.stack([top, left, np.full_like(top, h), np.full_like(top, w)], -1)
    if torch_in:
        import torch
        return {k: torch.from_numpy(v).to(landmarks.device) for k, v in out.items()}
    return out


def separate_boxes(upper, lower, image_size: int):
    """Shift two boxes (top, left, height, width) apart vertically, keeping their sizes, until
    ``upper`` ends where ``lower`` begins: half the overlap each (the upper box takes the odd
    row), less where the image border stops one of them (the other then moves the rest).
    Boxes that do not overlap are returned unchanged.  numpy or torch, (4,) or (B, 4)."""
    torch_in = _is_torch(upper)
    u = upper.detach().cpu().numpy() if torch_in else np.asarray(upper)
    lo = lower.detach().cpu().numpy() if torch_in else np.asarray(lower)
    u, lo = u.astype(np.int64).copy(), lo.astype(np.int64).copy()
    overlap = np.maximum(u[..., 0] + u[..., 2] - lo[..., 0], 0)
    down = np.minimum(overlap // 2, image_size - (lo[..., 0] + lo[..., 2]))       # room below the lower box
    up = np.minimum(overlap - down, u[..., 0])                                     # room above the upper box
    down = np.minimum(overlap - up, image_size - (lo[..., 0] + lo[..., 2]))
    u[..., 0] -= up
    lo[..., 0] += down
    if torch_in:
        import torch
        return torch.from_numpy(u).to(upper.device), torch.from_numpy(lo).to(lower.device)
    return u, lo


# ----------------------------------------------------------------------------- tensors

def _to_batch(images):
    """numpy (H, W, C) -> (torch (1, C, H, W) float64, restore fn); torch (B, C, H, W) unchanged."""
    import torch

    if _is_torch(images):
        if images.ndim != 4:
            raise ValueError(f"images: expected a (B, C, H, W) tensor, got shape {tuple(images.shape)}")
        return images, lambda t: t
    a = np.asarray(images)
    if a.ndim != 3:
        raise ValueError(f"image: expected one (H, W, C) numpy image, got shape {a.shape}")
    dtype = a.dtype

    def restore(t):
        r = t[0].permute(1, 2, 0).detach().cpu().numpy()
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            r = np.clip(np.floor(r + 0.5), info.min, info.max)
        return r.astype(dtype)

    return torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1)[None], restore


def _box_tensor(boxes, images, single_np: bool):
    import torch

    b = torch.as_tensor(np.asarray(boxes) if not _is_torch(boxes) else boxes, device=images.device).long()
    if single_np:
        if tuple(b.shape) != (4,):
            raise ValueError(f"box: expected (top, left, height, width), shape (4,), got {tuple(b.shape)}")
        b = b[None]
    if b.ndim == 1 and b.shape[0] == 4 and images.shape[0] == 1:
        b = b[None]
    if b.ndim != 2 or b.shape[1] != 4 or b.shape[0] != images.shape[0]:
        raise ValueError(f"boxes: expected ({images.shape[0]}, 4) (top, left, height, width) for "
                         f"{images.shape[0]} images, got shape {tuple(b.shape)}")
    hw = b[:, 2:].cpu()
    if (hw != hw[0]).any():
        raise ValueError(f"boxes: all boxes of one call must share (height, width); got {hw.unique(dim=0).tolist()}")
    h, w = int(hw[0, 0]), int(hw[0, 1])
    H, W = images.shape[-2:]
    tl = b[:, :2].cpu()
    if h < 1 or w < 1 or (tl < 0).any() or (tl[:, 0] + h > H).any() or (tl[:, 1] + w > W).any():
        raise ValueError(f"boxes: a {h}x{w} box at (top, left) {tl.tolist()} does not fit inside the {H}x{W} image")
    return b, h, w


def _index(b, h: int, w: int):
    """Advanced indices (batch, rows, cols), each broadcasting to (B, h, w)."""
    import torch

    ar_h = torch.arange(h, device=b.device)
    ar_w = torch.arange(w, device=b.device)
    bi = torch.arange(b.shape[0], device=b.device)[:, None, None]
    return bi, (b[:, 0, None] + ar_h)[:, :, None], (b[:, 1, None] + ar_w)[:, None, :]


def crop(images, boxes):
    """Crop ``boxes`` out of ``images``: (B, C, H, W) tensor + (B, 4) boxes -> (B, C, h, w).

    One gather (no per-image loop), differentiable w.r.t. ``images``; all boxes of one call
    share (h, w), which is what :func:`region_boxes` gives per region.  A single numpy
    image (H, W, C) with a (4,) box returns the numpy crop (h, w, C).
    """
    single = not _is_torch(images)
    if single:
        a = np.asarray(images)
        if a.ndim != 3:
            raise ValueError(f"image: expected one (H, W, C) numpy image, got shape {a.shape}")
        box = np.asarray(boxes.detach().cpu() if _is_torch(boxes) else boxes)
        if box.shape != (4,):
            raise ValueError(f"box: expected (top, left, height, width), shape (4,), got {box.shape}")
        t, l, h, w = (int(v) for v in box)
        if t < 0 or l < 0 or h < 1 or w < 1 or t + h > a.shape[0] or l + w > a.shape[1]:
            raise ValueError(f"box: a {h}x{w} box at (top, left) ({t}, {l}) does not fit inside the "
                             f"{a.shape[0]}x{a.shape[1]} image")
        return a[t:t + h, l:l + w].copy()
    b, h, w = _box_tensor(boxes, images, False)
    bi, rows, cols = _index(b, h, w)
    return images.permute(0, 2, 3, 1)[bi, rows, cols].permute(0, 3, 1, 2)


def crop_regions(images, boxes: dict) -> dict:
    """{region: crop(images, boxes[region])} for every region of ``boxes``."""
    return {k: crop(images, b) for k, b in boxes.items()}


def blend_mask(h: int, w: int, feather: int, device=None, dtype=None):
    """(h, w) tensor: 1 inside, a linear ramp over the ``feather`` pixels next to the border.

    A pixel at distance d (in pixels, 0 on the border row/column) from the nearest box
    border gets ``min(1, (d + 1) / (feather + 1))``; ``feather=0`` is a hard paste (all
    ones).  (LGP Stage II blends the generated regions into I_bg; the paper does not say
    how, the ramp is our choice: it hides the seam of a generated patch.)
    """
    import torch

    if int(feather) != feather or feather < 0 or 2 * feather > min(h, w):
        raise ValueError(f"feather={feather!r}: expected an integer in 0..{min(h, w) // 2} for a {h}x{w} box")
    dtype = dtype or torch.get_default_dtype()
    y = torch.arange(h, device=device, dtype=dtype)
    x = torch.arange(w, device=device, dtype=dtype)
    d = torch.minimum(torch.minimum(y, h - 1 - y)[:, None], torch.minimum(x, w - 1 - x)[None, :])
    return ((d + 1) / (feather + 1)).clamp(max=1.0)


def _canvas(images, b, values, h, w):
    """A (B, H, W, C') zero canvas with ``values`` (B, h, w, C') placed at the boxes (differentiable)."""
    B, _, H, W = images.shape
    bi, rows, cols = _index(b, h, w)
    zero = values.new_zeros((B, H, W, values.shape[-1]))
    bi, rows, cols = (t.expand(B, h, w) for t in (bi, rows, cols))
    return zero.index_put((bi, rows, cols), values)


def paste(background, patches, boxes, feather: int = 4):
    """Blend ``patches`` into ``background`` at ``boxes`` through :func:`blend_mask`.

    ``out = background + m * (canvas - background)`` where ``canvas`` holds the patch at
    its box and ``m`` is the feathered mask there (0 elsewhere): differentiable w.r.t.
    both patches and background, and pasting back an unchanged crop reproduces the image
    bit for bit (inside the box canvas - background is exactly 0).  LGP-GAN Stage II uses
    this to put the generated eye/mouth regions into I_bg.  Tensors: (B, C, H, W) +
    (B, C, h, w) + (B, 4); numpy: (H, W, C) + (h, w, C) + (4,), same dtype back.
    """
    import torch

    single = not _is_torch(background)
    bg, restore = _to_batch(background)
    if single:
        p = np.asarray(patches)
        if p.ndim != 3:
            raise ValueError(f"patch: expected an (h, w, C) numpy patch for a numpy image, got shape {p.shape}")
        patches = torch.from_numpy(p.astype(np.float64)).permute(2, 0, 1)[None]
    elif not _is_torch(patches) or patches.ndim != 4:
        raise ValueError(f"patches: expected a (B, C, h, w) tensor, got {type(patches).__name__} "
                         f"{tuple(getattr(patches, 'shape', ()))}")
    b, h, w = _box_tensor(boxes, bg, single)
    if tuple(patches.shape) != (bg.shape[0], bg.shape[1], h, w):
        raise ValueError(f"patches: expected shape {(bg.shape[0], bg.shape[1], h, w)} for {h}x{w} boxes, "
                         f"got {tuple(patches.shape)}")
    patches = patches.to(bg.dtype)
    canvas = _canvas(bg, b, patches.permute(0, 2, 3, 1), h, w).permute(0, 3, 1, 2)
    m = blend_mask(h, w, feather, device=bg.device, dtype=bg.dtype)
    mask = _canvas(bg, b, m.expand(bg.shape[0], h, w)[..., None], h, w).permute(0, 3, 1, 2)
    return restore(bg + mask * (canvas - bg))


def region_mask(images, boxes: dict):
    """(B, 1, H, W) hard mask, 1 inside the union of the ``boxes`` regions, 0 elsewhere."""
    import torch

    bg, _ = _to_batch(images)
    mask = bg.new_zeros((bg.shape[0], bg.shape[2], bg.shape[3], 1))
    for box in boxes.values():
        b, h, w = _box_tensor(box, bg, not _is_torch(images))
        mask = torch.maximum(mask, _canvas(bg, b, bg.new_ones((bg.shape[0], h, w, 1)), h, w))
    return mask.permute(0, 3, 1, 2)


def background(images, boxes: dict, fill: float = 0.0):
    """LGP-GAN III.A.1: the background region I_bg "outside of the crucial regions".

    Returns ``(I_bg, mask)``: ``mask`` (B, 1, H, W) is 1 inside the union of the regions
    (:func:`region_mask`) and I_bg is the image with those pixels set to ``fill`` (0, mid
    grey in [-1, 1]; our choice).  numpy in -> numpy out ((H, W, C) and (H, W, 1)).
    """
    bg, restore = _to_batch(images)
    mask = region_mask(images, boxes).to(bg.dtype)
    out = bg * (1 - mask) + fill * mask
    if _is_torch(images):
        return out, mask
    return restore(out), mask[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)


# ----------------------------------------------------------------------------- figures

_COLOURS = {"eye": "tab:red", "eyes": "tab:red", "nose": "tab:green", "mouth": "tab:purple"}


def _draw_boxes(ax, image, boxes: dict, title: str):
    from matplotlib.patches import Rectangle

    ax.imshow(image)
    for k, b in boxes.items():
        t, l, h, w = (int(v) for v in np.asarray(b).reshape(-1)[:4])
        ax.add_patch(Rectangle((l - 0.5, t - 0.5), w, h, fill=False, ec=_COLOURS.get(k, "y"), lw=1.5))
        ax.text(l, t - 1.5, f"{k} {h}x{w}", color=_COLOURS.get(k, "y"), fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def show_regions(image: np.ndarray, landmarks, centres=None):
    """Figure: the LGP-GAN (IV.B) and Cascade EF-GAN (4.1) boxes on one aligned face, and the
    five crops at their true relative size.  ``centres``: EF-GAN training-set centres, if any."""
    import matplotlib.pyplot as plt

    size = image.shape[0]
    lgp = region_boxes(np.asarray(landmarks), "lgp", size)
    ef = region_boxes(np.asarray(landmarks), "efgan", size, centres=centres)
    crops = [(f"LGP {k}", crop(image, b)) for k, b in lgp.items()] + [(f"EF-GAN {k}", crop(image, b)) for k, b in ef.items()]
    fig = plt.figure(figsize=(10, 5.2))
    grid = fig.add_gridspec(2, 5, height_ratios=[2.4, 1])
    _draw_boxes(fig.add_subplot(grid[0, :2]), image, lgp, "LGP-GAN: eye 48x96, mouth 48x64")
    _draw_boxes(fig.add_subplot(grid[0, 2:4]), image, ef,
                "EF-GAN: eyes 40x92, nose 40x48, mouth 40x60" + (" (mean centres)" if centres else ""))
    widths = [c.shape[1] for _, c in crops]
    sub = grid[1, :].subgridspec(1, len(crops), width_ratios=widths)
    for k, (name, c) in enumerate(crops):
        ax = fig.add_subplot(sub[0, k])
        ax.imshow(c)
        ax.set_title(f"{name} {c.shape[0]}x{c.shape[1]}", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def show_paste(image: np.ndarray, donor: np.ndarray, boxes: dict, donor_boxes: dict | None = None,
               feathers=(0, 6)):
    """Figure of LGP Stage II's blend: ``image``, its background I_bg, then ``donor``'s regions
    (cropped at ``donor_boxes``, default ``boxes``) pasted into ``image`` at each ``feathers``."""
    import matplotlib.pyplot as plt

    donor_boxes = donor_boxes or boxes
    i_bg, _ = background(image, boxes, fill=128)
    panels = [("image", image), ("background I_bg", i_bg)]
    for f in feathers:
        out = image
        for k, b in boxes.items():
            out = paste(out, crop(donor, donor_boxes[k]), b, feather=f)
        panels.append((f"donor regions, feather={f}" + (" (hard)" if f == 0 else ""), out))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.9))
    for ax, (t, im) in zip(axes, panels):
        ax.imshow(im)
        ax.set_title(t, fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig
