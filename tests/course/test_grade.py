import pytest

from course import AnswerError, MissingAnswersError, grade, normalize_text_answer, parse_module


@pytest.fixture
def quiz(valid_source):
    return parse_module(valid_source).quizzes[0]


ALL_RIGHT = {"exact-phrase": "b", "good-sources": ["a", "b"], "popular-means-true": "b", "either-word": "OR"}


def test_all_right_scores_100_and_passes(quiz):
    result = grade(quiz, ALL_RIGHT, 75)
    assert (result.score, result.passed, result.right_count) == (100, True, 4)
    assert all(r.correct for r in result.questions)


def test_one_wrong_of_four_scores_75_and_passes_a_75_mark_but_not_80(quiz):
    answers = ALL_RIGHT | {"exact-phrase": "c"}
    assert (grade(quiz, answers, 75).score, grade(quiz, answers, 75).passed) == (75, True)
    assert grade(quiz, answers, 80).passed is False


def test_wrong_choice_returns_its_feedback_and_the_explanation(quiz):
    result = grade(quiz, ALL_RIGHT | {"exact-phrase": "c"}, 75).result_for("exact-phrase")
    assert result is not None
    assert result.correct is False
    assert result.feedback == ("OR widens the search.",)
    assert result.explanation.startswith("Quotation marks keep words together")


def test_multiple_choice_is_right_only_with_exactly_the_right_set(quiz):
    for given, right in ((["a", "b"], True), (["b", "a"], True), (["a"], False), (["a", "b", "c"], False)):
        result = grade(quiz, ALL_RIGHT | {"good-sources": given}, 0).result_for("good-sources")
        assert result is not None
        assert result.correct is right, given


def test_multiple_choice_feedback_lists_every_chosen_choice_that_has_one(quiz):
    result = grade(quiz, ALL_RIGHT | {"good-sources": ["a", "c"]}, 0).result_for("good-sources")
    assert result is not None
    assert result.feedback == ("Popularity is not accuracy.",)


@pytest.mark.parametrize("typed", ["OR", "or", " Or ", "the  OR operator", "The or operator.", "«OR»"])
def test_text_answers_ignore_case_spacing_and_surrounding_punctuation(quiz, typed):
    result = grade(quiz, ALL_RIGHT | {"either-word": typed}, 0).result_for("either-word")
    assert result is not None
    assert result.correct is True


@pytest.mark.parametrize("typed", ["AND", "O R X", "ORR"])
def test_text_answers_that_differ_in_letters_are_wrong(quiz, typed):
    result = grade(quiz, ALL_RIGHT | {"either-word": typed}, 0).result_for("either-word")
    assert result is not None
    assert result.correct is False


def test_text_normalization_folds_accents_hyphens_and_case():
    assert normalize_text_answer("Données  Personnelles") == normalize_text_answer("donnees personnelles")
    assert normalize_text_answer("Two-Factor") == normalize_text_answer("two factor")
    assert normalize_text_answer("e-mail") == "email"


def test_score_rounds_down_so_a_pass_is_never_shown_for_a_fail(quiz):
    three_questions = quiz.__class__(quiz.id, quiz.questions[:3])
    answers = {"exact-phrase": "b", "good-sources": ["a", "b"], "popular-means-true": "a"}
    result = grade(three_questions, answers, 67)
    assert (result.score, result.passed) == (66, False)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (ALL_RIGHT | {"nope": "a"}, "there is no question 'nope' in quiz 'check-search'"),
        (ALL_RIGHT | {"exact-phrase": "z"}, "question 'exact-phrase' has no choice 'z'"),
        (ALL_RIGHT | {"exact-phrase": ["a", "b"]}, "question 'exact-phrase' takes one choice, not 2"),
        (ALL_RIGHT | {"popular-means-true": ["a", "b"]}, "question 'popular-means-true' takes one choice, not 2"),
        (ALL_RIGHT | {"either-word": ["OR"]}, "question 'either-word' takes a typed answer"),
        (ALL_RIGHT | {"either-word": "x" * 201}, "the answer to question 'either-word' is longer than 200 characters"),
        (ALL_RIGHT | {"good-sources": [1, 2]}, "question 'good-sources' takes choice ids"),
    ],
)
def test_answers_that_do_not_fit_the_quiz_raise_a_clear_error(quiz, answers, message):
    with pytest.raises(AnswerError) as caught:
        grade(quiz, answers, 75)
    assert message in caught.value.messages


def test_unanswered_questions_raise_with_their_ids(quiz):
    answers = {"exact-phrase": "b", "good-sources": [], "either-word": "   "}
    with pytest.raises(MissingAnswersError) as caught:
        grade(quiz, answers, 75)
    assert caught.value.question_ids == ("good-sources", "popular-means-true", "either-word")


def test_a_pass_mark_outside_0_to_100_is_refused(quiz):
    with pytest.raises(AnswerError):
        grade(quiz, ALL_RIGHT, 101)


def test_grading_is_pure_the_same_answers_give_the_same_result(quiz):
    assert grade(quiz, ALL_RIGHT, 75) == grade(quiz, dict(ALL_RIGHT), 75)
