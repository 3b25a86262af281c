"""Expected GPU time of each method's training preset (``colab-t4``): an estimate from counted FLOPs,
replaced by a measurement where one was recorded.

No GPU was available when the course's ``colab-t4`` schedule was chosen, so its times are
*estimates*, derived from a machine-independent count and one stated assumption:

    seconds = (GFLOP of one training iteration) x (iterations of the preset) / (assumed sustained TFLOPS x 1000)

**GFLOP of one iteration** (:func:`count_iteration`): the floating-point operations of the
method's own training iterations, at the preset's network size, image size and batch, counted by
running :meth:`course_lib.trainer.Trainer.iteration` (an iteration = the updates the method's
``updates(step, config)`` schedules: one critic update, every ``n_critic``-th also the
generator's; every update for the cycle methods and the landmark GAN) for one whole cycle of
``n_critic`` iterations on rendered faces, mean per iteration.  The count uses
``torch.utils.flop_counter``'s formulas (convolutions, matrix products, 2 FLOP per
multiply-add) through a plain dispatch mode (:class:`OpCounter`): ``FlopCounterMode`` itself
stops at a gradient penalty's double backward ("nan" in ``bench models``) because its module
tracker cannot follow ``autograd.grad(create_graph=True)``; the dispatch mode counts those
backward-of-backward convolutions like any other, so no part is guessed.  Not counted:
normalisation, activations, the optimiser's step (element-wise, a few FLOP per parameter or
activation); on a GPU they cost memory bandwidth rather than FLOPs, and the throughput
assumption below absorbs them.  A method whose cost changes during the run (the cascade's
one-run scheme: stage 1 alone for ``pretrain_fraction`` of the iterations, then three stages) is
counted once per phase.  A perceptual or content loss is counted with VGG19 (what ``"auto"``
loads on Colab; random weights of the same shapes: FLOPs do not depend on the values), not the
offline stand-in.

**Assumed sustained throughput** (:data:`GPUS`): a Colab T4 sustains 30 % of its 8.1 TFLOPS FP32
peak, 2.43 TFLOPS, an *assumption*.  Reasoning: NVIDIA's published ResNet-50 v1.5 figures
(NVIDIA/DeepLearningExamples, PyTorch/Classification/ConvNets/resnet50v1.5/README.md, NGC
pytorch-21.03): T4 FP32 inference 428 images/s at batch 64, x 8.2 GFLOP per image = 3.5 TFLOPS
(43 % of peak); on a V100 the same README's FP32 training reaches 0.92 x its inference rate
(367 x 3 x 8.2 = 9.0 TFLOPS vs 1200 x 8.2 = 9.8), so an optimised ResNet-50 would train at
about 3.2 TFLOPS (40 %) on a T4.  Our GANs run eagerly, in FP32, at batch 16, with instance
norm, 7x7 and transposed convolutions and gradient penalties, all less efficient than
cuDNN's best case, and a T4 at its 70 W limit lowers its clock under sustained load: we take
three quarters of that, 30 %.  Treat every estimate as good to a factor of about 1.5.

**Measured** numbers replace the estimate: ``python -m course_lib bench train --presets colab-t4
--device cuda > bench.txt`` on the GPU, then ``python -m course_lib gpu-time --record bench.txt``
stores each method's iterations/s with the GPU's name in :data:`DATA_FILE`; for that GPU the
expected time is then ``iterations / measured iterations/s`` (a multi-phase method: the
measured rate is that of its first phase, later phases scaled by their counted FLOPs) and is
labelled ``measured``.

``python -m course_lib gpu-time`` writes :data:`TABLE_FILE` from :data:`DATA_FILE`;
``gpu-time --count`` recounts the FLOPs (``--count-batch 2``: about 10 minutes for the nine
methods on one CPU thread, scaled exactly to the preset's batch 16).  A count remembers the
preset fields it depends on (:data:`COST_FIELDS`) and :func:`expected_seconds` refuses a stale
one; a change of a method's networks or losses is not detected: recount that method
(``gpu-time --count --models NAME``).

A method whose ``colab-t4`` run was expected to take longer than :data:`COLAB_HOURS` sets a
shorter schedule in its own ``presets["colab-t4"]`` (the reasons in its ``presets_doc``).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from course_lib.lesson import repo_root

#: The cache of counted FLOPs and recorded measurements (committed).
DATA_FILE = repo_root() / "data" / "results" / "gpu_time.json"
#: The table written by ``python -m course_lib gpu-time``.
TABLE_FILE = repo_root() / "data" / "results" / "gpu_time.md"
FORMAT = 1

#: GPUs the estimate knows: FP32 peak (datasheet) and the assumed sustained fraction of it (module docstring).
GPUS = {
    "T4": {"name": "NVIDIA Tesla T4 (Colab's free GPU)", "peak_tflops": 8.1, "fraction": 0.30,
           "peak_source": "NVIDIA T4 datasheet: 8.1 TFLOPS single precision (2560 CUDA cores x 1.59 GHz boost x 2)",
           "fraction_source": ("an assumption, not a measurement: 3/4 of the ~40 % an optimised FP32 ResNet-50 "
                               "would train at on a T4 (NVIDIA DeepLearningExamples resnet50v1.5 README: T4 FP32 "
                               "inference 428 img/s at batch 64 = 3.5 TFLOPS; training/inference 0.92 on V100); "
                               "eager PyTorch, instance norm, gradient penalties, batch 16 and the T4's 70 W clock limit make ours slower")},
}

#: Fields of a training config that change the FLOPs of one iteration (``steps`` changes only their number).
COST_FIELDS = ("model", "net_size", "image_size", "batch_size", "n_critic", "hyper")

#: A Colab session's practical limit: a preset expected to run longer gets a shorter method preset.
COLAB_HOURS = 4.0


class GpuTimeError(ValueError):
    """A missing or stale count, an unknown GPU or preset; the message says what to run."""


# ----------------------------------------------------------------------------- counting
def _counter_class():
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class OpCounter(TorchDispatchMode):
        """FLOPs of every op that ``torch.utils.flop_counter`` has a formula for (convolutions,
        matrix products, attention), per op name; unlike ``FlopCounterMode`` it tracks no modules,
        so it follows a gradient penalty's double backward."""

        def __init__(self):
            super().__init__()
            self.flops, self.by_op = 0, {}

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            packet = func._overloadpacket
            if packet in flop_registry:
                n = int(flop_registry[packet](*args, **kwargs, out_val=out))
                self.flops += n
                self.by_op[str(packet)] = self.by_op.get(str(packet), 0) + n
            return out

    return OpCounter


