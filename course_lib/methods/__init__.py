"""Training methods, one module each, found by name: ``course_lib/methods/<name>.py``.

The layout of junyanz/pytorch-CycleGAN-and-pix2pix's ``models/`` (one ``<name>_model.py``
per method, a ``BaseModel`` with ``model_names`` and one optimiser per network), without
an if/elif factory: every module of this package that does not start with ``_`` is
imported by :func:`get` / :func:`names`, and each defines one subclass of :class:`Method`
decorated with :func:`register`.  The trainer (:mod:`course_lib.trainer`), the command
line (``train --model``, ``main``, ``bench train``, ``generate``, ``evaluate``,
``methods``) and the lessons only talk to this interface, so adding a method is one new
file (plus its lesson and its tests).

A method says

* what it is: ``name`` (the CLI name), ``paper``, ``equations`` (the Eq./Tables it
  implements), ``conditioning`` ("label", "AUs" or "landmarks+label"), ``needs_landmarks``,
  ``batch_keys`` (what a training batch must carry);
* its hyper-parameters: ``Hyper``, a dataclass whose defaults are the paper's values and
  whose fields are documented with the Eq./Table they come from (validated by
  :func:`make_hyper`; a run's ``config.yaml`` keeps them under ``hyper:``);
* ``build(size) -> {network name: module}`` for a network size preset of
  :mod:`course_lib.presets` (``network_names`` lists the keys, one optimiser each);
* ``updates(step, config)``: which networks are updated at iteration ``step``, in order
  (e.g. ``("D",)`` or ``("D", "G")``);
* ``prepare(batch)``: what an iteration draws once for all its updates (the targets);
* ``loss(which, batch) -> (total, {name: part})`` for the update of network ``which``;
* ``translate(images, target, extra) -> {"out", "visuals", "raw"}`` (masks, colour maps,
  stages as named ``visuals``).

Modules here keep ``torch`` imports inside functions, so that ``python -m course_lib --help``
(whose ``--model`` choices come from :func:`names`) stays instant.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
import typing

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: make ``cls`` available under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__}: a registered method needs a name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two methods registered as {cls.name!r}: {_REGISTRY[cls.name].__module__} and {cls.__module__}")
    _REGISTRY[cls.name] = cls
    return cls


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def names() -> tuple[str, ...]:
    """The CLI names of every method, sorted."""
    _discover()
    return tuple(sorted(_REGISTRY))


def get(name: str) -> type:
    """The :class:`Method` subclass registered as ``name``; a clear error otherwise."""
    _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}: expected one of {', '.join(sorted(_REGISTRY))} "
                         "(python -m course_lib methods)")
    return _REGISTRY[name]


class HyperError(ValueError):
    """An unknown hyper-parameter or a value of the wrong type; names the key and the method."""


def make_hyper(method: str, values: dict | None = None, *, lenient: tuple[str, ...] = ()):
    """``method``'s ``Hyper`` dataclass with ``values`` applied, validated.

    Unknown keys and wrong types raise :class:`HyperError` naming the key and the method;
    keys listed in ``lenient`` are dropped instead when the method lacks them (used for a
    training preset's overrides, which apply to the methods that have the field).
    """
    cls = get(method).Hyper
    values = dict(values or {})
    known = {f.name: f for f in dataclasses.fields(cls)}
    for k in [k for k in values if k not in known and k in lenient]:
        del values[k]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise HyperError(f"method {method!r} has no hyper-parameter(s) {unknown}; its hyper-parameters: "
                         f"{', '.join(known)} (python -m course_lib methods)")
    hints = typing.get_type_hints(cls)
    out = {}
    for k, v in values.items():
        out[k] = _coerce(method, k, v, hints[k])
    hyper = cls(**out)
    check = getattr(hyper, "validate", None)
    if check is not None:
        try:
            check()
        except ValueError as err:
            raise HyperError(f"method {method!r}: {err}") from None
    return hyper


def _coerce(method, key, value, hint):
    """``value`` checked against the annotation ``hint`` (float, int, str, bool, ``X | None``)."""
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    if value is None and optional:
        return None

    def bad(expected):
        return HyperError(f"method {method!r}: hyper-parameter {key!r} = {value!r}: expected {expected}"
                          + (" or null" if optional else ""))

    if base is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad("a number")
        return float(value)
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if base is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if base is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    return value


def non_negative(hyper, *names_):
    """Raise ValueError naming the first field of ``names_`` that is negative."""
    for n in names_:
        v = getattr(hyper, n)
        if v is not None and v < 0:
            raise ValueError(f"hyper-parameter {n!r} = {v!r}: expected a number >= 0")


class Method:
    """One method's networks, optimisers, schedule of updates, losses and translation.

    ``Method(hyper, size)`` builds the networks of size preset ``size`` (``self.nets``, a
    ``{name: module}`` dict in ``network_names`` order).  Subclasses set the class
    attributes below and implement :meth:`build`, :meth:`loss` and :meth:`translate`.
    """

    name = ""                       #: CLI name
    paper = ""                      #: the paper (authors, venue, year)
    equations = ""                  #: the Eq./Tables of the paper this implements
    conditioning = "label"          #: "label" | "AUs" | "landmarks+label"
    needs_landmarks = False         #: batches (and translate) need (B, 68, 2) landmarks
    batch_keys = ("image", "label")  #: what a training batch must carry
    network_names = ("G", "D")      #: one optimiser per network
    lr_fields = {"G": "g_lr", "D": "d_lr"}  #: TrainConfig field of each network's learning rate
    translate_train_mode = False    #: run G in training mode when translating (StarGAN's official test)
    translate_networks = ("G",)    #: the networks translation needs (what a shipped checkpoint keeps)
    Hyper = None                    #: the hyper-parameter dataclass

    def __init__(self, hyper=None, size="cpu", build: bool = True):
        from course_lib import presets

        self.hyper = make_hyper(self.name) if hyper is None else hyper
        self.size = presets.get_preset(size)
        self.nets = self.build(self.size) if build else {}

    # -- what subclasses provide ------------------------------------------------------
    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp") -> dict:
        """``{"G": generator, "D": discriminator}`` at size preset ``size``, as the lessons use them
        (:func:`course_lib.presets.build_models`)."""
        raise NotImplementedError

    def build(self, size) -> dict:
        """``{network name: module}`` at size preset ``size`` (a :class:`presets.ModelPreset`)."""
        raise NotImplementedError

    def loss(self, which: str, batch: dict):
        """``(total, {part: tensor})`` of the update of network ``which`` on a prepared batch."""
        raise NotImplementedError

    def translate(self, images, target, extra: dict | None = None) -> dict:
        """``{"out": images, "visuals": {name: tensor}, "raw": generator output}`` for targets
        given as this method's condition (see :meth:`label_condition`)."""
        raise NotImplementedError

    # -- defaults ---------------------------------------------------------------------
    def optimizers(self, config) -> dict:
        """One Adam per network (LGP-GAN IV.B: betas 0.5 / 0.999), lr from ``lr_fields``."""
        import torch

        return {n: torch.optim.Adam(self.nets[n].parameters(), getattr(config, self.lr_fields[n]),
                                    (config.beta1, config.beta2)) for n in self.network_names}

    def updates(self, step: int, config) -> tuple[str, ...]:
        """Iteration ``step`` (0-based) updates D; every ``n_critic``-th also G, after D
        (StarGAN's solver, LGP-GAN IV.B)."""
        return ("D", "G") if (step + 1) % config.n_critic == 0 else ("D",)

    def condition(self, batch: dict):
        """The input's own condition (f_x)."""
        return batch["label"]

    def label_condition(self, labels):
        """Target labels (B,) -> this method's condition."""
        return labels

    def condition_vector(self, condition):
        """A condition of this method (what :meth:`condition` or :meth:`label_condition` return)
        as floats (B, D): class indices become one-hot rows (``facs.EXPRESSIONS`` order), a
        float condition (AU intensities) is kept.  The form :meth:`interpolate_condition`,
        :meth:`course_lib.translator.Translator.run_condition` and the explorer's sliders use."""
        import torch
        import torch.nn.functional as F

        from course_lib import facs

        c = torch.as_tensor(condition)
        if not c.is_floating_point() and c.dim() == 1:
            return F.one_hot(c.long(), len(facs.EXPRESSIONS)).float()
        return c.float()

    def interpolate_condition(self, c_src, c_trg, t: float):
        """The condition a fraction ``t`` in [0, 1] of the way from ``c_src`` (t = 0) to ``c_trg``
        (t = 1), both :meth:`condition_vector` rows: by default the straight line
        ``(1 - t) c_src + t c_trg`` (a one-hot mix for a label method, an AU path for an AU
        method).  A method with its own path (an interpolator network, blended landmarks)
        overrides it; the explorer's interpolation slider calls it."""
        return (1 - t) * c_src + t * c_trg

    def prepare(self, batch: dict) -> dict:
        """Draw what the updates of one iteration share: the targets, a random permutation of
        the batch's own conditions (StarGAN's solver: ``label_trg = label_org[randperm(B)]``)."""
        import torch

        self.check_batch(batch)
        c_org = self.condition(batch)
        c_trg = c_org[torch.randperm(batch["image"].shape[0]).to(c_org.device)]
        return {**batch, "c_org": c_org, "c_trg": c_trg}

    def check_batch(self, batch: dict) -> None:
        missing = [k for k in self.batch_keys if k not in batch]
        if missing:
            raise ValueError(f"method {self.name!r}: a training batch must carry {list(self.batch_keys)}; "
                             f"missing {missing}")

    def generator(self):
        return self.nets["G"]

    @classmethod
    def parameter_counts(cls, size) -> dict:
        """``{network: number of parameters}`` at size preset ``size``."""
        m = cls(size=size)
        return {n: sum(p.numel() for p in m.nets[n].parameters()) for n in cls.network_names}

    @classmethod
    def from_foreign_checkpoint(cls, state, path, device):
        """A method instance (with its G loaded) from a checkpoint that is not the course's
        own format, or None when ``state`` is not this method's (e.g. StarGAN's releases)."""
        return None

    # -- helpers ----------------------------------------------------------------------
    def to(self, device):
        for net in self.nets.values():
            net.to(device)
        return self

    def train(self, mode: bool = True):
        for net in self.nets.values():
            net.train(mode)
        return self
