"""course_lib.judge and the shipped judge of data/judges/: the versioned file format (hash, version,
recipe checked on load), the choice of the shipped judge only for the data it was trained on, one
recipe for R and R+G, and the shipped 64 px judge itself (its recorded R accuracy reproduced)."""
import json
import shutil

import pytest
import torch

from course_lib import classifier as C
from course_lib import cli, datasets, facs
from course_lib import evaluate as E
from course_lib import judge as J

TINY = J.Recipe(epochs=2, conv_dim=4, feature_dim=8, max_dim=8, batch_size=16, lr=3e-3, shift=0)
SIZE = 16            # the tiny judges' image size (the tiny build renders at 32 px)
SHIPPED = J.judge_path(64, 1)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A tiny synthetic build: 10 identities at 32 px (72 training, 8 test images)."""
    return datasets.build_synthetic(tmp_path_factory.mktemp("synth") / "s", identities=10, size=32, seed=0,
                                    progress=False)


@pytest.fixture(scope="module")
def splits(build):
    return (E.collect(datasets.SyntheticFolder(build, "train"), SIZE),
            E.collect(datasets.SyntheticFolder(build, "test"), SIZE))


@pytest.fixture(scope="module")
def judges_dir(tmp_path_factory, splits):
    """A judges folder holding one tiny judge for the tiny build at 16 px."""
    d = tmp_path_factory.mktemp("judges")
    J.build(*splits, TINY, name=J.judge_name(SIZE), version=1, out=J.judge_path(SIZE, 1, d), command="test",
            progress=False, log=lambda *a: None)
    return d


# ----------------------------------------------------------------------------- the file format
def test_judge_file_records_what_it_is_and_reproduces_its_accuracy(judges_dir, splits):
    train, test = splits
    path = J.judge_path(SIZE, 1, judges_dir)
    model = C.load_judge(path)
    m = model.meta
    assert (m["name"], m["version"], m["format"]) == ("expression-judge-16px", 1, C.JUDGE_FORMAT)
    assert J.Recipe.from_dict(m["recipe"]) == TINY and m["torch"] == str(torch.__version__) and m["command"] == "test"
    d = m["data"]
    assert (d["kind"], d["identities"], d["render_size"], d["seed"], d["image_size"]) == ("synthetic", 10, 32, 0, SIZE)
    assert (d["n_train"], d["n_test"]) == (len(train), len(test)) == (72, 8)
    # the recorded figures are those of the stored (float16) weights
    assert C.accuracy(model, test.images, test.labels) == m["metrics"]["acc_r"]
    assert C.accuracy(model, train.images, train.labels) == m["metrics"]["acc_train"]
    assert set(m["metrics"]["per_class"]) == set(facs.EXPRESSIONS) and model.au_head is not None
    assert all(v.dtype in (torch.float16, torch.int64) for v in torch.load(path, weights_only=True)["state_dict"].values())
    # the description beside it says the same (everything but the weights)
    side = json.loads(path.with_suffix(".json").read_text())
    assert side == {k: v for k, v in torch.load(path, weights_only=True).items() if k != "state_dict"}
    # load_classifier (and so the in-domain FID extractor given a path) reads judge files too
    back = C.load_classifier(path)
    x = test.images[:4]
    assert torch.equal(C.extract_features(back, x), C.extract_features(model, x))


def test_save_judge_refuses_unrounded_weights(splits, tmp_path):
    model = J.train(splits[0], TINY, progress=False)
    with pytest.raises(ValueError, match="half_precision"):
        C.save_judge(model, tmp_path / "j.pt", name="n", version=1, recipe={}, data={}, metrics={}, command="")


def test_corrupted_or_foreign_files_name_themselves(judges_dir, tmp_path):
    good = J.judge_path(SIZE, 1, judges_dir)
    blob = torch.load(good, weights_only=True)
    # a weight changed after the fact: the sha256 no longer matches
    edited = dict(blob, state_dict={k: v.clone() for k, v in blob["state_dict"].items()})
    key = next(k for k, v in edited["state_dict"].items() if v.is_floating_point())
    edited["state_dict"][key].view(-1)[0] += 1
    torch.save(edited, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match=r"edited\.pt: its weights do not match the sha256"):
        C.load_judge(tmp_path / "edited.pt")
    # truncated
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"cut\.pt: cannot read the judge file"):
        C.load_judge(tmp_path / "cut.pt")
    # a run's cached classifier, a foreign dict, a newer format, a missing field
    C.save_classifier(C.ExpressionClassifier(image_size=SIZE, conv_dim=4), tmp_path / "run.pt")
    with pytest.raises(ValueError, match=r"run\.pt: a classifier trained for one run"):
        C.load_judge(tmp_path / "run.pt")
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match=r"foreign\.pt: not a judge file"):
        C.load_judge(tmp_path / "foreign.pt")
    torch.save(dict(blob, format="course-expression-judge/2"), tmp_path / "newer.pt")
    with pytest.raises(ValueError, match=r"newer\.pt: judge format .* update the course"):
        C.load_judge(tmp_path / "newer.pt")
    torch.save({k: v for k, v in blob.items() if k != "recipe"}, tmp_path / "norecipe.pt")
    with pytest.raises(ValueError, match=r"norecipe\.pt: judge file without recipe"):
        C.load_judge(tmp_path / "norecipe.pt")
    with pytest.raises(FileNotFoundError, match="missing.pt: no such judge file"):
        C.load_judge(tmp_path / "missing.pt")
    # the CLI says the same, and exits 2
    assert cli.main(["judge", "info", str(tmp_path / "edited.pt")]) == 2


def test_recipe_refuses_unknown_fields():
    with pytest.raises(ValueError, match="unknown field.*colour"):
        J.Recipe.from_dict({"epochs": 3, "colour": 1})
    assert J.Recipe.from_dict(J.RECIPE.to_dict()) == J.RECIPE


# ----------------------------------------------------------------------------- which judge
def test_the_shipped_judge_is_chosen_only_for_its_own_data(judges_dir, splits, build, tmp_path):
    train, test = splits
    model, why = J.shipped_judge(train, test, judges_dir)
    assert model is not None and model.meta["name"] == "expression-judge-16px" and why == "same split, same pixels"
    # fewer training images (a --train-limit), another image size, another build, data that is no build
    limited = E.collect(datasets.SyntheticFolder(build, "train"), SIZE, limit=64)
    assert J.shipped_judge(limited, test, judges_dir) == (None, "expression-judge-16px-v1.pt: it was trained on "
                                                          "other data (n_train, split_sha256 differ)")
    small = [E.collect(datasets.SyntheticFolder(build, s), 8) for s in ("train", "test")]
    assert J.shipped_judge(*small, judges_dir)[1].startswith("no shipped judge for 8x8 images")
    other = datasets.build_synthetic(tmp_path / "other", identities=10, size=32, seed=1, progress=False)
    o = [E.collect(datasets.SyntheticFolder(other, s), SIZE) for s in ("train", "test")]
    model, why = J.shipped_judge(*o, judges_dir)
    assert model is None and "seed" in why and "split_sha256" in why
    plain = E.Split(train.images, train.labels, train.landmarks, train.aus, train.identities, dataset=list(train.labels))
    assert J.shipped_judge(plain, test, judges_dir) == (None, "the data is not the embedded synthetic set")
    # same split, other pixels (another renderer): still that judge, with a note
    shifted = E.Split(test.images.roll(1, -1), test.labels, test.landmarks, test.aus, test.identities, test.dataset)
    model, why = J.shipped_judge(train, shifted, judges_dir)
    assert model is not None and "differ from those it was trained on" in why
    assert "differ from those it was trained on" in J.describe(model)["judge_name"]


def test_choose_judge(judges_dir, splits, monkeypatch, tmp_path):
    train, test = splits
    monkeypatch.setattr(J, "JUDGES_DIR", judges_dir)
    quiet = dict(log=lambda *a: None, progress=False)
    model, info = E.choose_judge(train, test, "auto", cache=tmp_path / "c.pt", **quiet)
    assert info["judge_kind"] == "shipped" and info["judge_name"].startswith("expression-judge-16px v1 (")
    assert not (tmp_path / "c.pt").exists()                       # nothing trained, nothing cached
    model, info = E.choose_judge(train, test, "train", cache=tmp_path / "c.pt", epochs=1, **quiet)
    assert info["judge_kind"] == "trained for this run" and (tmp_path / "c.pt").is_file()
    assert info["judge_name"].startswith("trained for this run (1 epochs, 32 channels")
    limited = E.Split(train.images[:64], train.labels[:64], train.landmarks[:64], train.aus[:64],
                      train.identities[:64], train.dataset)
    assert E.choose_judge(limited, test, "auto", epochs=1, **quiet)[1]["judge_kind"] == "trained for this run"
    with pytest.raises(ValueError, match="no shipped judge fits this data: .*n_train"):
        E.choose_judge(limited, test, "shipped", **quiet)
    model, info = E.choose_judge(train, test, J.judge_path(SIZE, 1, judges_dir), **quiet)
    assert info["judge_kind"] == "shipped" and model.meta["name"] == "expression-judge-16px"
    mine = shutil.copy(J.judge_path(SIZE, 1, judges_dir), tmp_path / "mine.pt")
    assert E.choose_judge(train, test, mine, **quiet)[1]["judge_kind"] == "file"


def test_evaluate_run_uses_the_shipped_judge_for_its_data(judges_dir, build, monkeypatch, tmp_path, capsys):
    """evaluate --run on data the shipped judge was trained on: no classifier trained, the table names
    the judge; with --judge train: one trained for the run, and the table says so."""
    from course_lib import trainer

    class Config:
        data = str(build)

        def replace(self, **kw):
            return self

    copy = E.IdentityTranslator()
    copy.image_size, copy.config, copy.model_name = SIZE, Config(), "copy model"
    monkeypatch.setattr(J, "JUDGES_DIR", judges_dir)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))          # no cached Inception weights
    monkeypatch.setattr(trainer, "load_translator", lambda path, device="cpu": copy)
    monkeypatch.setattr(E, "train_judge", lambda *a, **kw: pytest.fail("no classifier may be trained"))
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    args = ["evaluate", "--run", str(run), "--no-identity", "--no-rg", "--limit", "0", "--train-limit", "0"]
    assert cli.main(args) == 0
    assert "judge: expression-judge-16px v1" in capsys.readouterr().out
    text = (run / "eval" / "metrics.md").read_text()
    assert "- **Judge** (acc. R and G, AU error, in-domain FID; R+G is trained by its recipe): expression-judge-16px v1" in text
    assert not (run / "eval" / "classifier.pt").exists()
    rows = E.load_rows([run])
    assert {r["judge_kind"] for r in rows} == {"shipped"} and len(rows) == 3
    acc_r = C.load_judge(J.judge_path(SIZE, 1, judges_dir)).meta["metrics"]["acc_r"]
    assert all(r["acc_r"] == acc_r for r in rows)                 # the judge's own R, measured again
    monkeypatch.undo()
    monkeypatch.setattr(J, "JUDGES_DIR", judges_dir)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(trainer, "load_translator", lambda path, device="cpu": copy)
    assert cli.main(args + ["--judge", "train", "--classifier-epochs", "1"]) == 0
    assert "trained for this run (1 epochs" in (run / "eval" / "metrics.md").read_text()
    assert (run / "eval" / "classifier.pt").is_file()
    assert cli.main(args + ["--judge", str(tmp_path / "nope.pt")]) == 2
    assert "expected auto, shipped, train or an existing judge file" in capsys.readouterr().out


# ----------------------------------------------------------------------------- one recipe for R and R+G
def test_r_and_rg_share_one_recipe_au_head_included(judges_dir, splits):
    train, test = splits
    judge = C.load_judge(J.judge_path(SIZE, 1, judges_dir))          # a judge with its own (non-default) recipe
    gen_train = E.translate(E.IdentityTranslator(), train, E.random_other_targets(train.labels))
    gen_test = E.translate(E.IdentityTranslator(), test, changed_only=True)
    out = E.expression_protocol(train, test, gen_test, gen_train, judge=judge, progress=False)
    rg = out["judge_rg"]
    assert rg.au_head is not None and judge.au_head is not None
    assert rg.hparams == judge.hparams                                   # same network, AU head included
    assert J.recipe_of(rg) == J.recipe_of(judge).replace(epochs=1)        # same recipe, 2x the images: half the epochs
    for p in rg.parameters():
        assert torch.isfinite(p).all()                                   # generated images' unknown AUs left out


def test_unknown_aus_are_left_out_of_the_au_loss():
    x = torch.rand(16, 3, 16, 16) * 2 - 1
    y = torch.arange(16) % 8
    aus = torch.rand(16, 3)
    nan = aus.clone()
    nan[8:] = float("nan")
    make = lambda: C.ExpressionClassifier(image_size=16, conv_dim=4, feature_dim=6, n_aus=3)
    b = C.train_classifier(make(), x, y, nan, epochs=2, batch_size=16, progress=False)
    assert all(torch.isfinite(p).all() for p in b.parameters())
    assert torch.isfinite(C.predict_aus(b, x)).all()


# ----------------------------------------------------------------------------- the judge command
def test_judge_train_command(build, tmp_path, capsys):
    out = tmp_path / "j" / "expression-judge-16px-v3.pt"
    args = ["judge", "train", "--size", str(SIZE), "--data", str(build), "--epochs", "1", "--conv-dim", "4",
            "--version", "3", "--out", str(out)]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "expression-judge-16px v3" in text and "R (test split):" in text and "command: python -m course_lib" in text
    m = C.load_judge(out).meta
    assert m["version"] == 3 and m["recipe"]["conv_dim"] == 4 and m["recipe"]["epochs"] == 1
    assert m["command"].startswith(f"python -m course_lib judge train --size {SIZE} --data ")
    assert cli.main(args) == 2 and "pass --force" in capsys.readouterr().out       # never overwrites silently
    assert cli.main(["judge", "train", "--size", "48", "--out", str(out)]) == 2
    assert cli.main(["judge", "train", "--size", "16", "--data", str(tmp_path), "--out", str(tmp_path / "x.pt")]) == 2
    assert "not a synthetic build" in capsys.readouterr().out
    assert cli.main(["judge", "info", str(out)]) == 0 and "expression-judge-16px v3" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the shipped judge
def shipped_or_skip():
    if not SHIPPED.is_file():
        pytest.skip(f"{SHIPPED} is not in this checkout")
    return C.load_judge(SHIPPED)


def test_the_shipped_judge_is_small_versioned_and_of_the_course_recipe():
    model = shipped_or_skip()
    m = model.meta
    assert SHIPPED.stat().st_size < 2_000_000
    assert (m["name"], m["version"]) == ("expression-judge-64px", 1)
    assert J.Recipe.from_dict(m["recipe"]) == J.RECIPE                       # the one recipe
    d = m["data"]
    assert (d["kind"], d["identities"], d["render_size"], d["seed"], d["image_size"], d["n_train"], d["n_test"]) == \
        ("synthetic", 200, 128, 0, 64, 1440, 160)
    assert m["command"].startswith("python -m course_lib judge train --size 64 ")
    assert model.au_head is not None and model.image_size == 64
    assert json.loads(SHIPPED.with_suffix(".json").read_text())["weights_sha256"] == m["weights_sha256"]
    assert m["metrics"]["acc_r"] >= 0.9


def test_git_keeps_the_shipped_judges():
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for name in (SHIPPED.name, SHIPPED.with_suffix(".json").name):
        r = subprocess.run(["git", "check-ignore", "-q", f"data/judges/{name}"], cwd=J.repo_root(), capture_output=True)
        assert r.returncode == 1, f"data/judges/{name} is git-ignored"


def test_the_shipped_judges_split_is_the_one_every_machine_builds():
    """The split hash depends on the build parameters and the (identity, expression) of every item
    only: computed here from the renderer's own item list, without rendering a pixel."""
    m = shipped_or_skip().meta
    params = {"identities": 200, "size": 128, "seed": 0, "format": 1}

    def items(split):
        ds = datasets.SyntheticFaces(200, 128, 0, split)
        return E.Split(torch.zeros(0), torch.tensor(ds.labels), None, None, [r[0] for r in ds.records])

    assert J.split_sha256(params, items("train"), items("test")) == m["data"]["split_sha256"]


def test_the_shipped_judge_reproduces_its_recorded_r_accuracy():
    """Renders the 160 test faces of the embedded set (as build-synthetic does, 128 px, decoded at 64 px;
    2 s): the same pixels as the judge was measured on, and the same R accuracy and per-class accuracies."""
    m = shipped_or_skip().meta
    test = E.collect(datasets.SyntheticFaces(200, 128, 0, "test"), 64)
    assert J.pixels_sha256(test.images) == m["data"]["test_pixels_sha256"]      # rendering is deterministic
    model = C.load_judge(SHIPPED)
    assert C.accuracy(model, test.images, test.labels) == m["metrics"]["acc_r"]
    fig = J.measure(model, test, test)
    assert fig["per_class"] == m["metrics"]["per_class"] and fig["confusion"] == m["metrics"]["confusion"]
