"""The trained models behind the ``landmark-table4`` ... ``landmark-table7`` commands and Lesson 11.

Every table of the landmark-guided GAN uses the same trained models: the full model and, for
Table 7, two ablations.  They are trained once with the course's trainer into
``<runs>/<variant>`` (default ``runs/reproduce/landmark-gan-<preset>/``) and loaded by the
other tables (a finished run is reused; an interrupted one resumes).  Before training, the
perceptual loss's feature network is resolved (:func:`course_lib.features.feature_network`,
"auto") and the concrete choice ("imagenet" or "in-domain") is written into the run's
``config.yaml`` (``hyper.perceptual_weights``); its label goes into every table's notes.

Translations for the tables are given the **ground-truth target landmarks**: those of the
same identity's image with the target expression (the paper's protocol, Fig. 9 / IV.C: "the
target key point information and the initial image are from the same person's face"), found
with the synthetic set's ``find(identity, expression)``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

#: The variants of Table 7 (hyper-parameters of the method) and their row names.
VARIANTS = {
    "full": ({}, "all together"),
    "no-init": ({"feature_init": False}, "w/o feature initialize network"),
    "no-labels": ({"label_maps": False}, "w/o expression label smooth"),
}
#: The cached translations of a run (:func:`changed_with_truth`), in its folder.
CACHE = "translations_ground_truth_landmarks.npz"
DATA_NOTE = ("The data differ: the paper's numbers are on CK+ / Oulu-CASIA photographs at 128x128 (trained to "
             "convergence on a GPU); ours are on the course's embedded synthetic faces (a split by identity) with "
             "the chosen preset, so only the comparisons within our rows mean something.")


def add_common_arguments(parser) -> None:
    parser.add_argument("--runs", type=Path, default=None,
                        help="folder of the shared trained models (default runs/reproduce/landmark-gan-<preset>)")
    parser.add_argument("--steps", type=int, default=None, help="training iterations (default: the preset's)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")


def runs_dir(preset: str = "cpu", runs=None) -> Path:
    """Where the shared models of training preset ``preset`` live."""
    from course_lib.lesson import repo_root

    return Path(runs) if runs is not None else repo_root() / "runs" / "reproduce" / f"landmark-gan-{preset}"


def resolve_features(log=print) -> tuple[str, str]:
    """("imagenet" | "in-domain", label) of the feature network "auto" picks here."""
    from course_lib.features import KIND_VGG, feature_network

    net = feature_network("auto", ("conv1_2",), log=log)
    return ("imagenet" if net.kind == KIND_VGG else "in-domain"), net.label


def from_args(args, variant: str = "full", log=print) -> dict:
    """:func:`train_or_load` with a ``reproduce`` command's options."""
    return train_or_load(args.preset, variant, runs=args.runs, steps=args.steps, threads=args.threads, log=log)


def train_or_load(preset: str = "cpu", variant: str = "full", *, runs=None, steps: int | None = None,
                  threads: int = 0, data=None, log=print) -> dict:
    """The trained model of ``variant`` (trained now unless its run folder holds a finished run;
    an interrupted one resumes): ``{"translator", "run", "train_s", "feature_label", "steps"}``.
    ``data``: tensors to train on instead of the preset's dataset (Lesson 11's fast mode)."""
    import torch

    from course_lib import trainer
    from course_lib.config import preset as make_preset

    run = runs_dir(preset, runs) / variant
    ck = run / "checkpoints" / "last.pt"
    info_path = run / "landmark_gan.json"
    done = ck.is_file() and (run / "summary.json").is_file() and info_path.is_file()
    if threads:
        torch.set_num_threads(threads)
    if done:
        summary = json.loads((run / "summary.json").read_text())
        done = summary.get("step") == summary.get("steps") and not summary.get("interrupted")
    if not done:
        weights, label = resolve_features(log)
        hyper = {**VARIANTS[variant][0], "perceptual_weights": weights}
        overrides = {"steps": steps} if steps else {}
        cfg = make_preset(preset, model="landmark-gan", hyper=hyper, threads=threads, **overrides)
        log(f"training landmark-gan ({VARIANTS[variant][1]}) into {run}: {cfg.steps} iterations, "
            f"network size {cfg.net_size}, batch {cfg.batch_size}")
        t0 = time.perf_counter()
        (run / CACHE).unlink(missing_ok=True)             # translations of an older checkpoint
        tr = trainer.Trainer(None if ck.is_file() else cfg, run, data, resume=ck.is_file(), progress=False)
        tr.train()
        info = {"feature_network": tr.method.feature_info, "feature_label": tr.method.feature_info["label"],
                "variant": variant, "command_s": round(time.perf_counter() - t0, 1)}
        from course_lib.checkpoint import atomic_write_bytes

        atomic_write_bytes(info_path, json.dumps(info, indent=2).encode())
    info = json.loads(info_path.read_text())
    summary = json.loads((run / "summary.json").read_text())
    return {"translator": trainer.load_translator(run), "run": run, "train_s": summary["wall_time_s"],
            "feature_label": info["feature_label"], "steps": summary["step"]}


