"""Cascade EF-GAN (Wu et al., CVPR 2020): networks (Sections 3.1, 3.2, 7, 8) and losses (Eq. 1, 3-8).

One **EF-GAN** (Fig. 2, Section 3.1) is an *Expression Transformer* and a *Refiner*:

* the Expression Transformer has a global branch on the whole face and three *local focus*
  branches on the eyes (40x92), nose (40x48) and mouth (40x60) patches (Section 4.1; at other
  image sizes scaled, :func:`course_lib.regions.region_sizes`).  Each patch is centred on the
  *training-set mean* of its landmarks (4.1), so every face gets the same three boxes.  All
  branches share an architecture but not their weights (3.1).  Each outputs a colour map M_C and
  an attention map M_A, combined by Eq. 1, ``I_init = M_A * M_C + (1 - M_A) * I_in``: the
  course's :class:`~course_lib.generators.AttentionGenerator` with ``mask_convention="efgan"``
  and ``cond="au"`` (continuous AU intensities tiled over the image);
* the Refiner stitches the three local outputs into one image at their boxes
  (:func:`stitch`), concatenates it with the global output and refines the six channels to the
  final image (3.1).

**Cascade EF-GAN** (3.2) chains ``n_stages`` EF-GANs (3 in the paper); stage k edits stage
k-1's output towards an intermediate AU target produced by the **AU Interpolator** (one for all
stages): pseudo targets by linear interpolation (:func:`pseudo_targets`), their residuals to the
source AUs, and an MLP mapping (source AUs, residual) to the intermediate AUs, trained against a
WGAN critic on AU vectors so that they look like real ones (Eq. 7).

**Critics** (Sections 6-7): D_final on the final output (adversarial head + AU regression
head), and D_init = {D_face, D_eye, D_nose, D_mouth} on the initial outputs; 5 strided
"bottleneck" layers for the face, 3 for the patches; LeakyReLU 0.01.  Section 8: orthogonal
initialisation and spectral normalisation "in all convolutional layers except the output layer"
- read literally, the generators' too (the issue names the critics; :func:`sn_orthogonal`, and
``Hyper.sn_generator`` of the methods switches the generators' off).

Where the paper is silent (its Fig. 9 layer table is an image, not in the text), our choices:

* every branch is StarGAN's generator trunk (:func:`course_lib.blocks.trunk`: 7x7 conv, two
  strided convs, residual blocks, two up layers; IN + ReLU after every conv but the outputs, as
  Section 7 says), with the network size's residual blocks: ``g_repeat_global`` for the face,
  ``g_repeat_local`` for the patches;
* a patch whose side is not a multiple of 4 (at 64x64 the eyes are 20x46, the mouth 20x30) is
  padded by edge replication to the next multiple before its branch and cropped back after it;
* the Refiner is the same trunk with ``g_repeat_local`` residual blocks on 6 channels and a
  7x7 conv + tanh output that *corrects* the global output: ``I_final = clamp(I_face +
  tanh(conv(h)), -1, 1)``, the output conv starting at zero, so an untrained Refiner returns the
  global branch's image (a short CPU run then starts from the Baseline's output instead of noise);
* where two boxes overlap (the nose box overlaps both others on aligned faces), the stitched
  image holds the *mean* of the patches there; outside every box it is 0 (mid grey);
* the critics' real/fake head is a 3x3 conv (a patch map, as StarGAN's), D_final's AU head a
  conv whose kernel covers the whole last feature map (StarGAN's classifier layout);
* the Interpolator: ``y_hat = clamp(y_x + r + MLP([y_x, r]), 0, 1)`` with two hidden layers of
  64 and the last layer initialised to zero, so that an untrained interpolator *is* linear
  interpolation; its critic an MLP of the same widths with LeakyReLU 0.01;
* the **AU reader**: the paper reads the source AUs of a test image with OpenFace (3.1); we have
  no OpenFace, so a small CNN (4 strided convs + a linear layer, sigmoid) is trained on the real
  images' AU intensities alongside the generator and reads a test image's source AUs when a
  cascade translates (the interpolator needs them).  Not part of the paper's model.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_lib import blocks, regions
from course_lib.generators import AttentionGenerator, GeneratorOutput

#: The three local focuses (Section 4.1), in stitching order.
LOCAL = ("eyes", "nose", "mouth")
#: Branch / initial-output names: the global face and the local focuses.
BRANCHES = ("face",) + LOCAL
#: The critics: D_final, then D_init = {D_face, D_eye, D_nose, D_mouth} (Section 6), and the AU critic.
CRITICS = ("final", "face", "eyes", "nose", "mouth")
#: Strided ("bottleneck") layers of the face critics and of the patch critics (Section 7).
FACE_LAYERS, LOCAL_LAYERS = 5, 3
#: Width of the interpolator's and the AU critic's hidden layers (our choice).
MLP_WIDTH = 64


# ----------------------------------------------------------------------------- SN + orthogonal init
def sn_orthogonal(module: nn.Module, skip=()) -> nn.Module:
    """Section 8: orthogonal initialisation (Saxe et al. [35]) and spectral normalisation
    (Miyato et al. [29]) of every ``Conv2d`` / ``ConvTranspose2d`` in ``module`` except the
    modules in ``skip`` (the output layers), biases set to 0.  Returns ``module``."""
    skip_ids = {id(m) for m in skip}
    convs = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and id(m) not in skip_ids]
    for conv in convs:
        nn.init.orthogonal_(conv.weight)
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)
        nn.utils.parametrizations.spectral_norm(conv)
    return module


def has_spectral_norm(conv: nn.Module) -> bool:
    """Whether ``conv``'s weight is spectrally normalised (a ``torch.nn.utils.parametrize`` parametrisation)."""
    return nn.utils.parametrize.is_parametrized(conv, "weight")


