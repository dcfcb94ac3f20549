import io

from course.cli import main

from .test_catalog import MODULE, QUIZ, module, theme, write


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(args), out)
    return status, out.getvalue()


def test_validate_prints_a_summary_and_exits_0(tmp_path):
    theme(tmp_path, "1-t", "t", 1)
    module(tmp_path, "1-t/01-a.md", "a", "t", 1, QUIZ)
    assert run("validate", str(tmp_path)) == (0, "Valid: 1 themes, 1 modules, 1 questions, 10 minutes of study.\n")


def test_validate_prints_path_line_message_for_every_problem_and_exits_1(tmp_path):
    theme(tmp_path, "1-t", "t", 1)
    bad = write(tmp_path, "1-t/01-a.md", MODULE.format(id="a", theme="t", order=1, body=QUIZ.replace("(x) A", "( ) A")))
    status, output = run("validate", str(tmp_path))
    assert status == 1
    assert output.splitlines() == [
        f"{bad}:12: The question 'x' has no right choice. Mark the right choice '(x)'.",
        "1 problem(s) found.",
    ]


def test_validate_accepts_a_single_module_file(tmp_path):
    path = write(tmp_path, "a.md", MODULE.format(id="a", theme="t", order=1, body=QUIZ))
    assert run("validate", str(path)) == (0, f"{path}: module 'a' is valid (1 questions, 10 minutes).\n")


def test_outline_lists_themes_and_modules(tmp_path):
    theme(tmp_path, "1-t", "t", 1)
    module(tmp_path, "1-t/01-a.md", "a", "t", 1)
    status, output = run("outline", str(tmp_path))
    assert status == 0
    assert "1. T\n   1.1 a (10 min, 0 questions)" in output

