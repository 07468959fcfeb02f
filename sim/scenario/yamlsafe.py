"""Safe YAML loading that remembers where every value came from.

Scenario and fact-card files are written by hand, so every error must point at a
line and column. This loader parses with PyYAML's safe loading (no Python tags,
ever), then builds plain Python containers itself, walking the node graph so that
it can

* record the position of every key and value (:class:`PDict`, :class:`PList`),
* reject duplicate keys, merge keys and non-standard tags,
* bound the file size, the nesting depth and the number of nodes visited (an
  alias/anchor "billion laughs" document is stopped after ``max_nodes`` nodes
  instead of expanding exponentially).

A document is parsed with libyaml (PyYAML's C parser, ``yaml.cyaml.CParser``) where
PyYAML has it: karabakh's 16 files (the scenario and its fact cards) in 0.03 s, where
PyYAML's Python parser took 0.19 s of every run's start. A document libyaml
refuses, one with a character YAML does not allow, one nested too deep, one with a value
left empty, and one with what libyaml reads otherwise (:data:`_PYTHON_ONLY`: a tab, for
one) are parsed with the Python parser (:class:`_Loader`), so every error reads as it always has.
The two give the same nodes, values and positions for every file the project ships
(tests/test_yaml_loader.py compares them).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import gc
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Mark, Problem

MAX_BYTES = 2_000_000
"""Largest input file accepted (bytes). Scenario files are a few kilobytes."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and sequences accepted."""
MAX_NODES = 200_000
"""Most YAML nodes visited while building a document (aliases count each time)."""

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


COMPOSE_DEPTH = 120
"""Deepest nesting PyYAML composes at all: its composer recurses (a few Python frames per
level), so a document nested thousands deep would end in RecursionError. Up to this depth
the builder reports the nesting with its path; beyond it the composer stops first."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats such as ``4e8`` and ``1.2e9``.

    (YAML 1.1, which PyYAML follows, wants a sign and a dot: ``4.0e+8``.) It also stops
    composing below :data:`COMPOSE_DEPTH` levels, before Python's recursion limit.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > COMPOSE_DEPTH:
                mark = self.peek_event().start_mark
                raise InputError(
                    [
                        Problem(
                            Mark(self.name, mark.line + 1, mark.column + 1),
                            "",
                            f"nested more than {MAX_DEPTH} levels deep",
                        )
                    ]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    __import__("re").compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$""",
        __import__("re").X,
    ),
    list("-+0123456789."),
)

try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - this PyYAML was built without libyaml (its wheels have it)
    _CParser = None


if _CParser is not None:

    class _CLoader(_CParser, _Loader):  # type: ignore[misc, valid-type]
        """:class:`_Loader` with libyaml's parser and composer: the same
        resolvers (the YAML 1.2 floats) and constructors; libyaml itself refuses a document
        nested more than 1,000 levels deep (its composer recurses in C, not in Python frames)."""

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:  # pragma: no cover - PyYAML wheels ship libyaml
    _CLoader = None  # type: ignore[assignment, misc]

_PYTHON_ONLY = __import__("re").compile("[\t\r\x85\u2028\u2029\ufeff]|[|>][-+0-9]*#")
"""What libyaml reads otherwise than the Python parser (found by tests/test_yaml_loader.py's
random texts): tabs (libyaml takes ``a:<tab>b`` as ``a: b``), line breaks other than
``\\n`` and byte-order marks inside the text (other positions, or other values), and a
comment right after a block's ``|`` or ``>`` (libyaml reads an empty text). A document with
any of them is parsed by the Python parser alone."""

_AGAIN = object()
""":func:`_load_fast`: parse the document again with the Python parser (it says what is wrong)."""


class PDict(dict):
    """A ``dict`` that also knows where its keys and values are in the source."""

    __slots__ = ("mark", "key_marks", "value_marks")

    def __init__(self, *args: Any, mark: Mark | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}


class PList(list):
    """A ``list`` that also knows where its items are in the source."""

    __slots__ = ("mark", "value_marks")

    def __init__(self, *args: Any, mark: Mark | None = None):
        super().__init__(*args)
        self.mark = mark
        self.value_marks: list[Mark | None] = []


def mark_of(container: Any, key: Any = None, *, prefer_key: bool = False) -> Mark | None:
    """Where ``container[key]`` (or the container itself) is written."""
    if key is None:
        return getattr(container, "mark", None)
    if isinstance(container, PDict):
        if prefer_key and key in container.key_marks:
            return container.key_marks[key]
        return container.value_marks.get(key) or container.key_marks.get(key) or container.mark
    if isinstance(container, PList) and isinstance(key, int):
        if 0 <= key < len(container.value_marks) and container.value_marks[key] is not None:
            return container.value_marks[key]
        return container.mark
    return getattr(container, "mark", None)


