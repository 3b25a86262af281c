"""The course's one feature network for perceptual losses: ECGAN's content loss (Tang et al. 2019,
Eq. 3, after Ledig et al.'s VGG loss) and the landmark-guided GAN's perceptual loss share it.

    net = feature_network()                      # "auto": VGG19 (ImageNet) if loadable, else the stand-in
    maps = net(images)                           # images (B,3,H,W) in [-1,1] -> {"conv1_2": (B,C,h,w)}
    net.kind, net.label                          # what was used: record it in configs, logs and tables

``weights`` chooses the network:

* ``"auto"`` (default): torchvision's **VGG19 with ImageNet weights** when they can be loaded (the
  torch hub cache ``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``, or a download, which is
  tried only when the host answers within a few seconds and never when ``COURSE_OFFLINE=1``);
  otherwise one clear message is logged and the **offline stand-in** is used.
* ``"imagenet"``: VGG19 with ImageNet weights, or :class:`FeatureWeightsUnavailable` saying why.
* a path: a VGG19 state dict in that file (torchvision's ``vgg19-*.pth`` or any state dict with
  its ``features.*`` keys); an error naming the file when it is missing or is not one.
* ``"in-domain"``: the stand-in.

**The stand-in** is not VGG19: it is the course's shipped in-domain expression judge
(``data/judges/expression-judge-64px-v<N>.pt``, :mod:`course_lib.judge`), a small CNN trained
on the synthetic faces.  Its body has four stride-2 blocks (conv 4x4, BatchNorm, LeakyReLU) that
halve a 64x64 input down to 4x4, so the VGG layer names map to block outputs by stage (the
``i`` of ``conv{i}_{j}``, the ``i``-th max-pooling stage of VGG):

========================  =====================================  ====================
VGG19 layer               stand-in layer (after LeakyReLU)        shape for 64x64 input
========================  =====================================  ====================
conv1_1, conv1_2          block 1                                 32 x 32 x 32
conv2_1, conv2_2          block 2                                 64 x 16 x 16
conv3_1 .. conv3_4        block 3                                 128 x 8 x 8
conv4_1 .. conv5_4        block 4                                 128 x 4 x 4
========================  =====================================  ====================

(The judge resizes every input to 64x64 first.)  With VGG, ``conv{i}_{j}`` is the feature
map of the ``j``-th convolution before the ``i``-th max-pooling **after its ReLU** (Ledig et
al.'s phi_ij; ECGAN Eq. 3), computed on ImageNet-normalised inputs.

The network is frozen: eval mode (``train()`` cannot switch it back: BatchNorm statistics
never move), ``requires_grad`` off on every parameter, while gradients flow to the input
images.  It never runs with random weights: every weight comes from a file, and a file that
does not fill every layer is an error.  Keep it out of a model's ``state_dict`` (VGG19's
features are 80 MB): hold it in a plain attribute, not as a registered sub-module.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

logger = logging.getLogger(__name__)

#: torchvision's ImageNet VGG19 weights (``VGG19_Weights.IMAGENET1K_V1``).
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILE = VGG19_URL.rsplit("/", 1)[-1]
#: Set to 1 to never try a download.
OFFLINE_ENV = "COURSE_OFFLINE"
#: Seconds the download host has to answer before "auto" gives up on it.
PROBE_TIMEOUT = 3.0

#: VGG19's convolutions per stage (before each max-pooling).
VGG19_STAGES = (2, 2, 4, 4, 4)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

KIND_VGG = "vgg19-imagenet"
KIND_STANDIN = "in-domain-judge"


class FeatureWeightsUnavailable(RuntimeError):
    """The VGG19 weights asked for cannot be loaded."""


def vgg19_layer_index() -> dict[str, int]:
    """``conv{i}_{j}`` -> index in ``torchvision.models.vgg19().features`` of the ReLU after it."""
    out, k = {}, 0
    for i, n in enumerate(VGG19_STAGES, start=1):
        for j in range(1, n + 1):
            out[f"conv{i}_{j}"] = k + 1          # conv at k, its ReLU at k + 1
            k += 2
        k += 1                                   # max-pooling
    return out


VGG19_LAYERS = vgg19_layer_index()


def standin_block(layer: str) -> int:
    """The stand-in's block (0-based) for a VGG layer name (see the module's table)."""
    if layer not in VGG19_LAYERS:
        raise ValueError(f"layer {layer!r}: expected a VGG19 layer name, one of {', '.join(VGG19_LAYERS)}")
    return min(int(layer[4]) - 1, 3)


class FeatureNetwork(nn.Module):
    """A frozen feature extractor: ``forward(images)`` -> {layer name: feature map}.

    ``kind``: :data:`KIND_VGG` or :data:`KIND_STANDIN`; ``label``: one sentence for logs, configs
    and tables; ``source``: the weights file; ``layers``: the layer names returned.
    Build it with :func:`feature_network`.
    """

    def __init__(self, body: nn.Sequential, taps: dict[str, int], *, kind: str, label: str, source: str,
                 normalize: bool, resize: int | None = None):
        super().__init__()
        self.body = body
        self.taps = dict(taps)                   # layer name -> index in body whose output it is
        self.layers = tuple(taps)
        self.kind, self.label, self.source = kind, label, source
        self.normalize, self.resize = normalize, resize
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> "FeatureNetwork":
        """Stays in eval mode whatever ``mode`` is (a frozen network's BatchNorm must not move)."""
        return super().train(False)

    def describe(self) -> dict:
        """What to record in a run's config and a table's notes."""
        return {"kind": self.kind, "label": self.label, "source": self.source, "layers": list(self.layers)}

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"FeatureNetwork: expected images (B,3,H,W) in [-1,1], got {tuple(images.shape)}")
        x = images
        if self.resize and x.shape[-2:] != (self.resize, self.resize):
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False,
                              antialias=True)
        if self.normalize:
            x = ((x + 1) / 2 - self.mean) / self.std
        wanted = {i: name for name, i in self.taps.items()}
        out, last = {}, max(wanted)
        for i, module in enumerate(self.body):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
            if i == last:
                break
        return {name: out[name] for name in self.layers}


