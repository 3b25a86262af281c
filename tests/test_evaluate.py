"""course_lib.evaluate: the R / G / R+G protocol, paired metrics and tables on a tiny fixture,
with stand-in translators (the ground-truth oracle and the identity translation)."""
import csv
import io
import math

import numpy as np
import pytest
import torch

from course_lib import evaluate as E
from course_lib import classifier, facs, metrics

SIZE = 16
JUDGE = dict(conv_dim=8, feature_dim=16, lr=3e-3, batch_size=8, shift=0)   # shifts would move the bands


class ToyFaces(torch.utils.data.Dataset):
    """Every identity under every expression: a flat identity colour plus a bright band of 2 rows
    whose height (one of 8) codes the expression (mirror-invariant, like a face's expression).
    ``find`` like the synthetic sets."""

    def __init__(self, identities, seed=0):
        rng = np.random.default_rng(seed)
        self.colour = {i: torch.tensor(rng.uniform(-0.8, 0.2, 3), dtype=torch.float32) for i in identities}
        self.items = [(i, e) for i in identities for e in range(len(facs.EXPRESSIONS))]

    def __len__(self):
        return len(self.items)

    def find(self, identity, expression):
        return self.items.index((identity, facs.expression_index(expression)))

    def __getitem__(self, k):
        identity, label = self.items[k]
        return {"image": draw(self.colour[identity].view(1, 3, 1, 1).expand(1, 3, SIZE, SIZE),
                              torch.tensor([label]))[0],
                "label": label, "identity": identity, "landmarks": torch.full((68, 2), float("nan")),
                "aus": torch.tensor(facs.au_vector(facs.EXPRESSIONS[label], aus=facs.AU_NUMBERS), dtype=torch.float32),
                "path": ""}


def draw(background, labels):
    """Background (B,3,S,S) + the expression band of each label (the toy's renderer)."""
    x = background.clone()
    for b, t in enumerate(labels.tolist()):
        x[b, :, 2 * t:2 * t + 2, 1:-1] = 0.9
    return x


class Oracle:
    """Stand-in translator returning the ground truth: keeps the identity colour (the right-most
    column, never covered by a band) and draws the target band."""
    model_name = "oracle"

    def __call__(self, images, targets, landmarks=None):
        return draw(images[:, :, -1:, -1:].expand_as(images), targets)


class Identity:
    model_name = "identity"

    def __call__(self, images, targets, landmarks=None):
        return images.clone()


@pytest.fixture(scope="module")
def splits():
    train = E.collect(ToyFaces([f"id{i}" for i in range(6)]), SIZE)
    test = E.collect(ToyFaces(["t0", "t1"], seed=1), SIZE)
    return train, test


@pytest.fixture(scope="module")
def judge(splits):
    return E.train_judge(splits[0], epochs=12, seed=0, progress=False, **JUDGE)


def test_collect_resizes_and_keeps_metadata():
    s = E.collect(ToyFaces(["a"]), 8)
    assert s.images.shape == (8, 3, 8, 8) and s.images.dtype == torch.uint8
    assert s.labels.tolist() == list(range(8)) and s.identities == ["a"] * 8
    assert s.aus.shape == (8, len(facs.AU_NUMBERS))


def test_translate_every_target(splits):
    test = splits[1]
    gen = E.translate(Oracle(), test)
    assert len(gen.target) == 8 * len(test)
    assert gen.source.tolist()[:9] == [0] * 8 + [1] and gen.target.tolist()[:9] == list(range(8)) + [0]


def test_protocol_with_oracle_and_identity(splits, judge):
    train, test = splits
    oracle = E.translate(Oracle(), test)
    ident = E.translate(Identity(), test)
    out = E.expression_protocol(train, test, oracle, E.translate(Oracle(), train, E.random_other_targets(train.labels)),
                                judge=judge, epochs=12, judge_kw=JUDGE)
    # the oracle's translations of the test set to all 8 targets are the test set itself, 8 times over
    assert out["acc_r"] >= 0.9
    assert out["acc_g"] == pytest.approx(out["acc_r"])
    assert out["acc_rg"] >= 0.9
    # identity translation: each source gets one fixed prediction, which equals exactly one of its 8 targets
    assert E.expression_protocol(train, test, ident, None, judge=judge)["acc_g"] == pytest.approx(1 / 8)
    assert "acc_rg" not in E.expression_protocol(train, test, ident, None, judge=judge)


