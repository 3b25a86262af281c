"""Issue 14: the method registry changes no behaviour.

* the ``cpu`` preset's LGP-GAN losses of the first 50 iterations equal those recorded with the
  code before the registry (``tests/data/lgp_gan_cpu_50_iterations.json``, written by
  ``scripts/record_baseline_losses.py`` at commit 60e742c);
* checkpoints of that code's format (``course_lib.trainer/1``) still load and translate as
  they did (``tests/data/checkpoint_format1.json``, ``scripts/record_old_checkpoints.py``).
"""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.slow
def test_lgp_gan_cpu_preset_first_50_iterations_unchanged(tmp_path):
    reference = json.loads((DATA / "lgp_gan_cpu_50_iterations.json").read_text())["losses"]
    losses, _ = _script("record_baseline_losses").run(tmp_path, len(reference))
    assert len(losses) == 50 and sum("G/total" in r for r in losses) == 10
    for i, (got, want) in enumerate(zip(losses, reference)):
        assert set(got) == set(want), f"iteration {i + 1}: loss names differ"
        for k in want:  # CPU, one thread, same seed: the same arithmetic gives the same floats
            assert got[k] == pytest.approx(want[k], rel=1e-6, abs=1e-7), f"iteration {i + 1}: {k}"


@pytest.mark.parametrize("model", ["lgp-gan", "stargan", "ganimation"])
def test_format1_checkpoint_loads_and_translates_as_before(model, tmp_path):
    from course_lib import checkpoint, trainer

    mod = _script("record_old_checkpoints")
    rec = json.loads((DATA / "checkpoint_format1.json").read_text())["models"][model]
    assert rec["format"] == "course_lib.trainer/1"
    G = mod.fill({k: tuple(v) for k, v in rec["G"].items()})
    D = mod.fill({k: tuple(v) for k, v in rec["D"].items()}, 1)
    old = {"format": rec["format"], "config": rec["config"], "step": rec["step"], "G": G, "D": D,
           "g_opt": {"state": {}, "param_groups": rec["g_opt_param_groups"]},
           "d_opt": {"state": {}, "param_groups": rec["d_opt_param_groups"]},
           "stream": rec["stream"], "rng": checkpoint.rng_state(), "last": rec["last"], "elapsed": 1.0}
    assert sorted(old) == rec["keys"]
    path = checkpoint.save(old, tmp_path / "run" / "checkpoints" / "last.pt")
    got = mod.outputs(trainer.load_translator(path), mod.faces())
    want = rec["outputs"]
    assert got["sum"] == pytest.approx(want["sum"], rel=1e-5)
    assert got["abs_sum"] == pytest.approx(want["abs_sum"], rel=1e-5)
    assert got["corner"] == pytest.approx(want["corner"], abs=1e-5)
    # and a run of the old format resumes
    tr = trainer.Trainer(None, tmp_path / "run", mod.faces(), resume=True, progress=False)
    assert tr.step == rec["step"]