# ----------------------------------------------------------------------------- boxes
def boxes_from_centres(centres: dict, image_size: int) -> dict:
    """``{region: (top, left, h, w)}`` (Python ints) of the EF-GAN patches centred on ``centres``
    (``{region: (x, y)}``, the training-set means, Section 4.1) in an ``image_size`` face."""
    import numpy as np

    b = regions.region_boxes(np.zeros((68, 2)), "efgan", image_size,
                             centres={k: np.asarray(v, np.float64) for k, v in centres.items()})
    return {k: tuple(int(v) for v in b[k]) for k in LOCAL}


def crop(x: torch.Tensor, box) -> torch.Tensor:
    """The patch ``box`` = (top, left, h, w) of every image of ``x`` (the same box for all: 4.1)."""
    t, l, h, w = box
    return x[:, :, t:t + h, l:l + w]


def stitch(patches: dict, boxes: dict, size) -> tuple[torch.Tensor, torch.Tensor]:
    """Section 3.1: "the outputs of the three local branches are first stitched into a single
    image according to their respective locations within a facial image".

    ``patches`` ``{region: (B, C, h, w)}``, ``boxes`` ``{region: (top, left, h, w)}``, ``size``
    (H, W).  Returns ``(stitched (B, C, H, W), coverage (B, 1, H, W))``: each patch at its box;
    where boxes overlap the mean of the patches there (our choice); 0 outside every box;
    ``coverage`` counts the patches covering each pixel.  Differentiable.
    """
    H, W = size
    total, count = None, None
    for k, p in patches.items():
        t, l, h, w = boxes[k]
        if tuple(p.shape[-2:]) != (h, w):
            raise ValueError(f"stitch: patch {k!r} is {tuple(p.shape[-2:])}, its box {h}x{w}")
        if t < 0 or l < 0 or t + h > H or l + w > W:
            raise ValueError(f"stitch: box {k!r} {boxes[k]} does not fit in {H}x{W}")
        pad = (l, W - l - w, t, H - t - h)
        placed = F.pad(p, pad)
        ones = F.pad(p.new_ones((p.shape[0], 1, h, w)), pad)
        total = placed if total is None else total + placed
        count = ones if count is None else count + ones
    return total / count.clamp(min=1), count


