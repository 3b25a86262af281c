"""Checkers of Lesson 1 (FACS and Action Units)."""
import numpy as np

from course_lib import facs
from course_lib.exercises import exercise

TABLE_I_AUS = sorted({a for e in facs.BASIC_EXPRESSIONS for a in facs.EXPRESSION_AUS[e]})


@exercise("01.region_counts")
def _region_counts(answer):
    expected = facs.region_counts(facs.BASIC_EXPRESSIONS)
    assert isinstance(answer, dict), "answer should be a dict {region: count}"
    missing = set(expected) - set(answer)
    assert not missing, f"regions missing from your dict: {sorted(missing)}"
    wrong = [r for r in expected if answer[r] != expected[r]]
    assert not wrong, (f"the count is off for {wrong}; count every AU of every one of the six "
                       "basic expressions (an AU used by two expressions counts twice)")


@exercise("01.sad_vector")
def _sad_vector(answer):
    expected = facs.au_vector("sad", aus=TABLE_I_AUS)
    a = np.asarray(answer, dtype=float)
    assert a.shape == expected.shape, f"expected a vector of {len(TABLE_I_AUS)} entries (one per Table I AU), got shape {a.shape}"
    assert np.array_equal(a, expected), "some entries are wrong: which AUs does Table I list for Sad?"


@exercise("01.crop_share")
def _crop_share(answer):
    c = facs.crop_counts(facs.BASIC_EXPRESSIONS)
    expected = (c["eye"] + c["mouth"]) / sum(c.values())
    assert 0.0 <= float(answer) <= 1.0, "a share is a number between 0 and 1"
    assert abs(float(answer) - expected) < 1e-6, ("not quite: divide the occurrences inside the eye or "
                                                 "mouth crop by all occurrences")
