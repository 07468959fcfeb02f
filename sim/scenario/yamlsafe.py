"""Safe YAML loading that remembers where every value came from.

Scenario and fact-card files are written by hand, so every error must point at a
line and column. This loader parses with PyYAML's ``SafeLoader`` (no Python tags,
ever), then builds plain Python containers itself, walking the node graph so that
it can

* record the position of every key and value (:class:`PDict`, :class:`PList`),
* reject duplicate keys, merge keys and non-standard tags,
* bound the file size, the nesting depth and the number of nodes visited (an
  alias/anchor "billion laughs" document is stopped after ``max_nodes`` nodes
  instead of expanding exponentially).
"""

from __future__ import annotations

import datetime as _dt
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


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats such as ``4e8`` and ``1.2e9``.

    (YAML 1.1, which PyYAML follows, wants a sign and a dot: ``4.0e+8``.)
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    __import__("re").compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$""",
        __import__("re").X,
    ),
    list("-+0123456789."),
)


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


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a UTF-8 text file, turning every way it can fail into a :class:`Problem`."""
    shown = str(path)
    whole = Mark(shown)
    if not path.exists():
        raise InputError([Problem(whole, "", "no such file; check the path")])
    if path.is_dir():
        raise InputError(
            [Problem(whole, "", "is a directory, not a file; give the path of a .yaml file")]
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            [
                Problem(
                    whole,
                    "",
                    f"file is too large ({size:,} bytes; the limit is {max_bytes:,}); "
                    "scenario files are a few kilobytes",
                )
            ]
        )
    raw = path.read_bytes()
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
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            m = exc.problem_mark or exc.context_mark
            msg = exc.problem or exc.context or "invalid YAML"
            if exc.context and exc.problem and exc.context not in msg:
                msg = f"{msg} ({exc.context})"
            hint = ""
            if "\\t" in msg or "tab" in msg.lower():
                hint = "; indent with spaces, not tabs"
            raise InputError(
                [Problem(_mark(file, m) if m else Mark(file), "", f"invalid YAML: {msg}{hint}")]
            ) from None
        except yaml.YAMLError as exc:
            raise InputError([Problem(Mark(file), "", f"invalid YAML: {exc}")]) from None
        if node is None:
            raise InputError([Problem(Mark(file), "", "file is empty")])
        builder = _Builder(loader, file, max_depth, max_nodes)
        data = builder.build(node, 0)
        if builder.problems:
            raise InputError(builder.problems)
        return data
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: _Loader, file: str, max_depth: int, max_nodes: int):
        self.loader = loader
        self.file = file
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.count = 0
        self.problems: list[Problem] = []

    def _value_mark(self, node: yaml.Node) -> Mark:
        """Where a value starts; inside the quotes for a quoted string."""
        m = _mark(self.file, node.start_mark)
        if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"'):
            return m.shifted(1)
        return m

    def _fatal(self, node: yaml.Node, message: str) -> InputError:
        return InputError([Problem(_mark(self.file, node.start_mark), "", message)])

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            raise self._fatal(
                node,
                f"document expands to more than {self.max_nodes:,} values "
                "(an alias/anchor bomb?); scenario files do not need anchors",
            )
        if depth > self.max_depth:
            raise self._fatal(node, f"nested more than {self.max_depth} levels deep")
        mark = _mark(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _STD + "map":
                raise self._fatal(node, f"tag {node.tag!r} is not allowed; remove it")
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
                if key in out:
                    first = out.key_marks[key]
                    self.problems.append(
                        Problem(
                            kmark,
                            key,
                            f"duplicate key '{key}' (first given at line {first.line}); "
                            "keep one",
                        )
                    )
                    continue
                out[key] = self.build(vnode, depth + 1)
                out.key_marks[key] = kmark
                out.value_marks[key] = self._value_mark(vnode)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _STD + "seq":
                raise self._fatal(node, f"tag {node.tag!r} is not allowed; remove it")
            out = PList(mark=mark)
            for item in node.value:
                out.append(self.build(item, depth + 1))
                out.value_marks.append(self._value_mark(item))
            return out
        # scalar
        if node.tag not in _SCALAR_TAGS:
            raise self._fatal(node, f"tag {node.tag!r} is not allowed; remove it")
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:  # e.g. an invalid timestamp
            raise self._fatal(node, f"invalid value: {exc}") from None
        if isinstance(value, _dt.datetime | _dt.date):
            # A full date was written; months are YYYY-MM strings everywhere here.
            return node.value
        return value