# ----------------------------------------------------------------------------- generators
class Branch(nn.Module):
    """One branch of the Expression Transformer: an Eq. 1 attention generator conditioned on AU
    intensities, ``forward(x, c) -> GeneratorOutput(out, color, mask)`` for any patch size (padded by
    edge replication to a multiple of 4 and cropped back, our choice)."""

    def __init__(self, n_aus: int, conv_dim: int, repeat: int, upsample: str = "deconv"):
        super().__init__()
        self.net = AttentionGenerator(n_aus, conv_dim, repeat, mask_convention="efgan", cond="au", upsample=upsample)

    @property
    def output_layers(self):
        return [self.net.color_head[0], self.net.mask_head[0]]

    def forward(self, x, c) -> GeneratorOutput:
        m = 2 ** self.net.n_sampling
        h, w = x.shape[-2:]
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            o = self.net(F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="replicate"), c)
            t, l = ph // 2, pw // 2
            return GeneratorOutput(*(v[:, :, t:t + h, l:l + w] for v in o))
        return self.net(x, c)


class Refiner(nn.Module):
    """Section 3.1: the stitched local outputs concatenated with the global output (6 channels)
    -> the final image; IN + ReLU after every conv but the output (Section 7).  Output (our choice,
    module docstring): ``clamp(global + tanh(conv7x7(h)), -1, 1)`` with the conv starting at zero."""

    def __init__(self, conv_dim: int, repeat: int, upsample: str = "deconv"):
        super().__init__()
        self.main = nn.Sequential(*blocks.trunk(6, conv_dim, repeat, 2, upsample=upsample))
        self.out = blocks.output_conv(conv_dim, 3, nn.Tanh())
        nn.init.zeros_(self.out[0].weight)

    @property
    def output_layers(self):
        return [self.out[0]]

    def forward(self, global_out, stitched):
        x = torch.cat([global_out, stitched], 1)
        m = 4
        h, w = x.shape[-2:]
        if h % m or w % m:
            raise ValueError(f"Refiner: image {h}x{w} must be divisible by 4")
        return (global_out + self.out(self.main(x))).clamp(-1, 1)


class EFGAN(nn.Module):
    """One EF-GAN (Fig. 2): Expression Transformer (global + local focus branches) and Refiner.

    ``local_focuses=False`` is Table 3's **Baseline**: the global branch alone (attention as in
    GANimation), whose Eq. 1 output is the final image (no Refiner: there is nothing to fuse).
    ``forward(x, c, boxes)`` -> ``{"out": final, "init": {branch: I_init}, "masks": {branch: M_A},
    "colours": {branch: M_C}, "stitched": image or None}``.
    """

    def __init__(self, n_aus: int, conv_dim: int, repeat_global: int, repeat_local: int, *,
                 local_focuses: bool = True, upsample: str = "deconv", sn: bool = True):
        super().__init__()
        self.local_focuses = local_focuses
        names = BRANCHES if local_focuses else ("face",)
        self.branches = nn.ModuleDict({k: Branch(n_aus, conv_dim, repeat_global if k == "face" else repeat_local,
                                                 upsample) for k in names})
        self.refiner = Refiner(conv_dim, repeat_local, upsample) if local_focuses else None
        if sn:
            sn_orthogonal(self, self.output_layers)

    @property
    def output_layers(self) -> list:
        out = [m for b in self.branches.values() for m in b.output_layers]
        return out + (self.refiner.output_layers if self.refiner is not None else [])

    def forward(self, x, c, boxes=None) -> dict:
        g = self.branches["face"](x, c)
        o = {"init": {"face": g.out}, "masks": {"face": g.mask}, "colours": {"face": g.color}, "stitched": None}
        if not self.local_focuses:
            o["out"] = g.out
            return o
        if boxes is None:
            raise ValueError("EFGAN with local focuses needs boxes {eyes, nose, mouth: (top, left, h, w)}")
        for k in LOCAL:
            r = self.branches[k](crop(x, boxes[k]), c)
            o["init"][k], o["masks"][k], o["colours"][k] = r.out, r.mask, r.color
        o["stitched"], _ = stitch({k: o["init"][k] for k in LOCAL}, boxes, x.shape[-2:])
        o["out"] = self.refiner(g.out, o["stitched"])
        return o


