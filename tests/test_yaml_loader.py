"""The positioned, hostile-input-safe YAML loader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario.errors import InputError
from sim.scenario.yamlsafe import (
    COMPOSE_DEPTH,
    MAX_DEPTH,
    MAX_NODES,
    PDict,
    load_yaml_file,
    load_yaml_text,
    locate,
)


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


def _laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"[: levels - 1]):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _count_calls(monkeypatch, cls, name: str) -> dict:
    """Count calls of ``cls.name`` (and the deepest nesting of them) while the test runs."""
    seen = {"calls": 0, "depth": 0, "max_depth": 0}
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        seen["calls"] += 1
        seen["depth"] += 1
        seen["max_depth"] = max(seen["max_depth"], seen["depth"])
        try:
            return original(self, *args, **kwargs)
        finally:
            seen["depth"] -= 1

    monkeypatch.setattr(cls, name, counted)
    return seen


def test_billion_laughs_is_refused_before_expansion(monkeypatch):
    """9 levels of 9 aliases expand to 9**9 (387 million) strings; the loader builds at
    most ``max_nodes`` values and composes only the nodes written in the text."""
    from sim.scenario import yamlsafe

    built = _count_calls(monkeypatch, yamlsafe._Builder, "build")
    composed = _count_calls(monkeypatch, yamlsafe._Loader, "compose_node")
    constructed = _count_calls(monkeypatch, yamlsafe._Loader, "construct_object")
    (msg,) = problems(_laughs())
    assert "alias/anchor bomb" in msg
    assert built["calls"] == MAX_NODES + 1  # stopped at the first value over the limit
    assert constructed["calls"] <= MAX_NODES
    assert composed["calls"] < 200  # 9 anchors of 9 items (+ keys), aliases are not copied
    with pytest.raises(InputError):
        load_yaml_text(_laughs(), "f.yaml", max_nodes=1000)
    assert built["calls"] == MAX_NODES + 1 + 1001


def test_deep_nesting_is_refused_before_the_parser_recurses(monkeypatch):
    from sim.scenario import yamlsafe

    composed = _count_calls(monkeypatch, yamlsafe._Loader, "compose_node")
    built = _count_calls(monkeypatch, yamlsafe._Builder, "build")
    (msg,) = problems("meta: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
    assert "nested more than 40 levels deep" in msg
    assert composed["max_depth"] == COMPOSE_DEPTH + 1  # the composer stops there
    assert built["calls"] == 0  # nothing is built from a document refused while composing
    (msg,) = problems("meta: " + "[" * 100 + "]" * 100 + "\n")
    assert built["max_depth"] == MAX_DEPTH + 2  # the builder stops one level past the limit


def test_devices_and_oversized_files_are_never_read(monkeypatch, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 5 + "a: 1\n")
    opened: list[str] = []
    original = Path.open

    def spy(self, *args, **kwargs):
        opened.append(str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    with pytest.raises(InputError) as ei:
        load_yaml_file(Path("/dev/zero"))
    assert "not a regular file" in ei.value.problems[0].format()
    with pytest.raises(InputError):
        load_yaml_file(big, max_bytes=20)
    assert opened == []
    load_yaml_file(big)  # the spy does see a file that is read
    assert opened == [str(big)]


def test_python_tags_are_never_constructed(monkeypatch):
    from sim.scenario import yamlsafe

    constructed = _count_calls(monkeypatch, yamlsafe._Loader, "construct_object")
    (msg,) = problems("a: 1\nb: !!python/object/apply:os.system ['echo hi']\n")
    assert "tag '!!python/object/apply:os.system' is not allowed" in msg
    assert constructed["calls"] == 1  # the 1 of a; never the tagged node


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
    big.write_text("# padding\n" * 5 + "a: 1\n")
    with pytest.raises(InputError) as ei:
        load_yaml_file(big, max_bytes=20)
    assert "too large" in ei.value.problems[0].format()


def test_full_dates_stay_text():
    data = load_yaml_text("d: 2023-07-01\nm: 2023-07\n", "f.yaml")
    assert data["d"] == "2023-07-01" and data["m"] == "2023-07"


def _same_tree(a, b, where: str = "") -> None:
    """Equal values, types and positions (with the exactness and line segments of each)."""
    assert type(a) is type(b), where
    full = lambda m: None if m is None else (m.file, m.line, m.col, m.exact, m.segments)  # noqa: E731
    if isinstance(a, dict):
        assert list(a) == list(b), where
        assert full(a.mark) == full(b.mark), where
        assert {k: full(m) for k, m in a.key_marks.items()} == {k: full(m) for k, m in b.key_marks.items()}, where
        assert {k: full(m) for k, m in a.value_marks.items()} == {k: full(m) for k, m in b.value_marks.items()}, where
        for k in a:
            _same_tree(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        assert full(a.mark) == full(b.mark), where
        assert [full(m) for m in a.value_marks] == [full(m) for m in b.value_marks], where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_tree(x, y, f"{where}[{i}]")
    else:
        assert a == b or (a != a and b != b), where  # NaN is NaN


def _load_both(monkeypatch, text: str, file: str):
    """(libyaml's document or its error, the Python parser's document or its error)."""
    from sim.scenario import yamlsafe

    out = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(yamlsafe, "_CLoader", None)
            try:
                out.append(load_yaml_text(text, file))
            except InputError as exc:
                out.append([p.format() for p in exc.problems])
    return out


def test_libyaml_and_the_python_parser_give_the_same_documents_and_errors(monkeypatch):
    """Every YAML file of the project (scenarios, fact cards, examples, the bad inputs and
    their partners): the same values, positions and errors with libyaml as with PyYAML's
    Python parser, which it replaces for speed."""
    from sim.scenario import yamlsafe

    assert yamlsafe._CLoader is not None  # PyYAML's wheels ship libyaml: the fast path is the one tested
    root = Path(__file__).resolve().parents[1]
    files = sorted(p for d in ("scenarios", "seeds", "tests", "docs", "examples") if (root / d).is_dir()
                   for p in (root / d).rglob("*.yaml"))
    assert len(files) > 150
    loaded = failed = 0
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        fast, slow = _load_both(monkeypatch, text, str(path.name))
        if isinstance(slow, list) and slow and isinstance(slow[0], str):
            assert fast == slow, path
            failed += 1
        else:
            _same_tree(fast, slow, str(path))
            loaded += 1
    assert loaded > 100 and failed > 10  # both kinds were compared


@pytest.mark.parametrize("text", [
    "a: |\n  one\n  two\nb: >\n  three\n  four\n",  # blocks: each line's place
    'a: "one\n  two"\nb: \'x\ny\'\n',  # quoted text over lines
    'a: "esc\\taped\n  text"\n',  # escapes: not exact
    "a: 4e8\nb: .5\nc: 1_000\nd: 2023-07\ne: 2023-07-01\nf: ~\ng: yes\n",  # resolvers: YAML 1.2 floats, dates kept
    "a: é ü\nb: [1, {c: 'ö'}]\n",  # characters outside ASCII: positions count characters
    "a: &x [1, 2]\nb: *x\n",  # an alias
    "a: 1\na: 2\n",  # a duplicate key (found by the builder on libyaml's nodes)
    "a: !!python/name:os.system x\n",  # a tag
    "a: " + "[" * 60 + "]" * 60 + "\n",  # deeper than MAX_DEPTH, shallower than COMPOSE_DEPTH
    "a: " + "[" * 500 + "]" * 500 + "\n",  # deeper than COMPOSE_DEPTH, within libyaml's 1,000
    "a: " + "[" * 5000 + "]" * 5000 + "\n",  # beyond libyaml's limit
    "a: [1, 2\nb: 3\n",  # a bracket never closed
    "a: 'x\x07y'\n",  # a control character
    "a:\tb\n",  # a tab, which libyaml reads as a space: the Python parser's error
    "a: [x,\ty]\n",
    "- a\nb: 1\n",
])
def test_either_parser_reads_a_text_the_same(monkeypatch, text):
    fast, slow = _load_both(monkeypatch, text, "f.yaml")
    if isinstance(slow, list) and slow and isinstance(slow[0], str):
        assert fast == slow
    else:
        _same_tree(fast, slow)


def test_the_fast_path_parses_with_libyaml(monkeypatch):
    """A valid document is composed by libyaml, never by the Python composer."""
    from sim.scenario import yamlsafe

    composed = _count_calls(monkeypatch, yamlsafe._Loader, "compose_node")
    data = load_yaml_text("a:\n  b: [1, 2]\n", "f.yaml")
    assert data == {"a": {"b": [1, 2]}}
    assert composed["calls"] == 0
    monkeypatch.setattr(yamlsafe, "_CLoader", None)
    load_yaml_text("a:\n  b: [1, 2]\n", "f.yaml")
    assert composed["calls"] > 0  # the counter sees the Python composer


@settings(max_examples=int(os.environ.get("SIM_FUZZ_EXAMPLES", 1500)), derandomize=not os.environ.get("SIM_FUZZ_RANDOM"),
          database=None, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "1", "2.5", "4e8", " ", "  ", "\n", "\n  ", "\n- ", ": ", ":", "-", "- ",
                                 "[", "]", "{", "}", ",", "'", '"', "#", "&x ", "*x", "!!str ", "|", ">", "?", "\\",
                                 "é", "%", "@", "`", "\t", "~", "null", "yes", "---", "...", "2023-07", "<<: "]),
                max_size=30))
def test_random_texts_read_the_same_with_either_parser(text_parts):
    """Texts made of YAML's signs, at random (the same examples on every run; SIM_FUZZ_RANDOM=1
    SIM_FUZZ_EXAMPLES=20000 explores): each loads to the same document, or fails with the
    same problems, whichever parser reads it."""
    from sim.scenario import yamlsafe

    text = "".join(text_parts)
    out = []
    for loader in (yamlsafe._CLoader, None):
        was = yamlsafe._CLoader
        yamlsafe._CLoader = loader
        try:
            out.append(load_yaml_text(text, "f.yaml"))
        except InputError as exc:
            out.append([p.format() for p in exc.problems])
        finally:
            yamlsafe._CLoader = was
    fast, slow = out
    if isinstance(slow, list) and slow and isinstance(slow[0], str):
        assert fast == slow
    else:
        _same_tree(fast, slow)
