"""Training configuration: one dataclass, loadable from / savable to YAML, with three presets.

Every knob of :mod:`course_lib.trainer` lives in :class:`TrainConfig`: the schedule and the
runtime as its fields, the method's own hyper-parameters (its loss weights, a dataclass per
method in :mod:`course_lib.methods` with the paper's values as defaults) in its ``hyper``
field, validated against that dataclass.  A run folder keeps its ``config.yaml`` so that
``--resume`` and :func:`course_lib.trainer.load_translator` rebuild exactly the same models.
Two words: a *training preset* (``paper``, ``colab-t4``, ``cpu``; ``train --preset``) sets
the schedule; a *network size* (the field ``net_size``: ``paper``, ``cpu`` or ``cpu-wide``, :mod:`course_lib.presets`)
sets the networks' widths and depths.  (Configs written before this distinction call the
network size ``model_preset``; they still load.)

Presets (:data:`PRESETS`):

* ``paper`` -- LGP-GAN Section IV.B: 128x128 images, batch 16, Adam(lr 1e-4, betas 0.5/0.999),
  n_critic 5, lr constant for the first 100k iterations then decayed linearly to 0 over the
  next 100k, lambda_gp 10, lambda_1..4 = 1, 10, 10, 0.1 (Eq. 2, 8, 9).  Networks: network
  size ``paper`` (Tables II/III).  Needs a GPU.
* ``colab-t4`` -- our choice: the ``paper`` networks and image size, batch 16, Adam 1e-4, 40k
  iterations (decay from 20k); a method whose run would not fit a Colab session shortens it in
  its own ``presets["colab-t4"]``.  Expected times per method: ``python -m course_lib gpu-time``
  (data/results/gpu_time.md; *estimates* from counted FLOPs and an assumed T4 throughput until
  a measurement is recorded with ``gpu-time --record``: no GPU was available to measure them).
  ``python -m course_lib bench train --presets colab-t4`` (or Lesson 7's GPU cell) measures
  them on your GPU.
* ``cpu`` -- our choice, the embedded default: 64x64 networks - for LGP-GAN network size
  ``cpu-wide`` (16 base channels in the generators, resize-convolution instead of transposed
  convs: its method's ``presets``, measured in :mod:`course_lib.presets`), for the baselines
  ``cpu`` (8 base channels, Table II's transposed convs) -, batch 8
  (twice the updates of batch 16 for the same images/s) and a schedule (4000 iterations, decay
  from 2000) sized so the main job trains within 20 minutes on 2 CPU cores (measured with
  torch 2.14.1, 2 threads: LGP-GAN at ``cpu-wide`` 472 s of training, the whole main job with
  its evaluation 510 s; the same job at the 8-channel ``cpu`` size trained in 411 s.  An earlier
  session measured 1185 s for ``cpu`` on a slower or busier machine).  Evaluated by the
  shipped judge on changed targets (the README's table): G 92.7 % at ``cpu-wide``, 82.4 % at
  ``cpu``; PSNR 2.68 dB and 2.95 dB below the copy.  Seeds 1 and 2 at ``cpu-wide`` (1 thread):
  G 84.6 % and 79.6 % (angry 32 % and 36 %), PSNR 2.06 and 1.88 dB below the copy.
  The figures below (before issue 15) counted every translation's own expression among its
  targets and used judges trained per run; they compare settings with one another, not with
  the README's table.
  Two departures from Section IV.B, both ours, make the expressions learnable in a few
  thousand iterations (with the paper's values the critics' classifiers stay near chance for
  the first ~1000): Adam lr 2e-4 for G and 8e-4 for D (a two-time-scale rule), and
  lambda_1 = 6 in the critics' objective Eq. 8 (``lambda_cls_d``) while the generator's Eq. 9
  keeps lambda_1 = 1.  Measured on the synthetic set (3000 iterations, seed 0, 1 thread, all
  judged by one R classifier, :func:`course_lib.evaluate.train_judge`, R = 98.1 %), G accuracy / PSNR:

  ==========================================  ===========  =========
  lr G / D, lambda_1 (Eq. 8 / Eq. 9)          G accuracy   PSNR (dB)
  ==========================================  ===========  =========
  2e-4 / 8e-4, 1 / 1 (2 threads)              67.3 %       28.53
  2e-4 / 8e-4, 3 / 3                          78.5 %       25.53
  2e-4 / 8e-4, 3 / 1                          75.9 %       27.58
  2e-4 / 8e-4, 3 / 1.5                        75.2 %       27.19
  **2e-4 / 8e-4, 6 / 1**                      **85.9 %**   27.10
  2e-4 / 8e-4, 10 / 1                         80.0 %       26.61
  ==========================================  ===========  =========

  The chosen row varies between runs: seeds 1 and 2 gave 80.2 % and 80.9 %, and seed 0 with
  2 threads 77.9 %, by the same judge (mean 81.2 %).  4000 iterations (decay from 2000, the
  preset now) raised the PSNR of each of these runs by 0.3-0.5 dB and the mean accuracy a
  little: seeds 0-3 (1 thread) 87.7 %, 78.2 %, 87.2 %, 80.5 %, seed 0 with 2 threads (the
  README's main job) 78.5 % (80.2 % by its own judge, same recipe trained with 2 threads):
  mean 82.4 %.  The preset is tuned for LGP-GAN only: with it (4000 iterations, seed 0,
  1 thread, same judge) ``--model stargan`` reached G 30.7 % (PSNR 16.9 dB) and
  ``--model ganimation`` 12.5 %, chance (its masks kept the input: PSNR 33.8 dB; that was
  GANimation with a condition weight of 1 and no cycle-mask penalty, before issue 15).
  Each baseline states its own ``cpu`` schedule (``presets`` of its method class, the reasons
  in ``presets_doc``, applied by :func:`preset`): StarGAN keeps these two departures (a
  1000-iteration check: with the solver's values its critic's classifier was still at chance),
  GANimation takes its authors' loss weights and decay over the last
  third with this preset's lr 2e-4 / 8e-4 (measured: with its code's 1e-4 its critic's AU
  regression had not started after 1000 iterations); the budget's 64x64 networks, batch 8 and
  4000 iterations apply to every method.

  (With an older, weaker judge, R = 78.8 %: lr 1e-4 / 1e-4 gave 35 %, 4e-4 / 4e-4 41 %,
  2e-4 / 8e-4 46 %.)  A heavier classification term in G's Eq. 9 paints high-frequency
  artefacts over the faces (lambda_1 = 3 in both: PSNR 25.5 dB; 6 in both buried the faces by
  iteration 1500), while a heavier one in the critics' Eq. 8 only makes their classifiers
  learn sooner.  Not every idea helped: 1000 classification-only warm-up updates of the critics
  before training gave 37 %, and ``n_critic`` 1 (1300 iterations, the same time) 51 %.

An *iteration* (``steps``) is one discriminator update, as in StarGAN's solver that the paper
follows ([42]); the generator is updated every ``n_critic``-th iteration.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

NET_SIZES = ("paper", "cpu", "cpu-wide")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """An invalid configuration value; the message names the field and what is expected."""


#: The ``cpu`` training preset's departure from the papers' loss weights (module docstring):
#: lambda_1 = 6 in the critics' objective, for every method that has ``lambda_cls_d`` and does
#: not set the preset's ``hyper`` itself (``presets`` of its method class, :func:`method_preset`).
CPU_HYPER = {"lambda_cls_d": 6.0}

#: Hyper-parameters that were fields of TrainConfig before each method had its own dataclass
#: (format-1 checkpoints, old config.yaml files): read into ``hyper``, dropped for methods
#: that never used them.
LEGACY_HYPER = ("lambda_cls", "lambda_cls_d", "lambda_cycle", "lambda_self", "lambda_att", "lambda_gp",
                "attention_variant", "tv_weight")


@dataclass
class TrainConfig:
    """Everything a training run needs; the defaults are the ``cpu`` preset (module docstring)
    as the baselines get it: ``preset("cpu")`` for LGP-GAN also sets ``net_size="cpu-wide"``."""

    model: str = "lgp-gan"            #: a method of course_lib.methods (python -m course_lib methods)
    net_size: str = "cpu"             #: network size of course_lib.presets: "paper" | "cpu" | "cpu-wide" (LGP-GAN's cpu preset)
    image_size: int = 64              #: images are resized to this; must equal the network size's
    data: str = "synthetic"           #: "synthetic" (data/synthetic, built if missing) or a folder
    synthetic_identities: int = 200   #: identities rendered when the synthetic set is built (our choice)
    batch_size: int = 8               #: paper IV.B: 16 (presets paper, colab-t4); cpu: 8, our choice
    steps: int = 4_000                #: iterations = discriminator updates (paper: 100k + 100k)
    decay_start: int = 2_000          #: lr constant before this iteration, then linear to 0 at `steps`
    decay_from: float = 1.0           #: lr factor at decay_start (1; less only in a run extended during its decay)
    n_critic: int = 5                 #: D updates per G update (paper IV.B)
    g_lr: float = 2e-4                #: paper IV.B: 1e-4 (presets paper, colab-t4); cpu: 2e-4, our choice
    d_lr: float = 8e-4                #: paper IV.B: 1e-4 (presets paper, colab-t4); cpu: 8e-4, our choice
    beta1: float = 0.5                #: paper IV.B
    beta2: float = 0.999              #: paper IV.B
    #: the method's hyper-parameters (``methods.<name>.Hyper``: loss weights with the paper's
    #: defaults); given partially, stored complete; the cpu preset sets lambda_cls_d = 6
    hyper: dict = field(default_factory=lambda: dict(CPU_HYPER))
    seed: int = 0
    device: str = "auto"              #: "auto" (GPU when present) | "cpu" | "cuda"
    amp: bool = False                 #: mixed precision on GPU
    threads: int = 0                  #: torch intra-op CPU threads (0: torch's default)
    log_every: int = 10               #: iterations between log.csv rows
    sample_every: int = 250           #: iterations between sample grids / mask images
    checkpoint_every: int = 250       #: iterations between checkpoints/last.pt writes
    keep_every: int = 0               #: also keep checkpoints/step_XXXXXX.pt every N iterations (0: never)
    n_samples: int = 4                #: input rows of the sample grid (each x 8 targets)
    cache_in_memory: bool = True      #: decode the training images once and keep them in memory
    max_train_images: int = 0         #: use at most this many training images (0: all)

    def __post_init__(self):
        self.validate()

    # -- validation -------------------------------------------------------------------
    def validate(self) -> "TrainConfig":
        """Raise :class:`ConfigError` naming the first invalid field."""
        def need(ok, name, expected):
            if not ok:
                raise ConfigError(f"config field {name!r} = {getattr(self, name)!r}: expected {expected}")

        from course_lib import methods

        need(self.model in methods.names(), "model", f"one of {', '.join(methods.names())} (python -m course_lib methods)")
        need(self.net_size in NET_SIZES, "net_size", f"one of {', '.join(NET_SIZES)} (network sizes)")
        need(self.device in DEVICES, "device", f"one of {', '.join(DEVICES)}")
        need(isinstance(self.data, str) and self.data != "", "data", "'synthetic' or a folder path")
        for name in ("image_size", "batch_size", "steps", "n_critic", "log_every", "sample_every",
                     "checkpoint_every", "n_samples", "synthetic_identities"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v >= 1, name, "an integer >= 1")
        for name in ("decay_start", "keep_every", "seed", "max_train_images", "threads"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v >= 0, name, "an integer >= 0")
        from course_lib.presets import PRESETS as NETS

        need(self.image_size == NETS[self.net_size].image_size, "image_size",
             f"{NETS[self.net_size].image_size}, the image size of network size {self.net_size!r}")
        min_batch = getattr(methods.get(self.model), "min_batch_size", 2)  # 1 for methods that draw no targets from the batch
        need(self.batch_size >= min_batch, "batch_size", f"an integer >= {min_batch}" +
             (" (targets are a permutation of the batch)" if min_batch > 1 else ""))
        need(self.decay_start <= self.steps, "decay_start", f"<= steps ({self.steps})")
        need(_real(self.decay_from) and 0 < self.decay_from <= 1, "decay_from", "a number in (0, 1]")
        for name in ("g_lr", "d_lr"):
            v = getattr(self, name)
            need(_real(v) and v > 0, name, "a positive number")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            need(_real(v) and 0 <= v < 1, name, "a number in [0, 1)")
        need(isinstance(self.hyper, dict), "hyper", f"a mapping of the hyper-parameters of method {self.model!r}")
        try:
            self.hyper = dataclasses.asdict(methods.make_hyper(self.model, self.hyper, lenient=tuple(CPU_HYPER)))
        except methods.HyperError as err:
            raise ConfigError(f"config field 'hyper': {err}") from None
        for name in ("amp", "cache_in_memory"):
            need(isinstance(getattr(self, name), bool), name, "true or false")
        return self

    # -- schedule ---------------------------------------------------------------------
    def method_hyper(self):
        """The method's hyper-parameter dataclass (``methods.<model>.Hyper``) of this config."""
        from course_lib import methods

        return methods.make_hyper(self.model, self.hyper)

    def lr_factor(self, step: int) -> float:
        """Learning-rate multiplier at iteration ``step`` (0-based): 1 before ``decay_start``,
        then linear from ``decay_from`` (1) to 0 at ``steps`` (paper IV.B: "decayed linearly to 0")."""
        if step < self.decay_start or self.steps == self.decay_start:
            return 1.0
        return max(0.0, self.decay_from * (1.0 - (step - self.decay_start) / (self.steps - self.decay_start)))

    # -- YAML -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict, source: str = "config") -> "TrainConfig":
        """Build from a dict; unknown keys and wrong types are :class:`ConfigError` naming them."""
        if not isinstance(d, dict):
            raise ConfigError(f"{source}: expected a mapping of config fields, got {type(d).__name__}")
        d = dict(d)
        if "model_preset" in d and "net_size" not in d:  # the network size's name before issue 14
            d["net_size"] = d.pop("model_preset")
        legacy = {k: d.pop(k) for k in LEGACY_HYPER if k in d}
        if legacy:  # a config written before the methods had their own hyper-parameters
            from course_lib import methods

            model = d.get("model", cls.__dataclass_fields__["model"].default)
            keep = {f.name for f in dataclasses.fields(methods.get(model).Hyper)} if model in methods.names() else set(legacy)
            base = {} if "hyper" in d else dict(CPU_HYPER)  # the old default of lambda_cls_d
            d["hyper"] = {**base, **{k: v for k, v in legacy.items() if k in keep}, **(d.get("hyper") or {})}
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ConfigError(f"{source}: unknown config field(s) {unknown}; known: {', '.join(known)}")
        values = {}
        for k, v in d.items():
            default = known[k].default
            if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
                v = float(v)  # YAML "1" for a float field
            values[k] = v
        try:
            return cls(**values)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None

    def save(self, path) -> Path:
        """Write YAML to ``path`` (atomically)."""
        import yaml

        from course_lib.checkpoint import atomic_write_bytes

        path = Path(path)
        atomic_write_bytes(path, yaml.safe_dump(self.to_dict(), sort_keys=False).encode())
        return path

    @classmethod
    def load(cls, path) -> "TrainConfig":
        """Read a YAML file written by :meth:`save` (or by hand: missing fields keep defaults)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        return cls.from_dict(load_yaml_mapping(path), source=str(path))

    def extended(self, steps: int, at: int = 0) -> "TrainConfig":
        """This run with ``steps`` iterations in total (``--resume --steps``), resumed at iteration ``at``.

        What extending (or shortening) a run does to the schedule, our rule: the learning rate
        never rises above that of the last update before the resume point.

        * still in the constant phase (``at <= decay_start``): the decay start moves with the
          length, keeping the run's constant/decay ratio (as :func:`preset` does for ``--steps``),
          but not before ``at``;
        * already decaying: the factor continues from that of the last update, ``lr_factor(at - 1)``,
          linearly to 0 at the new end (``decay_start = at - 1``, ``decay_from = lr_factor(at - 1)``).
          A finished run (say 4000 iterations, last factor 0.0005) extended to 8000 therefore
          goes on at that small rate: to train longer at a useful rate, start a new run with
          more ``--steps``.

        ``steps < at`` is an error.
        """
        if steps == self.steps:
            return self
        if steps < at:
            raise ConfigError(f"--steps {steps}: the run is already at iteration {at}; expected >= {at}")
        if at <= self.decay_start:
            start = max(at, int(round(self.decay_start * steps / self.steps)))
            return self.replace(steps=steps, decay_start=min(start, steps))
        return self.replace(steps=steps, decay_start=at - 1, decay_from=self.lr_factor(at - 1))

    def replace(self, **changes) -> "TrainConfig":
        """A copy with ``changes`` applied (validated).  A new ``model`` without ``hyper`` keeps
        the hyper-parameters the new method also has."""
        if "model" in changes and "hyper" not in changes and changes["model"] != self.model:
            from course_lib import methods

            if changes["model"] in methods.names():
                have = {f.name for f in dataclasses.fields(methods.get(changes["model"]).Hyper)}
                changes["hyper"] = {k: v for k, v in self.hyper.items() if k in have}
        return dataclasses.replace(self, **changes)


def load_yaml_mapping(path, source: str | None = None) -> dict:
    """The mapping in the YAML file ``path`` (an empty file is ``{}``).

    Malformed YAML, text that is not UTF-8 and a document that is not a mapping (a list, a
    scalar) are one-line :class:`ConfigError` messages naming ``source`` (default: the
    path), the line and column, and what was expected, never a parser traceback.
    """
    import yaml

    path = Path(path)
    source = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[:err.start].count(b"\n") + 1
        raise ConfigError(f"{source}, line {line}: not UTF-8 text ({err.reason}); "
                          "expected a YAML mapping of config fields") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(_yaml_error_line(source, err)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(data), type(data).__name__)
        raise ConfigError(f"{source}, line 1: expected a mapping of config fields (one 'name: value' per line), "
                          f"got {kind}")
    return data


def _yaml_error_line(source: str, err) -> str:
    """One line for a PyYAML error: where (1-based line and column) and what the parser expected."""
    def flat(text) -> str:
        return " ".join(str(text).split())

    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = flat(getattr(err, "problem", None) or err)
    context = getattr(err, "context", None)
    if context:
        cmark = getattr(err, "context_mark", None)
        at = f" at line {cmark.line + 1}" if cmark is not None and cmark is not mark else ""
        problem += f" ({flat(context)}{at})"
    return f"{source}{where}: not valid YAML: {problem}"


def _real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


#: Schedule and network choice of each training preset (see the module docstring).
PRESETS: dict[str, dict] = {
    "paper": dict(net_size="paper", image_size=128, batch_size=16, g_lr=1e-4, d_lr=1e-4, hyper={},
                  steps=200_000, decay_start=100_000,
                  sample_every=2000, checkpoint_every=2000, keep_every=20_000, log_every=50),
    "colab-t4": dict(net_size="paper", image_size=128, batch_size=16, g_lr=1e-4, d_lr=1e-4, hyper={},
                     steps=40_000, decay_start=20_000,
                     sample_every=1000, checkpoint_every=1000, keep_every=10_000, log_every=50),
    "cpu": dict(),  # the dataclass defaults
}


def method_preset(model: str, name: str) -> dict:
    """What training preset ``name`` sets differently for method ``model``: the method's own
    ``presets[name]`` (e.g. ``StarGAN.presets["cpu"]``, its reasons in ``presets_doc[name]``);
    ``{}`` for a method without one (LGP-GAN: the preset is its own) or an unknown name."""
    from course_lib import methods

    if not isinstance(model, str) or model not in methods.names():
        return {}
    return dict(getattr(methods.get(model), "presets", {}).get(name, {}))


def preset(name: str, **overrides) -> TrainConfig:
    """The :class:`TrainConfig` of training preset ``name`` with ``overrides`` applied.

    The method (``model``) may set some fields differently for this preset
    (:func:`method_preset`, applied before ``overrides``).  ``steps`` given without
    ``decay_start`` keeps the preset's constant/decay ratio.
    """
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    values = {**PRESETS[name], **method_preset(overrides.get("model", TrainConfig.model), name)}
    if "steps" in overrides and "decay_start" not in overrides:
        base = TrainConfig.__dataclass_fields__
        ratio = values.get("decay_start", base["decay_start"].default) / values.get("steps", base["steps"].default)
        overrides["decay_start"] = int(round(overrides["steps"] * ratio))
    if "model_preset" in overrides and "net_size" not in overrides:  # the network size's old name
        overrides["net_size"] = overrides.pop("model_preset")
    legacy = {k: overrides.pop(k) for k in LEGACY_HYPER if k in overrides}  # e.g. lambda_cls: 3 at the top
    hyper = {**values.get("hyper", CPU_HYPER), **legacy, **(overrides.pop("hyper", None) or {})}
    values.update(overrides)
    values["hyper"] = hyper
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown config field(s) {unknown}; known: {', '.join(sorted(known))}")
    return TrainConfig(**values)
