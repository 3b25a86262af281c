"""ECGAN (Tang, Wang, Wu, Chen, Xu, Sebe and Yan, "Expression Conditional GAN for Facial Expression-to-Expression
Translation", ICIP 2019): an expression-conditional CycleGAN with a face-mask loss, and the
networks of its two baselines, CycleGAN (Zhu et al. 2017) and pix2pix (Isola et al. 2017).

What this module builds (the training methods are :mod:`course_lib.methods.ecgan`,
:mod:`course_lib.methods.cyclegan` and :mod:`course_lib.methods.pix2pix`):

* **Networks** - :class:`ResnetGenerator` (CycleGAN's ``ResnetGenerator``; with ``n_cond`` > 0 the
  expression vector z enters at the bottleneck through a fully connected layer, ECGAN Fig. 1),
  :class:`PatchDiscriminator` (CycleGAN's 70x70 ``NLayerDiscriminator``; with ``n_cond`` > 0 the
  condition is part of its input, ECGAN Section 5), :class:`UnetGenerator` (pix2pix's U-Net),
  :class:`ImagePool` (CycleGAN's pool of 50 generated images, kept as buffers so that it is part
  of the checkpoint and a resumed run is exact), :func:`init_weights` (N(0, 0.02)).
* **Face mask** (Eq. 5, Fig. 2) - :func:`face_mask_steps` / :func:`face_mask`: convex hull of the 68
  landmarks plus forehead points, then a morphological dilation; :func:`plot_face_mask_steps`.
* **Losses** (Eq. 1-6), one function each: :func:`lsgan_loss`, :func:`lsgan_generator_loss`,
  :func:`cycle_loss`, :func:`content_loss`, :func:`identity_loss`, :func:`mask_loss`,
  :func:`full_objective`.
* **Figure** of the paper's Fig. 3: :func:`plot_comparison`.

**Where the paper is silent** (it gives no layer table and no loss weights; "we use the same
training setups as CycleGAN"): the networks, the initialisation, Adam 2e-4 / beta1 0.5, batch 1,
the pool of 50 and the linear decay over the second half of training are CycleGAN's published
defaults (junyanz/pytorch-CycleGAN-and-pix2pix: ``models/networks.py``, ``cycle_gan_model.py``,
``options/``): 6 residual blocks at 128x128 (``resnet_6blocks``), 64 base channels, InstanceNorm
without affine parameters, a 3-layer PatchGAN, lambda_cycle 10, identity 0.5 x 10 = 5; the
discriminators' loss is halved (``backward_D_basic``).  Our choices are said where they are made.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import facs

N_CLASSES = len(facs.EXPRESSIONS)
NEUTRAL = facs.EXPRESSIONS.index("neutral")
#: CycleGAN's ``--pool_size`` 50.
POOL_SIZE = 50
#: Initialisation of every conv (CycleGAN ``--init_type normal --init_gain 0.02``).
INIT_STD = 0.02


# ----------------------------------------------------------------------------- conditions
def one_hot(labels, n: int = N_CLASSES) -> torch.Tensor:
    """The expression attribute vector z (B, n): 1 at the label, 0 elsewhere (Section 1)."""
    return F.one_hot(torch.as_tensor(labels).long(), n).float()


def swap(z: torch.Tensor, source, target) -> torch.Tensor:
    """"In the generator G_Y->X, we change the expression vector by swapping the corresponding two
    expressions" (Section 1): the entries of ``source`` and ``target`` (labels (B,)) exchanged.
    For z = one_hot(y's expression) and target neutral this is one_hot(neutral)."""
    z = z.clone()
    idx = torch.arange(z.shape[0], device=z.device)
    s, t = torch.as_tensor(source, device=z.device).long(), torch.as_tensor(target, device=z.device).long()
    a, b = z[idx, s].clone(), z[idx, t].clone()
    z[idx, s], z[idx, t] = b, a
    return z


def label_planes(z: torch.Tensor, size) -> torch.Tensor:
    """z (B, n) as n constant planes (B, n, H, W) (how a condition is concatenated to an image)."""
    h, w = (size, size) if isinstance(size, int) else size
    return z[:, :, None, None].expand(-1, -1, h, w)


# ----------------------------------------------------------------------------- networks
def init_weights(net: nn.Module, std: float = INIT_STD) -> nn.Module:
    """CycleGAN's ``init_weights(net, 'normal', 0.02)``: conv and linear weights N(0, std), biases 0,
    norm scales N(1, std), shifts 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return net


class ResnetBlock(nn.Module):
    """CycleGAN's ``ResnetBlock``: x + [reflect pad 1, conv 3x3, IN, ReLU, reflect pad 1, conv 3x3, IN](x)."""

    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
                                   nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's ``ResnetGenerator`` (c7s1-ngf, d2ngf, d4ngf, ``n_blocks`` residual blocks, u2ngf, ungf,
    c7s1-3, tanh), images (B,3,S,S) in [-1,1] -> (B,3,S,S).

    With ``n_cond`` > 0 it is ECGAN's generator (Fig. 1): "the vector is concatenated with the image
    embedding vector at the bottleneck which is a fully connected layer".  Our reading: a fully
    connected layer maps z (B, n_cond) to ``cond_channels`` maps of the bottleneck's size
    (S/4 x S/4); they are concatenated with the encoder's output and a 3x3 conv (+IN, ReLU) fuses
    the two back to 4 ngf channels before the residual blocks.  ``forward(x, z)``.
    """

    def __init__(self, image_size: int = 128, ngf: int = 64, n_blocks: int = 6, n_cond: int = 0,
                 cond_channels: int | None = None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size={image_size}: expected a multiple of 4")
        self.n_cond, self.bottleneck = n_cond, image_size // 4
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True),
            nn.Conv2d(ngf, 2 * ngf, 3, 2, 1), nn.InstanceNorm2d(2 * ngf), nn.ReLU(True),
            nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1), nn.InstanceNorm2d(4 * ngf), nn.ReLU(True))
        if n_cond:
            self.cond_channels = cond_channels or n_cond
            self.cond_fc = nn.Linear(n_cond, self.cond_channels * self.bottleneck ** 2)
            self.fuse = nn.Sequential(nn.Conv2d(4 * ngf + self.cond_channels, 4 * ngf, 3, 1, 1),
                                      nn.InstanceNorm2d(4 * ngf), nn.ReLU(True))
        self.blocks = nn.Sequential(*[ResnetBlock(4 * ngf) for _ in range(n_blocks)])
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(2 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(2 * ngf, ngf, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(ngf), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh())

    def forward(self, x, z=None):
        h = self.encoder(x)
        if self.n_cond:
            if z is None or z.shape != (x.shape[0], self.n_cond):
                raise ValueError(f"ECGAN generator: expected z of shape ({x.shape[0]}, {self.n_cond}), got "
                                 f"{None if z is None else tuple(z.shape)}")
            c = self.cond_fc(z.to(h.dtype)).view(-1, self.cond_channels, self.bottleneck, self.bottleneck)
            h = self.fuse(torch.cat([h, c], 1))
        return self.decoder(self.blocks(h))


class PatchDiscriminator(nn.Module):
    """CycleGAN's ``NLayerDiscriminator`` (the 70x70 PatchGAN at ``n_layers`` 3): conv 4x4 s2 + LeakyReLU
    0.2, ``n_layers - 1`` conv 4x4 s2 + IN + LeakyReLU (channels doubling up to 8 ndf), one conv 4x4 s1 +
    IN + LeakyReLU, a conv 4x4 s1 to one score per patch.  ``in_channels`` counts every input plane:
    3 for CycleGAN, 3 + n for ECGAN's conditional D (z as n constant planes), 6 + n for pix2pix's
    (input, output, target label)."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers, mult = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)], 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1), nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1), nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, *planes):
        """``D(image)``, ``D(image, z)`` (z (B, n) tiled to planes) or ``D(a, b, z)``: concatenated."""
        x = planes[0]
        parts = [p if p.dim() == 4 else label_planes(p.to(x.dtype), x.shape[-2:]) for p in planes]
        return self.model(torch.cat(parts, 1))