def test_rg_classifier_gets_as_many_updates_as_r(splits, judge, monkeypatch):
    train, test = splits
    seen = []
    monkeypatch.setattr(E, "train_judge", lambda split, epochs, *a, **kw: seen.append((len(split.labels), epochs, kw))
                        or judge)
    gen = E.translate(Oracle(), train, E.random_other_targets(train.labels))
    # the judge records its recipe (12 epochs, the JUDGE fields): R+G is trained by it, whatever `epochs` says
    E.expression_protocol(train, test, E.translate(Oracle(), test), gen, judge=judge, epochs=100)
    assert seen[0][:2] == (2 * len(train), 6)  # twice the images, half the epochs
    assert {k: seen[0][2][k] for k in JUDGE} == JUDGE
    # a judge that records no recipe: `epochs` and the course's recipe
    seen.clear()
    bare = classifier.ExpressionClassifier(image_size=SIZE, conv_dim=4).eval()
    E.expression_protocol(train, test, E.translate(Oracle(), test), gen, judge=bare, epochs=100)
    assert seen[0][:2] == (2 * len(train), 50) and seen[0][2]["conv_dim"] == E.JUDGE_CONV_DIM


def test_random_other_targets_never_the_own_label():
    labels = torch.arange(8).repeat(20)
    t = E.random_other_targets(labels, seed=1)
    assert (t != labels).all() and set(t.tolist()) == set(range(8))
    assert torch.equal(t, E.random_other_targets(labels, seed=1))


def test_changed_pairs_skip_the_own_expression(splits):
    test = splits[1]
    source, target = E.changed_pairs(test.labels)
    assert len(source) == 7 * len(test) and (target != test.labels[source]).all()
    assert source.tolist()[:8] == [0] * 7 + [1] and target.tolist()[:7] == list(range(1, 8))
    gen = E.translate(Oracle(), test, changed_only=True)
    assert torch.equal(gen.source, source) and torch.equal(gen.target, target)


def copy_psnr_by_hand(test, changed=True):
    """Mean PSNR of the unchanged inputs against their truths, computed here from the toy's own
    ``find`` (own targets left out when ``changed``)."""
    u8 = test.images.permute(0, 2, 3, 1).numpy().astype(float)
    out = []
    for s in range(len(test)):
        for t in range(8):
            if changed and t == int(test.labels[s]):
                continue
            gt = test.dataset.find(test.identities[s], facs.EXPRESSIONS[t])
            mse = ((u8[s] - u8[gt]) ** 2).mean()
            out.append(100.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse))
    return float(np.mean(out))


def test_paired_metrics(splits, judge):
    test = splits[1]
    perfect = E.paired_metrics(test, E.translate(Oracle(), test), judge)
    # the own-expression pairs (8 of every 8*16 translations) are not paired metrics' business
    assert perfect["paired"] == 7 * len(test) and perfect["psnr_exact"] == 7 * len(test)
    assert perfect["psnr"] == math.inf and perfect["psnr_gain"] == math.inf and perfect["ssim"] == pytest.approx(1.0)
    assert perfect["au_error"] == pytest.approx(perfect["au_error_real"])
    assert perfect["outside_change"] == 0.0 and perfect["hf_ratio"] == 1.0
    assert perfect["lpips_note"] == metrics.LPIPS_NOTE and "lpips" not in perfect
    # identity translation: the 7 changed targets of each face differ from it in two bands, never exact
    ident = E.paired_metrics(test, E.translate(Identity(), test), judge)
    assert ident["psnr"] == pytest.approx(copy_psnr_by_hand(test))
    assert ident["psnr"] < copy_psnr_by_hand(test, changed=False)     # what counting own targets used to add
    assert ident["psnr_gain"] == 0.0 and ident["ssim_gain"] == 0.0 and ident["ssim"] < 1.0
    assert ident["psnr_exact"] == 0 and ident["outside_change"] == 0.0
    assert perfect["ssim_gain"] == pytest.approx(1.0 - ident["ssim"])


def test_no_ground_truth_without_find(splits):
    test = splits[1]
    no_find = E.Split(test.images, test.labels, test.landmarks, test.aus, test.identities,
                      dataset=list(range(len(test))))
    assert E.paired_metrics(no_find, E.translate(Identity(), test)) == {"paired": 0}


