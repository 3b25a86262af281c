"""course_lib.gpu_time and ``python -m course_lib gpu-time``: expected colab-t4 time per method."""
import copy

import pytest

from course_lib import config as C
from course_lib import gpu_time as T
from course_lib import methods
from course_lib.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    return T.load_data()


def test_every_method_has_a_current_count_and_an_expected_time(data):
    counts = data["counts"].get("colab-t4", {})
    assert sorted(counts) == sorted(methods.names()), "gpu_time.json lacks a method: python -m course_lib gpu-time --count"
    for m in methods.names():
        r = T.expected_seconds(m, "colab-t4", "T4", data)  # raises GpuTimeError when the count is stale
        assert r["kind"] in ("estimate", "measured")
        assert r["iterations"] == C.preset("colab-t4", model=m).steps
        assert 0 < r["seconds"] < float("inf") and r["gflop_per_iteration"] > 0


def test_estimate_is_gflop_times_iterations_over_the_assumed_throughput(data):
    assert T.GPUS["T4"]["peak_tflops"] == 8.1  # NVIDIA's T4 datasheet, FP32
    tflops = T.GPUS["T4"]["peak_tflops"] * T.GPUS["T4"]["fraction"]
    for m in ("stargan", "cascade-ef-gan"):
        r = T.expected_seconds(m, "colab-t4", "T4", {**data, "measured": {}})
        cfg = C.preset("colab-t4", model=m)
        phases = data["counts"]["colab-t4"][m]["phases"]
        if len(phases) == 1:
            gflop = phases[0]["gflop"] * cfg.steps
        else:  # the cascade: stage 1 alone for pretrain_fraction of the run, then every stage
            assert m == "cascade-ef-gan" and len(phases) == 2
            first = round(cfg.method_hyper().pretrain_fraction * cfg.steps)
            gflop = phases[0]["gflop"] * first + phases[1]["gflop"] * (cfg.steps - first)
        assert r["kind"] == "estimate" and r["measured_on"] is None
        assert r["seconds"] == pytest.approx(gflop / (tflops * 1000), rel=1e-9)
        assert r["hours"] == pytest.approx(r["seconds"] / 3600)


def test_a_measurement_replaces_the_estimate_for_its_gpu_only(data):
    d = copy.deepcopy(data)
    d["measured"] = {}
    T.record_measured(d, "stargan", "colab-t4", "NVIDIA H200", 40.0, "test")
    assert T.expected_seconds("stargan", "colab-t4", "T4", d)["kind"] == "estimate"  # another GPU
    T.record_measured(d, "stargan", "colab-t4", "Tesla T4", 4.0, "test")
    r = T.expected_seconds("stargan", "colab-t4", "T4", d)
    assert r["kind"] == "measured" and r["measured_on"] == "Tesla T4"
    assert r["seconds"] == pytest.approx(C.preset("colab-t4", model="stargan").steps / 4.0)
    T.record_measured(d, "stargan", "colab-t4", "Tesla T4", 5.0, "again")  # replaces that GPU's entry
    assert [e["iterations_per_s"] for e in d["measured"]["colab-t4"]["stargan"] if e["gpu"] == "Tesla T4"] == [5.0]
    with pytest.raises(T.GpuTimeError, match="positive"):
        T.record_measured(d, "stargan", "colab-t4", "Tesla T4", 0.0, "test")
    # the cascade: bench train times its first phase (stage 1 alone); the fine-tuning is scaled by its FLOPs
    T.record_measured(d, "cascade-ef-gan", "colab-t4", "Tesla T4", 2.0, "test")
    r = T.expected_seconds("cascade-ef-gan", "colab-t4", "T4", d)
    cfg = C.preset("colab-t4", model="cascade-ef-gan")
    g0, g1 = (p["gflop"] for p in d["counts"]["colab-t4"]["cascade-ef-gan"]["phases"])
    first = round(cfg.method_hyper().pretrain_fraction * cfg.steps)
    assert r["kind"] == "measured"
    assert r["seconds"] == pytest.approx(first / 2.0 + (cfg.steps - first) / 2.0 * g1 / g0)