def pseudo_targets(y_src: torch.Tensor, y_trg: torch.Tensor, n_stages: int) -> list[torch.Tensor]:
    """Section 3.2: the pseudo intermediate targets by linear interpolation,
    ``y_p^k = y_src + (k / K) (y_trg - y_src)`` for k = 1 .. K (the last is ``y_trg``)."""
    if n_stages < 1:
        raise ValueError(f"n_stages must be >= 1, got {n_stages}")
    return [y_src + (k / n_stages) * (y_trg - y_src) for k in range(1, n_stages + 1)]


class AUInterpolator(nn.Module):
    """Section 3.2: ``(source AUs y_x, residual r = y_p - y_x) -> intermediate AUs``.

    ``y_hat = clamp(y_x + r + MLP([y_x, r]), 0, 1)``; the MLP's last layer starts at zero, so an
    untrained interpolator returns the linear pseudo target (our choice, module docstring)."""

    def __init__(self, n_aus: int, width: int = MLP_WIDTH):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * n_aus, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, n_aus))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, y_src, r):
        return (y_src + r + self.mlp(torch.cat([y_src, r], 1))).clamp(0, 1)


class AUReader(nn.Module):
    """Our stand-in for OpenFace (Section 3.1 reads AUs with it): image -> AU intensities in [0, 1]
    (4 strided 4x4 convs with LeakyReLU 0.01, global average pooling, a linear layer, sigmoid)."""

    def __init__(self, n_aus: int, conv_dim: int = 16):
        super().__init__()
        layers, dim = [], 3
        for i in range(4):
            layers += [nn.Conv2d(dim, conv_dim * 2 ** i, 4, 2, 1), nn.LeakyReLU(0.01)]
            dim = conv_dim * 2 ** i
        self.main = nn.Sequential(*layers)
        self.head = nn.Linear(dim, n_aus)

    def forward(self, x):
        return torch.sigmoid(self.head(self.main(x).mean((2, 3))))