@pytest.fixture(scope="module")
def row(splits, judge):
    return E.evaluate_translator(Oracle(), *splits, judge=judge, classifier_epochs=12, judge_kw=JUDGE, identity_inputs=4, progress=False,
                                 log=lambda *a: None)


def test_evaluate_translator_row(row):
    assert row["method"] == "oracle" and row["fid_kind"] == "in-domain FID"
    assert row["inception"].startswith("unavailable") and "is_mean" not in row
    assert row["acc_g"] == pytest.approx(row["acc_r"]) and row["psnr"] == math.inf
    # dlib finds no face in the toys: reported, not hidden (translations of the first 4 inputs, 7 targets each)
    assert row["n_generated"] == 112 and row["identity_no_face"] == row["identity_pairs"] == 4 * 7
    assert row["identity"] == "n/a (no face in 28/28 pairs)"


def test_tables(row, tmp_path):
    md, cs = E.write_table([row, dict(row, method="other")], tmp_path, title="T")
    text = md.read_text()
    assert "| oracle | in-domain FID |" in text and "Inception FID / IS: unavailable" in text
    header = text.splitlines()[2]
    assert [h.strip() for h in header.strip("|").split("|")] == [h for _, h, _ in E.COLUMNS]
    assert "| n/a |" in text                                 # IS without Inception
    assert "| ∞ (exact) | ∞ | 1.000 |" in text and "| n/a (no LPIPS weights) |" in text
    assert "## G accuracy per target expression" in text
    rows = list(csv.DictReader(io.StringIO(cs.read_text())))
    assert [r["method"] for r in rows] == ["oracle", "other"]
    assert float(rows[0]["acc_g"]) == pytest.approx(row["acc_g"]) and rows[0]["is_mean"] == ""
    assert float(rows[0]["psnr"]) == math.inf and rows[0]["lpips"] == "" and rows[0]["lpips_note"] == metrics.LPIPS_NOTE
    assert float(rows[0]["acc_g_happy"]) == pytest.approx(row["acc_g_happy"])
    assert E.load_rows  # compare reads eval/metrics.json


def test_compare_reads_runs(row, tmp_path):
    for name in ("a", "b"):
        E.write_table([dict(row, method=name)], tmp_path / name / "eval")
    rows = E.load_rows([tmp_path / "a", tmp_path / "b"])
    assert [r["method"] for r in rows] == ["a", "b"]
    with pytest.raises(FileNotFoundError, match="evaluate --run"):
        E.load_rows([tmp_path / "missing"])


