"""The landmark- and label-guided GAN of Li, Qi and Sun (IEEE Access 2021): networks, inputs, losses.

"Facial Landmarks and Expression Label Guided Photorealistic Facial Expression Synthesis":
given a source face, the target's 68 facial landmarks and its expression label, a generator
paints the source person with the target's geometry and expression.  Training is *paired*:
the target image of the same person is known (Fig. 9), so besides two adversarial critics
the generator gets an L1 pixel loss (Eq. 5) and a perceptual loss (Eq. 6) against it.

What this module builds (the training method is :mod:`course_lib.methods.landmark_gan`):

* **Inputs** - :func:`landmark_heatmaps` (one Gaussian channel per landmark, 68 channels;
  sigma :func:`heatmap_sigma`: 3 px at 128x128, our choice), :func:`landmark_image` (what the
  geometry critic sees), :func:`label_maps` (Fig. 4: the one-hot label as constant maps, +1 /
  -1).
* **Generator** (Fig. 1, 2; Tables 1, 2; Eq. 1-3) - :class:`FeatureInit` (E_ini),
  :class:`MigrationUnit` (one migration unit block; its Eq. 1-3 are :func:`migration_update`),
  :class:`Decoder` (Table 2), :class:`LandmarkGenerator` (all together).
* **Critics** (Table 3) - :class:`PatchCritic`: the image critic judges (source, image) pairs,
  the geometry critic (image, target landmark image) pairs.
* **Losses** (Eq. 4-7) - :func:`adversarial_loss`, :func:`pixel_loss`, :func:`perceptual_loss`,
  :func:`total_generator_loss`, and :func:`critic_loss` (Eq. 4 from the critic's side).
* **Target landmarks for a label** - :func:`expression_shapes`, :func:`fallback_target_landmarks`;
  **pairs** of the same identity - :func:`pair_table`, :func:`draw_partners`.
* **Table 6's face verification** - :func:`verification_scores` (Rank-1, TAR at a FAR).
* **Figures** for Lesson 11 (one call each): :func:`plot_heatmaps`, :func:`plot_label_maps`,
  :func:`plot_migration_masks`, :func:`plot_triplets`.

**Where the paper is silent** (each choice is ours and repeated where it is made):

* The architecture follows a known template that fits every row the paper gives: Table 1 is
  a residual block with dropout (CycleGAN's ``ResnetBlock``) and Eq. 1-3 are the
  Pose-Attentional Transfer Block of Zhu et al., "Progressive Pose Attention Transfer for
  Person Image Generation" (CVPR 2019), whose image path ends with BatchNorm (row 1_8) and
  whose landmark path does not (Table 1 lists no BatchNorm after 2_7).  Table 2's decoder is
  the up half of CycleGAN's ``ResnetGenerator``; its first layer makes 64x64x128 from a
  32x32 map, so the blocks work at a quarter of the image size.  E_ini (Fig. 1, no table) is
  therefore that generator's down half: reflection pad 3, 7x7 conv, BN, ReLU, then two 3x3
  stride-2 convs with BN and ReLU (64, 128, 256 channels at the paper's size).
* Number of migration unit blocks: 6 at the paper's size (CycleGAN's choice for 128x128
  images), 3 at the ``cpu`` sizes.  Dropout rate: 0.5 (CycleGAN's).
* The label maps (Fig. 4) are concatenated to the last block's image features, at their
  resolution, right before the decoder ("after expression label concatenation, the facial
  decoder is applied").
* Convolutions followed by BatchNorm have no bias (it would be cancelled); the others have one.
* "All variables ... initialized with normal distribution in a value of 0.02" is read as
  pix2pix's ``init_weights('normal', 0.02)``: conv weights N(0, 0.02), biases 0, BatchNorm
  scales N(1, 0.02) and shifts 0 (a BatchNorm scale drawn around 0 would switch its layer off).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib import facs

N_LANDMARKS = 68
N_CLASSES = len(facs.EXPRESSIONS)
#: Initialisation (Section IV.B): N(0, 0.02).
INIT_STD = 0.02
#: Dropout rate in Table 1's rows 1_5 and 2_5 (the paper gives none; CycleGAN's 0.5, our choice).
DROPOUT = 0.5
#: lambda_1..3 of Eq. 7 (Section IV.B): adversarial, perceptual, pixel.
LAMBDAS = (5.0, 10.0, 10.0)
#: VGG19 layer of the perceptual loss (Section IV.B: l = conv1_2).
PERCEPTUAL_LAYER = "conv1_2"


# ============================================================================ inputs
def heatmap_sigma(image_size: int) -> float:
    """Standard deviation (pixels) of each landmark's Gaussian: 3 px at 128x128, scaled with the
    image (1.5 px at 64x64).  The paper does not give one; our choice: at 128x128 neighbouring
    landmarks of the lips and eyes lie 3-6 px apart, so 3 px keeps them distinguishable while a
    heatmap still covers a few pixels for the 3x3 and 7x7 convolutions to pick up."""
    return 3.0 * image_size / 128.0


def landmark_heatmaps(landmarks: torch.Tensor, size: int, sigma: float | None = None) -> torch.Tensor:
    """(B, 68, 2) landmark pixels (x, y) -> (B, 68, size, size) Gaussian heatmaps in [0, 1].

    Channel k is ``exp(-((u - x_k)^2 + (v - y_k)^2) / (2 sigma^2))`` over pixel centres
    (u, v) = (column, row) in pixel units: 1 at the landmark, one channel per landmark (the
    issue's first option; no grouping).  A landmark that is NaN (unknown) gives an all-zero
    channel.  ``sigma``: :func:`heatmap_sigma` of ``size`` by default.
    """
    lm = torch.as_tensor(landmarks, dtype=torch.float32)
    if lm.dim() != 3 or lm.shape[-1] != 2:
        raise ValueError(f"landmarks: expected (B, K, 2) pixel coordinates (x, y), got {tuple(lm.shape)}")
    sigma = heatmap_sigma(size) if sigma is None else float(sigma)
    if not sigma > 0:
        raise ValueError(f"sigma: expected a positive number of pixels, got {sigma!r}")
    grid = torch.arange(size, dtype=torch.float32, device=lm.device)
    dx = (grid.view(1, 1, 1, size) - lm[..., 0, None, None]) ** 2      # (B, K, 1, S)
    dy = (grid.view(1, 1, size, 1) - lm[..., 1, None, None]) ** 2      # (B, K, S, 1)
    h = torch.exp(-(dx + dy) / (2 * sigma ** 2))
    return torch.nan_to_num(h, nan=0.0)


def landmark_image(heatmaps: torch.Tensor) -> torch.Tensor:
    """Heatmaps (B, K, S, S) in [0, 1] -> the "target face feature image" the geometry critic
    pairs with an image (III.A): one channel, the brightest heatmap at each pixel, scaled to
    [-1, 1] like the images (our choice of drawing; the paper shows none)."""
    return heatmaps.amax(1, keepdim=True) * 2 - 1


def label_maps(labels: torch.Tensor, size: int, n_classes: int = N_CLASSES) -> torch.Tensor:
    """Expression labels (B,) -> (B, n_classes, size, size) constant maps (Fig. 4): the one-hot
    code "adjusted into [-1, 1], where -1 corresponds to 0": +1 everywhere in the label's
    channel, -1 in every other.  A float (B, n_classes) condition (a one-hot row, or a mix of
    two for an interpolation) is mapped the same way, ``2 c - 1``."""
    labels = torch.as_tensor(labels)
    if labels.is_floating_point() and labels.dim() == 2:
        if labels.shape[1] != n_classes:
            raise ValueError(f"condition: expected (B, {n_classes}) rows, got {tuple(labels.shape)}")
        code = labels.float() * 2 - 1
    else:
        labels = labels.long().reshape(-1)
        if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"labels must lie in [0, {n_classes - 1}], got {labels.tolist()}")
        code = F.one_hot(labels, n_classes).float() * 2 - 1
    return code[:, :, None, None].expand(-1, -1, size, size).contiguous()


# ============================================================================ generator
class FeatureInit(nn.Module):
    """E_ini (III.A, Fig. 1): image or heatmaps -> a latent map at a quarter of the size.

    The paper draws it in Fig. 1 without a table; our choice, the down half of CycleGAN's
    ResnetGenerator (module docstring): ReflectionPad2d(3), Conv 7x7 -> ngf, BN, ReLU;
    Conv 3x3 stride 2 pad 1 -> 2 ngf, BN, ReLU; Conv 3x3 stride 2 pad 1 -> 4 ngf, BN, ReLU.
    At 128x128 with ngf = 64: (B, in, 128, 128) -> (B, 256, 32, 32).
    """

    def __init__(self, in_channels: int, ngf: int = 64):
        super().__init__()
        self.main = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.Conv2d(ngf, 2 * ngf, 3, 2, 1, bias=False), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
            nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1, bias=False), nn.BatchNorm2d(4 * ngf), nn.ReLU(True))

    def forward(self, x):
        return self.main(x)


class PlainInit(nn.Module):
    """The Table 7 ablation "w/o feature initialize network": no E_ini.  The blocks then work on
    the input itself: each 4x4 patch of pixels stacked into channels (``pixel_unshuffle``,
    nothing learned, nothing lost), mapped by a single 1x1 convolution to the blocks' width
    (our choice: the blocks need 4 ngf channels at a quarter of the size; a 1x1 convolution is
    a per-position linear map, with no spatial context and no non-linearity)."""

    def __init__(self, in_channels: int, ngf: int = 64):
        super().__init__()
        self.proj = nn.Conv2d(16 * in_channels, 4 * ngf, 1)

    def forward(self, x):
        return self.proj(F.pixel_unshuffle(x, 4))


def _path(c_in: int, c_mid: int, c_out: int, last_norm: bool, dropout: float) -> nn.Sequential:
    """One path of Table 1: ReflectionPad2d(1), Conv 3x3, BN, ReLU, Dropout, ReflectionPad2d(1),
    Conv 3x3 (+ BN when ``last_norm``: row 1_8 of the image path; the landmark path ends at 2_7)."""
    layers = [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_mid, 3, bias=False), nn.BatchNorm2d(c_mid), nn.ReLU(True),
              nn.Dropout(dropout), nn.ReflectionPad2d(1), nn.Conv2d(c_mid, c_out, 3, bias=not last_norm)]
    if last_norm:
        layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers)


class MigrationUnit(nn.Module):
    """One migration unit block (Fig. 2, Table 1, Eq. 1-3), on image features F^P and landmark
    features F^S:

    * Eq. 1: ``M_t = sigmoid(conv_s(F^S_{t-1}))`` - a mask in (0, 1) per position and channel;
    * Eq. 2: ``F^P_t = M_t * conv_p(F^P_{t-1}) + F^P_{t-1}`` - the residual (Fig. 3) image update,
      kept where the target's geometry says so;
    * Eq. 3: ``F^S_t = conv_s(F^S_{t-1}) || F^P_t`` - the landmark features, concatenated with
      the updated image features.

    ``conv_p`` is Table 1's rows 1_1-1_8 (dim -> dim -> dim, ends with BN); ``conv_s`` rows
    2_1-2_7 (no final BN).  After the first block F^S carries 2 dim channels (Eq. 3), so the
    landmark path of every later block (``first=False``) reads 2 dim and writes dim through a
    2 dim middle layer, as in the Pose-Attentional Transfer Block it matches (module docstring).
    ``forward(fp, fs) -> (fp_t, fs_t, mask_t)``.
    """

    def __init__(self, dim: int, first: bool = True, dropout: float = DROPOUT):
        super().__init__()
        s_in = dim if first else 2 * dim
        self.conv_p = _path(dim, dim, dim, last_norm=True, dropout=dropout)
        self.conv_s = _path(s_in, s_in, dim, last_norm=False, dropout=dropout)

    def forward(self, fp, fs):
        return migration_update(fp, fs, self.conv_p, self.conv_s)


def migration_update(fp, fs, conv_p, conv_s):
    """Eq. 1-3 of one migration unit block with paths ``conv_p`` and ``conv_s`` (any callables):
    ``(F^P_t, F^S_t, M_t)`` from ``(F^P_{t-1}, F^S_{t-1})``."""
    s = conv_s(fs)
    mask = torch.sigmoid(s)                       # Eq. 1
    fp_t = mask * conv_p(fp) + fp                 # Eq. 2
    fs_t = torch.cat([s, fp_t], 1)                # Eq. 3
    return fp_t, fs_t, mask


class Decoder(nn.Module):
    """Table 2: ConvTranspose 3x3 stride 2 pad 1 (output padding 1) -> 2 ngf, BN, ReLU;
    ConvTranspose 3x3 stride 2 pad 1 -> ngf, BN, ReLU; ReflectionPad2d(3); Conv 7x7 -> 3; Tanh.
    At 128x128 with ngf = 64: (B, 256 + 8, 32, 32) -> 64x64x128 -> 128x128x64 -> 134x134x64 ->
    128x128x3.  (Output padding 1 is what makes 3x3/s2/p1 double the size exactly, as the
    table's 64 -> 128 requires; the table has no column for it.)"""

    def __init__(self, in_channels: int, ngf: int = 64):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(in_channels, 2 * ngf, 3, 2, 1, output_padding=1, bias=False),
            nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(2 * ngf, ngf, 3, 2, 1, output_padding=1, bias=False),
            nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh())

    def forward(self, x):
        return self.main(x)


class LandmarkGenerator(nn.Module):
    """G (Fig. 1): ``G(image, heatmaps, labels) -> {"out", "masks", "features"}``.

    ``image`` (B, 3, S, S) in [-1, 1], ``heatmaps`` (B, 68, S, S) of the *target* landmarks
    (:func:`landmark_heatmaps`), ``labels`` (B,) target expressions.  E_ini of the image gives
    F^P_0, E_ini of the heatmaps F^S_0; ``n_blocks`` migration units (Eq. 1-3); the label maps
    (Fig. 4) concatenated to F^P_T; the decoder (Table 2).  ``masks``: each block's M_t.

    Switches of the Table 7 ablation: ``feature_init=False`` replaces both E_ini by
    :class:`PlainInit`; ``use_labels=False`` drops the label maps.

    The buffer ``expression_shapes`` (n_classes, 68, 2) holds the training set's mean landmarks
    per expression in units of the image size (NaN until :meth:`set_expression_shapes`); it is
    saved with the generator, so a translator loaded from a checkpoint can turn a target label
    into target landmarks (:func:`fallback_target_landmarks`).
    """

    def __init__(self, image_size: int = 128, ngf: int = 64, n_blocks: int = 6, n_classes: int = N_CLASSES,
                 n_landmarks: int = N_LANDMARKS, dropout: float = DROPOUT, feature_init: bool = True,
                 use_labels: bool = True, sigma: float | None = None):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size: expected a multiple of 4 (two stride-2 layers), got {image_size}")
        if n_blocks < 1:
            raise ValueError(f"n_blocks: expected at least one migration unit block, got {n_blocks}")
        self.image_size, self.ngf, self.n_classes = image_size, ngf, n_classes
        self.use_labels, self.feature_init = use_labels, feature_init
        self.sigma = heatmap_sigma(image_size) if sigma is None else float(sigma)
        init = FeatureInit if feature_init else PlainInit
        self.e_image = init(3, ngf)
        self.e_geometry = init(n_landmarks, ngf)
        self.blocks = nn.ModuleList([MigrationUnit(4 * ngf, first=(t == 0), dropout=dropout)
                                     for t in range(n_blocks)])
        self.decoder = Decoder(4 * ngf + (n_classes if use_labels else 0), ngf)
        self.register_buffer("expression_shapes", torch.full((n_classes, n_landmarks, 2), float("nan")))

    def set_expression_shapes(self, shapes_unit: torch.Tensor) -> None:
        """Store the per-expression mean landmarks (n_classes, 68, 2), in units of the image size."""
        self.expression_shapes.copy_(torch.as_tensor(shapes_unit, dtype=torch.float32))

    def heatmaps(self, landmarks):
        """The target landmarks as this generator's input (:func:`landmark_heatmaps`)."""
        return landmark_heatmaps(landmarks, self.image_size, self.sigma)

    def forward(self, image, heatmaps, labels=None) -> dict:
        if image.shape[-1] != self.image_size or heatmaps.shape[-1] != self.image_size:
            raise ValueError(f"LandmarkGenerator at {self.image_size}x{self.image_size}: got image "
                             f"{tuple(image.shape)} and heatmaps {tuple(heatmaps.shape)}")
        fp, fs = self.e_image(image), self.e_geometry(heatmaps)
        masks = []
        for block in self.blocks:
            fp, fs, m = block(fp, fs)
            masks.append(m)
        z = fp
        if self.use_labels:
            if labels is None:
                raise ValueError("LandmarkGenerator: labels are needed (the decoder reads the label maps, Fig. 4)")
            z = torch.cat([fp, label_maps(labels, fp.shape[-1], self.n_classes).to(fp)], 1)
        return {"out": self.decoder(z), "masks": masks, "features": fp}


# ============================================================================ critics
class PatchCritic(nn.Module):
    """Table 3, one of the two critics (same structure, different input pairs, III.A):

    =====  ================================================  ==================
    row    layer                                             output at 128x128
    =====  ================================================  ==================
    1-2    Conv 4x4 s2 p1 -> ndf, LeakyReLU(0.2)             64 x 64 x 64
    3-5    Conv 4x4 s2 p1 -> 2 ndf, BN, LeakyReLU            32 x 32 x 128
    6-8    Conv 4x4 s2 p1 -> 4 ndf, BN, LeakyReLU            16 x 16 x 256
    9-11   Conv 4x4 s1 p1 -> 8 ndf, BN, LeakyReLU            15 x 15 x 512
    12-14  Conv 4x4 s1 p1 -> 1, BN, Sigmoid                  14 x 14 x 1
    =====  ================================================  ==================

    (pix2pix's 70x70 PatchGAN; LeakyReLU slope 0.2 is its choice, the table gives none.)
    ``forward`` returns the 14x14 map of probabilities "real"; :meth:`logits` the map before
    the sigmoid (for a numerically stable BCE, :func:`critic_loss`).

    **What BatchNorm5 does.**  It normalises the one-channel patch map over the batch and all
    positions (zero mean, unit variance), then applies a learned scale and shift; in eval mode
    it applies running averages instead.  In training mode a batch made only of fakes and a
    batch made only of reals come out with the *same* mean logit (the learned shift), so a
    critic fed reals and fakes in separate batches cannot tell them apart by level at all.
    The course therefore always passes the real and the fake pairs through a critic together,
    in one batch (:func:`critic_loss`, our choice): the normalisation then spans both, and the
    critic can score them differently.  ``python -m pytest tests/test_landmark_gan.py`` shows it.
    """

    def __init__(self, in_channels: int, ndf: int = 64):
        super().__init__()
        self.in_channels = in_channels
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ndf, 4 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * ndf), nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * ndf, 8 * ndf, 4, 1, 1, bias=False), nn.BatchNorm2d(8 * ndf), nn.LeakyReLU(0.2, True),
            nn.Conv2d(8 * ndf, 1, 4, 1, 1, bias=False), nn.BatchNorm2d(1),
            nn.Sigmoid())

    def logits(self, pair):
        """The patch map before the sigmoid (after BatchNorm5)."""
        return self.main[:-1](pair)

    def forward(self, pair):
        return self.main(pair)


