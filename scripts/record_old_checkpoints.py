"""Describe the checkpoint format of commit 60e742c (``course_lib.trainer/1``) for the tests.

    PYTHONPATH=. python scripts/record_old_checkpoints.py tests/data/checkpoint_format1.json

A real checkpoint of the ``cpu`` preset is 10-12 MB, too large to commit, so this records what
a test needs to rebuild one: the top-level keys, the config dict, every state_dict key of G and
D with its shape and dtype, and the optimisers' param_groups.  Weights are then filled by
:func:`fill` (a fixed function of key order and shape, independent of the model code), and the
old code's translation of two rendered faces by such a G is recorded (``outputs``), so a test can
check that the new code loads the old format and computes the same images.
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from record_baseline_losses import faces  # noqa: E402


def fill(spec: dict, seed: int = 0) -> dict:
    """{key: (shape, dtype)} -> deterministic tensors (floats ~ N(0, 0.05^2), running vars 1, ints 0)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k in sorted(spec):
        shape, dtype = spec[k]
        if "int" in dtype:
            out[k] = torch.zeros(shape, dtype=getattr(torch, dtype.replace("torch.", "")))
        elif k.endswith("running_var"):
            out[k] = torch.ones(shape)
        else:
            out[k] = torch.randn(shape, generator=g) * 0.05
    return out


def outputs(translate, data):
    x = data["image"][:2].float() / 127.5 - 1
    out = translate(x, torch.tensor([3, 5]), data["landmarks"][:2]).double()
    return {"sum": float(out.sum()), "abs_sum": float(out.abs().sum()), "corner": out[0, :, ::8, ::8].flatten().tolist()}


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    from course_lib import checkpoint, trainer
    from course_lib.config import preset

    torch.set_num_threads(1)
    data = faces()
    record = {"command": "PYTHONPATH=. python scripts/record_old_checkpoints.py " + sys.argv[1],
              "code": "commit 60e742c (before issue 14)", "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("lgp-gan", "stargan", "ganimation"):
            cfg = preset("cpu", model=model, steps=1, batch_size=2, n_critic=1, sample_every=1000,
                         checkpoint_every=1000, log_every=1)
            tr = trainer.Trainer(cfg, Path(tmp) / model, data, progress=False)
            tr.train()
            state = checkpoint.load(Path(tmp) / model / "checkpoints" / "last.pt")
            spec = {n: {k: [list(v.shape), str(v.dtype)] for k, v in state[n].items()} for n in ("G", "D")}
            state["G"] = fill(spec["G"])
            state["D"] = fill(spec["D"], 1)
            state["g_opt"]["state"], state["d_opt"]["state"] = {}, {}
            checkpoint.save(state, Path(tmp) / "filled.pt")
            translate = trainer.load_translator(Path(tmp) / "filled.pt")
            record["models"][model] = {
                "keys": sorted(state), "format": state["format"], "config": state["config"], "step": state["step"],
                "G": spec["G"], "D": spec["D"],
                "g_opt_param_groups": state["g_opt"]["param_groups"], "d_opt_param_groups": state["d_opt"]["param_groups"],
                "stream": state["stream"], "last": state["last"], "outputs": outputs(translate, data)}
    json.dump(record, open(sys.argv[1], "w"), indent=0)