def splits(translator, log=print):
    """(train, test) :class:`course_lib.evaluate.Split` of the run's data at its image size."""
    from course_lib import evaluate, trainer

    cfg = translator.config
    train = evaluate.collect(trainer.open_dataset(cfg, "train"), translator.image_size, desc="loading training images")
    test = evaluate.collect(trainer.open_dataset(cfg, "test"), translator.image_size, desc="loading test images")
    if not hasattr(test.dataset, "find"):
        raise ValueError(f"{cfg.data}: the landmark-gan tables need paired ground truth (the synthetic set's "
                         "find(identity, expression)); this dataset has none")
    return train, test


def truth_index(split, sources, targets):
    """Index in ``split`` of the image of each source's identity with each target expression."""
    import torch

    from course_lib import facs

    return torch.tensor([split.dataset.find(split.identities[int(s)], facs.expression_name(int(t)))
                         for s, t in zip(sources, targets)], dtype=torch.long)


def translate(translator, split, sources, targets, target_landmarks, batch_size: int = 64):
    """Translations (uint8 :class:`course_lib.evaluate.Generated`) of ``split.images[sources]`` to labels
    ``targets`` with the given target landmarks (B, 68, 2)."""
    import torch

    from course_lib import evaluate
    from course_lib.images import uint8_from_unit, unit_from_uint8

    method = translator.method
    G = method.generator().eval()
    dev = translator.device
    out = []
    with torch.no_grad():
        for i in range(0, len(sources), batch_size):
            s, t = sources[i:i + batch_size], targets[i:i + batch_size]
            x = unit_from_uint8(split.images[s]).to(dev)
            r = method.translate(x, t.to(dev), {"landmarks": split.landmarks[s].to(dev),
                                                "target_landmarks": target_landmarks[i:i + batch_size].to(dev)})
            out.append(uint8_from_unit(r["out"].clamp(-1, 1).cpu()))
    return evaluate.Generated(torch.cat(out), torch.as_tensor(sources), torch.as_tensor(targets))


def changed_with_truth(translator, split, cache: Path | None = None):
    """Every image of ``split`` to each other expression, with the ground-truth target landmarks:
    ``(Generated, truth index)``.  ``cache``: a ``.npz`` file keeping the translations of this
    checkpoint (Tables 5 and 7 share the full model's), reused when it holds the same pairs."""
    import numpy as np
    import torch

    from course_lib import evaluate

    src, tgt = evaluate.changed_pairs(split.labels)
    gt = truth_index(split, src, tgt)
    if cache is not None and Path(cache).is_file():
        with np.load(cache) as z:
            if np.array_equal(z["source"], src.numpy()) and np.array_equal(z["target"], tgt.numpy()):
                return evaluate.Generated(torch.from_numpy(z["images"]), src, tgt), gt
    gen = translate(translator, split, src, tgt, split.landmarks[gt])
    if cache is not None:
        import io

        from course_lib.checkpoint import atomic_write_bytes

        buf = io.BytesIO()
        np.savez_compressed(buf, images=gen.images.numpy(), source=src.numpy(), target=tgt.numpy())
        atomic_write_bytes(Path(cache), buf.getvalue())
    return gen, gt


def changed_with_fallback(translator, split, batch_size: int = 64):
    """The same pairs, target landmarks from the label only (the method's mean-shape fallback)."""
    from course_lib import evaluate

    return evaluate.translate(translator, split, changed_only=True, batch_size=batch_size,
                              desc="translating (target landmarks from the label)")


def judge(train, test, log=print):
    from course_lib import evaluate

    return evaluate.choose_judge(train, test, "auto", log=log)


def fid(gen, test, judge_model) -> float:
    from course_lib import metrics

    return metrics.fidelity_metrics(gen.images, test.images, kind="in-domain", classifier=judge_model)["fid"]


def where(path) -> str:
    """``path`` relative to the course checkout when it lies inside it (for tables that get published)."""
    from course_lib.lesson import repo_root

    try:
        return str(Path(path).resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)


def timing_note(wall_s: float) -> str:
    """One note on what this command cost: wall seconds, this process's CPU seconds and the machine's
    load (a shared machine stretches the wall time, not the CPU time)."""
    import os
    import time

    load = os.getloadavg()[1] if hasattr(os, "getloadavg") else float("nan")
    return (f"Wall time of this command: {wall_s:.0f} s (training included when it trained); CPU time of its "
            f"process: {time.process_time():.0f} s; load average over the last 5 minutes: {load:.1f} on "
            f"{os.cpu_count()} cores.")


def fmt_s(seconds: float) -> str:
    return f"{seconds:.0f} s"
