from pathlib import Path

import pytest

from course import ContentError, load_catalog

THEME = "---\nid: {id}\ntitle: {title}\norder: {order}\nsummary: S.\nlive_session:\n  - One\n---\nIntro.\n"
MODULE = "---\nid: {id}\ntitle: {id}\ntheme: {theme}\norder: {order}\nminutes: 10\nsummary: S.\nobjectives:\n  - O\n---\n{body}\n"
QUIZ = "```quiz q\n[question x]\nQ?\n(x) A\n( ) B\nExplanation: E.\n```\n"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def theme(root: Path, folder: str, theme_id: str, order: int) -> None:
    write(root, f"{folder}/theme.md", THEME.format(id=theme_id, title=theme_id.title(), order=order))


def module(root: Path, relative: str, module_id: str, theme_id: str, order: int, body: str = "Text.") -> None:
    write(root, relative, MODULE.format(id=module_id, theme=theme_id, order=order, body=body))


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    theme(tmp_path, "2-later", "later", 2)
    theme(tmp_path, "1-first", "first", 1)
    module(tmp_path, "1-first/02-b.md", "b", "first", 2, QUIZ)
    module(tmp_path, "1-first/01-a.md", "a", "first", 1, "See [b](module:b).")
    module(tmp_path, "2-later/01-c.md", "c", "later", 1)
    write(tmp_path, "README.md", "# A guide, not a module\n")
    return tmp_path


def problems(root: Path) -> list[tuple[str, int, str]]:
    with pytest.raises(ContentError) as caught:
        load_catalog(root)
    return [(Path(p.path).name, p.line, p.message) for p in caught.value.problems]


def test_themes_and_modules_come_in_their_order(course_dir):
    catalog = load_catalog(course_dir)
    assert [t.id for t in catalog.themes] == ["first", "later"]
    assert [m.id for m in catalog.modules] == ["a", "b", "c"]
    assert [m.id for m in catalog.modules_of("first")] == ["a", "b"]
    assert (catalog.question_count, catalog.total_minutes) == (1, 30)


def test_lookups_by_id(course_dir):
    catalog = load_catalog(course_dir)
    assert catalog.theme("later").title == "Later"
    assert catalog.module("c").theme == "later"
    assert catalog.module("nope") is None


def test_duplicate_module_ids_are_reported(course_dir):
    module(course_dir, "2-later/02-dup.md", "a", "later", 2)
    assert ("02-dup.md", 1, f"The module id 'a' is already used by {course_dir}/1-first/01-a.md.") in problems(course_dir)


def test_module_of_unknown_theme_is_reported_with_a_suggestion(course_dir):
    module(course_dir, "2-later/02-x.md", "x", "latter", 2)
    found = problems(course_dir)
    assert ("02-x.md", 1, "The theme 'latter' does not exist.") in found
    assert ("02-x.md", 1, "The module says theme 'latter' but sits in the folder of theme 'later'.") in found


def test_order_clash_within_a_theme_is_reported(course_dir):
    module(course_dir, "2-later/02-d.md", "d", "later", 1)
    assert ("02-d.md", 1, f"The module order 1 is already used in this theme by {course_dir}/2-later/01-c.md.") in problems(course_dir)


def test_theme_order_clash_and_duplicate_theme_id_are_reported(course_dir):
    theme(course_dir, "3-again", "later", 1)
    found = [message for _, _, message in problems(course_dir)]
    assert any(m.startswith("The theme id 'later' is already used") for m in found)
    assert any(m.startswith("The theme order 1 is already used") for m in found)


def test_broken_link_between_modules_is_reported_at_its_line(course_dir):
    module(course_dir, "2-later/02-e.md", "e", "later", 2, "Line one.\n\nSee [x](module:bb#sec-x).")
    assert ("02-e.md", 13, "The link 'module:bb#sec-x' points to no module.") not in problems(course_dir)
    assert ("02-e.md", 13, "The link 'module:bb' points to no module.") in problems(course_dir)


def test_folder_without_theme_file_is_reported(course_dir):
    write(course_dir, "9-orphan/01-z.md", "whatever")
    assert ("9-orphan", 0, "This folder has no theme.md.") in problems(course_dir)


def test_problems_of_every_file_are_gathered(course_dir):
    write(course_dir, "1-first/03-bad.md", "no front matter")
    write(course_dir, "2-later/02-bad.md", "---\nid: Bad\n---\n")
    found = problems(course_dir)
    assert {name for name, _, _ in found} == {"03-bad.md", "02-bad.md"}


def test_file_that_is_not_utf8_is_reported(course_dir):
    (course_dir / "1-first/03-latin.md").write_bytes("---\ntitle: Données\n".encode("latin-1"))
    assert any(name == "03-latin.md" and "not UTF-8" in message for name, _, message in problems(course_dir))


def test_missing_folder_is_reported(tmp_path):
    assert problems(tmp_path / "nope")[0][2] == "This folder does not exist."


def test_translation_shares_ids_and_is_kept_apart_from_the_modules(course_dir):
    fr = MODULE.format(id="b", theme="first", order=2, body=QUIZ.replace("Q?", "Question ?")).replace("minutes: 10", "minutes: 10\nlang: fr")
    write(course_dir, "1-first/02-b.fr.md", fr)
    catalog = load_catalog(course_dir)
    assert [m.id for m in catalog.modules] == ["a", "b", "c"]
    translation = catalog.translation("b", "fr")
    assert translation is not None
    assert translation.quizzes[0].questions[0].prompt == "Question ?"


def test_translation_whose_quizzes_drift_from_the_original_is_reported(course_dir):
    fr = MODULE.format(id="b", theme="first", order=2, body=QUIZ.replace("[question x]", "[question y]"))
    write(course_dir, "1-first/02-b.fr.md", fr.replace("minutes: 10", "minutes: 10\nlang: fr"))
    assert any(m.startswith("This translation's quizzes differ") for _, _, m in problems(course_dir))


def test_translation_file_name_and_lang_field_must_agree(course_dir):
    write(course_dir, "1-first/02-b.fr.md", MODULE.format(id="b", theme="first", order=2, body=QUIZ))
    assert ("02-b.fr.md", 1, "The file name says 'fr' but the field 'lang' says 'en'.") in problems(course_dir)


def test_the_word_module_followed_by_a_colon_in_prose_is_not_a_link(course_dir):
    module(course_dir, "2-later/02-f.md", "f", "later", 2, "Next module: [c](module:c)\n\n[ref]: module:c")
    assert load_catalog(course_dir).module("f") is not None


def test_a_broken_reference_style_link_is_reported(course_dir):
    module(course_dir, "2-later/02-f.md", "f", "later", 2, "See [c][ref]\n\n[ref]: module:zz")
    assert ("02-f.md", 13, "The link 'module:zz' points to no module.") in problems(course_dir)