class UnetBlock(nn.Module):
    """pix2pix's ``UnetSkipConnectionBlock``: down (LeakyReLU 0.2, conv 4x4 s2, norm), the inner block,
    up (ReLU, transposed conv 4x4 s2, norm[, dropout]), and the skip connection ``cat(x, up)``."""

    def __init__(self, outer: int, inner: int, in_channels: int | None = None, sub=None, outermost=False,
                 innermost=False, dropout: float = 0.0):
        super().__init__()
        self.outermost = outermost
        in_channels = in_channels or outer
        down = nn.Conv2d(in_channels, inner, 4, 2, 1)
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), nn.ConvTranspose2d(inner, outer, 4, 2, 1),
                      nn.InstanceNorm2d(outer, affine=True)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, nn.InstanceNorm2d(inner, affine=True), sub, nn.ReLU(True),
                      nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1), nn.InstanceNorm2d(outer, affine=True)]
            if dropout:
                layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """pix2pix's ``UnetGenerator`` with ``num_downs`` halvings (7 for 128x128: ``unet_128``; 6 for
    64x64), ngf base channels (up to 8 ngf), dropout 0.5 in the three innermost 8-ngf blocks
    below the bottleneck, as ``unet_*``.  Input: the image and the target expression as n constant
    planes (3 + n channels; our choice, so that one network serves every target, like ECGAN's one
    conditional generator); ``forward(x, z)``.

    Norm: InstanceNorm with affine parameters where pix2pix has BatchNorm.  At pix2pix's batch 1 a
    BatchNorm in training mode normalises each image by its own statistics, which is what
    InstanceNorm computes in both modes; pix2pix's test script keeps training mode by default
    (no ``--eval``).  Dropout is active while training and off when translating (our choice:
    deterministic translations)."""

    def __init__(self, image_size: int = 128, ngf: int = 64, n_cond: int = N_CLASSES, dropout: float = 0.5):
        super().__init__()
        num_downs = int(np.log2(image_size))
        if 2 ** num_downs != image_size or num_downs < 5:
            raise ValueError(f"image_size={image_size}: expected a power of two >= 32")
        self.n_cond = n_cond
        block = UnetBlock(8 * ngf, 8 * ngf, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetBlock(8 * ngf, 8 * ngf, sub=block, dropout=dropout)
        block = UnetBlock(4 * ngf, 8 * ngf, sub=block)
        block = UnetBlock(2 * ngf, 4 * ngf, sub=block)
        block = UnetBlock(ngf, 2 * ngf, sub=block)
        self.model = UnetBlock(3, ngf, in_channels=3 + n_cond, sub=block, outermost=True)

    def forward(self, x, z):
        return self.model(torch.cat([x, label_planes(z.to(x.dtype), x.shape[-2:])], 1))


class ImagePool(nn.Module):
    """CycleGAN's ``ImagePool`` (``util/image_pool.py``, size 50): the discriminator is shown a history
    of generated images.  ``query(images, conds)``: while the pool is not full, each image is stored
    and returned; afterwards, with probability 1/2 a stored image (and its condition) is returned and
    replaced by the new one, else the new one is returned.  The pool is kept in buffers (part of the
    discriminator's state_dict, so of the checkpoint) and draws from torch's global RNG (saved with
    the run): a resumed run queries exactly as an uninterrupted one."""

    def __init__(self, image_size: int, n_cond: int = 0, size: int = POOL_SIZE):
        super().__init__()
        self.size = size
        #: under torchrun (course_lib.distributed.departures): why a pool is not one process's pool
        self.distributed_note = "its image pool holds each process's own fakes" if size else None
        self.register_buffer("images", torch.zeros(size, 3, image_size, image_size))
        self.register_buffer("conds", torch.zeros(size, max(n_cond, 1)))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, images: torch.Tensor, conds: torch.Tensor | None = None):
        if self.size == 0:
            return images, conds
        conds_in = conds if conds is not None else torch.zeros(len(images), 1, device=images.device)
        out_i, out_c = [], []
        for img, c in zip(images.detach(), conds_in.detach()):
            n = int(self.count)
            if n < self.size:
                self.images[n], self.conds[n] = img, c
                self.count += 1
                out_i.append(img), out_c.append(c)
            elif float(torch.rand(())) > 0.5:
                k = int(torch.randint(0, self.size, ()))
                out_i.append(self.images[k].clone()), out_c.append(self.conds[k].clone())
                self.images[k], self.conds[k] = img, c
            else:
                out_i.append(img), out_c.append(c)
        return torch.stack(out_i), (torch.stack(out_c) if conds is not None else None)