def test_bench_train_output_is_parsed_and_recorded(tmp_path, data):
    text = ("model       preset    batch  size   s/iter  images/s  preset run (est.)\n"
            "stargan     colab-t4     16   128    0.210      76.2          140.0 min\n"
            "lgp-gan     colab-t4     16   128    0.500      32.0          333.3 min\n"
            "images/s = iterations x batch / time\n"
            "machine: x86_64, 8 logical cores, torch 2.5.1 with 4 threads, Tesla T4\n")
    rows = T.parse_bench_train(text)
    assert [(r["model"], r["s_per_iteration"], r["gpu"]) for r in rows] == [
        ("stargan", 0.21, "Tesla T4"), ("lgp-gan", 0.5, "Tesla T4")]
    with pytest.raises(T.GpuTimeError, match="names no GPU"):
        T.parse_bench_train(text.replace("Tesla T4", "no GPU"))
    # the command records them into a copy of the cache and labels them measured in the table
    bench, cache, out = tmp_path / "bench.txt", tmp_path / "gpu_time.json", tmp_path / "gpu_time.md"
    bench.write_text(text)
    T.save_data({**copy.deepcopy(data), "measured": {}}, cache)
    assert main(["gpu-time", "--record", str(bench), "--data", str(cache), "--out", str(out)]) == 0
    table = out.read_text()
    assert "| stargan |" in table and "measured on Tesla T4" in table
    row = next(line for line in table.splitlines() if line.startswith("| stargan |"))
    assert f"| {C.preset('colab-t4', model='stargan').steps / (1 / 0.21) / 3600:.1f} |" in row


def test_a_changed_preset_makes_the_count_stale(data):
    d = copy.deepcopy(data)
    d["counts"]["colab-t4"]["stargan"]["key"]["batch_size"] = 999
    with pytest.raises(T.GpuTimeError, match="stale.*batch_size"):
        T.expected_seconds("stargan", "colab-t4", "T4", d)
    del d["counts"]["colab-t4"]["stargan"]
    with pytest.raises(T.GpuTimeError, match="gpu-time --count"):
        T.expected_seconds("stargan", "colab-t4", "T4", d)


def test_committed_table_is_what_the_command_writes(tmp_path, capsys):
    assert main(["gpu-time", "--check"]) == 0, "data/results/gpu_time.md is stale: python -m course_lib gpu-time"
    stale = tmp_path / "gpu_time.md"
    stale.write_text(T.TABLE_FILE.read_text().replace("estimate", "estimated", 1))
    assert main(["gpu-time", "--check", "--out", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def test_op_counter_agrees_with_flop_counter_and_follows_a_gradient_penalty():
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from course_lib.losses import gradient_penalty

    torch.manual_seed(0)
    D = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.LeakyReLU(0.01), nn.Conv2d(8, 1, 3, 1, 1))
    real, fake = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    with FlopCounterMode(display=False) as ref:
        D(real).mean().backward()
    with T.OpCounter() as mine:
        D(real).mean().backward()
    assert mine.flops == ref.get_total_flops() > 0
    # conv1: 2*B*Cout*Hout*Wout*Cin*k*k multiply-adds x 2 FLOP, computed by hand for one forward
    conv1 = 2 * 2 * 8 * 8 * 8 * 3 * 4 * 4
    conv2 = 2 * 2 * 1 * 8 * 8 * 8 * 3 * 3
    with T.OpCounter() as fwd:
        D(real)
    assert fwd.flops == conv1 + conv2
    with pytest.raises(RuntimeError):  # what bench models reports as nan
        with FlopCounterMode(display=False):
            gradient_penalty(D, real, fake).backward()
    with T.OpCounter() as gp:
        gradient_penalty(D, real, fake).backward()
    # forward on x_hat, its input gradient, then the double backward: more than a plain forward + backward
    assert gp.flops > mine.flops + fwd.flops


def test_counting_at_a_smaller_batch_scales_exactly():
    a = T.count_iteration("stargan", "cpu", batch=2)
    full = T.count_iteration("stargan", "cpu")  # at the preset's batch, 8
    assert a["batch"] == full["batch"] == full["counted_batch"] == C.preset("cpu", model="stargan").batch_size == 8
    assert a["counted_batch"] == 2
    assert a["phases"][0]["gflop"] == pytest.approx(full["phases"][0]["gflop"], rel=1e-12)
    with pytest.raises(T.GpuTimeError, match="batch"):
        T.count_iteration("stargan", "cpu", batch=1)


def test_a_method_with_its_own_colab_t4_schedule_fits_a_colab_session(data):
    """A method that shortens colab-t4 (its ``presets["colab-t4"]``) sized it to fit COLAB_HOURS, and says so."""
    own = [m for m in methods.names() if "steps" in getattr(methods.get(m), "presets", {}).get("colab-t4", {})]
    assert {"lgp-gan", "cascade-ef-gan", "ecgan", "landmark-gan"} <= set(own)
    for m in own:
        r = T.expected_seconds(m, "colab-t4", "T4", {**data, "measured": {}})
        assert r["hours"] <= T.COLAB_HOURS, (m, r["hours"])
        assert "gpu-time" in methods.get(m).presets_doc["colab-t4"], m


def test_the_results_page_shows_the_table_in_its_own_section():
    from course_lib.lesson import repo_root
    from course_lib.results import results_markdown

    page = results_markdown(repo_root())
    assert "## Expected GPU time of each method's colab-t4 run" in page
    assert "### `gpu_time`" not in page  # not among the paper tables
    assert page.index("| stargan | 16 | 128 |") < page.index("## Paper tables")
