"""Checkers of Lesson 1 (FACS and Action Units)."""
from course_lib import facs
from course_lib.exercises import exercise


@exercise("01.region_counts")
def _region_counts(answer):
    expected = facs.region_counts(facs.BASIC_EXPRESSIONS)
    assert isinstance(answer, dict), "answer should be a dict {region: count}"
    missing = set(expected) - set(answer)
    assert not missing, f"regions missing from your dict: {sorted(missing)}"
    wrong = [r for r in expected if answer[r] != expected[r]]
    assert not wrong, (f"the count is off for {wrong}; count every AU of every one of the six "
                       "basic expressions (an AU used by two expressions counts twice)")


@exercise("01.sad_fear_jaccard")
def _sad_fear_jaccard(answer):
    sad, fear = set(facs.EXPRESSION_AUS["sad"]), set(facs.EXPRESSION_AUS["fearful"])
    expected = len(sad & fear) / len(sad | fear)
    a = float(answer)
    assert 0.0 <= a <= 1.0, "a Jaccard similarity is a number between 0 and 1"
    assert abs(a - len(sad & fear) / len(sad)) > 1e-9, "close: divide by the size of the *union*, not of one set"
    assert abs(a - expected) < 1e-9, ("not quite: count the AUs both prototypes share, then divide by the number "
                                      "of distinct AUs in either of them")


@exercise("01.crop_share")
def _crop_share(answer):
    c = facs.crop_counts(facs.BASIC_EXPRESSIONS)
    expected = (c["eye"] + c["mouth"]) / sum(c.values())
    assert 0.0 <= float(answer) <= 1.0, "a share is a number between 0 and 1"
    assert abs(float(answer) - expected) < 1e-6, ("not quite: divide the occurrences inside the eye or "
                                                 "mouth crop by all occurrences")