# ----------------------------------------------------------------------------- face mask (Eq. 5, Fig. 2)
#: Forehead height added above the eyebrows, as a share of the distance from the nose bridge
#: (landmark 27) to the chin (landmark 8).  Our choice: the 68 landmarks stop at the eyebrows,
#: on the synthetic faces 0.35 reaches the hairline (Lesson 10 shows it).
FOREHEAD = 0.35
#: Radius of the dilation, as a share of the image side (our choice: about 2 px at 64x64).
DILATION = 0.03


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices (K, 2) of the convex hull of ``points`` (N, 2), counter-clockwise in (x, y) axes
    (Andrew's monotone chain)."""
    pts = sorted(map(tuple, np.asarray(points, dtype=np.float64)))
    if len(pts) < 3:
        return np.asarray(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.asarray(lower[:-1] + upper[:-1])


def fill_convex(hull: np.ndarray, size: int) -> torch.Tensor:
    """(size, size) float mask: 1 on pixels (centres at integer (x, y), the landmarks' convention)
    inside or on the convex polygon ``hull`` (counter-clockwise vertices)."""
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                            indexing="ij")
    v = torch.as_tensor(hull, dtype=torch.float64)
    if len(v) < 3:
        return torch.zeros(size, size)
    a, b = v, v.roll(-1, 0)
    # cross((b - a), (p - a)) >= 0 for every edge: inside a counter-clockwise polygon
    c = (b[:, 0, None, None] - a[:, 0, None, None]) * (ys[None] - a[:, 1, None, None]) \
        - (b[:, 1, None, None] - a[:, 1, None, None]) * (xs[None] - a[:, 0, None, None])
    return (c >= -1e-9).all(0).float()


def forehead_points(landmarks: np.ndarray, forehead: float = FOREHEAD) -> np.ndarray:
    """The ten eyebrow landmarks (17-26) moved up the face's vertical axis (chin 8 -> nose bridge 27)
    by ``forehead`` x the chin-to-bridge distance."""
    lm = np.asarray(landmarks, dtype=np.float64)
    axis = lm[27] - lm[8]
    return lm[17:27] + forehead * axis


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Morphological dilation of (B,1,H,W) {0,1} masks by a disk of ``radius`` pixels."""
    if radius <= 0:
        return mask
    r = torch.arange(-radius, radius + 1, dtype=mask.dtype)
    disk = ((r[:, None] ** 2 + r[None, :] ** 2) <= radius ** 2 + 1e-9).to(mask.dtype)[None, None]
    return (F.conv2d(mask, disk, padding=radius) > 0.5).to(mask.dtype)


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Morphological erosion (the dilation of the background)."""
    return 1 - dilate(1 - mask, radius)


def face_mask_steps(landmarks, size: int, forehead: float = FOREHEAD, dilation: float = DILATION) -> dict:
    """Each step of the face mask M of Eq. 5 (Fig. 2) for landmarks (68, 2) or (B, 68, 2) in pixels of a
    ``size`` x ``size`` image; every value (B, 1, size, size) in {0, 1}:

    1. ``"hull"``: the convex hull of the 68 landmarks (jaw line, brows, nose, eyes, mouth);
    2. ``"forehead"``: the hull of the landmarks plus the forehead points (:func:`forehead_points`);
    3. ``"dilated"``: step 2 dilated by a disk of radius ``dilation`` x size (jaw edge, cheeks, hairline);
    4. ``"mask"``: step 3 closed (dilation then erosion by the same disk) - the mask, 1 on the face,
       0 on the background.  (A convex set is already closed; the closing matters for masks from
       other hulls and keeps the recipe of "a set of morphological operations".)

    The paper applies "a set of morphological operations such that it is able to approximately cover
    the whole face" to OpenFace landmarks; these steps and their sizes are ours."""
    lm = np.asarray(landmarks.detach().cpu() if torch.is_tensor(landmarks) else landmarks, dtype=np.float64)
    single = lm.ndim == 2
    lm = lm[None] if single else lm
    if lm.ndim != 3 or lm.shape[1:] != (68, 2):
        raise ValueError(f"face mask: expected landmarks (68, 2) or (B, 68, 2), got {lm.shape}")
    if np.isnan(lm).any():
        raise ValueError("face mask: some landmarks are NaN (no face found); detect them first "
                         "(python -m course_lib preprocess)")
    hull = torch.stack([fill_convex(convex_hull(p), size) for p in lm])[:, None]
    fore = torch.stack([fill_convex(convex_hull(np.concatenate([p, forehead_points(p, forehead)])), size)
                        for p in lm])[:, None]
    radius = max(1, int(round(dilation * size)))
    dil = dilate(fore, radius)
    return {"hull": hull, "forehead": fore, "dilated": dil, "mask": erode(dilate(dil, radius), radius)}


def face_mask(landmarks, size: int, forehead: float = FOREHEAD, dilation: float = DILATION) -> torch.Tensor:
    """The face mask M (B, 1, size, size): 1 on the face, 0 on the background (:func:`face_mask_steps`)."""
    return face_mask_steps(landmarks, size, forehead, dilation)["mask"]


def plot_face_mask_steps(image, landmarks, forehead: float = FOREHEAD, dilation: float = DILATION):
    """Fig. 2, step by step: the face with its 68 landmarks and forehead points, the hull, the hull with
    the forehead, the dilation, the final mask, and the face times the mask.  ``image``: (3,H,W) in
    [-1,1] or (H,W,3) uint8; ``landmarks`` (68, 2) in its pixels.  Returns the figure."""
    import matplotlib.pyplot as plt

    from course_lib.images import unit_from_uint8

    img = torch.as_tensor(image)
    if img.dtype == torch.uint8:
        img = unit_from_uint8(img.permute(2, 0, 1) if img.shape[-1] == 3 else img)
    size = img.shape[-1]
    lm = np.asarray(landmarks.detach().cpu() if torch.is_tensor(landmarks) else landmarks, dtype=np.float64)
    steps = face_mask_steps(lm, size, forehead, dilation)
    shown = ((img.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
    fig, axes = plt.subplots(1, 6, figsize=(13, 2.6))
    axes[0].imshow(shown)
    axes[0].scatter(lm[:, 0], lm[:, 1], s=4, c="lime")
    fh = forehead_points(lm, forehead)
    axes[0].scatter(fh[:, 0], fh[:, 1], s=4, c="red")
    axes[0].set_title("68 landmarks\n+ forehead points (red)", fontsize=9)
    for ax, key, title in zip(axes[1:5], ("hull", "forehead", "dilated", "mask"),
                              ("1. convex hull", "2. hull with forehead", "3. dilated", "4. closed: mask M")):
        ax.imshow(steps[key][0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
    axes[5].imshow(shown * steps["mask"][0, 0].numpy()[..., None])
    axes[5].set_title("x ⊙ M", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- Losses
def lsgan_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Eq. 1, the least-squares adversarial loss as the discriminator minimises it:
    E_y[(D_Y(y) - 1)^2] + E_x,z[D_Y(G_X->Y(x, z))^2] (means over the batch and the patch map)."""
    return ((d_real - 1) ** 2).mean() + (d_fake ** 2).mean()


def lsgan_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """Eq. 1 from the generator's side: E_x,z[(D_Y(G_X->Y(x, z)) - 1)^2] (Mao et al.'s LSGAN with
    a = 0, b = c = 1, CycleGAN's ``GANLoss('lsgan')`` with the target "real").  Minimising Eq. 1 as
    printed, E[D(G(x))^2], would push the fakes towards the "fake" label; the code does not."""
    return ((d_fake - 1) ** 2).mean()


def cycle_loss(x, rec_x, y, rec_y) -> torch.Tensor:
    """Eq. 2: E[||G_Y->X(G_X->Y(x, z)) - x||_1] + E[||G_X->Y(G_Y->X(y, z)) - y||_1], each the mean
    absolute difference per pixel (``nn.L1Loss``)."""
    return (rec_x - x).abs().mean() + (rec_y - y).abs().mean()


def content_term(features, a, b) -> torch.Tensor:
    """One term of Eq. 3: 1/(W_ij H_ij) sum_w,h (phi_ij(a) - phi_ij(b))^2, averaged over the channels
    too (the usual implementation), summed over the layers of ``features``
    (:func:`course_lib.features.feature_network`: images in [-1,1] -> {layer: map})."""
    fa, fb = features(a), features(b)
    return sum(((fa[k] - fb[k]) ** 2).mean() for k in fa)


def content_loss(features, x, rec_x, y, rec_y) -> torch.Tensor:
    """Eq. 3, L_content = L^{VGG_Y->X} + L^{VGG_X->Y}.  The paper writes phi(X) - phi(G_Y->X(y)) with
    unpaired x and y; our reading (the paper trains unpaired, so a translation has no true image to
    compare with): each domain's image against its reconstruction through the other domain,
    phi(x) vs phi(G_Y->X(G_X->Y(x, z))) and phi(y) vs phi(G_X->Y(G_Y->X(y), z)) - a perceptual
    cycle term, as the paper motivates it ("pixel-wise MSE ... overly smooth textures")."""
    return content_term(features, x, rec_x) + content_term(features, y, rec_y)


def identity_loss(x, idt_x, y, idt_y) -> torch.Tensor:
    """Eq. 4: E[||G_Y->X(x) - x||_1] + E[||G_X->Y(y) - y||_1] (a generator shown an image of its own
    output domain should return it unchanged); per-pixel means."""
    return (idt_x - x).abs().mean() + (idt_y - y).abs().mean()


def mask_term(real, rec, mask) -> torch.Tensor:
    """One term of Eq. 5: the L1 of the cycle's error on the face, ||(rec - real) ⊙ M||_1, as a mean over
    all pixels (background pixels count as 0).  The extracted formula reads
    ||G_Y->X(G_X->Y(x ⊙ M_x)) - x ⊙ M_x||_1; the text says the mask is "added to the L1 loss such
    that the face is given larger weight than the background", which is this reading."""
    return ((rec - real) * mask).abs().mean()


def mask_loss(x, rec_x, mask_x, y, rec_y, mask_y) -> torch.Tensor:
    """Eq. 5: L_mask = L^{Y->X}_mask (on x and its cycle) + L^{X->Y}_mask (on y and its cycle)."""
    return mask_term(x, rec_x, mask_x) + mask_term(y, rec_y, mask_y)


def full_objective(parts: dict, lambda_cycle: float, lambda_content: float, lambda_identity: float,
                   lambda_mask: float) -> torch.Tensor:
    """Eq. 6: L = L_cGAN + lambda_1 L_cyc + lambda_2 L_content + lambda_3 L_identity + lambda_4 L_mask, from
    ``parts`` {"gan", "cycle", "content", "identity", "mask"} (missing terms count 0)."""
    z = parts["gan"] * 0
    return (parts["gan"] + lambda_cycle * parts.get("cycle", z) + lambda_content * parts.get("content", z)
            + lambda_identity * parts.get("identity", z) + lambda_mask * parts.get("mask", z))


# ----------------------------------------------------------------------------- figure
def plot_comparison(columns: dict, n_rows: int | None = None, title: str = ""):
    """The paper's Fig. 3: one column per entry of ``columns`` ({"input": images, "Pix2pix": ...,
    "ground truth": ...}, each (N,3,H,W) in [-1,1]), one row per face.  Returns the figure."""
    import matplotlib.pyplot as plt

    names = list(columns)
    n = n_rows or len(next(iter(columns.values())))
    fig, axes = plt.subplots(n, len(names), figsize=(1.6 * len(names), 1.6 * n + (0.4 if title else 0)), squeeze=False)
    for j, name in enumerate(names):
        imgs = columns[name]
        for i in range(n):
            ax = axes[i, j]
            ax.imshow(((imgs[i].detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy())
            ax.set_xticks([]), ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_lsgan_vs_wgan(lo: float = -1.5, hi: float = 2.5):
    """The generator's loss and its gradient as functions of the critic's score s = D(G(x)) for the
    least-squares loss (Eq. 1, :func:`lsgan_generator_loss`: (s - 1)^2) and the WGAN loss (-s, the
    course's WGAN-GP, :func:`course_lib.losses.generator_adv_loss`).  Returns the figure."""
    import matplotlib.pyplot as plt

    from course_lib import losses

    s = torch.linspace(lo, hi, 201, requires_grad=True)
    curves = {}
    for name, fn in (("least squares, Eq. 1: (s - 1)²", lsgan_generator_loss), ("WGAN: -s", losses.generator_adv_loss)):
        value = torch.stack([fn(v.view(1, 1, 1, 1)) for v in s])       # the loss of one score at a time
        grad, = torch.autograd.grad(value.sum(), s)
        curves[name] = (value.detach().numpy(), grad.numpy())
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for name, (v, g) in curves.items():
        axes[0].plot(s.detach().numpy(), v, label=name)
        axes[1].plot(s.detach().numpy(), g, label=name)
    for ax, title in zip(axes, ("generator loss", "its gradient d loss / d s")):
        ax.axvline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("critic score s of a generated image (least squares: 1 = 'real', 0 = 'fake')")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
