"""The reference: the official yunjey/stargan ``model.py``, loaded from its vendored copy
(tests/official_stargan/, unchanged, MIT) - not imported from course_lib.

Shared by test_stargan.py and test_generate.py.
"""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "yunjey_stargan_model", Path(__file__).resolve().parent / "official_stargan" / "model.py")
_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_model)

Generator, Discriminator, ResidualBlock = _model.Generator, _model.Discriminator, _model.ResidualBlock
