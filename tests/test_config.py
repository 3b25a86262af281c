"""course_lib.config: presets follow LGP-GAN IV.B, YAML round trip, clear errors."""
import pytest

from course_lib.config import PRESETS, ConfigError, TrainConfig, preset


def test_paper_preset_is_section_iv_b():
    c = preset("paper")
    # LGP-GAN IV.B: batch 16, Adam(1e-4, 0.5, 0.999), 100k constant + 100k linear decay, n_critic 5
    assert (c.batch_size, c.g_lr, c.d_lr, c.beta1, c.beta2) == (16, 1e-4, 1e-4, 0.5, 0.999)
    assert (c.steps, c.decay_start, c.n_critic, c.image_size) == (200_000, 100_000, 5, 128)
    # Eq. 2, 8, 9: lambda_gp = 10, lambda_1..4 = 1, 10, 10, 0.1 (LGP-GAN's hyper-parameters)
    h = c.method_hyper()
    assert (h.lambda_gp, h.lambda_cls, h.lambda_cycle, h.lambda_self, h.lambda_att) == (10, 1, 10, 10, 0.1)
    assert h.lambda_cls_d is None  # Eq. 8 uses the same lambda_1 as Eq. 9


def test_only_the_cpu_preset_departs_from_the_paper_lr_and_lambda_1():
    # colab-t4 shortens the paper's schedule but keeps Section IV.B's Adam lr and Eq. 8's weight
    t4 = preset("colab-t4")
    assert (t4.g_lr, t4.d_lr, t4.hyper["lambda_cls"], t4.hyper["lambda_cls_d"]) == (1e-4, 1e-4, 1, None)
    # cpu: our choice (config module docstring), a faster D than G with a heavier classification term
    c = preset("cpu")
    assert (c.g_lr, c.d_lr, c.hyper["lambda_cls"], c.hyper["lambda_cls_d"]) == (2e-4, 8e-4, 1, 6)
    assert preset("cpu", g_lr=1e-4).g_lr == 1e-4   # overrides still win


def test_every_preset_builds_and_cpu_is_the_default():
    for name in PRESETS:
        preset(name)
    # the dataclass defaults are the cpu preset as the baselines get it; LGP-GAN's own cpu
    # preset adds its network size (issue 15: 16 channels, resize-convolution)
    assert preset("cpu") == TrainConfig(net_size="cpu-wide")
    assert preset("cpu", model="stargan").net_size == TrainConfig().net_size == "cpu"


def test_lr_schedule_constant_then_linear_to_zero():
    c = preset("paper")
    assert c.lr_factor(0) == 1.0 and c.lr_factor(99_999) == 1.0
    assert c.lr_factor(150_000) == pytest.approx(0.5)
    assert c.lr_factor(200_000) == 0.0


def test_steps_override_keeps_the_decay_ratio():
    c = preset("paper", steps=1000)
    assert c.decay_start == 500


def test_yaml_round_trip(tmp_path):
    c = preset("colab-t4", model="stargan", seed=7, data="some/folder")
    path = c.save(tmp_path / "config.yaml")
    assert TrainConfig.load(path) == c


@pytest.mark.parametrize("field, value", [
    ("model", "no-such-gan"), ("batch_size", 0), ("batch_size", 1), ("steps", -3), ("g_lr", 0.0),
    ("beta1", 1.0), ("image_size", 60), ("image_size", 128), ("attention_variant", "l1"), ("lambda_gp", -1.0),
    ("decay_start", 10**9), ("lambda_cls_d", -1.0), ("lambda_cls_d", "3"), ("amp", "yes"), ("n_critic", 2.5), ("device", "tpu"), ("g_lr", float("nan")),
])
def test_invalid_values_name_the_field(field, value):
    from course_lib import methods

    hyper = {f.name for f in __import__("dataclasses").fields(methods.get("lgp-gan").Hyper)}
    kw = {"hyper": {field: value}} if field in hyper else {field: value}  # a method's hyper-parameter
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**kw)


def test_yaml_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("batch_size: -4\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*batch_size"):
        TrainConfig.load(bad)
    bad.write_text("btach_size: 4\n")
    with pytest.raises(ConfigError, match="btach_size"):
        TrainConfig.load(bad)
    with pytest.raises(ConfigError, match="no such"):
        TrainConfig.load(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("gpu")


MALFORMED = [  # (YAML text, line, words of what the parser expected)
    ("steps: 10\nbatch_size: [4, 8\n", 3, ("expected ',' or ']'", "flow sequence at line 2")),
    ("steps: 10\n  g_lr: 0.001\n", 2, ("mapping values are not allowed",)),
    ("steps: 10\nseed: \"unclosed\n", 3, ("unexpected end of stream", "quoted scalar at line 2")),
    ("steps: 10\n\tseed: 1\n", 2, ("character '\\t'",)),
]


@pytest.mark.parametrize("text,line,words", MALFORMED)
def test_malformed_yaml_is_one_line_naming_file_and_line(tmp_path, text, line, words):
    bad = tmp_path / "broken.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as err:
        TrainConfig.load(bad)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{bad}, line {line}, column ") and "not valid YAML" in msg
    assert all(w in msg for w in words), msg


@pytest.mark.parametrize("text,got", [("- 1\n- 2\n", "a list"), ("42\n", "a number"), ("just words\n", "a string")])
def test_yaml_that_is_not_a_mapping(tmp_path, text, got):
    bad = tmp_path / "list.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=rf"list\.yaml, line 1: expected a mapping of config fields .*got {got}$"):
        TrainConfig.load(bad)
    (tmp_path / "empty.yaml").write_text("")
    assert TrainConfig.load(tmp_path / "empty.yaml") == TrainConfig()     # empty: all defaults


def test_train_config_errors_are_one_line_through_the_cli(tmp_path, monkeypatch, capsys):
    from course_lib import cli, trainer

    class NoTraining:
        def __init__(self, *a, **k):
            pytest.fail("a bad --config must stop before training")

    monkeypatch.setattr(trainer, "Trainer", NoTraining)
    bad = tmp_path / "bad.yaml"
    cases = [(text, f"--config {bad}, line {line}, column ") for text, line, _ in MALFORMED]
    cases += [("- steps: 10\n", f"--config {bad}, line 1: expected a mapping of config fields"),
              (b"steps: 10\nseed: \xff\n", f"--config {bad}, line 2: not UTF-8 text")]
    for text, start in cases:
        bad.write_bytes(text if isinstance(text, bytes) else text.encode())
        assert cli.main(["train", "--config", str(bad), "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {start}") and err.count("\n") == 1, err


def test_malformed_config_in_a_real_process_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: 10\nbatch_size: [4, 8\n")
    r = subprocess.run([sys.executable, "-m", "course_lib", "train", "--config", str(bad), "--out", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert lines == [f"error: --config {bad}, line 3, column 1: not valid YAML: expected ',' or ']', but got "
                     "'<stream end>' (while parsing a flow sequence at line 2)"]
    assert not (tmp_path / "r").exists()