# ----------------------------------------------------------------------------- VGG19
def vgg19_features(upto: int) -> nn.Sequential:
    """torchvision's ``vgg19().features`` (configuration "E") up to index ``upto``, same indices, ReLUs
    not in place (tapped outputs must not be overwritten); weights to be loaded."""
    layers, c_in = [], 3
    for n, c_out in zip(VGG19_STAGES, (64, 128, 256, 512, 512)):
        for _ in range(n):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=False)]
            c_in = c_out
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers[:upto + 1])


def _vgg_body(state: dict, layers, source: str) -> nn.Sequential:
    feats = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    last = max(VGG19_LAYERS[name] for name in layers)
    body = vgg19_features(last)
    need = set(body.state_dict())
    missing = sorted(need - set(feats), key=lambda k: (int(k.split(".")[0]), k))
    if missing:
        raise ValueError(f"{source}: not a VGG19 state dict (missing {', '.join('features.' + k for k in missing[:4])}"
                         f"{' ...' if len(missing) > 4 else ''}; expected torchvision's vgg19 keys features.N.weight/bias)")
    try:
        body.load_state_dict({k: feats[k] for k in need}, strict=True)
    except RuntimeError as err:
        raise ValueError(f"{source}: its weights do not fit VGG19 ({str(err).splitlines()[-1].strip()})") from err
    return body


def _vgg(state: dict, layers, source: str, label: str) -> FeatureNetwork:
    body = _vgg_body(state, layers, source)
    return FeatureNetwork(body, {name: VGG19_LAYERS[name] for name in layers}, kind=KIND_VGG, label=label,
                          source=source, normalize=True)


