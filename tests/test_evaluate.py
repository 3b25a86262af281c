"""course_lib.evaluate: the R / G / R+G protocol, paired metrics and tables on a tiny fixture,
with stand-in translators (the ground-truth oracle and the identity translation)."""
import csv
import io
import math

import numpy as np
import pytest
import torch

from course_lib import evaluate as E
from course_lib import facs, metrics

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
    monkeypatch.setattr(E, "train_judge", lambda split, epochs, *a, **kw: seen.append((len(split.labels), epochs)) or judge)
    gen = E.translate(Oracle(), train, E.random_other_targets(train.labels))
    E.expression_protocol(train, test, E.translate(Oracle(), test), gen, judge=judge, epochs=100)
    assert seen == [(2 * len(train), 50)]  # twice the images, half the epochs


def test_random_other_targets_never_the_own_label():
    labels = torch.arange(8).repeat(20)
    t = E.random_other_targets(labels, seed=1)
    assert (t != labels).all() and set(t.tolist()) == set(range(8))
    assert torch.equal(t, E.random_other_targets(labels, seed=1))


def test_paired_metrics(splits, judge):
    test = splits[1]
    perfect = E.paired_metrics(test, E.translate(Oracle(), test), judge)
    assert perfect["paired"] == 8 * len(test)
    assert perfect["psnr"] == 100.0 and perfect["ssim"] == pytest.approx(1.0)
    assert perfect["au_error"] == pytest.approx(perfect["au_error_real"])
    # identity translation: 1/8 of the pairs are exact; the others differ in two bands
    ident = E.paired_metrics(test, E.translate(Identity(), test), judge)
    u8 = test.images.permute(0, 2, 3, 1).numpy().astype(float)
    expected = []
    for s in range(len(test)):
        for t in range(8):
            gt = test.dataset.find(test.identities[s], facs.EXPRESSIONS[t])
            mse = ((u8[s] - u8[gt]) ** 2).mean()
            expected.append(100.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse))
    assert ident["psnr"] == pytest.approx(np.mean(expected))
    assert ident["ssim"] < 1.0


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
    assert row["acc_g"] == pytest.approx(row["acc_r"]) and row["psnr"] == 100.0
    # dlib finds no face in the toys: reported, not hidden (translations of the first 4 inputs)
    assert row["n_generated"] == 128 and row["identity_no_face"] == row["identity_pairs"] == 4 * 8
    assert row["identity"] == "n/a (no face in 32/32 pairs)"


def test_tables(row, tmp_path):
    md, cs = E.write_table([row, dict(row, method="other")], tmp_path, title="T")
    text = md.read_text()
    assert "| oracle | in-domain FID |" in text and "Inception FID / IS: unavailable" in text
    header = text.splitlines()[2]
    assert [h.strip() for h in header.strip("|").split("|")] == [h for _, h, _ in E.COLUMNS]
    assert "| n/a |" in text                                 # IS without Inception
    rows = list(csv.DictReader(io.StringIO(cs.read_text())))
    assert [r["method"] for r in rows] == ["oracle", "other"]
    assert float(rows[0]["acc_g"]) == pytest.approx(row["acc_g"]) and rows[0]["is_mean"] == ""
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
    assert {p.name for p in (run / "eval").iterdir()} == {"metrics.md", "metrics.csv", "metrics.json", "classifier.pt"}
    assert cli.main(["evaluate", "--run", str(run), "--no-identity", "--no-rg", "--classifier-epochs", "1"]) == 0
    assert "classifier R: reusing" in capsys.readouterr().out

    assert cli.main(["compare", str(run), str(run), "--out", str(tmp_path / "cmp")]) == 0
    assert capsys.readouterr().out.count("| oracle (toy) |") == 1 + 1
    assert cli.main(["compare", str(run), "--out", str(tmp_path / "cmp")]) == 2       # never overwrites
    assert "--force" in capsys.readouterr().out
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
    assert r["in_domain_fid"] == pytest.approx(real(E.translate(Identity(), splits[1]).images, splits[1].images,
                                                    classifier=judge)["fid"])
    assert "| Inception FID | 12.00 | 1.300 |" in E.markdown_table([r])