def test_evaluate_and_compare_commands(tmp_path, monkeypatch, capsys):
    """The CLI end to end on the toy data, with the oracle standing in for a trained run."""
    from course_lib import cli, trainer
    from course_lib.classifier import ExpressionClassifier

    toy = {"train": ToyFaces([f"id{i}" for i in range(6)]), "test": ToyFaces(["t0", "t1"], seed=1)}

    class Config:
        data = "toy"

        def replace(self, **kw):
            return self

    oracle = Oracle()
    oracle.image_size, oracle.config = SIZE, Config()
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))          # no cached Inception weights
    monkeypatch.setattr(trainer, "load_translator", lambda path, device="cpu": oracle)
    monkeypatch.setattr(trainer, "open_dataset", lambda config, split="train": toy[split])
    monkeypatch.setattr(E, "train_judge", lambda split, epochs, seed, progress, desc="", **kw:
                        ExpressionClassifier(image_size=SIZE, conv_dim=4, feature_dim=8,
                                             n_aus=split.aus.shape[1] if split.aus is not None else 0).eval())
    run = tmp_path / "runs" / "toy"
    run.mkdir(parents=True)
    assert cli.main(["evaluate", "--run", str(run), "--no-identity", "--classifier-epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Inception FID/IS unavailable" in out and "| oracle (toy) | in-domain FID |" in out
    assert "| copy (input unchanged) |" in out and "| oracle (ground truth) |" in out
    assert {p.name for p in (run / "eval").iterdir()} == {"metrics.md", "metrics.csv", "metrics.json", "classifier.pt",
                                                          "confusion_g.png"}
    assert (run / "eval" / "confusion_g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    methods = [r["method"] for r in csv.DictReader(io.StringIO((run / "eval" / "metrics.csv").read_text()))]
    assert methods == ["copy (input unchanged)", "oracle (toy)", "oracle (ground truth)"]
    assert cli.main(["evaluate", "--run", str(run), "--no-identity", "--no-rg", "--classifier-epochs", "1"]) == 0
    assert "classifier R: reusing" in capsys.readouterr().out

    assert cli.main(["compare", str(run), str(run), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert out.count("| oracle (toy) |") == 2 + 2                 # main and per-target table
    assert out.count("| copy (input unchanged) |") == 1 + 1       # the runs share their reference rows
    assert cli.main(["compare", str(run), "--out", str(tmp_path / "cmp")]) == 2       # never overwrites
    assert "--force" in capsys.readouterr().out
    assert cli.main(["evaluate", "--run", str(run), "--no-identity", "--no-rg", "--no-references",
                     "--classifier-epochs", "1"]) == 0
    assert [r["method"] for r in E.load_rows([run])] == ["oracle (toy)"]
    assert cli.main(["compare", str(tmp_path / "nothing")]) == 2
    assert cli.main(["evaluate", "--run", str(tmp_path / "nothing")]) == 2
    assert "no such run" in capsys.readouterr().out


def test_library_stand_ins_agree_with_the_toy_renderer(splits):
    test = splits[1]
    x = E.translate(E.OracleTranslator(test), test)
    assert torch.equal(x.images, E.translate(Oracle(), test).images)
    assert torch.equal(E.translate(E.IdentityTranslator(), test).images, test.images[x.source])


def test_row_with_inception_keeps_the_in_domain_fid(splits, judge, monkeypatch):
    real = metrics.fidelity_metrics

    def fake(generated, real_images, *, kind="in-domain", **kw):
        if kind == "inception":
            return {"kind": "Inception FID", "fid": 12.0, "is_mean": 1.3, "is_std": 0.1, "kid_mean": 0.01,
                    "kid_std": 0.001}
        return real(generated, real_images, kind=kind, **kw)

    monkeypatch.setattr(metrics, "fidelity_metrics", fake)
    r = E.evaluate_translator(Identity(), *splits, judge=judge, inception_path="weights.pth", rg=False,
                              identity=False, progress=False)
    assert r["fid_kind"] == "Inception FID" and r["fid"] == r["inception_fid"] == 12.0 and r["is_mean"] == 1.3
    assert r["in_domain_fid"] == pytest.approx(real(E.translate(Identity(), splits[1], changed_only=True).images,
                                                    splits[1].images, classifier=judge)["fid"])
    assert "| Inception FID | 12.00 | 1.300 |" in E.markdown_table([r])


# ----------------------------------------------------------------------------- copy / oracle reference rows
class NoisyTruth(Oracle):
    """The ground truth plus seeded Gaussian noise (sigma 0.05 of the [-1, 1] range)."""
    model_name = "noisy truth"

    def __call__(self, images, targets, landmarks=None):
        g = torch.Generator().manual_seed(len(targets))
        y = super().__call__(images, targets)
        return (y + 0.05 * torch.randn(y.shape, generator=g)).clamp(-1, 1)


class BlurredTruth(Oracle):
    """The ground truth blurred with a 3x3 box filter."""
    model_name = "blurred truth"

    def __call__(self, images, targets, landmarks=None):
        y = super().__call__(images, targets)
        return torch.nn.functional.avg_pool2d(y, 3, stride=1, padding=1, count_include_pad=False)


class StripedTruth(Oracle):
    """The ground truth with +0.2 (25 grey levels) on every other row: stripes everywhere."""
    model_name = "striped truth"

    def __call__(self, images, targets, landmarks=None):
        y = super().__call__(images, targets).clone()
        y[:, :, ::2] += 0.2
        return y.clamp(-1, 1)


class AlwaysAngry(Oracle):
    """The input's identity with the first expression's band, whatever the target."""
    model_name = "always angry"

    def __call__(self, images, targets, landmarks=None):
        return super().__call__(images, torch.zeros_like(torch.as_tensor(targets)))


FAST = dict(rg=False, identity=False, progress=False, lpips=None, log=lambda *a: None)


@pytest.fixture(scope="module")
def references(splits, judge):
    return E.reference_rows(*splits, judge, identity=False, progress=False, lpips=None)


@pytest.fixture(scope="module")
def model_rows(splits, judge):
    return {t.model_name: E.evaluate_translator(t, *splits, judge=judge, **FAST)
            for t in (NoisyTruth(), BlurredTruth(), StripedTruth(), AlwaysAngry(), E.IdentityTranslator())}


def test_copy_gains_are_zero_and_the_oracle_gains_the_largest(splits, references, model_rows):
    copy, oracle = references
    assert (copy["reference"], oracle["reference"]) == ("copy", "oracle")
    assert copy["method"] == "copy (input unchanged)" and oracle["method"] == "oracle (ground truth)"
    # copy: the inputs against the truths of the 7 other expressions, gains exactly 0
    assert copy["psnr"] == pytest.approx(copy_psnr_by_hand(splits[1])) and copy["paired"] == 7 * len(splits[1])
    assert copy["psnr_gain"] == 0.0 and copy["ssim_gain"] == 0.0
    # oracle: exact, the largest gains
    assert oracle["psnr"] == math.inf and oracle["psnr_gain"] == math.inf and oracle["ssim"] == pytest.approx(1.0)
    assert oracle["ssim_gain"] == pytest.approx(1.0 - copy["ssim"])
    for name in ("noisy truth", "blurred truth", "striped truth"):
        r = model_rows[name]
        # every row's gains are measured against the same copy on the same pairs
        assert r["paired"] == copy["paired"]
        assert r["psnr_copy"] == copy["psnr"] and r["ssim_copy"] == copy["ssim"]
        assert r["psnr_gain"] == pytest.approx(r["psnr"] - copy["psnr"]) and r["psnr_gain"] > 0, name
        assert r["ssim_gain"] == pytest.approx(r["ssim"] - copy["ssim"]) and r["ssim_gain"] > 0, name
        assert math.isfinite(r["psnr"])
        assert oracle["psnr_gain"] >= r["psnr_gain"] and oracle["ssim_gain"] >= r["ssim_gain"], name
    # a do-nothing model is the copy row: it cannot beat anything by construction
    ident = model_rows[E.IdentityTranslator.model_name]
    for key in ("psnr", "ssim", "psnr_gain", "ssim_gain", "outside_change", "hf_ratio", "acc_g"):
        assert ident[key] == copy[key], key


def test_stripes_raise_hf_ratio_and_outside_changes(references, model_rows):
    copy, oracle = references
    striped = model_rows["striped truth"]
    assert striped["hf_ratio"] > 1.2 and striped["outside_change"] > 0.3
    assert oracle["hf_ratio"] == 1.0 and oracle["outside_change"] == 0.0
    assert copy["outside_change"] == 0.0
    assert model_rows["blurred truth"]["hf_ratio"] < 1.0
    # faint noise (sigma 6 grey levels) changes some static pixels by more than the threshold, stripes far more
    assert 0 < model_rows["noisy truth"]["outside_change"] < striped["outside_change"]


def test_reference_g_accuracy(references, judge, splits):
    copy, oracle = references
    train, test = splits
    predicted = classifier.predict(judge, test.images)
    source, target = E.changed_pairs(test.labels)
    # copy: a translation counts when the judge reads the unchanged input as the (other) target
    assert copy["acc_g"] == pytest.approx((predicted[source] == target).float().mean().item())
    assert copy["acc_g"] <= (1 - copy["acc_r"]) / 7 + 1e-9
    # oracle: the truths are the test images themselves, each 7 times: G = R
    assert oracle["acc_g"] == pytest.approx(oracle["acc_r"]) and oracle["acc_r"] == copy["acc_r"]
    assert "acc_rg" not in copy and "acc_rg" not in oracle


def test_per_target_g_averages_to_g_and_plots(model_rows, tmp_path):
    for r in model_rows.values():
        n = np.array([r[k] for k in E.PER_TARGET_N])
        acc = np.array([r[k] for k in E.PER_TARGET])
        assert n.sum() == r["n_generated"] and (n == 14).all()      # 16 faces, 2 per expression: 14 per target
        assert (n * acc).sum() / n.sum() == pytest.approx(r["acc_g"])
        m = np.array(r["confusion_g"])
        assert m.shape == (8, 8) and (m.sum(axis=1) == n).all()
        assert np.diag(m) / n == pytest.approx(acc)
    # one target right, the other seven wrong: G = 1/8 while the judge's column "angry" holds everything
    angry = model_rows["always angry"]
    assert angry["acc_g_angry"] == 1.0 and angry["acc_g"] == pytest.approx(1 / 8)
    assert np.array(angry["confusion_g"])[:, 0].sum() == angry["n_generated"]
    r = model_rows["blurred truth"]
    png = E.save_confusion(r, tmp_path / "eval" / "confusion_g.png", title="blurred")
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000
    assert E.save_confusion({}, tmp_path / "none.png") is None
    table = E.per_target_table([r])
    assert table.splitlines()[0] == "| method | " + " | ".join(facs.EXPRESSIONS) + " | all (G) |"


def test_lpips_only_with_weights(splits, judge, monkeypatch):
    """LPIPS reaches the row only through metrics.lpips_model (here a fake: never a made-up
    number offline); without it the table says why."""
    r = E.evaluate_translator(BlurredTruth(), *splits, judge=judge, **dict(FAST, lpips="auto"))
    assert "lpips" not in r and r["lpips_note"] == metrics.LPIPS_NOTE
    assert f"| {metrics.LPIPS_NOTE} |" in E.markdown_table([r])
    seen = []

    def fake_lpips(outputs, truths):
        seen.append(outputs.shape)
        return np.abs(outputs.astype(float) - truths.astype(float)).mean(axis=(1, 2, 3)) / 255

    monkeypatch.setattr(metrics, "lpips_model", lambda download=False: fake_lpips)
    r = E.evaluate_translator(BlurredTruth(), *splits, judge=judge, **dict(FAST, lpips="auto"))
    assert seen == [(7 * len(splits[1]), SIZE, SIZE, 3)] and r["lpips"] > 0 and "lpips_note" not in r
    oracle = E.reference_rows(*splits, judge, identity=False, progress=False)[1]
    assert oracle["lpips"] == 0.0


def test_compare_rows_share_identical_references(references, model_rows):
    copy, oracle = references
    a = [dict(copy, run="a"), dict(model_rows["noisy truth"], run="a"), dict(oracle, run="a")]
    b = [dict(copy, run="b"), dict(model_rows["blurred truth"], run="b"), dict(oracle, run="b")]
    assert [r["method"] for r in E.compare_rows(a + b)] == [
        "copy (input unchanged)", "noisy truth", "blurred truth", "oracle (ground truth)"]
    other = dict(copy, run="b", psnr=copy["psnr"] + 1)     # another test split: both copies kept, named
    methods = [r["method"] for r in E.compare_rows(a + [other])]
    assert methods[:2] == ["copy (input unchanged) — a", "copy (input unchanged) — b"]


def test_mean_psnr_and_the_note_on_exact_pairs():
    assert E.mean_psnr([math.inf, math.inf]) == math.inf
    assert E.mean_psnr([math.inf, 20.0]) == pytest.approx((E.PSNR_CAP + 20.0) / 2)
    assert "count as 100 dB in the mean of m (1 of 4)" in E.notes([{"method": "m", "psnr_exact": 1, "paired": 4}])
    assert "count as" not in E.notes([{"method": "oracle", "psnr_exact": 4, "paired": 4}])


def test_cached_descriptors_describe_each_distinct_image_once():
    """evaluate_run shares one CachedDescriptors between its rows: the same numbers as describing
    every image anew, each distinct image described once (the copy row's outputs are its inputs)."""
    calls = []

    def fake(images, progress=False):
        calls.append(len(images))
        return images.reshape(len(images), -1)[:, :128].astype(float)

    x = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    cached = E.CachedDescriptors(fake)
    assert np.array_equal(cached(x[[0, 1, 0, 2]]), fake(x[[0, 1, 0, 2]]))
    assert np.array_equal(cached(x[[3, 0]]), fake(x[[3, 0]]))
    assert calls == [3, 4, 1, 2]          # (3 new, the check's 4), (1 new: x[3], the check's 2)
    s = metrics.identity_scores(x[:2], x[[0, 1, 1]], descriptors=cached, source=np.array([0, 1, 1]))
    assert s.pairs == 3 and s.distance == 0.0
