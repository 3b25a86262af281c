"""course_lib.trainer: one iteration of every model, exact resume, the NaN guard, run-folder files."""
import csv
import json

import numpy as np
import pytest
import torch

from course_lib import trainer
from course_lib.config import preset


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def tiny(model, **kw):
    values = dict(model=model, steps=2, batch_size=2, n_critic=1, log_every=1, sample_every=1000,
                  checkpoint_every=1000, n_samples=1)
    values.update(kw)
    return preset("cpu", **values)


@pytest.mark.parametrize("model", [pytest.param("lgp-gan", marks=pytest.mark.slow), "stargan", "ganimation"])
def test_one_full_iteration_updates_g_and_d(model, faces, tmp_path):
    tr = trainer.Trainer(tiny(model), tmp_path, faces, progress=False)
    g0 = [p.detach().clone() for p in tr.nets["G"].parameters()]
    d0 = [p.detach().clone() for p in tr.nets["D"].parameters()]
    parts = tr.iteration(tr.stream.next())
    assert all(np.isfinite(v) for v in parts.values())
    expected_d = {"lgp-gan": {"global", "eye", "mouth"}}.get(model, {"global"})
    assert set(tr.nets["D"]) == expected_d
    assert ("D/gp" in parts or "D_gp/gp" in parts) and "G/cycle" in parts and ("G/self" in parts) == (model == "lgp-gan")
    assert ("G/att" in parts) == (model != "stargan")
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.nets["G"].parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, tr.nets["D"].parameters()))


def test_generator_updated_every_n_critic_iterations(faces, tmp_path):
    tr = trainer.Trainer(tiny("stargan", n_critic=5, steps=10), tmp_path, faces, progress=False)
    g_updates = 0
    for _ in range(5):
        g_updates += "G/total" in tr.iteration(tr.stream.next())
        tr.step += 1
    assert g_updates == 1  # paper IV.B: D five times for each G update


@pytest.mark.slow
def test_resume_continues_exactly(faces, tmp_path):
    cfg = tiny("stargan", steps=4, log_every=1)
    straight = trainer.Trainer(cfg, tmp_path / "a", faces, progress=False)
    straight.train()
    first = trainer.Trainer(cfg, tmp_path / "b", faces, progress=False)
    first.train(until=2)
    torch.manual_seed(1234)  # disturb the global RNG: the checkpoint must restore it
    second = trainer.Trainer(cfg, tmp_path / "b", faces, resume=True, progress=False)
    assert second.step == 2
    second.train()
    rows = lambda d: list(csv.DictReader(open(d / "log.csv")))
    assert rows(tmp_path / "a") == rows(tmp_path / "b")
    for a, b in zip(straight.nets["G"].state_dict().values(), second.nets["G"].state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("lambda_cls_d", [None, 3.0])
def test_critics_classification_weight(faces, tmp_path, lambda_cls_d):
    tr = trainer.Trainer(tiny("stargan", hyper={"lambda_cls": 1.5, "lambda_cls_d": lambda_cls_d}), tmp_path, faces,
                         progress=False)
    p = tr.iteration(tr.stream.next())  # n_critic 1: D (Eq. 8) and G (Eq. 9) terms
    w_d = 1.5 if lambda_cls_d is None else lambda_cls_d
    assert p["D/total"] == pytest.approx(p["D/adv"] + 10 * p["D/gp"] + w_d * p["D/cls"], rel=1e-5)
    assert p["G/total"] == pytest.approx(p["G/adv"] + 1.5 * p["G/cls"] + 10 * p["G/cycle"], rel=1e-5)


def test_same_seed_same_result(faces, tmp_path):
    losses = []
    for i in range(2):
        r = trainer.Trainer(tiny("stargan", steps=1), tmp_path / str(i), faces, progress=False)
        losses.append(r.iteration(r.stream.next()))
    assert losses[0] == losses[1]


def test_nan_guard_names_loss_and_step(faces, tmp_path):
    tr = trainer.Trainer(tiny("stargan"), tmp_path, faces, progress=False)
    with torch.no_grad():
        next(iter(tr.nets["D"]["global"].conv1.parameters())).fill_(float("nan"))
    with pytest.raises(trainer.TrainingDiverged, match=r"loss D/\w+ is nan at step 1"):
        tr.train()


def test_existing_run_is_not_overwritten(faces, tmp_path):
    trainer.Trainer(tiny("stargan", steps=1), tmp_path, faces, progress=False).train()
    with pytest.raises(FileExistsError, match="--resume"):
        trainer.Trainer(tiny("stargan", steps=1), tmp_path, faces, progress=False)


@pytest.mark.slow
def test_run_folder_and_translator(faces, tmp_path):
    tr = trainer.Trainer(tiny("lgp-gan", steps=1, sample_every=1, n_samples=2), tmp_path, faces, progress=False)
    summary = tr.train()
    for name in ("config.yaml", "checkpoints/last.pt", "log.csv", "loss_curves.png", "summary.json",
                 "samples/step_000001.png", "masks/step_000001.png"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "summary.json").read_text())["step"] == summary["step"] == 1
    from PIL import Image

    w, h = Image.open(tmp_path / "samples/step_000001.png").size  # 2 rows x (input + 8 targets)
    assert (w, h) == (9 * 66 + 2, 2 * 66 + 2)
    translate = trainer.load_translator(tmp_path)
    assert (translate.model_name, translate.image_size) == ("lgp-gan", 64)
    x = faces["image"][:3].float() / 127.5 - 1
    out = translate(x, torch.tensor([0, 4, 7]), faces["landmarks"][:3])
    assert out.shape == x.shape and out.abs().max() <= 1
    # the same forward pass as the trained generator
    from course_lib import regions

    boxes = regions.region_boxes(faces["landmarks"][:3], "lgp", 64)
    with torch.no_grad():
        ref = tr.nets["G"].eval()(x, torch.tensor([0, 4, 7]), boxes)["out"]
    assert torch.allclose(out, ref.clamp(-1, 1))
    with pytest.raises(ValueError, match="landmarks"):
        translate(x, torch.tensor([0, 4, 7]), None)


@pytest.mark.slow
def test_cli_train_resume_and_config_errors(tmp_path, capsys):
    from course_lib import cli, datasets

    data = datasets.build_synthetic(tmp_path / "data", identities=3, size=64, seed=0, progress=False)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("batch_size: 2\nn_critic: 1\nn_samples: 1\nthreads: 1\n")
    args = ["train", "--model", "stargan", "--data", str(data), "--out", str(tmp_path / "run"), "--config", str(cfg)]
    assert cli.main(args + ["--steps", "1"]) == 0
    assert cli.main(args + ["--steps", "1"]) == 2 and "--resume" in capsys.readouterr().err
    assert cli.main(args + ["--resume", "--steps", "2"]) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["step"] == 2
    cfg.write_text("batch_size: 0\n")
    assert cli.main(args[:-2] + ["--out", str(tmp_path / "other"), "--config", str(cfg)]) == 2
    assert "batch_size" in capsys.readouterr().err
