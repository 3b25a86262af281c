"""bench train's reference: the official yunjey/stargan solver, vendored under tests/official_stargan/
(course_lib.benchmarks._official_stargan): it builds and trains from the vendored code, the config
mapping gives the official networks our parameter counts, and a missing folder is a clear error."""
import sys

import pytest
import torch

from course_lib.benchmarks import _official_stargan as O
from course_lib.config import preset

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_vendored_files_are_the_official_ones_with_licence_and_readme():
    folder = O.official_dir()
    assert (folder / "LICENSE").read_text().startswith("MIT License")
    readme = (folder / "README.md").read_text()
    assert O.COMMIT in readme and "yunjey/stargan" in readme
    assert "class Solver(object):" in (folder / "solver.py").read_text()
    assert not (folder / "__init__.py").exists()  # not a package: its modules import each other by bare names


@pytest.mark.parametrize("preset_name", ["cpu", "paper"])
def test_config_mapping_gives_our_parameter_counts(preset_name, tmp_path):
    """The official Solver built by its own main.py from official_argv(cfg) has the networks of ours
    (counts differ if an image size, a width, a depth or c_dim is mapped wrong)."""
    from course_lib import methods

    cfg = preset(preset_name, model="stargan")
    argv = O.official_argv(cfg, image_dir=tmp_path / "images", work_dir=tmp_path / "work", num_iters=1)
    solver, loader, out = O.run_main(argv, train=False, load_data=False, device="cpu")
    assert loader is None and "The number of parameters" in out  # the solver's own print, captured
    count = lambda net: sum(p.numel() for p in net.parameters())
    ours = methods.get("stargan").parameter_counts(cfg.net_size)
    assert {"G": count(solver.G), "D": count(solver.D)} == ours
    assert (solver.image_size, solver.c_dim, solver.dataset, solver.use_tensorboard) == (cfg.image_size, 8, "RaFD", False)
    assert (solver.batch_size, solver.n_critic, solver.g_lr, solver.d_lr, solver.beta1, solver.beta2) == (
        cfg.batch_size, cfg.n_critic, cfg.g_lr, cfg.d_lr, cfg.beta1, cfg.beta2)
    assert (solver.lambda_rec, solver.lambda_gp, solver.lambda_cls) == (
        cfg.hyper["lambda_cycle"], cfg.hyper["lambda_gp"], cfg.hyper["lambda_cls"])
    assert solver.sample_step > 1 and solver.model_save_step > 1  # nothing written during a bench run
    assert str(solver.device) == "cpu" and next(solver.G.parameters()).device.type == "cpu"
    assert "model" not in sys.modules or not hasattr(sys.modules["model"], "Generator")  # bare names removed again


def test_official_solver_trains_on_our_faces_and_is_timed(faces):
    cfg = preset("cpu", model="stargan", batch_size=2, n_critic=1)
    tensors = {"image": faces["image"][:6], "label": faces["label"][:6]}
    assert O.images_needed(cfg, 1) == 6  # the fixed batch, one warm-up and one timed iteration
    r = O.time_official(cfg, tensors, cycles=1, device="cpu")
    assert r["iterations"] == 1 and r["images_per_s"] > 0 and r["device"] == "cpu"
    assert "Start training..." in r["log"]
    with pytest.raises(ValueError, match="need 8 for one epoch"):
        O.time_official(cfg, tensors, cycles=2, device="cpu")


def test_official_train_updates_both_networks(tmp_path, faces):
    cfg = preset("cpu", model="stargan", batch_size=2, n_critic=1)
    root = O.write_image_folder({"image": faces["image"][:8], "label": faces["label"][:8]}, tmp_path / "images")
    assert sorted(p.name for p in root.iterdir())[:2] == ["0_angry", "1_contemptuous"]  # ImageFolder's order = ours
    argv = O.official_argv(cfg, image_dir=root, work_dir=tmp_path / "work", num_iters=2)
    solver, loader, _ = O.run_main(argv, device="cpu")
    assert len(loader.stamps) == 3  # fixed batch + 2 iterations, each fetch time-stamped
    assert solver.d_optimizer.state and solver.g_optimizer.state  # Solver.train() took D and G steps
    assert solver.train_end >= loader.stamps[-1]


def test_missing_vendored_folder_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"tests/official_stargan: the vendored official StarGAN code is "
                                                r"missing \(LICENSE, main.py, solver.py, model.py, data_loader.py\)"):
        O.official_dir(tmp_path)
    (tmp_path / "tests" / "official_stargan").mkdir(parents=True)
    (tmp_path / "tests" / "official_stargan" / "LICENSE").write_text("MIT")
    with pytest.raises(FileNotFoundError, match=r"missing \(main.py, solver.py, model.py, data_loader.py\).*"
                                                r"--no-official"):
        O.official_dir(tmp_path)
    # bench train stops before timing anything
    from course_lib import cli

    found = O.official_dir  # a repository without the folder (patching repo_root itself would leak into
    monkeypatch.setattr(O, "official_dir", lambda root=None: found(tmp_path))  # paths other modules compute)
    with pytest.raises(FileNotFoundError, match="official_stargan"):
        cli.main(["bench", "train", "--models", "stargan", "--threads", "1"])


def test_a_config_of_another_method_is_refused(tmp_path):
    with pytest.raises(ValueError, match="expected 'stargan'"):
        O.official_argv(preset("cpu", model="ganimation"), image_dir=tmp_path, work_dir=tmp_path, num_iters=1)


def test_bench_train_prints_ours_official_and_their_ratio(capsys):
    import re

    from course_lib import cli

    assert cli.main(["bench", "train", "--models", "stargan", "--presets", "cpu", "--cycles", "1",
                     "--threads", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^stargan\s+cpu\s+8\s+64\s", out, re.M)  # the per-method row is kept
    row = re.search(r"^cpu\s+64\s+8\s+1\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x\s+([\d.]+) \| ([\d.]+)$", out, re.M)
    assert row, out
    ours, official, ratio, run_ours, run_official = map(float, row.groups())
    assert (ours, official) == (run_ours, run_official)  # one run: the median is that run
    assert ratio == pytest.approx(ours / official, abs=0.006)
    assert "official: tests/official_stargan" in out and "num_workers=1" in out


def test_bench_train_checks_its_cycles_and_knows_the_levers():
    from course_lib import cli, methods
    from course_lib.benchmarks import train

    with pytest.raises(SystemExit, match="2 numbers for 1 presets"):
        cli.main(["bench", "train", "--models", "stargan", "--presets", "cpu", "--cycles", "1", "2"])
    cls = methods.get("stargan")
    assert all(isinstance(getattr(cls, lever), bool) and getattr(cls, lever) != value
               for lever, value in train.LEVERS.items())  # each entry switches a default
