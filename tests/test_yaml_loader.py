"""The positioned, hostile-input-safe YAML loader."""

from __future__ import annotations

import time

import pytest

from sim.scenario.errors import InputError
from sim.scenario.yamlsafe import PDict, load_yaml_file, load_yaml_text, locate


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as ei:
        load_yaml_text(text, "f.yaml")
    return [p.format() for p in ei.value.problems]


def test_positions_of_keys_and_values():
    data = load_yaml_text("a:\n  b: 1\n  c: [x, 'y']\n", "f.yaml")
    assert isinstance(data, PDict)
    assert locate(data, ("a", "b")).line == 2 and locate(data, ("a", "b")).col == 6
    m = locate(data, ("a", "c", 1))
    assert (m.line, m.col) == (3, 11)  # inside the quotes


def test_duplicate_keys_are_reported_with_the_first_line():
    msgs = problems("a: 1\nb: 2\na: 3\n")
    assert msgs == ["f.yaml:3:1: a: duplicate key 'a' (first given at line 1); keep one"]


def test_tabs_give_the_parser_position_and_a_hint():
    (msg,) = problems("a:\n\tb: 1\n")
    assert msg.startswith("f.yaml:2:1: invalid YAML:") and "tabs" in msg


def test_unclosed_quote():
    (msg,) = problems('a: "open\nb: 2\n')
    assert msg.startswith("f.yaml:") and "invalid YAML" in msg


def test_empty_and_comment_only_files():
    assert problems("") == ["f.yaml: file is empty"]
    assert problems("# nothing\n\n") == ["f.yaml: file is empty"]


def test_python_tags_are_refused():
    (msg,) = problems("a: !!python/object/apply:os.system ['echo hi']\n")
    assert "tag" in msg and "not allowed" in msg


def test_merge_keys_are_refused():
    msgs = problems("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert any("merge keys" in m for m in msgs)


def test_billion_laughs_is_stopped_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    t0 = time.perf_counter()
    (msg,) = problems("\n".join(lines) + "\n")
    assert time.perf_counter() - t0 < 5
    assert "alias/anchor bomb" in msg


def test_nesting_depth_is_bounded():
    text = "a: " + "[" * 60 + "]" * 60 + "\n"
    (msg,) = problems(text)
    assert "nested more than" in msg


def test_non_utf8_bytes(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_bytes(b"meta:\n  name: caf\xe9\n")
    with pytest.raises(InputError) as ei:
        load_yaml_file(p)
    (prob,) = ei.value.problems
    assert prob.format() == f"{p}:2:12: not valid UTF-8 (byte 0xe9); save the file as UTF-8"


def test_directory_missing_and_oversized_paths(tmp_path):
    for path, needle in ((tmp_path, "is a directory"), (tmp_path / "nope.yaml", "no such file")):
        with pytest.raises(InputError) as ei:
            load_yaml_file(path)
        assert needle in ei.value.problems[0].format()
    big = tmp_path / "big.yaml"
    big.write_text("a: 1\n" * 10)
    with pytest.raises(InputError) as ei:
        load_yaml_file(big, max_bytes=20)
    assert "too large" in ei.value.problems[0].format()


def test_full_dates_stay_text():
    data = load_yaml_text("d: 2023-07-01\nm: 2023-07\n", "f.yaml")
    assert data["d"] == "2023-07-01" and data["m"] == "2023-07"
