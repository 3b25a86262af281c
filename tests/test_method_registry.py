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


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.mark.slow
def test_lgp_gan_cpu_preset_first_50_iterations_unchanged(tmp_path):
    reference = json.loads((DATA / "lgp_gan_cpu_50_iterations.json").read_text())["losses"]
    # the legacy networks explicitly: LGP-GAN's cpu preset now trains at net_size "cpu-wide" (issue 15)
    losses, tr = _script("record_baseline_losses").run(tmp_path, len(reference), net_size="cpu")
    assert tr.config.net_size == "cpu" and tr.method.size.upsample == "deconv" and tr.method.size.g_conv_dim == 8
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


# ----------------------------------------------------------------------------- the registry
def test_trainer_names_no_method():
    import re

    src = (ROOT / "course_lib" / "trainer.py").read_text().lower()
    for word in ("lgp", "stargan", "ganimation"):
        assert not re.search(word, src), f"course_lib/trainer.py mentions {word!r}"


def test_every_method_is_found_by_module_scan_and_implements_the_interface():
    import ast
    import dataclasses
    import inspect

    from course_lib import methods

    files = sorted(p.stem for p in (ROOT / "course_lib" / "methods").glob("*.py") if not p.stem.startswith("_"))
    assert len(methods.names()) == len(files) and {"lgp-gan", "stargan", "ganimation"} <= set(methods.names())
    for name in methods.names():
        cls = methods.get(name)
        assert cls.name == name and cls.paper and cls.equations
        assert cls.conditioning in ("label", "AUs", "landmarks+label")
        assert ("landmarks" in cls.batch_keys) == cls.needs_landmarks
        # every hyper-parameter has a default and a docstring (the paper's Eq./Table or our choice)
        tree = ast.parse(inspect.getsource(cls.Hyper)).body[0].body
        documented = {a.target.id for a, b in zip(tree, tree[1:])
                      if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant)}
        assert {f.name for f in dataclasses.fields(cls.Hyper)} == documented, name
        m = cls(size="cpu")
        assert tuple(m.nets) == cls.network_names
        assert set(m.optimizers(__import__("course_lib.config", fromlist=["x"]).TrainConfig(model=name))) == set(cls.network_names)
    with pytest.raises(ValueError, match="expected one of"):
        methods.get("no-such-gan")


def test_methods_command_lists_every_method(capsys):
    from course_lib import cli, methods

    assert cli.main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in methods.names():
        cls = methods.get(name)
        assert f"\n{name}\n" in f"\n{out}" and cls.paper in out
    assert "parameters at network size 'cpu': G 209,480, D 808,272" in out  # LGP-GAN, counted independently below
    assert "parameters at network size 'cpu-wide': G 746,128, D 808,272" in out


def test_lgp_gan_cpu_parameter_count_from_the_tables():
    """G = G_eye + G_mouth + G_global (Table II with 8 base channels, 2/2/3 residual blocks), counted by hand."""
    def gen(c, repeat, n=8):
        rows = [(7, 3 + n, c), (4, c, 2 * c), (4, 2 * c, 4 * c)] + [(3, 4 * c, 4 * c)] * (2 * repeat) \
            + [(4, 4 * c, 2 * c), (4, 2 * c, c)]
        return sum(k * k * ci * co + 2 * co for k, ci, co in rows) + 7 * 7 * c * 3 + 7 * 7 * c * 1

    assert 2 * gen(8, 2) + gen(8, 3) == 209_480


def test_lgp_gan_cpu_wide_parameter_count_by_hand():
    """``cpu-wide``: 16 base channels, the two up layers 3x3 convs after nearest x2 (no
    parameters in the resize), discriminators as in ``cpu``."""
    from course_lib import methods

    def gen(c, repeat, n=8):
        rows = [(7, 3 + n, c), (4, c, 2 * c), (4, 2 * c, 4 * c)] + [(3, 4 * c, 4 * c)] * (2 * repeat) \
            + [(3, 4 * c, 2 * c), (3, 2 * c, c)]
        return sum(k * k * ci * co + 2 * co for k, ci, co in rows) + 7 * 7 * c * 3 + 7 * 7 * c * 1

    want = 2 * gen(16, 2) + gen(16, 3)
    assert want == 746_128
    assert methods.get("lgp-gan").parameter_counts("cpu-wide") == {"G": want, "D": 808_272}


def test_cpu_preset_lgp_gan_is_wide_with_resize_conv_and_the_baselines_keep_cpu():
    from torch import nn

    from course_lib import methods
    from course_lib.config import preset

    cfg = preset("cpu")
    assert cfg.model == "lgp-gan" and cfg.net_size == "cpu-wide"
    G = methods.get("lgp-gan")(cfg.method_hyper(), cfg.net_size).nets["G"]
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
    assert sum(isinstance(m, nn.Upsample) for m in G.modules()) == 6          # 2 in each of 3 generators
    for g in (G.g_eye, G.g_mouth, G.g_global):
        assert g.main[0].out_channels == 16 and g.color_head[0].in_channels == 16
    assert preset("cpu", net_size="cpu").net_size == "cpu"                   # the caller still wins
    for model in ("stargan", "ganimation"):
        c = preset("cpu", model=model)
        assert c.net_size == "cpu", model
        Gb = methods.get(model)(c.method_hyper(), c.net_size).nets["G"]
        assert sum(isinstance(m, nn.ConvTranspose2d) for m in Gb.modules()) == 2, model


