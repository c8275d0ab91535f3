""".dockerignore matching, with the examples from Docker's documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.build.dockerignore import DockerIgnore, go_clean, read_patterns
from engine.errors import InvalidArgument


def ignore(text: str) -> DockerIgnore:
    return DockerIgnore.from_text(text)


def test_reading_comments_trimming_and_cleaning() -> None:
    text = "# comment\n  # not a comment\n\n  /abs/path/  \n!  /keep/./me\n./a/../b\n*.md\r\n"
    assert read_patterns(text) == ["# not a comment", "abs/path", "!keep/me", "b", "*.md"]


@pytest.mark.parametrize(("path", "cleaned"), [
    ("", "."), ("a//b/", "a/b"), ("/../x", "/x"), ("a/../..", ".."), ("//x", "/x"),
    ("./", "."),
])
def test_go_clean(path: str, cleaned: str) -> None:
    assert go_clean(path) == cleaned


def test_docs_example_star_and_question_mark() -> None:
    # docs: */temp*, */*/temp*, temp?
    m = ignore("# comment\n*/temp*\n*/*/temp*\ntemp?\n")
    assert m.excluded("somedir/temporary.txt") and m.excluded("somedir/temp")
    assert m.excluded("somedir/subdir/temporary.txt")
    assert m.excluded("tempa") and m.excluded("tempb")
    assert not m.excluded("temporary.txt")  # `*` needs one directory level
    assert not m.excluded("a/b/c/temp.txt")
    assert not m.excluded("temp")  # `?` is exactly one character


def test_double_star_any_number_of_directories() -> None:
    m = ignore("**/*.go\n")
    assert m.excluded("main.go") and m.excluded("a/b/c/x.go")
    assert not m.excluded("main.gox")
    m = ignore("docs/**/*.png\n")
    assert m.excluded("docs/a.png") and m.excluded("docs/x/y/a.png")
    assert not m.excluded("a.png")


def test_leading_and_trailing_double_star() -> None:
    m = ignore("**/node_modules\nbuild/**\n")
    assert m.excluded("node_modules") and m.excluded("web/node_modules/x/y.js")
    assert m.excluded("build/out/bin") and not m.excluded("builder")


def test_exception_and_last_match_wins() -> None:
    # docs: *.md + !README.md → README.md is sent
    m = ignore("*.md\n!README.md\n")
    assert m.excluded("CHANGES.md") and not m.excluded("README.md")
    # docs: *.md, !README*.md, README-secret.md → only README-secret.md among READMEs
    m = ignore("*.md\n!README*.md\nREADME-secret.md\n")
    assert m.excluded("README-secret.md") and not m.excluded("README-public.md")
    # docs: *.md, README-secret.md, !README*.md → every README is sent
    m = ignore("*.md\nREADME-secret.md\n!README*.md\n")
    assert not m.excluded("README-secret.md") and m.excluded("other.md")


def test_a_directory_pattern_covers_its_subtree() -> None:
    m = ignore("node_modules\n.git\n")
    assert m.excluded("node_modules") and m.excluded("node_modules/pkg/index.js")
    assert m.excluded(".git/objects/ab")
    assert not m.excluded("src/node_modules_backup")


def test_leading_slash_is_ignored_in_patterns_and_paths() -> None:
    m = ignore("/secret.txt\n")
    assert m.excluded("secret.txt") and m.excluded("/secret.txt") and m.excluded("./secret.txt")
    assert not m.excluded("sub/secret.txt")


def test_character_classes_and_escapes() -> None:
    m = ignore("file[0-9].txt\nnot[^a].log\nliteral\\*star\n")
    assert m.excluded("file7.txt") and not m.excluded("filex.txt")
    assert m.excluded("notb.log") and not m.excluded("nota.log")
    assert m.excluded("literal\\*star")  # no wildcard: compared as written, like moby


def test_regex_specials_are_literal() -> None:
    m = ignore("a+b(c).{x}|$y\n*.tar.gz\n")
    assert m.excluded("a+b(c).{x}|$y")
    assert m.excluded("x.tar.gz") and not m.excluded("xtarZgz")


def test_reincluding_a_file_inside_an_excluded_directory() -> None:
    m = ignore("logs\n!logs/keep.log\n")
    assert m.excluded("logs/other.log") and not m.excluded("logs/keep.log")


def test_can_skip_dir() -> None:
    m = ignore("node_modules\n!node_modules/keep\nbuild\n*.tmp\n")
    assert not m.can_skip_dir("node_modules")  # a later ! may re-include inside
    assert m.can_skip_dir("node_modules/other")  # ...but not in this subdirectory
    assert m.can_skip_dir("build")
    assert not m.can_skip_dir("src")  # not excluded at all


def test_can_skip_dir_with_wildcard_exceptions() -> None:
    m = ignore("vendor\n!**/LICENSE\n")
    assert not m.can_skip_dir("vendor")  # `**` could reach vendor/x/LICENSE
    m = ignore("vendor\n!*/LICENSE\n")
    assert not m.can_skip_dir("vendor")  # vendor/LICENSE
    assert m.can_skip_dir("vendor/deep")
    m = ignore("!keep\nvendor\n")
    assert m.can_skip_dir("vendor")  # a ! before the excluding pattern cannot help


def test_class_members_are_literal() -> None:
    m = ignore("a[&|~[]b\n")
    assert m.excluded("a&b") and m.excluded("a[b") and not m.excluded("axb")


@pytest.mark.parametrize("pattern", ["!", "[abc", "trailing\\", "[]x", "[^]x", "[-a]"])
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(InvalidArgument):
        DockerIgnore([pattern])


def test_for_context_prefers_the_dockerfile_specific_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.log\n")
    assert DockerIgnore.for_context(tmp_path).excluded("a.log")
    df = tmp_path / "app.Dockerfile"
    (tmp_path / "app.Dockerfile.dockerignore").write_text("*.txt\n")
    m = DockerIgnore.for_context(tmp_path, df)
    assert m.excluded("a.txt") and not m.excluded("a.log")
    assert not DockerIgnore.for_context(tmp_path / "missing").excluded("a.log")
