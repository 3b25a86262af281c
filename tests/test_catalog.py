"""The one list of implemented and planned methods (course_lib.catalog), as README.md and intro.md show it."""
import re
import tomllib
from pathlib import Path

import pytest

from course_lib import catalog, cli
from course_lib.commands import docs

ROOT = Path(__file__).resolve().parents[1]


def test_readme_and_book_show_the_catalog():
    assert docs.stale_files(ROOT) == [], "run: python -m course_lib docs"
    for name in docs.FILES:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert catalog.methods_markdown() in text


def test_docs_check_detects_and_fixes_a_stale_table(tmp_path, capsys):
    for name in docs.FILES:
        text = (ROOT / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("| **implemented** |", "| planned |", 1), encoding="utf-8")
    assert cli.main(["docs", "--check", "--root", str(tmp_path)]) == 1
    assert "intro.md" in capsys.readouterr().out
    assert cli.main(["docs", "--root", str(tmp_path)]) == 0
    assert cli.main(["docs", "--check", "--root", str(tmp_path)]) == 0


def test_missing_markers_are_a_clear_error(tmp_path, capsys):
    for name in docs.FILES:
        (tmp_path / name).write_text("# no table here\n", encoding="utf-8")
    assert cli.main(["docs", "--check", "--root", str(tmp_path)]) == 2
    assert "README.md" in capsys.readouterr().out


def test_every_module_the_catalog_names_exists():
    named = [p for m in catalog.METHODS for p in re.findall(r"`(course_lib/[\w/]+\.py)`", m.where)]
    assert named, "the implemented methods name their modules"
    for path in named:
        assert (ROOT / path).is_file(), f"course_lib.catalog names {path}, which does not exist"
    for m in catalog.METHODS:
        assert m.status in ("implemented", "planned")
        assert (m.status == "implemented") == bool(re.search(r"`course_lib/", m.where)), m.name


def test_the_four_seed_methods_and_the_baselines_are_listed():
    seeds = {m.name for m in catalog.METHODS if m.role.startswith("seed method")}
    assert seeds == {"LGP-GAN", "Cascade EF-GAN", "ECGAN", "Landmark+label guided GAN"}
    assert {"StarGAN", "GANimation", "CycleGAN", "Pix2pix"} <= {m.name for m in catalog.METHODS}
    for m in catalog.METHODS:   # the seed methods have no authors' code; the baselines do
        assert (m.code == "none published") == m.role.startswith("seed method"), m.name


OLD_CLAIMS = [
    r"None of them has public code",
    r"every function names the Eq",
    r"released RaFD",
    r"200000-G\.ckpt` for RaFD",
    r"pretrained-rafd",
]


@pytest.mark.parametrize("path", ["README.md", "intro.md", "pyproject.toml", "course_lib/stargan.py",
                                  "course_lib/trainer.py", "course_lib/commands/generate.py"]
                         + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.py")))
def test_old_claims_are_gone(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    for claim in OLD_CLAIMS:
        assert not re.search(claim, text, re.I), f"{path} still says {claim!r}"


def test_package_description_says_what_is_planned():
    desc = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"]
    for name in catalog.implemented():
        assert name in desc
    for name in catalog.planned():
        if name in desc:
            assert "planned" in desc[desc.index(name):], f"pyproject description presents {name} as implemented"
