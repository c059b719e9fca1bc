"""What a file reader reports for a file with a given text: every problem, each naming the file (and
the line, where the format has lines, as SFZ does)."""

import pathlib
import re

import pytest

PROBLEM_AT_LINE = re.compile(r"^[^:\s][^:]*:\d+: \S")  # "file:line: message"


def write_file(directory: pathlib.Path, text: str, name: str) -> pathlib.Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(load, error: type[Exception], path: pathlib.Path) -> list[str]:
    """The problems `load(path)` raises as `error` (which lists them, one per line), each starting with the file."""
    with pytest.raises(error) as caught:
        load(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    for problem in caught.value.problems:
        assert problem.startswith(f"{path}: ")
    return caught.value.problems


def only_problem(problems: list[str]) -> str:
    """The one problem of a list, without the file name that starts it."""
    assert len(problems) == 1, problems
    return problems[0].split(": ", 1)[1]