def locate(root: Any, loc: tuple, *, prefer_key: bool = False) -> Mark | None:
    """The deepest known position along the path ``loc`` below ``root``."""
    node = root
    best = mark_of(root)
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        m = mark_of(node, part, prefer_key=prefer_key and last)
        if m is not None:
            best = m
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return best


def _mark(file: str, ymark: Any) -> Mark:
    return Mark(file, ymark.line + 1, ymark.column + 1)


def symlink_loop(path: str | Path) -> str | None:
    """If ``path`` cannot be opened because symbolic links loop: the loop as written.

    ``"a.yaml -> b.yaml -> a.yaml"`` (each link's target as it is written in the link),
    or ``""`` when the loop is in a folder of the path rather than the file itself;
    ``None`` when there is no loop.
    """
    try:
        os.stat(path)
        return None
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return None
    except ValueError:  # a NUL in the name
        return None
    chain = [Path(path).name]
    seen = {os.path.abspath(path)}
    here = os.path.abspath(path)
    for _ in range(64):
        try:
            target = os.readlink(here)
        except OSError:
            break
        chain.append(target)
        here = os.path.normpath(os.path.join(os.path.dirname(here), target))
        if here in seen:
            break
        seen.add(here)
    return " -> ".join(chain) if len(chain) > 1 else ""