class CascadeGenerator(nn.Module):
    """Everything a translation needs (the checkpoint's ``G``): ``stages`` (``n_stages`` EF-GANs,
    Section 3.2; 1 for EF-GAN), the shared ``interp`` (AU Interpolator), the ``reader`` (AU reader)
    and the buffers ``centre_sum`` / ``centre_count`` (landmark centres of the training images seen,
    whose mean centres the patches, Section 4.1) and ``assembled`` (1 once the stages were
    initialised from a trained EF-GAN, Section 3.3)."""

    def __init__(self, n_aus: int, image_size: int, conv_dim: int, repeat_global: int, repeat_local: int, *,
                 n_stages: int = 1, local_focuses: bool = True, upsample: str = "deconv", sn: bool = True):
        super().__init__()
        self.image_size, self.n_aus = image_size, n_aus
        self.stages = nn.ModuleList([EFGAN(n_aus, conv_dim, repeat_global, repeat_local, local_focuses=local_focuses,
                                           upsample=upsample, sn=sn) for _ in range(n_stages)])
        self.interp = AUInterpolator(n_aus)
        self.reader = AUReader(n_aus)
        self.register_buffer("centre_sum", torch.zeros(len(LOCAL), 2, dtype=torch.float64))
        self.register_buffer("centre_count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("assembled", torch.zeros((), dtype=torch.long))

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    # -- Section 4.1: patches centred on the training-set mean of their landmarks --------
    @torch.no_grad()
    def observe_landmarks(self, landmarks: torch.Tensor) -> None:
        """Add a training batch's (B, 68, 2) landmarks to the running sums of the region centres."""
        if torch.isnan(landmarks).any():
            raise ValueError("EF-GAN centres its patches on the training images' landmarks (Section 4.1), but some "
                             "images have none (NaN); detect them first (python -m course_lib preprocess)")
        c = regions.region_centres(landmarks.double(), "efgan")
        self.centre_sum += torch.stack([c[k].sum(0) for k in LOCAL]).to(self.centre_sum)
        self.centre_count += landmarks.shape[0]

    def centres(self) -> dict:
        """``{region: (x, y)}``: the mean centres of the training images seen so far."""
        if float(self.centre_count) == 0:
            raise ValueError("EF-GAN has seen no training landmarks yet, so its patches have no centres "
                             "(Section 4.1); train it, or call observe_landmarks(training landmarks) first")
        mean = (self.centre_sum / self.centre_count).cpu().numpy()
        return {k: mean[i] for i, k in enumerate(LOCAL)}

    def boxes(self) -> dict | None:
        """The three patch boxes (top, left, h, w) at this generator's image size (None without local focuses)."""
        if not self.stages[0].local_focuses:
            return None
        return boxes_from_centres(self.centres(), self.image_size)

    # -- Section 3.2 -------------------------------------------------------------------
    def stage_targets(self, y_src, y_trg, n_stages: int | None = None) -> tuple[list, list]:
        """``(targets, pseudo)``: the AU target of each stage - the interpolator's output for the
        intermediate stages, ``y_trg`` itself for the last (our choice: the last stage answers the
        user's target) - and the linear pseudo targets (:func:`pseudo_targets`)."""
        K = self.n_stages if n_stages is None else n_stages
        pseudo = pseudo_targets(y_src, y_trg, K)
        return [self.interp(y_src, p - y_src) for p in pseudo[:-1]] + [y_trg], pseudo

    def copy_stage_one(self) -> None:
        """Section 3.3: initialise every stage with stage 1's weights (the trained EF-GAN)."""
        state = self.stages[0].state_dict()
        for stage in self.stages[1:]:
            stage.load_state_dict(state)
        self.assembled.fill_(1)

    def load_ef_gan(self, state: dict) -> None:
        """Section 3.3: initialise every stage (and the interpolator, the reader and the centres)
        from the ``G`` state of a trained one-stage EF-GAN with the same local focuses."""
        one = {k[len("stages.0."):]: v for k, v in state.items() if k.startswith("stages.0.")}
        if not one or any(k.startswith("stages.1.") for k in state):
            raise ValueError("init_from: expected the G of a one-stage EF-GAN (keys 'stages.0.*' only)")
        for stage in self.stages:
            stage.load_state_dict(one)
        rest = {k: v for k, v in state.items() if not k.startswith("stages.")}
        self.load_state_dict({**self.state_dict(), **rest}, strict=True)
        self.assembled.fill_(1)

    def forward(self, x, y_trg, y_src=None, n_stages: int | None = None, targets=None, boxes=None) -> dict:
        """Run the cascade (or its first ``n_stages`` stages): ``{"out", "stages": [stage dicts],
        "targets": [AU targets], "inputs": [stage inputs]}``.  ``y_src`` (the input's AUs) is
        needed by a cascade of more than one stage (None: read by the AU reader); ``targets``
        (one per stage) replaces the interpolator's; ``boxes`` the training-set boxes."""
        K = self.n_stages if n_stages is None else n_stages
        boxes = self.boxes() if boxes is None else boxes
        if targets is not None:
            targets = list(targets)[:K]
        elif K > 1:
            y_src = self.reader(x) if y_src is None else y_src
            targets, _ = self.stage_targets(y_src, y_trg, K)
        else:
            targets = [y_trg]
        outs, inputs, cur = [], [], x
        for k in range(K):
            inputs.append(cur)
            o = self.stages[k](cur, targets[k], boxes)
            outs.append(o)
            cur = o["out"]
        return {"out": cur, "stages": outs, "targets": targets, "inputs": inputs}


# ----------------------------------------------------------------------------- critics
class Critic(nn.Module):
    """A critic of Section 7: ``n_layers`` strided 4x4 convs with LeakyReLU 0.01 (spectral norm +
    orthogonal init, Section 8), a 3x3 real/fake head and, for D_final, an AU regression head (a conv
    spanning the last feature map); the heads are the output layers (no SN, PyTorch's init).
    ``forward(x) -> (src map, AUs (B, n) or None)``."""

    def __init__(self, size, conv_dim: int, n_layers: int, n_aus: int | None = None):
        super().__init__()
        h, w = (size, size) if isinstance(size, int) else size
        layers, dim = [], 3
        for i in range(n_layers):
            layers += [nn.Conv2d(dim, conv_dim * 2 ** i, 4, 2, 1), nn.LeakyReLU(0.01)]
            dim = conv_dim * 2 ** i
            h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"Critic: {size} is too small for {n_layers} strided layers")
        self.size = size
        self.main = nn.Sequential(*layers)
        self.src = nn.Conv2d(dim, 1, 3, 1, 1)
        self.au = nn.Conv2d(dim, n_aus, (h, w)) if n_aus else None
        sn_orthogonal(self, self.output_layers)

    @property
    def output_layers(self):
        return [self.src] + ([self.au] if self.au is not None else [])

    def forward(self, x):
        h = self.main(x)
        return self.src(h), (self.au(h).flatten(1) if self.au is not None else None)