def output_size(image_size: int) -> int:
    """Side of a :class:`PatchCritic`'s map: three halvings, then two 4x4/s1/p1 convs (-1 each):
    14 at 128, 6 at 64."""
    return image_size // 8 - 2


# ============================================================================ initialisation
def init_weights(module: nn.Module, std: float = INIT_STD) -> nn.Module:
    """Section IV.B's N(0, 0.02), read as pix2pix's ``init_weights('normal', 0.02)``: every conv
    and transposed conv weight ~ N(0, std), their biases 0; every BatchNorm scale ~ N(1, std),
    shift 0.  Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module


# ============================================================================ Losses
# One function per equation (Eq. 4-7).

def adversarial_loss(prob: torch.Tensor, real: bool) -> torch.Tensor:
    """Eq. 4 for one patch map of probabilities: binary cross-entropy with "real images labelled
    1, generated images 0", averaged over the map and the batch:
    ``-mean log p`` for ``real=True``, ``-mean log(1 - p)`` for ``real=False``.  The generator
    uses ``real=True`` on its fakes (the non-saturating form of Eq. 4's min over G, our choice,
    as pix2pix).  Logs are clamped at -100 (``F.binary_cross_entropy``)."""
    target = torch.ones_like(prob) if real else torch.zeros_like(prob)
    return F.binary_cross_entropy(prob, target)


def adversarial_loss_logits(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """:func:`adversarial_loss` of ``sigmoid(logits)``, computed from the logits (the same value
    without the clamp, stable for large logits)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def pixel_loss(generated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 5: ``1/(H W) sum_ij |P^_t - P_t|`` against the *real target image*, averaged over the
    colour channels and the batch too (the equation sums over positions only; our reading for
    3-channel images)."""
    return (generated - target).abs().mean()


def perceptual_loss(generated: torch.Tensor, target: torch.Tensor, features, layer: str = PERCEPTUAL_LAYER):
    """Eq. 6: ``1/(W_l H_l C_l) sum |phi_l(P^_t) - phi_l(P_t)|`` with phi_l layer ``layer`` of the
    frozen feature network ``features`` (:func:`course_lib.features.feature_network`: VGG19
    conv1_2 with ImageNet weights in the paper, IV.B; the labelled offline stand-in otherwise),
    averaged over the batch."""
    a, b = features(generated)[layer], features(target)[layer]
    return (a - b).abs().mean()


def total_generator_loss(l_gan, l_per, l_pixel, lambdas=LAMBDAS):
    """Eq. 7: ``lambda_1 L_GAN + lambda_2 L_Per + lambda_3 L_pixel``, lambda = 5, 10, 10 (IV.B)."""
    l1, l2, l3 = lambdas
    return l1 * l_gan + l2 * l_per + l3 * l_pixel


def critic_loss(critic: PatchCritic, real_pair: torch.Tensor, fake_pair: torch.Tensor):
    """Eq. 4 from the critic's side (the max over D): ``BCE(D(real), 1) + BCE(D(fake), 0)`` on
    its 14x14 maps, the fake pair detached.  Real and fake pairs go through the critic in *one*
    batch, so that BatchNorm5 normalises over both (:class:`PatchCritic`, our choice).
    Returns ``(loss, {"real": ..., "fake": ...})``."""
    n = real_pair.shape[0]
    logits = critic.logits(torch.cat([real_pair, fake_pair.detach()], 0))
    real, fake = adversarial_loss_logits(logits[:n], True), adversarial_loss_logits(logits[n:], False)
    return real + fake, {"real": real.detach(), "fake": fake.detach()}


def generator_adversarial_loss(critic: PatchCritic, real_pair: torch.Tensor, fake_pair: torch.Tensor):
    """The generator's side of Eq. 4 for one critic: ``BCE(D(fake), 1)``, the fake pair scored in
    one batch with the real pair (BatchNorm5, :class:`PatchCritic`).  The critic's parameters
    get no gradient (they are not updated by the generator's step)."""
    n = real_pair.shape[0]
    flags = [p.requires_grad for p in critic.parameters()]
    for p in critic.parameters():
        p.requires_grad_(False)
    try:
        logits = critic.logits(torch.cat([real_pair.detach(), fake_pair], 0))
    finally:
        for p, f in zip(critic.parameters(), flags):
            p.requires_grad_(f)
    return adversarial_loss_logits(logits[n:], True)


# ============================================================================ target landmarks
def expression_shapes(landmarks: torch.Tensor, labels: torch.Tensor, image_size: int,
                      n_classes: int = N_CLASSES) -> torch.Tensor:
    """Mean landmarks per expression (n_classes, 68, 2) in units of the image size (pixels /
    ``image_size``), over the images with known landmarks; NaN for an expression without any."""
    lm = torch.as_tensor(landmarks, dtype=torch.float32) / image_size
    labels = torch.as_tensor(labels).long()
    out = torch.full((n_classes, lm.shape[1], 2), float("nan"))
    ok = ~torch.isnan(lm).flatten(1).any(1)
    for k in range(n_classes):
        sel = ok & (labels == k)
        if sel.any():
            out[k] = lm[sel].mean(0)
    return out


def _centred_unit(points: torch.Tensor):
    """Landmarks (..., K, 2) centred on their mean and divided by their RMS distance to it:
    ``(normalised, rms)``."""
    c = points - points.mean(-2, keepdim=True)
    rms = c.pow(2).sum(-1).mean(-1, keepdim=True).sqrt()[..., None]
    return c / rms, rms


def source_expression_from_landmarks(landmarks: torch.Tensor, shapes: torch.Tensor) -> torch.Tensor:
    """The expression whose mean shape is nearest to each face's landmarks, both centred and scaled
    to unit RMS size (so a larger or smaller face matches by its form), in mean squared distance
    over the 68 points.  (B,) labels.  Our choice; on the synthetic set's test split it reads 94 %
    of the faces right (``python -m course_lib reproduce landmark-table5`` prints the share)."""
    a, _ = _centred_unit(landmarks)
    s, _ = _centred_unit(shapes)
    d = ((a[:, None] - s[None]) ** 2).sum(-1).mean(-1)          # (B, n)
    return torch.nan_to_num(d, nan=float("inf")).argmin(1)


def fallback_target_landmarks(source_landmarks: torch.Tensor, target_labels: torch.Tensor,
                              shapes_unit: torch.Tensor, image_size: int) -> torch.Tensor:
    """Target landmarks for a target *label* when no target face is given (our choice; the paper
    always takes them from a real target face): the source's own landmarks moved by the
    difference of two mean shapes, scaled to the source face's size,
    ``source + (shape[target] - shape[k]) * rms(source) / rms(shape[k])``, where k, the source's
    expression, is read from its landmarks (:func:`source_expression_from_landmarks`) and the
    shapes are the training set's means per expression (:func:`expression_shapes`).  The
    person's face shape is kept; only the expression's typical displacement is added."""
    if torch.isnan(shapes_unit).all():
        raise ValueError("this landmark-gan generator has no expression shapes (it was never bound to training "
                         "data): train it, or pass the target landmarks (extra['target_landmarks'])")
    if source_landmarks is None or torch.isnan(source_landmarks).any():
        raise ValueError("landmark-gan needs the source's 68 landmarks (B, 68, 2) to place a target expression "
                         "by label; detect them (course_lib.landmarks) or pass extra['target_landmarks']")
    shapes = shapes_unit.to(source_landmarks) * image_size
    k = source_expression_from_landmarks(source_landmarks, shapes)
    t = torch.as_tensor(target_labels).to(source_landmarks.device)
    if t.is_floating_point() and t.dim() == 2:     # a mix of labels (B, n): the same mix of the shapes
        target_shape = torch.einsum("bn,nkd->bkd", t.to(shapes), shapes)
    else:
        target_shape = shapes[t.long()]
    _, rms_src = _centred_unit(source_landmarks)
    _, rms_k = _centred_unit(shapes[k])
    return source_landmarks + (target_shape - shapes[k]) * rms_src / rms_k


# ============================================================================ pairing
def pair_table(identities: torch.Tensor, labels: torch.Tensor):
    """Per identity the indices of its items, padded with -1: ``(table (n_ids, m), table_labels)``
    for :func:`draw_partners`."""
    identities, labels = torch.as_tensor(identities).long(), torch.as_tensor(labels).long()
    n_ids = int(identities.max()) + 1 if len(identities) else 0
    groups = [torch.nonzero(identities == i).flatten() for i in range(n_ids)]
    m = max((len(g) for g in groups), default=1)
    table = torch.full((n_ids, m), -1, dtype=torch.long)
    for i, g in enumerate(groups):
        table[i, :len(g)] = g
    table_labels = torch.where(table >= 0, labels[table.clamp(min=0)], torch.full_like(table, -1))
    return table, table_labels


def draw_partners(identity: torch.Tensor, label: torch.Tensor, table, table_labels, self_index=None):
    """For each (identity, label) of a batch, the index of one random item of the same identity
    with another expression (uniform over those; torch's global RNG, so a resumed run draws the
    same).  Where an identity has no other expression, -1 (the caller keeps the source as its
    own target)."""
    identity, label = identity.long().cpu(), label.long().cpu()
    cand, cand_l = table[identity], table_labels[identity]          # (B, m)
    valid = (cand >= 0) & (cand_l != label[:, None])
    count = valid.sum(1)
    u = torch.rand(len(identity))
    k = (u * count).floor().long().clamp(max=(count - 1).clamp(min=0))
    order = torch.cumsum(valid.long(), 1) - 1                        # rank among the valid ones
    pick = (valid & (order == k[:, None])).float().argmax(1)
    out = cand.gather(1, pick[:, None]).squeeze(1)
    return torch.where(count > 0, out, torch.full_like(out, -1))


# ============================================================================ face verification (Table 6)
def verification_scores(gallery, gallery_ids, probes, probe_ids, fars=(0.01, 0.001)) -> dict:
    """Table 6's identity measures from face descriptors (Euclidean distance: smaller = same person).

    ``gallery`` (G, D) with identities ``gallery_ids``; ``probes`` (P, D) with ``probe_ids`` (a row
    of NaN: no face found - it counts as a miss and is never accepted).  Returns

    * ``rank1``: share of probes whose nearest gallery descriptor has their identity;
    * ``tar@<far>``: for each FAR, the share of genuine pairs (probe, gallery of its identity) whose
      distance is at most the threshold that accepts at most that share of the impostor pairs
      (probe, gallery of another identity) - the true accept rate at that false accept rate;
    * ``threshold@<far>``, ``n_probes``, ``no_face``, ``n_impostor``.
    """
    import numpy as np

    g, p = np.asarray(gallery, np.float64), np.asarray(probes, np.float64)
    gid, pid = np.asarray(gallery_ids), np.asarray(probe_ids)
    d = np.linalg.norm(p[:, None] - g[None], axis=-1)               # (P, G); NaN rows for no face
    found = ~np.isnan(d).any(1)
    same = pid[:, None] == gid[None]
    nearest = np.where(found, np.nanargmin(np.where(found[:, None], d, 0), 1), -1)
    rank1 = float(np.mean([found[i] and same[i, nearest[i]] for i in range(len(p))])) if len(p) else float("nan")
    genuine = np.where(found[:, None] & same, d, np.inf)[same]      # misses never accepted
    impostor = d[found[:, None] & ~same]
    out = {"rank1": rank1, "n_probes": int(len(p)), "no_face": int((~found).sum()), "n_impostor": int(impostor.size)}
    srt = np.sort(impostor)
    for far in fars:
        k = int(np.floor(far * srt.size))                           # impostors we may accept
        thr = -np.inf if k == 0 else float(srt[k - 1])
        if k < srt.size and k > 0 and srt[k] == srt[k - 1]:          # ties: stay under the FAR
            thr = float(np.nextafter(srt[k - 1], -np.inf))
        out[f"threshold@{far:g}"] = thr
        out[f"tar@{far:g}"] = float((genuine <= thr).mean()) if genuine.size else float("nan")
    return out


# ============================================================================ figures
def _show(ax, img, title=""):
    import numpy as np

    a = img.detach().float().cpu()
    if a.dim() == 3 and a.shape[0] == 3:
        ax.imshow(((a.permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1))
    else:
        ax.imshow(np.asarray(a.squeeze()), cmap="magma")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def plot_heatmaps(image, landmarks, sigma: float | None = None, channels=(30, 36, 48, 54)):
    """One face with its 68 landmarks, the maximum over its 68 Gaussian heatmaps (the landmark
    image of the geometry critic) and a few single channels (default: nose tip, an eye corner,
    the two mouth corners)."""
    import matplotlib.pyplot as plt

    size = image.shape[-1]
    h = landmark_heatmaps(landmarks[None], size, sigma)[0]
    fig, axes = plt.subplots(1, 2 + len(channels), figsize=(2.2 * (2 + len(channels)), 2.6))
    _show(axes[0], image, "face + 68 landmarks")
    axes[0].scatter(landmarks[:, 0], landmarks[:, 1], s=4, c="cyan")
    _show(axes[1], h.amax(0), f"max over 68 (sigma {sigma or heatmap_sigma(size):.2g} px)")
    for ax, k in zip(axes[2:], channels):
        _show(ax, h[k], f"channel {k}")
    fig.tight_layout()
    return fig


def plot_label_maps(label: int, size: int = 8):
    """Fig. 4: a label's one-hot code and its constant maps in [-1, 1] (one panel per channel)."""
    import matplotlib.pyplot as plt

    maps = label_maps(torch.tensor([label]), size)[0]
    fig, axes = plt.subplots(1, N_CLASSES, figsize=(1.6 * N_CLASSES, 2.0))
    for k, ax in enumerate(axes):
        ax.imshow(maps[k].numpy(), vmin=-1, vmax=1, cmap="coolwarm")
        ax.set_title(f"{facs.EXPRESSIONS[k]}\n{int(maps[k, 0, 0]):+d}", fontsize=7)
        ax.axis("off")
    fig.suptitle(f"label maps of '{facs.EXPRESSIONS[label]}' (Fig. 4): +1 in its channel, -1 elsewhere", fontsize=9)
    fig.tight_layout()
    return fig


def plot_migration_masks(image, masks, output=None):
    """The input, each migration unit's mask M_t (Eq. 1; averaged over channels) and the output."""
    import matplotlib.pyplot as plt

    n = len(masks) + 1 + (output is not None)
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.5))
    _show(axes[0], image, "input")
    for t, (ax, m) in enumerate(zip(axes[1:], masks), start=1):
        _show(ax, m.mean(0), f"M_{t} (mean {float(m.detach().mean()):.2f})")
    if output is not None:
        _show(axes[-1], output, "output")
    fig.tight_layout()
    return fig


def plot_triplets(sources, targets, generated, titles=("source", "target", "generated"), target_landmarks=None):
    """Fig. 8 / Fig. 9: one row per example - source face, target face (whose landmarks and
    label were given; its landmarks drawn when ``target_landmarks`` is given) and the result."""
    import matplotlib.pyplot as plt

    n = len(sources)
    fig, axes = plt.subplots(n, 3, figsize=(6.6, 2.2 * n), squeeze=False)
    for i in range(n):
        for j, (imgs, title) in enumerate(zip((sources, targets, generated), titles)):
            _show(axes[i, j], imgs[i], title if i == 0 else "")
        if target_landmarks is not None:
            lm = target_landmarks[i]
            axes[i, 1].scatter(lm[:, 0], lm[:, 1], s=3, c="cyan")
    fig.tight_layout()
    return fig


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["N_LANDMARKS", "LAMBDAS", "INIT_STD", "heatmap_sigma", "landmark_heatmaps", "landmark_image",
           "label_maps", "FeatureInit", "PlainInit", "MigrationUnit", "migration_update", "Decoder", "LandmarkGenerator", "PatchCritic",
           "output_size", "init_weights", "adversarial_loss", "adversarial_loss_logits", "pixel_loss",
           "perceptual_loss", "total_generator_loss", "critic_loss", "generator_adversarial_loss",
           "expression_shapes", "source_expression_from_landmarks", "fallback_target_landmarks", "pair_table",
           "draw_partners", "plot_heatmaps", "plot_label_maps", "plot_migration_masks", "plot_triplets",
           "count_parameters", "verification_scores"]
