"""The reference: the official yunjey/stargan ``model.py`` and ``solver.py``, loaded from their vendored
copies (tests/official_stargan/, unchanged, MIT) - not imported from course_lib.

Shared by test_stargan.py, test_generate.py and test_baselines.py.
"""
import importlib.util
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "official_stargan"


def _load(name: str, as_name: str):
    spec = importlib.util.spec_from_file_location(as_name, FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_model = _load("model", "yunjey_stargan_model")
Generator, Discriminator, ResidualBlock = _model.Generator, _model.Discriminator, _model.ResidualBlock

_saved = sys.modules.get("model")
sys.modules["model"] = _model  # solver.py imports it by its bare name: ``from model import Generator``
try:
    Solver = _load("solver", "yunjey_stargan_solver").Solver
finally:
    if _saved is None:
        del sys.modules["model"]
    else:
        sys.modules["model"] = _saved