class AUCritic(nn.Module):
    """D_interp (Section 3.2, Eq. 7): a WGAN critic on AU vectors, ``(B, n) -> (B, 1)`` (an MLP, our choice)."""

    def __init__(self, n_aus: int, width: int = MLP_WIDTH):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(n_aus, width), nn.LeakyReLU(0.01), nn.Linear(width, width),
                                  nn.LeakyReLU(0.01), nn.Linear(width, 1))

    def forward(self, y):
        return self.main(y)


def build_critics(image_size: int, conv_dim: int, n_aus: int, local_focuses: bool = True) -> nn.ModuleDict:
    """``{"final": D_final (with the AU head), "face", "eyes", "nose", "mouth": D_init, "interp": D_interp}``;
    without local focuses (Baseline) D_final and D_interp only (the final image is the global output)."""
    sizes = regions.region_sizes("efgan", image_size)
    d = {"final": Critic(image_size, conv_dim, FACE_LAYERS, n_aus)}
    if local_focuses:
        d["face"] = Critic(image_size, conv_dim, FACE_LAYERS)
        for k in LOCAL:
            d[k] = Critic(sizes[k], conv_dim, LOCAL_LAYERS)
    d["interp"] = AUCritic(n_aus)
    return nn.ModuleDict(d)


# ============================================================================= Losses
# One function per equation of Section 6.  Conventions of course_lib.losses: WGAN-GP without the
# printed logarithms (Eq. 3 and 7 print log D but say WGAN-GP), every function returns a 0-dim
# tensor to *minimise*, nothing is clamped (NaNs reach the trainer's guard).

def adversarial_critic_loss(critics: dict, reals: dict, fakes: dict, lambda_gp: float = 10.0):
    """Eq. 3 for the critics, summed over ``D_i`` in ``fakes``:
    ``sum_i -mean D_i(I_x,i) + mean D_i(I_i) + lambda_gp mean (||grad D_i(I~_i)||_2 - 1)^2``
    (WGAN-GP; lambda_gp 10).  ``reals`` / ``fakes``: ``{critic: images}``; fakes are detached.
    Returns ``(total, {"adv": sum of the Wasserstein terms, "gp": sum of the penalties})``."""
    from course_lib import losses

    adv, gp = 0, 0
    for k, fake in fakes.items():
        D = critics[k]
        adv = adv + losses.critic_adv_loss(D(reals[k])[0], D(fake.detach())[0])
        gp = gp + losses.gradient_penalty(D, reals[k], fake)
    return adv + lambda_gp * gp, {"adv": adv.detach(), "gp": gp.detach()}


def adversarial_generator_loss(critics: dict, fakes: dict):
    """Eq. 3 for the generator: ``sum_i -mean D_i(I_i)`` over the critics in ``fakes``."""
    from course_lib import losses

    return sum(losses.generator_adv_loss(critics[k](f)[0]) for k, f in fakes.items())


def conditional_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """One term of Eq. 4, ``E ||D_final(I) - y||_2^2``: with real images and their AUs y_x it trains
    D_final, with generated images and their targets y_z the generator.  Our reading: the squared
    norm averaged over the c AUs (the elementwise mean squared error), as GANimation's code, whose
    weights EF-GAN's match (lambda_1 = 3000 here, 4000 there)."""
    if pred.shape != target.shape:
        raise ValueError(f"conditional_loss: prediction {tuple(pred.shape)} vs target {tuple(target.shape)}")
    return ((pred - target) ** 2).mean()