def test_hyper_parameters_are_validated_naming_key_and_method():
    from course_lib.config import ConfigError, TrainConfig, preset

    with pytest.raises(ConfigError, match=r"'stargan'.*lambda_self"):
        TrainConfig(model="stargan", hyper={"lambda_self": 1.0})
    with pytest.raises(ConfigError, match=r"'lgp-gan'.*lambda_cls.*number"):
        TrainConfig(hyper={"lambda_cls": "three"})
    assert preset("cpu", model="stargan").hyper["lambda_cls_d"] == 6       # the cpu preset's choice applies
    assert preset("paper", model="stargan").hyper["lambda_cls_d"] is None  # the paper's value
    # saved complete in config.yaml, and read back
    c = preset("cpu", hyper={"lambda_cls": 3})
    assert c.hyper["lambda_cls"] == 3.0 and c.hyper["lambda_cls_d"] == 6 and c.hyper["lambda_cycle"] == 10


def test_cli_set_overrides_a_hyper_parameter(tmp_path):
    from course_lib.cli import build_parser
    from course_lib.commands.train import build_config
    from course_lib.config import ConfigError

    parse = lambda *a: build_parser().parse_args(["train", "--out", str(tmp_path), *a])
    c = build_config(parse("--model", "stargan", "--set", "lambda_cls=3", "--set", "n_critic=2"))
    assert c.hyper["lambda_cls"] == 3.0 and c.n_critic == 2
    with pytest.raises(ConfigError, match=r"'stargan'.*lambda_att"):
        build_config(parse("--model", "stargan", "--set", "lambda_att=1"))
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        build_config(parse("--set", "lambda_cls"))


def test_legacy_config_keys_still_read(tmp_path):
    """A config.yaml of the format-1 era kept the loss weights as top-level fields."""
    from course_lib.config import TrainConfig

    old = tmp_path / "config.yaml"
    old.write_text("model: stargan\nlambda_cls: 2.0\nlambda_cls_d: null\nlambda_self: 10.0\nattention_variant: l2\n")
    c = TrainConfig.load(old)
    assert c.hyper == {"lambda_cls": 2.0, "lambda_cls_d": None, "lambda_cycle": 10.0, "lambda_gp": 10.0}


# ----------------------------------------------------------------------------- one data path (item 4)
def test_one_conversion_one_atomic_write_one_checkpoint_loader():
    """127.5 appears only in the two image helpers; atomic renames only in checkpoint.py; no
    checkpoint is loaded with weights_only=False (a pickle could run code)."""
    import re

    for path in sorted((ROOT / "course_lib").rglob("*.py")) + sorted((ROOT / "notebooks").glob("*.py")):
        src = path.read_text()
        rel = path.relative_to(ROOT).as_posix()
        if rel != "course_lib/images.py":
            assert "127.5" not in src, f"{rel}: use images.unit_from_uint8 / uint8_from_unit"
        if rel != "course_lib/checkpoint.py":
            assert not re.search(r"os\.replace|mkstemp", src), f"{rel}: use checkpoint.atomic_write"
        assert "weights_only=False" not in src, rel
        if rel not in ("course_lib/checkpoint.py",):
            assert "torch.load(" not in src, f"{rel}: use checkpoint.load"


def test_images_helpers_round_trip():
    from course_lib.images import uint8_from_unit, unit_from_uint8

    u8 = torch.arange(256, dtype=torch.uint8)
    x = unit_from_uint8(u8)
    assert x[0] == -1 and x[-1] == 1 and torch.equal(uint8_from_unit(x), u8)
    assert uint8_from_unit(torch.tensor([-3.0, 3.0])).tolist() == [0, 255]


