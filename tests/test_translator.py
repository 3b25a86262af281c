"""Translator.run_condition: the method's own condition given directly (the explorer's sliders)."""
import pytest
import torch

from course_lib.config import preset
from course_lib.translator import Translator, build_method

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("model", ["stargan", "ganimation"])
def test_run_condition_of_a_label_equals_run_with_that_label(model):
    torch.manual_seed(0)
    config = preset("cpu", model=model, net_size="cpu")
    method = build_method(config)
    tr = Translator(method, config)
    x = torch.rand(2, 3, config.image_size, config.image_size) * 2 - 1
    t = torch.tensor([3, 5])
    a = tr.run(x, t)["out"]
    b = tr.run_condition(x, method.condition_vector(method.label_condition(t)))["out"]
    assert torch.equal(a, b)
    other = tr.run_condition(x, method.condition_vector(method.label_condition(torch.tensor([4, 1]))))["out"]
    assert not torch.equal(a, other)           # the condition reaches the generator


def test_run_condition_rejects_a_condition_of_the_wrong_size():
    config = preset("cpu", model="stargan")
    tr = Translator(build_method(config), config)
    x = torch.zeros(2, 3, config.image_size, config.image_size)
    with pytest.raises(ValueError, match="condition"):
        tr.run_condition(x, torch.zeros(2, 3))