def content_loss(rec: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Eq. 5: ``E ||I_rec - I_x||_1``, the cycle loss between the input and its reconstruction
    (only for the final output, Section 6), as the mean absolute error (course_lib.losses.cycle_loss)."""
    from course_lib import losses

    return losses.cycle_loss(rec, x)


def attention_loss(masks) -> torch.Tensor:
    """Eq. 6: ``E [||M_A(face)||_2 + ||M_A(eye)||_2 + ||M_A(nose)||_2 + ||M_A(mouth)||_2]``: the L2 norm
    of each mask divided by sqrt(its number of pixels) (the root mean square, so lambda_3 weighs the
    face and the patches alike; the course's reading of the same norm in LGP-GAN Eq. 7,
    :func:`course_lib.losses.attention_loss`), averaged over the batch, summed over the masks."""
    from course_lib import losses

    return losses.attention_loss(list(masks.values()) if isinstance(masks, dict) else masks, "l2", normalized=True)


def interpolation_loss(y_hat: torch.Tensor, y_pseudo: torch.Tensor, d_interp_out: torch.Tensor,
                       lambda_int: float = 0.1) -> torch.Tensor:
    """Eq. 7 for the Interpolator: ``E ||y_hat - y_p||_2 + lambda_int (-E D_interp(y_hat))``: the L2
    distance (not squared) to the linear pseudo target, averaged over the batch, plus the WGAN
    generator term of the AU critic (lambda_int 0.1)."""
    if y_hat.shape != y_pseudo.shape:
        raise ValueError(f"interpolation_loss: y_hat {tuple(y_hat.shape)} vs y_pseudo {tuple(y_pseudo.shape)}")
    return (y_hat - y_pseudo).norm(2, dim=1).mean() - lambda_int * d_interp_out.mean()


def interpolation_critic_loss(d_interp, real_aus: torch.Tensor, y_hat: torch.Tensor, lambda_gp: float = 10.0):
    """Eq. 7's critic D_interp, "also trained with WGAN-GP": ``-mean D(y_real) + mean D(y_hat) +
    lambda_gp mean (||grad D(y~)||_2 - 1)^2`` on AU vectors.  Returns ``(total, {"adv", "gp"})``."""
    from course_lib import losses

    y_hat = y_hat.detach()
    adv = losses.critic_adv_loss(d_interp(real_aus), d_interp(y_hat))
    gp = losses.gradient_penalty(d_interp, real_aus, y_hat)
    return adv + lambda_gp * gp, {"adv": adv.detach(), "gp": gp.detach()}


def total_loss(parts: dict, lambda_1: float = 3000.0, lambda_2: float = 10.0, lambda_3: float = 0.1,
               lambda_4: float = 1.0) -> torch.Tensor:
    """Eq. 8: ``L_adv + lambda_1 L_cond + lambda_2 L_cont + lambda_3 L_attn + lambda_4 L_interp`` (Section 8:
    3000, 10, 0.1, 1) from ``parts`` = ``{"adv", "cond", "cont", "attn", "interp"}`` (a missing part is 0)."""
    get = lambda k: parts.get(k, 0.0)  # noqa: E731
    return get("adv") + lambda_1 * get("cond") + lambda_2 * get("cont") + lambda_3 * get("attn") + lambda_4 * get("interp")


def plot_continuous_editing(x, result: dict, source_aus, target_aus, au_names=None, title: str = ""):
    """Section 4.5 / Fig. 7: one input's continuous editing.  Top: the input and each stage's output;
    bottom: each stage's AU target from the interpolator beside the plain linear interpolation
    (``result`` from :meth:`CascadeGenerator.forward`, ``source_aus`` / ``target_aus`` (n,))."""
    import matplotlib.pyplot as plt

    from course_lib.generators import to_image

    K = len(result["stages"])
    fig, axes = plt.subplots(2, K + 1, figsize=(2.3 * (K + 1), 4.9), gridspec_kw={"height_ratios": [1.2, 1]})
    axes[0, 0].imshow(to_image(x[0]))
    axes[0, 0].set_title("input", fontsize=9)
    src = torch.as_tensor(source_aus).float().flatten()
    trg = torch.as_tensor(target_aus).float().flatten()
    lin = pseudo_targets(src[None], trg[None], K)
    idx = torch.arange(len(src))
    axes[1, 0].bar(idx, src.numpy(), color="0.5")
    axes[1, 0].set_title("source AUs", fontsize=9)
    for k in range(K):
        axes[0, k + 1].imshow(to_image(result["stages"][k]["out"][0]))
        axes[0, k + 1].set_title(f"stage {k + 1}" + (" (final)" if k == K - 1 else ""), fontsize=9)
        t = result["targets"][k][0].detach().float().cpu()
        axes[1, k + 1].bar(idx - 0.2, lin[k][0].numpy(), 0.4, color="0.7", label="linear")
        axes[1, k + 1].bar(idx + 0.2, t.numpy(), 0.4, color="tab:red", label="interpolator" if k < K - 1 else "target")
        axes[1, k + 1].set_title(f"AU target of stage {k + 1}", fontsize=9)
        axes[1, k + 1].legend(fontsize=6)
    for ax in axes[0]:
        ax.axis("off")
    for ax in axes[1]:
        ax.set_ylim(0, 1.05)
        ax.set_xticks(list(idx.numpy()))
        ax.set_xticklabels(au_names or [str(i) for i in idx.tolist()], rotation=90, fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_stage(x, result: dict, source_aus, k: int, au_names=None):
    """The widget's view of the path (Section 4.5): stage ``k`` (0 = the input) of one edit - its image
    and its AU target beside the linear pseudo target (``result`` from :meth:`CascadeGenerator.forward`)."""
    import matplotlib.pyplot as plt

    from course_lib.generators import to_image

    K = len(result["stages"])
    if not 0 <= k <= K:
        raise ValueError(f"k = {k}: expected 0 (the input) .. {K}")
    src = torch.as_tensor(source_aus).float().flatten()
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.5, 2.9), gridspec_kw={"width_ratios": [1, 2]})
    img = x[0] if k == 0 else result["stages"][k - 1]["out"][0]
    a.imshow(to_image(img))
    a.set_title("input" if k == 0 else f"stage {k} of {K}", fontsize=9)
    a.axis("off")
    idx = torch.arange(len(src))
    trg = result["targets"][-1][0].detach().float().cpu()
    lin = src if k == 0 else pseudo_targets(src[None], trg[None], K)[k - 1][0]
    got = src if k == 0 else result["targets"][k - 1][0].detach().float().cpu()
    b.bar(idx - 0.2, lin.numpy(), 0.4, color="0.7", label="linear interpolation")
    b.bar(idx + 0.2, got.numpy(), 0.4, color="tab:red", label="AUs of this stage")
    b.set_ylim(0, 1.05)
    b.set_xticks(list(idx.numpy()))
    b.set_xticklabels(au_names or [str(i) for i in idx.tolist()], rotation=90, fontsize=6)
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def stage_slider(x, result: dict, source_aus, au_names=None):
    """ipywidgets panel (ipywidgets 7 and 8): a slider over the path of one edit, 0 (the input) .. K
    (the final stage), each position drawn by :func:`plot_stage`.  ``panel.slider``, ``panel.output``:
    handles for tests."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    K = len(result["stages"])
    slider = w.IntSlider(value=0, min=0, max=K, step=1, description="stage", continuous_update=False)
    out = w.Output()

    def update(_=None):
        out.clear_output(wait=True)
        with out:
            fig = plot_stage(x, result, source_aus, slider.value, au_names)
            display(fig)
            plt.close(fig)

    slider.observe(update, names="value")
    update()
    panel = w.VBox([slider, out])
    panel.slider, panel.output = slider, out
    return panel


class ScaledAdam(torch.optim.Adam):
    """Adam whose step uses ``lr * scale()`` (the cascade's own phase schedule, Section 8, on top of
    the trainer's learning rate); ``param_groups`` keep the trainer's lr between steps."""

    def __init__(self, params, lr, betas, scale):
        super().__init__(params, lr, betas)
        self.scale = scale

    def step(self, closure=None):
        s = float(self.scale())
        if s == 1.0:
            return super().step(closure)
        saved = [g["lr"] for g in self.param_groups]
        for g in self.param_groups:
            g["lr"] = g["lr"] * s
        try:
            return super().step(closure)
        finally:
            for g, lr in zip(self.param_groups, saved):
                g["lr"] = lr


def mask_rms(mask: torch.Tensor) -> torch.Tensor:
    """Root mean square of each sample's mask (B,): the per-mask term of :func:`attention_loss`."""
    flat = mask.flatten(1)
    return flat.norm(2, dim=1) / math.sqrt(flat.shape[1])