def test_checkpoints_are_format_2_and_a_newer_format_is_refused(tmp_path):
    from course_lib import checkpoint, trainer
    from course_lib.config import preset

    mod = _script("record_old_checkpoints")
    cfg = preset("cpu", model="stargan", steps=1, batch_size=2, n_critic=1, sample_every=1000, log_every=1)
    trainer.Trainer(cfg, tmp_path / "run", mod.faces(), progress=False).train()
    state = checkpoint.load(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["format"] == "course_lib.trainer/2" and set(state["nets"]) == set(state["optimizers"]) == {"G", "D"}
    assert "lambda_cls" not in state["config"] and state["config"]["hyper"]["lambda_cls_d"] == 6
    state["format"] = "course_lib.trainer/3"
    checkpoint.save(state, tmp_path / "new.pt")
    with pytest.raises(checkpoint.CheckpointError, match="newer"):
        trainer.load_translator(tmp_path / "new.pt")


# ----------------------------------------------------------------------------- lessons (item 6)
def _code_cells(path):
    cells, cur, code = [], [], False
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            if code:
                cells.append("\n".join(cur))
            cur, code = [], "[markdown]" not in line
        else:
            cur.append(line)
    if code:
        cells.append("\n".join(cur))
    return cells


def test_lessons_read_no_private_attribute_and_name_no_method_in_code():
    import re

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        for cell in _code_cells(path):
            code = "\n".join(l.split("#", 1)[0] for l in cell.splitlines())  # comments aside
            private = re.findall(r"\b\w+\._[a-zA-Z]\w*", code)
            assert not private, f"{path.name}: private attribute(s) {private}"
            assert not re.search(r"model_name\s*==|\.name\s*==", code), f"{path.name}: branches on a method name"


def test_lesson_7_calls_the_methods_loss_function():
    cells = "\n".join(_code_cells(ROOT / "notebooks" / "07_training.py"))
    assert 'methods.get("lgp-gan")' in cells and '.loss("D", ' in cells and '.loss("G", ' in cells
    assert "inspect.getsource" in cells                                   # shown, then called
    assert "discriminator_loss(" not in cells and "generator_loss(" not in cells  # not rebuilt by hand


def test_bench_models_measures_every_network_of_a_method():
    from course_lib.benchmarks import models

    r = models.measure("stargan", "cpu", batch=2, repeats=1, device="cpu")
    from course_lib import methods

    assert {k: v["params"] for k, v in r.items()} == methods.get("stargan").parameter_counts("cpu")
    assert all(v["update_s"] > 0 for v in r.values())


def test_the_catalog_lists_every_registered_method_as_implemented():
    """course_lib.catalog (README / book table) and the registry agree: each implemented
    entry names its method module, and each method module is an implemented entry."""
    import re

    from course_lib import catalog, methods

    named = {re.sub(r"\.py$", "", p).replace("_", "-") for m in catalog.METHODS if m.status == "implemented"
             for p in re.findall(r"`course_lib/methods/(\w+\.py)`", m.where)}
    assert named == set(methods.names())


def test_network_size_and_training_preset_are_two_words():
    from course_lib.config import PRESETS, TrainConfig, preset

    assert preset("paper").net_size == "paper" and "model_preset" not in TrainConfig().to_dict()
    assert TrainConfig.from_dict({"model_preset": "paper", "image_size": 128}).net_size == "paper"  # old configs
    assert preset("cpu", model_preset="paper", image_size=128).net_size == "paper"
    assert set(PRESETS) == {"paper", "colab-t4", "cpu"}


def test_hyper_parameters_from_yaml_and_saved_in_config_yaml(tmp_path):
    from course_lib import cli
    from course_lib.config import ConfigError, TrainConfig

    y = tmp_path / "c.yaml"
    y.write_text("model: stargan\nhyper:\n  lambda_cls: 2\n")
    assert TrainConfig.load(y).hyper["lambda_cls"] == 2.0
    y.write_text("model: stargan\nhyper:\n  lambda_self: 2\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*'stargan'.*lambda_self"):
        TrainConfig.load(y)
    mod = _script("record_old_checkpoints")
    data = tmp_path / "faces"
    from course_lib import facs

    for k in range(16):  # a folder per expression, two people
        from PIL import Image

        img = mod.faces()["image"][k].permute(1, 2, 0).numpy()
        (data / facs.EXPRESSIONS[k % 8]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(data / facs.EXPRESSIONS[k % 8] / f"p{k // 8}_{k}.png")
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text("batch_size: 2\nn_critic: 1\nn_samples: 1\nthreads: 1\n")
    assert cli.main(["train", "--model", "stargan", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "1",
                     "--config", str(tiny), "--set", "lambda_cls=3", "--set", "lambda_cycle=5"]) == 0
    saved = TrainConfig.load(tmp_path / "run" / "config.yaml")
    assert (saved.hyper["lambda_cls"], saved.hyper["lambda_cycle"], saved.hyper["lambda_cls_d"]) == (3.0, 5.0, 6.0)


# ----------------------------------------------------------------------------- issue 15, item 4
def test_a_methods_own_presets_name_known_presets_and_fields_and_say_why():
    """A method's ``presets`` (what a training preset sets differently for it) are applied by
    ``config.preset`` and each is explained in ``presets_doc``."""
    import dataclasses

    from course_lib import methods
    from course_lib.config import PRESETS, TrainConfig, preset

    known = set(TrainConfig.__dataclass_fields__) - {"model"}
    for name in methods.names():
        cls = methods.get(name)
        own, why = getattr(cls, "presets", {}), getattr(cls, "presets_doc", {})
        assert set(own) <= set(PRESETS) and set(own) == set(why), name
        for p, values in own.items():
            assert set(values) <= known and len(why[p]) > 80, (name, p)
            c = preset(p, model=name)
            for k, v in values.items():
                want = dataclasses.asdict(methods.make_hyper(name, v)) if k == "hyper" else v
                assert getattr(c, k) == want, (name, p, k)
            assert preset(p, model=name, g_lr=3e-3).g_lr == 3e-3  # the caller's overrides still win
    assert {n for n in methods.names() if getattr(methods.get(n), "presets", {}).get("cpu")} >= {"stargan", "ganimation"}