def loop_message(loop: str) -> str:
    """What to say about a path that :func:`symlink_loop` found looping."""
    if not loop:
        return "a folder in this path is a symbolic link loop; check the links in the path"
    return f"is a symbolic link loop ({loop}), not a file; point the link at a scenario file"


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a UTF-8 text file, turning every way it can fail into a :class:`Problem`."""
    shown = str(path)
    whole = Mark(shown)
    try:
        if not path.exists():
            loop = symlink_loop(path)
            if loop is not None:
                raise InputError([Problem(whole, "", loop_message(loop))])
            raise InputError([Problem(whole, "", "no such file; check the path")])
        if path.is_dir():
            raise InputError(
                [Problem(whole, "", "is a directory, not a file; give the path of a .yaml file")]
            )
        if not path.is_file():
            # a device or a pipe (/dev/zero, a FIFO) would never end, or block
            raise InputError(
                [Problem(whole, "", "is not a regular file; give the path of a .yaml file")]
            )
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(whole, size, max_bytes)
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
        if len(raw) > max_bytes:  # grew while being read
            raise _too_large(whole, len(raw), max_bytes)
    except (OSError, ValueError) as exc:  # unreadable, name too long, NUL in the name
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError([Problem(whole, "", f"cannot read the file: {reason}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError(
            [
                Problem(
                    Mark(shown, line, col),
                    "",
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ]
        ) from None
    return text.lstrip("\ufeff")


def _too_large(whole: Mark, size: int, max_bytes: int) -> InputError:
    return InputError(
        [
            Problem(
                whole,
                "",
                f"file is too large ({size:,} bytes; the limit is {max_bytes:,}); "
                "scenario files are a few kilobytes",
            )
        ]
    )


def load_yaml_file(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """Load one YAML file into :class:`PDict`/:class:`PList` containers with positions."""
    path = Path(path)
    return load_yaml_text(read_text(path, max_bytes=max_bytes), str(path))


def load_yaml_text(
    text: str,
    file: str = "<string>",
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> Any:
    """Parse YAML text safely; see the module docstring for what is checked."""
    if not text.strip() or all(
        ln.strip() == "" or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise InputError([Problem(Mark(file), "", "file is empty")])
    if _CLoader is not None and not _PYTHON_ONLY.search(text) and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        with _gc_paused():
            data = _load_fast(text, file, max_depth, max_nodes)
        if data is not _AGAIN:
            return data
    try:
        loader = _Loader(text)
        loader.name = file
    except yaml.reader.ReaderError as exc:
        raise InputError([_reader_problem(exc, text, file)]) from None
    with _gc_paused():
        return _load(loader, text, file, max_depth, max_nodes)


@contextlib.contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector while a document is parsed and built.

    The parser makes a few objects per character, all alive until the end; the
    collector's full passes over them made parsing a 5,000-state file 1.5 times slower
    per state than a 1,000-state one (benchmarks/bench_validate.py). The document is
    bounded (:data:`MAX_BYTES`, :data:`MAX_NODES`), so the pause is too.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _load_fast(text: str, file: str, max_depth: int, max_nodes: int) -> Any:
    """The document built from libyaml's nodes, or :data:`_AGAIN` where the Python parser
    is to read it: libyaml refused it; it is nested deeper than ``max_depth`` (the Python
    parser stops such a document at :data:`COMPOSE_DEPTH`, where libyaml composes up to
    1,000 levels; this keeps the error where it always was); or it leaves a value empty
    (libyaml places some empty values a column or a line from where the Python parser
    does). Other problems (duplicate keys, tags, too many values) are found by the same
    builder on the same nodes, and raised here."""
    loader = _CLoader(text)
    loader.name = file
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            return _AGAIN
        if node is None:
            return _AGAIN
        builder = _Builder(loader, file, max_depth, max_nodes, text)
        try:
            data = builder.build(node, 0)
        except InputError:
            if builder.too_deep or builder.empty:
                return _AGAIN
            raise
        if builder.empty:
            return _AGAIN
        if builder.problems:
            raise InputError(builder.problems)
        return data
    finally:
        loader.dispose()


def _load(loader: _Loader, text: str, file: str, max_depth: int, max_nodes: int) -> Any:
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise InputError([_syntax_problem(exc, file, text)]) from None
        except yaml.YAMLError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "not valid YAML"
            raise InputError([Problem(Mark(file), "", f"invalid YAML: {first}")]) from None
        if node is None:
            raise InputError([Problem(Mark(file), "", "file is empty")])
        builder = _Builder(loader, file, max_depth, max_nodes, text)
        data = builder.build(node, 0)
        if builder.problems:
            raise InputError(builder.problems)
        return data
    finally:
        loader.dispose()


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A control character (NUL, ESC, ...) that YAML does not allow anywhere."""
    pos = max(0, min(int(exc.position), len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return Problem(
        Mark(file, line, col),
        "",
        f"{'control ' if code < 0x20 or 0x7F <= code < 0xA0 else ''}character U+{code:04X} "
        "is not allowed in a YAML file; remove it "
        "(is this a binary file, or text pasted from a terminal?)",
    )


def _after_quote(text: str, m: Mark | None) -> bool:
    """Is the character before ``m`` (spaces skipped) a closing quote?"""
    if m is None or m.line < 1:
        return False
    lines = text.splitlines()
    if m.line > len(lines):
        return False
    before = lines[m.line - 1][: m.col - 1].rstrip()
    return before.endswith(("'", '"'))


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str, text: str = "") -> Problem:
    """A YAML syntax error in words a scenario author can act on.

    PyYAML's messages name parser states (``<block end>``, ``simple key``); the common
    mistakes get a plain explanation and the most useful of the parser's two positions
    (where the problem was noticed, or where the construct it belongs to starts).
    """
    problem = exc.problem or ""
    context = exc.context or ""
    pm = _mark(file, exc.problem_mark) if exc.problem_mark else None
    cm = _mark(file, exc.context_mark) if exc.context_mark else None
    where, msg = pm or cm, ""
    found_tab = "'\\t'" in problem or "tab" in problem.lower()
    if found_tab:
        msg = "a tab character here; indent with spaces, not tabs"
    elif "end of stream" in problem and "quoted scalar" in context:
        where = cm or pm
        msg = "this quoted text is never closed; add the closing quote"
    elif "end of stream" in problem or "<stream end>" in problem:
        opener = "[" if "sequence" in context else "{" if "mapping" in context else ""
        if opener:
            closer = "]" if opener == "[" else "}"
            where = cm or pm
            msg = f"this '{opener}' is never closed; add the '{closer}'"
    elif "could not find expected ':'" in problem:
        where = cm or pm
        msg = (
            "expected 'key: value' on this line; add the ':' after the key, "
            "or put the text in quotes if it continues the line above"
        )
    elif "mapping values are not allowed here" in problem:
        msg = (
            "a ':' is not allowed here; if it is part of a text, put the whole text in "
            "quotes; otherwise check the indentation of this line and the one above"
        )
    elif "expected <block end>" in problem and "'<scalar>'" in problem and _after_quote(text, pm):
        msg = (
            "text continues after a closing quote; to write ' inside '...' double it "
            "('it''s'), or put the text in double quotes"
        )
    elif "expected <block end>" in problem:
        above = f" (it starts at line {cm.line})" if cm else ""
        msg = (
            "this line does not fit the block above it" + above
            + "; the keys of a mapping, or the '- ' items of a list, must line up, "
            "and one block cannot mix both"
        )
    elif "cannot start any token" in problem:
        ch = problem.split("'")[1] if problem.count("'") >= 2 else "this character"
        msg = f"a value cannot start with '{ch}'; put the text in quotes"
    elif "alias" in context or "anchor" in context:
        msg = (
            "'*' and '&' at the start of a value mark YAML aliases and anchors; "
            "put the text in quotes"
        )
    elif "found undefined alias" in problem:
        msg = f"{problem}; scenario files do not need aliases (*name)"
    elif "escape character" in problem:
        msg = f"{problem} in double quotes; use single quotes, or write a backslash as \\\\"
    elif "another document" in problem:
        msg = "a second YAML document (after '---'); a scenario file is one document"
    elif "expected ',' or" in problem:
        closer = "]" if "]" in problem else "}"
        opener = "[" if closer == "]" else "{"
        if cm and pm and cm.line != pm.line:
            where = cm
            msg = f"this '{opener}' is not closed on its line; add the '{closer}'"
        else:
            msg = f"expected ',' or '{closer}' here; separate the items inside brackets with commas"
    elif "expected '<document start>'" in problem:
        found = problem.rsplit("but found ", 1)[-1]
        msg = f"unexpected {found} after the end of the document (a stray bracket or quote?)"
    if not msg:
        msg = problem or context or "not valid YAML"
        if context and problem and context not in msg:
            msg = f"{msg} ({context})"
    return Problem(where or Mark(file), "", f"invalid YAML: {msg}")


def _segments(node: yaml.ScalarNode, text: str) -> tuple[tuple[int, int, int], ...] | None:
    """Where each source line of a multi-line scalar starts in its value.

    ``((offset in the value, line, column), ...)``, or ``None`` when the value cannot
    be matched to the source line by line (escapes in a quoted string, for example).
    ``text``: the document; the marks' ``index`` counts its characters (both parsers').
    """
    sm, em = node.start_mark, node.end_mark
    if sm.index is None or em.index is None:
        return None
    lines = text[sm.index : em.index].split("\n")
    quoted = node.style in ("'", '"')
    block = node.style in ("|", ">")
    value = node.value
    segments: list[tuple[int, int, int]] = []
    pos = 0
    for i, raw in enumerate(lines):
        if i == 0 and block:
            continue  # the | or > indicator line
        if i == 0:
            start = 1 if quoted else 0
            col = sm.column + start
            content = raw[start:]
        else:
            content = raw.lstrip(" \t")
            col = len(raw) - len(content)
        content = content.rstrip()
        if quoted and i == len(lines) - 1 and content.endswith(node.style):
            content = content[:-1]
        if not content:
            continue
        j = value.find(content, pos)
        if j < 0:
            return None
        segments.append((j, sm.line + i + 1, col + 1))
        pos = j + len(content)
    return tuple(segments) or None


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


class _Builder:
    def __init__(self, loader: _Loader, file: str, max_depth: int, max_nodes: int, text: str):
        self.loader = loader
        self.file = file
        self.text = text
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.count = 0
        self.problems: list[Problem] = []
        self.too_deep = False  # the document is nested deeper than max_depth (raised)
        self.empty = False  # a value left empty (null): libyaml may put it a column or a line from where the Python parser does

    def _value_mark(self, node: yaml.Node) -> Mark:
        """Where a value starts; inside the quotes for a quoted string.

        A text written over several lines (a ``|``/``>`` block, or a long string
        wrapped) gets a mark that is not :attr:`Mark.exact`: offsets inside the text
        do not map to columns of its first line.
        """
        m = _mark(self.file, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">") or node.start_mark.line != node.end_mark.line:
                segments = _segments(node, self.text)
                if segments is None:
                    return Mark(m.file, m.line, m.col, exact=False)
                return Mark(m.file, m.line, m.col, segments=segments)
            if node.style in ("'", '"'):
                return m.shifted(1)
        return m

    def _fatal(self, node: yaml.Node, message: str, path: str = "") -> InputError:
        return InputError([Problem(_mark(self.file, node.start_mark), path, message)])

    def build(self, node: yaml.Node, depth: int, path: str = "") -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            raise self._fatal(
                node,
                f"document expands to more than {self.max_nodes:,} values "
                "(an alias/anchor bomb?); scenario files do not need anchors",
            )
        if depth > self.max_depth:
            short = path if len(path) <= 40 else path[:37] + "..."
            self.too_deep = True
            raise self._fatal(node, f"nested more than {self.max_depth} levels deep", short)
        mark = _mark(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _STD + "map":
                raise self._fatal(node, f"tag '{_show_tag(node.tag)}' is not allowed; remove it", path)
            out = PDict(mark=mark)
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    self.problems.append(
                        Problem(
                            _mark(self.file, knode.start_mark),
                            "",
                            "mapping keys must be plain names, not lists or mappings",
                        )
                    )
                    continue
                key = str(knode.value)
                kmark = _mark(self.file, knode.start_mark)
                if key == "<<" and knode.tag == _STD + "merge":
                    self.problems.append(
                        Problem(kmark, "", "merge keys (<<) are not supported; use extends:")
                    )
                    continue
                kpath = f"{path}.{key}" if path else key
                if key in out:
                    first = out.key_marks[key]
                    self.problems.append(
                        Problem(
                            kmark,
                            kpath,
                            f"duplicate key '{key}' (first given at line {first.line}); "
                            "keep one",
                        )
                    )
                    continue
                out[key] = self.build(vnode, depth + 1, kpath)
                out.key_marks[key] = kmark
                out.value_marks[key] = self._value_mark(vnode)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _STD + "seq":
                raise self._fatal(node, f"tag '{_show_tag(node.tag)}' is not allowed; remove it", path)
            out = PList(mark=mark)
            for i, item in enumerate(node.value):
                out.append(self.build(item, depth + 1, f"{path}[{i}]"))
                out.value_marks.append(self._value_mark(item))
            return out
        # scalar
        if not node.value and not node.style:  # plain (libyaml: "", the Python parser: None)
            self.empty = True
        if node.tag not in _SCALAR_TAGS:
            raise self._fatal(node, f"tag '{_show_tag(node.tag)}' is not allowed; remove it", path)
        if node.tag == _STD + "timestamp":
            # Months are YYYY-MM strings everywhere here, and a full date is kept as
            # written (an impossible one such as 2023-02-30 too: the schema says why).
            return node.value
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise self._fatal(node, f"invalid value: {exc}", path) from None
        if isinstance(value, _dt.datetime | _dt.date):  # pragma: no cover - handled above
            return node.value
        return value


def tree_from_data(
    data: Any,
    file: str = "<mapping>",
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> Any:
    """Python data (a scenario given as a mapping) as :class:`PDict`/:class:`PList`.

    There are no lines or columns: every value is marked with the whole ``file``, so
    problems read ``<mapping>: states.x.capability: ...``. Keys become text as YAML
    would read them, tuples become lists, NumPy scalars plain numbers; any other
    object, nesting deeper than ``max_depth`` (a mapping that contains itself) and more
    than ``max_nodes`` values (shared sub-mappings count each time) are problems.
    """
    whole = Mark(file)
    count = 0
    problems: list[Problem] = []

    def key_text(k: Any) -> str | None:
        if isinstance(k, bool):
            return "true" if k else "false"
        if k is None:
            return "null"
        if isinstance(k, str | int | float):
            return str(k)
        return None

    def build(x: Any, depth: int, path: str) -> Any:
        nonlocal count
        count += 1
        if count > max_nodes:
            raise InputError(
                [Problem(whole, "", f"more than {max_nodes:,} values (a mapping shared many times?)")]
            )
        if depth > max_depth:
            short = path if len(path) <= 40 else path[:37] + "..."
            raise InputError(
                [Problem(whole, short, f"nested more than {max_depth} levels deep (does a mapping contain itself?)")]
            )
        if isinstance(x, dict):
            out = PDict(mark=whole)
            for k, v in x.items():
                ks = key_text(k)
                kpath = f"{path}.{ks}" if path else str(ks)
                if ks is None:
                    problems.append(Problem(whole, path, f"mapping keys must be plain names, not {type(k).__name__} {k!r}"))
                    continue
                if ks in out:
                    problems.append(Problem(whole, kpath, f"duplicate key '{ks}' (keys {k!r} and another read the same); keep one"))
                    continue
                out[ks] = build(v, depth + 1, kpath)
                out.key_marks[ks] = whole
                out.value_marks[ks] = whole
            return out
        if isinstance(x, list | tuple):
            lst = PList(mark=whole)
            for i, v in enumerate(x):
                lst.append(build(v, depth + 1, f"{path}[{i}]"))
                lst.value_marks.append(whole)
            return lst
        if x is None or isinstance(x, bool | int | float | str):
            return x
        if isinstance(x, _dt.datetime | _dt.date):
            return x.isoformat()
        item = getattr(x, "item", None)  # NumPy scalars
        if callable(item) and type(x).__module__ == "numpy":
            try:
                v = item()
            except (TypeError, ValueError):
                v = None
            if v is None or isinstance(v, bool | int | float | str):
                return v
        problems.append(
            Problem(
                whole,
                path,
                f"a {type(x).__name__} is not a scenario value; use numbers, text, true/false, "
                "lists and mappings",
            )
        )
        return None

    tree = build(data, 0, "")
    if problems:
        raise InputError(problems)
    return tree
