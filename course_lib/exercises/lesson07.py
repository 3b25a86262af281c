"""Checkers of Lesson 7 (training: schedule, target sampling, checkpoints)."""
import torch

from course_lib.config import preset
from course_lib.exercises import exercise

#: The labels of Exercise 3 and the seed it uses.
EX3_LABELS = [0, 3, 4, 4, 7, 1]
EX3_SEED = 0


@exercise("07.generator_updates")
def _generator_updates(answer):
    cfg = preset("paper")
    expected = cfg.steps // cfg.n_critic
    assert int(answer) == answer, "a number of updates is a whole number"
    assert int(answer) != cfg.steps, "not every iteration updates G: how many D updates per G update?"
    assert int(answer) == expected, "count the iterations whose index is a multiple of n_critic"


@exercise("07.lr_at_150k")
def _lr(answer):
    cfg = preset("paper")
    expected = cfg.g_lr * cfg.lr_factor(150_000)
    assert abs(float(answer) - cfg.g_lr) > 1e-12, "150k is past the first 100k iterations: the lr is decaying"
    assert abs(float(answer) - expected) < 1e-12, ("linear decay from 1e-4 at 100k to 0 at 200k: where is "
                                                  "150k on that line?")


@exercise("07.stargan_targets")
def _targets(answer):
    torch.manual_seed(EX3_SEED)
    labels = torch.tensor(EX3_LABELS)
    expected = labels[torch.randperm(len(labels))]
    a = torch.as_tensor(answer).long().flatten()
    assert a.shape == expected.shape, f"expected {len(EX3_LABELS)} target labels, got {tuple(a.shape)}"
    assert sorted(a.tolist()) == sorted(EX3_LABELS), "targets are a permutation of the batch's own labels"
    assert torch.equal(a, expected), "seed with torch.manual_seed(0) right before drawing torch.randperm(6)"
