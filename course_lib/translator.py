"""Translating with a trained model of any method: :class:`Translator`, :func:`load_translator`
(a run folder, a checkpoint of any format version, or a checkpoint a method can read, e.g. a
baseline's official release) and :func:`translation_grid` (the sample grids of a run).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from course_lib import checkpoint, facs, methods
from course_lib.config import TrainConfig

N_CLASSES = len(facs.EXPRESSIONS)


def build_method(config: TrainConfig):
    """The :class:`~course_lib.methods.Method` of ``config`` (its networks built at network size ``config.net_size``)."""
    return methods.get(config.model)(config.method_hyper(), config.net_size)


class Translator:
    """``translator(images (B,3,H,W) in [-1,1], target_labels (B,), landmarks (B,68,2) | None)``
    -> translated images (B,3,H,W) in [-1,1].

    Attributes: ``image_size``, ``model_name``, ``config``, ``method`` (its
    ``needs_landmarks`` says whether landmarks must be given).  ``run(...)`` returns the
    method's whole translation (``out``, ``masks``, named ``visuals``, the generator's ``raw``
    output); ``masks(...)`` the attention masks of the same call (the method's ``masks``, e.g.
    eye, mouth and global for the course's method).
    """

    def __init__(self, method, config: TrainConfig | None, device="cpu", model_name=None, image_size=None):
        self.method, self.config = method, config
        self.device = torch.device(device)
        self.model_name = model_name or method.name
        self.image_size = image_size or config.image_size
        self._eval = not method.translate_train_mode

    @property
    def needs_landmarks(self) -> bool:
        return self.method.needs_landmarks

    def _prepare(self, images, target_labels, landmarks):
        x = torch.as_tensor(images, dtype=torch.float32).to(self.device)
        if x.dim() != 4 or x.shape[1] != 3 or tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"images: expected (B, 3, {self.image_size}, {self.image_size}) in [-1, 1] for this "
                             f"{self.model_name} model, got {tuple(x.shape)}")
        t = torch.as_tensor(target_labels).long().to(self.device).reshape(-1)
        if t.numel() != x.shape[0]:
            raise ValueError(f"target_labels: expected {x.shape[0]} labels, got {t.numel()}")
        if t.numel() and (t.min() < 0 or t.max() >= N_CLASSES):
            raise ValueError(f"target_labels must lie in [0, {N_CLASSES - 1}] (facs.EXPRESSIONS), got {t.tolist()}")
        lm = None if landmarks is None else torch.as_tensor(landmarks, dtype=torch.float32).to(self.device)
        return x, self.method.label_condition(t), {"landmarks": lm}

    @torch.no_grad()
    def run(self, images, target_labels, landmarks=None) -> dict:
        """The method's translation: ``{"out", "masks", "visuals", "raw"}``."""
        x, c, extra = self._prepare(images, target_labels, landmarks)
        return self._translate(x, c, extra)

    @torch.no_grad()
    def run_condition(self, images, condition, landmarks=None) -> dict:
        """:meth:`run` for a target condition given directly, in the method's own form (what
        ``method.label_condition`` returns for labels: a one-hot mix for a label method, AU
        intensities for an AU method; rows of ``method.condition_vector``, (B, D) floats): what
        the explorer's interpolation and AU sliders drive."""
        x, c0, extra = self._prepare(images, torch.zeros(len(images), dtype=torch.long), landmarks)
        c0 = self.method.condition_vector(c0)   # class indices -> one-hot rows, so a mix fits
        c = torch.as_tensor(condition, dtype=c0.dtype).to(self.device)
        if c.shape != c0.shape:
            raise ValueError(f"condition: expected shape {tuple(c0.shape)} (one row of "
                             f"{self.model_name}'s condition per image), got {tuple(c.shape)}")
        return self._translate(x, c, extra)

    def _translate(self, x, c, extra) -> dict:
        G = self.method.generator()
        G.train(not self._eval)
        if self._eval:
            return self.method.translate(x, c, extra)
        buffers = {k: b.clone() for k, b in G.named_buffers()}  # training mode would update running stats
        try:
            return self.method.translate(x, c, extra)
        finally:
            for k, b in G.named_buffers():
                b.copy_(buffers[k])

    def __call__(self, images, target_labels, landmarks=None):
        return self.run(images, target_labels, landmarks)["out"].clamp(-1, 1)

    def masks(self, images, target_labels, landmarks=None) -> list:
        return self.run(images, target_labels, landmarks)["masks"]


def translation_grid(translator, x, landmarks=None, with_masks=False):
    """Images (B,3,H,W) -> one grid image (3, B*H, 9*W): each row the input, then its 8
    translations in facs.EXPRESSIONS order; with ``with_masks`` also the masks grid
    (one row per input and mask kind, 8 columns; local masks padded to H x W) or None."""
    from torchvision.utils import make_grid

    B = x.shape[0]
    cols, mask_rows = [x.cpu()], []
    for t in range(N_CLASSES):
        lm = None if landmarks is None else landmarks
        r = translator.run(x, torch.full((B,), t, dtype=torch.long), lm)
        cols.append(r["out"].clamp(-1, 1).float().cpu())
        if with_masks and r["masks"]:
            mask_rows.append([_pad_to(m.float().cpu(), x.shape[-2:]) for m in r["masks"]])
    tiles = torch.stack(cols, 1).reshape(B * (N_CLASSES + 1), *x.shape[1:])
    grid = make_grid(tiles, nrow=N_CLASSES + 1, padding=2, pad_value=1.0)
    if not with_masks:
        return grid
    if not mask_rows:
        return grid, None
    k = len(mask_rows[0])
    # (target, kind, B, 1, H, W) -> rows (B, kind), columns target
    m = torch.stack([torch.stack(kinds) for kinds in mask_rows])  # (8, k, B, 1, H, W)
    m = m.permute(2, 1, 0, 3, 4, 5).reshape(B * k * N_CLASSES, 1, *x.shape[-2:])
    mgrid = make_grid(m.mul(2).sub(1).expand(-1, 3, -1, -1), nrow=N_CLASSES, padding=2, pad_value=-1.0)
    return grid, mgrid


def _pad_to(m, size):
    """Centre a (B,1,h,w) mask on a mid-grey (B,1,H,W) canvas."""
    H, W = size
    h, w = m.shape[-2:]
    if (h, w) == (H, W):
        return m
    top, left = (H - h) // 2, (W - w) // 2
    return F.pad(m, (left, W - w - left, top, H - h - top), value=0.5)


def load_translator(path, device="cpu") -> Translator:
    """A :class:`Translator` from a run folder, a checkpoint of ours (any format version), or a
    checkpoint a method knows how to read (:meth:`~course_lib.methods.Method.from_foreign_checkpoint`,
    e.g. an official release of a baseline's generator)."""
    path = Path(path)
    if path.is_dir():
        ck = path / "checkpoints" / "last.pt"
        if not ck.is_file():
            raise FileNotFoundError(f"{path}: no checkpoints/last.pt in this run folder")
        path = ck
    state = checkpoint.read_run_state(path)
    if state.get("format") == checkpoint.RUN_FORMAT:
        config = TrainConfig.from_dict(state["config"], source=str(path))
        method = build_method(config)
        method.nets = {n: method.nets[n] for n in method.translate_networks}  # translation needs no critic
        for n, net in method.nets.items():
            net.load_state_dict(state["nets"][n])
            net.to(device).eval()
        return Translator(method, config, device)
    tried = []
    for name in methods.names():
        cls = methods.get(name)
        method = cls.from_foreign_checkpoint(state, path, device)
        if method is not None:
            return Translator(method, None, device, model_name=f"{name} (official)", image_size=method.size.image_size)
        if getattr(cls, "foreign_format", None):
            tried.append(cls.foreign_format)
    raise ValueError(f"{path}: neither a course_lib training checkpoint nor " + (" nor ".join(tried) or "a known format"))