def OpCounter():
    """A new :class:`OpCounter` dispatch mode (``with OpCounter() as c: ...; c.flops``)."""
    return _counter_class()()


def cost_key(config) -> dict:
    """What of ``config`` decides the cost of one iteration (:data:`COST_FIELDS`), JSON-ready."""
    d = config.to_dict()
    return json.loads(json.dumps({k: d[k] for k in COST_FIELDS}))


def phase_starts(method_cls, config) -> list[float]:
    """Fractions of the run where the cost of an iteration changes: ``[0]``, plus the cascade's
    ``pretrain_fraction`` when its one-run scheme trains stage 1 alone first."""
    h = config.method_hyper()
    f = float(getattr(h, "pretrain_fraction", 0.0) or 0.0)
    stages = getattr(h, "n_stages", None) or getattr(method_cls, "default_stages", 1)
    if f > 0 and stages > 1 and not getattr(h, "init_from", None):
        return [0.0, f]
    return [0.0]


def _vgg_standin_file(tmp: Path) -> Path:
    """A VGG19 ``features.*`` state dict of random weights (the shapes of ImageNet VGG19's)."""
    import torch

    from course_lib.features import vgg19_features

    body = vgg19_features(35)
    path = tmp / "vgg19-shapes.pth"
    torch.save({f"features.{k}": v for k, v in body.state_dict().items()}, path)
    return path