def _read_state(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such VGG19 weights file (expected a state dict such as torchvision's "
                                f"{VGG19_FILE})")
    from course_lib import checkpoint

    try:
        state = checkpoint.load(path)
    except checkpoint.CheckpointError as err:
        raise ValueError(f"{path}: cannot read it as a VGG19 state dict ({err})") from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a state dict (a {type(state).__name__}); expected torchvision's VGG19 weights")
    return state


def cached_vgg19() -> Path:
    """Where torch hub keeps torchvision's ImageNet VGG19 weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def _host_answers(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether ``url``'s host accepts a TCP connection within ``timeout`` seconds (DNS included)."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(url).hostname
    result = []

    def probe():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            result.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(result)


def _download_vgg19() -> Path:
    """Download the ImageNet VGG19 weights into the torch hub cache (or raise why not)."""
    if os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        raise FeatureWeightsUnavailable(f"{OFFLINE_ENV} is set: no download tried")
    if not _host_answers(VGG19_URL):
        raise FeatureWeightsUnavailable(f"offline: download.pytorch.org could not be reached within "
                                        f"{PROBE_TIMEOUT:g} s")
    try:
        torch.hub.load_state_dict_from_url(VGG19_URL, progress=True, check_hash=True)
    except Exception as err:  # blocked, interrupted, ...
        raise FeatureWeightsUnavailable(f"downloading {VGG19_URL} failed ({type(err).__name__}: {err})") from err
    return cached_vgg19()


def imagenet_vgg19_file() -> Path:
    """The ImageNet VGG19 weights file: from the torch hub cache, else downloaded; else
    :class:`FeatureWeightsUnavailable`."""
    cached = cached_vgg19()
    if cached.is_file():
        return cached
    try:
        return _download_vgg19()
    except FeatureWeightsUnavailable as err:
        raise FeatureWeightsUnavailable(
            f"VGG19 ImageNet weights unavailable: not in the torch hub cache ({cached}) and {err}. "
            f"Pass a VGG19 state dict file (e.g. --vgg-weights PATH to {VGG19_FILE}) or use the in-domain stand-in"
        ) from err


# ----------------------------------------------------------------------------- stand-in
def standin_judge_file(directory: Path | None = None) -> Path:
    """The shipped 64-px judge the stand-in uses (highest version)."""
    from course_lib import judge

    files = judge.shipped(64, directory)
    if not files:
        raise FileNotFoundError(f"no shipped judge data/judges/{judge.judge_name(64)}-v<N>.pt in "
                                f"{directory or judge.JUDGES_DIR}: the in-domain stand-in needs it")
    return files[-1]


def _standin(layers, path: Path | None = None) -> FeatureNetwork:
    from course_lib import classifier
    from course_lib.lesson import repo_root

    path = Path(path) if path is not None else standin_judge_file()
    model = classifier.load_judge(path)           # checks the sha256 of its weights
    blocks = [nn.Sequential(*model.body[3 * b:3 * b + 3]) for b in range(4)]
    try:
        where = path.resolve().relative_to(repo_root())
    except ValueError:
        where = path
    label = f"offline stand-in: the course's shipped expression judge {where}, not VGG19"
    return FeatureNetwork(nn.Sequential(*blocks), {name: standin_block(name) for name in layers},
                          kind=KIND_STANDIN, label=label, source=str(where), normalize=False,
                          resize=model.image_size)


# ----------------------------------------------------------------------------- entry point
def feature_network(weights="auto", layers=("conv1_2",), log=None) -> FeatureNetwork:
    """The frozen feature network (see the module docstring): ``weights`` is ``"auto"``,
    ``"imagenet"``, ``"in-domain"`` or a path to a VGG19 state dict; ``layers``: VGG19 layer names
    (``conv{i}_{j}``), one feature map each.  ``log``: where the fallback message goes (a
    callable taking a string; default: this module's logger, level WARNING)."""
    if isinstance(layers, str):
        layers = (layers,)
    layers = tuple(layers)
    if not layers:
        raise ValueError("feature_network: layers is empty (expected VGG19 layer names such as 'conv1_2')")
    for name in layers:
        standin_block(name)                          # validates the name
    say = log or logger.warning
    if isinstance(weights, (str, os.PathLike)) and str(weights) in ("auto", "imagenet", "in-domain"):
        weights = str(weights)
        if weights == "in-domain":
            return _standin(layers)
        try:
            path = imagenet_vgg19_file()
        except FeatureWeightsUnavailable as err:
            if weights == "imagenet":
                raise
            net = _standin(layers)
            say(f"{err}. Using the {net.label}.")
            return net
        return _vgg(_read_state(path), layers, str(path), "VGG19 (ImageNet weights)")
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights)
        return _vgg(_read_state(path), layers, str(path), f"VGG19 (weights from {path})")
    raise ValueError(f"weights={weights!r}: expected 'auto', 'imagenet', 'in-domain' or a path to a VGG19 state dict")
