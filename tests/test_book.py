"""The book's configuration: the Results page, Binder beside Colab."""
import json
import shutil
from pathlib import Path

import yaml

from course_lib import cli, results
from course_lib.commands import docs

ROOT = Path(__file__).resolve().parents[1]


def test_binder_launch_button_and_its_environment():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert cfg["launch_buttons"]["colab_url"]
    assert (ROOT / "environment.yml").is_file()
    post = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post and (ROOT / "postBuild").stat().st_mode & 0o111


def test_results_page_is_in_step_and_in_the_toc():
    assert ROOT / "results.md" not in docs.stale_files(ROOT), "run: python -m course_lib docs"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for c in toc.get("chapters", [])] + [c["file"] for p in toc.get("parts", [])
                                                              for c in p.get("chapters", [])]
    assert "results" in files


def _fake_course(tmp_path, record=None, table=None):
    for name in docs.FILES:
        shutil.copyfile(ROOT / name, tmp_path / name)
    (tmp_path / "results.md").write_text(f"# Results\n\n{results.BEGIN}\n{results.END}\n")
    if record:
        (tmp_path / "data" / "checkpoints").mkdir(parents=True)
        (tmp_path / "data" / "checkpoints" / "m.json").write_text(json.dumps(record))
    if table:
        results.results_dir(tmp_path).mkdir(parents=True, exist_ok=True)
        (results.results_dir(tmp_path) / "x-table1.md").write_text(table)
    return tmp_path


def test_results_page_collects_records_and_tables(tmp_path, capsys):
    record = {"method": "m", "config": {"steps": 40}, "wall_time_s": 120.0, "torch_threads": 2,
              "evaluation": {"acc_g": 0.913, "psnr": 27.4, "psnr_gain": -2.68, "ssim_gain": -0.025, "hf_ratio": 0.97,
                             "outside_change": 0.081, "in_domain_fid": 3.5, "judge_name": "the judge"},
              "references": {"copy (input unchanged)": {"acc_g": 0.002, "psnr": 30.09},
                             "oracle (ground truth)": {"acc_g": 0.988, "psnr": float("inf")}}}
    root = _fake_course(tmp_path, record, "# Table 1 of X\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert cli.main(["docs", "--check", "--root", str(root)]) == 1      # the page lacks them: stale
    assert cli.main(["docs", "--root", str(root)]) == 0
    page = (root / "results.md").read_text()
    assert "| m | 40 | 2.0 min (2 threads) | 91.3 % | 27.40 | -2.68 |" in page
    assert page.index("copy (input unchanged)") < page.index("| m |") < page.index("oracle (ground truth)")
    assert "#### Table 1 of X" in page and "| 1 | 2 |" in page
    assert cli.main(["docs", "--check", "--root", str(root)]) == 0
    (results.results_dir(root) / "x-table1.md").write_text("# Table 1 of X\n\n| a | b |\n|---|---|\n| 1 | 3 |\n")
    assert cli.main(["docs", "--check", "--root", str(root)]) == 1      # a re-run table must be re-collected


def test_results_page_without_anything_published(tmp_path):
    page = results.results_markdown(_fake_course(tmp_path))
    assert "No shipped checkpoints yet" in page and "None published yet" in page


def test_execution_cache_and_the_site_check(tmp_path, monkeypatch):
    from course_lib import book, shipped

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "cache"
    (tmp_path / book.CACHE).mkdir(parents=True)
    monkeypatch.setenv("COURSE_FAST", "1")
    assert book.prepare_cache(tmp_path) is True          # first build: no stamp yet
    (tmp_path / book.CACHE).mkdir(parents=True)
    assert book.prepare_cache(tmp_path) is False         # same mode, same files: the cache is kept
    monkeypatch.setenv("COURSE_FAST", "0")
    assert book.prepare_cache(tmp_path) is True          # another mode: emptied
    assert not (tmp_path / book.CACHE).exists()

    html = tmp_path / "_build" / "html" / "notebooks"
    html.mkdir(parents=True)
    (html / "07.html").write_text("<pre>" + shipped.fast_note("lgp-gan", 1) + "</pre>")
    errs = book.site_errors(tmp_path)
    if "lgp-gan" in shipped.available():
        assert errs and "lgp-gan" in errs[0]
    (html / "07.html").write_text("<pre>" + shipped.fast_note("no-such-method", 1) + "</pre>")
    assert book.site_errors(tmp_path) == []