def count_iteration(model: str, preset_name: str = "colab-t4", log=None, batch: int | None = None) -> dict:
    """Count the GFLOP of one training iteration of ``model`` under training preset ``preset_name``
    (module docstring), per phase: ``{"key": cost_key, "phases": [{"start_fraction", "gflop"}],
    "by_op": {...}, "batch", "counted_batch", "image_size"}``.  Runs on the CPU; minutes at 128x128.

    ``batch``: count at this batch size and scale to the preset's (default: count at the
    preset's).  Every counted op (convolution, matrix product) works per image, so its FLOPs
    are proportional to the batch: at the ``cpu`` size every method's count at batch 2 and at batch 4,
    each scaled to 8, were equal (issue 19's session), and ``tests/test_gpu_time.py`` checks StarGAN's."""
    import dataclasses
    import tempfile

    import torch

    from course_lib import datasets, methods
    from course_lib.config import preset
    from course_lib.trainer import Trainer

    cls = methods.get(model)
    cfg = preset(preset_name, model=model, device="cpu", sample_every=10**9, checkpoint_every=10**9,
                 log_every=10**9)
    counted_batch = batch or cfg.batch_size
    if not isinstance(counted_batch, int) or counted_batch < getattr(cls, "min_batch_size", 2):
        raise GpuTimeError(f"batch={batch!r}: expected an integer >= {getattr(cls, 'min_batch_size', 2)} for {model}")
    scale = cfg.batch_size / counted_batch
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        hyper = dict(cfg.hyper)
        vgg = None
        for f in dataclasses.fields(cls.Hyper):  # perceptual / content loss: VGG19, as Colab's "auto" loads
            if f.name.endswith("_weights") and hyper.get(f.name) == "auto":
                vgg = vgg or _vgg_standin_file(tmp)
                hyper[f.name] = str(vgg)
        run_cfg = cfg.replace(hyper=hyper, batch_size=counted_batch)
        faces = datasets.SyntheticFaces(identities=max(2, -(-counted_batch // 8)), size=cfg.image_size, split="all")
        tensors = datasets.decode(faces, cfg.image_size, progress=False)
        tr = Trainer(run_cfg, tmp / "run", tensors, progress=False, device="cpu", log=lambda *a, **k: None)
        cycle = max(1, cfg.n_critic)
        phases, by_op = [], {}
        for start in phase_starts(cls, cfg):
            step = int(round(start * cfg.steps))
            tr.step = step  # any n_critic consecutive iterations hold one generator update
            counter = OpCounter()
            with counter:
                for _ in range(cycle):
                    tr.iteration(tr.stream.next())
                    tr.step += 1
            phases.append({"start_fraction": start, "gflop": counter.flops * scale / cycle / 1e9})
            for k, v in counter.by_op.items():
                by_op[k] = by_op.get(k, 0.0) + v * scale / cycle / 1e9
            if log:
                log(f"{model} {preset_name}: phase from {start:.3f} of the run: {phases[-1]['gflop']:.1f} GFLOP/iteration")
    return {"key": cost_key(cfg), "batch": cfg.batch_size, "counted_batch": counted_batch, "image_size": cfg.image_size,
            "phases": phases, "by_op": {k: round(v, 3) for k, v in sorted(by_op.items())},
            "torch": torch.__version__}


# ----------------------------------------------------------------------------- the data file
def load_data(path=None) -> dict:
    """The JSON cache (:data:`DATA_FILE`): ``{"format", "counts": {preset: {model: count}},
    "measured": {preset: {model: [entry]}}}``; empty when the file does not exist."""
    path = Path(path) if path is not None else DATA_FILE
    if not path.is_file():
        return {"format": FORMAT, "counts": {}, "measured": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise GpuTimeError(f"{path}: not valid JSON ({err.msg}, line {err.lineno}); expected the file "
                           "'python -m course_lib gpu-time --count' writes") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GpuTimeError(f"{path}: expected a mapping with format {FORMAT} (python -m course_lib gpu-time --count)")
    data.setdefault("counts", {})
    data.setdefault("measured", {})
    return data


def save_data(data: dict, path=None) -> Path:
    path = Path(path) if path is not None else DATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def gpu_key(name: str) -> str | None:
    """The :data:`GPUS` key of a device name (``"Tesla T4"`` -> ``"T4"``), or None."""
    words = str(name).upper().replace("-", " ").split()
    return next((k for k in GPUS if k.upper() in words), None)


def record_measured(data: dict, model: str, preset_name: str, gpu_name: str, iterations_per_s: float,
                    source: str) -> dict:
    """Add a measured ``iterations_per_s`` of ``model`` under ``preset_name`` on the GPU ``gpu_name``
    (as ``torch.cuda.get_device_name`` says it) to ``data``, replacing an earlier one of that GPU."""
    from course_lib import methods

    if model not in methods.names():
        raise GpuTimeError(f"unknown method {model!r}: expected one of {', '.join(methods.names())}")
    if not (isinstance(iterations_per_s, (int, float)) and math.isfinite(iterations_per_s) and iterations_per_s > 0):
        raise GpuTimeError(f"{model}: iterations/s = {iterations_per_s!r}: expected a positive number")
    entries = [e for e in data.setdefault("measured", {}).setdefault(preset_name, {}).get(model, [])
               if e["gpu"] != gpu_name]
    entries.append({"gpu": gpu_name, "iterations_per_s": float(iterations_per_s), "source": source})
    data["measured"][preset_name][model] = sorted(entries, key=lambda e: e["gpu"])
    return data


def parse_bench_train(text: str, source: str = "bench output") -> list[dict]:
    """``[{"model", "preset", "s_per_iteration", "gpu"}]`` from the output of ``python -m course_lib bench
    train`` (its table rows and its ``machine:`` line, whose last field names the GPU)."""
    from course_lib import methods

    names, rows, gpu = set(methods.names()), [], None
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("machine:"):
            gpu = line.rsplit(",", 1)[-1].strip()
        elif len(parts) >= 5 and parts[0] in names:
            try:
                rows.append({"model": parts[0], "preset": parts[1], "s_per_iteration": float(parts[4])})
            except ValueError:
                continue
    if not rows:
        raise GpuTimeError(f"{source}: no rows of 'python -m course_lib bench train' found "
                           "(expected lines 'METHOD PRESET BATCH SIZE S/ITER ...')")
    if not gpu or gpu == "no GPU":
        raise GpuTimeError(f"{source}: its 'machine:' line names no GPU; record only a run with --device cuda")
    for r in rows:
        r["gpu"] = gpu
    return rows


# ----------------------------------------------------------------------------- the estimate
def _count(data: dict, model: str, preset_name: str, config) -> dict:
    count = data.get("counts", {}).get(preset_name, {}).get(model)
    if count is None:
        raise GpuTimeError(f"no FLOP count of {model!r} under preset {preset_name!r} in {DATA_FILE.name}; "
                           f"run python -m course_lib gpu-time --count --models {model} --presets {preset_name}")
    if count["key"] != cost_key(config):
        changed = sorted(k for k in COST_FIELDS if count["key"].get(k) != cost_key(config)[k])
        raise GpuTimeError(f"the FLOP count of {model!r} under {preset_name!r} in {DATA_FILE.name} is stale "
                           f"(the preset's {', '.join(changed)} changed); run python -m course_lib gpu-time "
                           f"--count --models {model} --presets {preset_name}")
    return count


def phase_iterations(phases: list[dict], steps: int) -> list[int]:
    """Iterations of each phase of a run of ``steps`` iterations."""
    bounds = [int(round(p["start_fraction"] * steps)) for p in phases] + [steps]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def expected_seconds(model: str, preset: str = "colab-t4", gpu: str = "T4", data: dict | None = None) -> dict:
    """Expected training time of ``model`` under training preset ``preset`` on ``gpu`` (a :data:`GPUS` key).

    Returns ``{"model", "preset", "gpu", "iterations", "gflop_per_iteration" (mean over the run),
    "tflops" (assumed sustained, or the rate a measurement implies), "seconds", "hours",
    "kind": "estimate" | "measured", "measured_on", "iterations_per_s"}``.  ``data``: the
    cache (default :func:`load_data`).  A measurement recorded for this preset on a GPU whose
    name matches ``gpu`` replaces the estimate.
    """
    from course_lib import config as C

    if gpu not in GPUS:
        raise GpuTimeError(f"gpu={gpu!r}: expected one of {', '.join(GPUS)}")
    if preset not in C.PRESETS:
        raise GpuTimeError(f"preset={preset!r}: expected one of {', '.join(C.PRESETS)}")
    data = load_data() if data is None else data
    cfg = C.preset(preset, model=model)
    count = _count(data, model, preset, cfg)
    phases = count["phases"]
    its = phase_iterations(phases, cfg.steps)
    total_gflop = sum(n * p["gflop"] for n, p in zip(its, phases))
    out = {"model": model, "preset": preset, "gpu": gpu, "iterations": cfg.steps,
           "gflop_per_iteration": total_gflop / cfg.steps, "batch": cfg.batch_size, "image_size": cfg.image_size}
    measured = [e for e in data.get("measured", {}).get(preset, {}).get(model, []) if gpu_key(e["gpu"]) == gpu]
    if measured:
        e = measured[-1]
        tflops = e["iterations_per_s"] * phases[0]["gflop"] / 1e3  # the rate of the first phase, where bench times
        out.update(kind="measured", measured_on=e["gpu"], iterations_per_s=e["iterations_per_s"], source=e["source"])
    else:
        g = GPUS[gpu]
        tflops = g["peak_tflops"] * g["fraction"]
        out.update(kind="estimate", measured_on=None, iterations_per_s=None, source=g["fraction_source"])
    out["tflops"] = tflops
    out["seconds"] = total_gflop / (tflops * 1e3)
    if out["kind"] == "measured" and len(phases) == 1:
        out["seconds"] = cfg.steps / out["iterations_per_s"]  # the same number, without rounding through FLOPs
    out["hours"] = out["seconds"] / 3600
    return out


def table(preset: str = "colab-t4", gpu: str = "T4", data: dict | None = None, models=None) -> list[dict]:
    """:func:`expected_seconds` of every registered method (or ``models``)."""
    from course_lib import methods

    data = load_data() if data is None else data
    return [expected_seconds(m, preset, gpu, data) for m in (models or methods.names())]


def markdown(rows: list[dict], gpu: str = "T4") -> str:
    """The table of :data:`TABLE_FILE` (what ``python -m course_lib gpu-time`` writes)."""
    g = GPUS[gpu]
    presets = sorted({r["preset"] for r in rows})
    lines = [f"# Expected training time per method: preset {', '.join(presets)} on an {g['name']}", "",
             "Written by `python -m course_lib gpu-time` from `data/results/gpu_time.json` "
             "(`course_lib.gpu_time`). kind `estimate`: GFLOP per iteration (counted on a CPU: "
             "`python -m course_lib gpu-time --count`) x iterations / assumed sustained TFLOPS; "
             "kind `measured`: iterations / iterations per second measured on that GPU "
             "(`python -m course_lib gpu-time --record`).", "",
             f"Assumed sustained throughput: {g['fraction'] * 100:.0f} % of {g['peak_tflops']} TFLOPS FP32 = "
             f"{g['peak_tflops'] * g['fraction']:.2f} TFLOPS. Why: {g['fraction_source']}. "
             f"Peak: {g['peak_source']}.", "",
             "| method | batch | px | GFLOP / iteration | iterations | TFLOPS | expected hours | kind |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        kind = r["kind"] if r["kind"] == "estimate" else f"measured on {r['measured_on']}"
        lines.append(f"| {r['model']} | {r['batch']} | {r['image_size']} | {r['gflop_per_iteration']:,.1f} | "
                     f"{r['iterations']:,} | {r['tflops']:.2f} | {r['hours']:.1f} | {kind} |")
    lines += ["", "An iteration is one critic update, every n_critic-th also the generator's (every update for "
              "the cycle methods and the landmark GAN); GFLOP / iteration is the mean over the run (the cascade: "
              "stage 1 alone, then three stages). Not counted: normalisation, activations, the optimiser's step.",
              ""]
    return "\n".join(lines)
