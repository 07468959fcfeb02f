"""Problems found in input files and options, reported all at once.

Every message a user sees about a bad scenario, fact card or option is a
:class:`Problem`: where it is (file, line, column, dotted path) and what is wrong,
with a hint where one helps. :class:`InputError` carries a list of them so that all
independent problems in a file are reported together.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mark:
    """A place in an input: a file with 1-based line and column, or an option.

    ``line == 0`` means the whole file (no line applies). ``option`` is set for
    problems in command-line options (``--runs``, ``--set PATH``), in which case the
    problem is printed as ``sim CMD: OPTION: message``.

    A text written over several lines (a ``>``/``|`` block, a wrapped string) has
    ``segments``: ``(offset, line, col)`` where each of its lines starts in the value,
    so that :meth:`shifted` finds the line and column of any character. ``exact`` is
    false where offsets inside the text cannot be mapped to the source at all.
    """

    file: str
    line: int = 0
    col: int = 0
    option: str | None = None
    exact: bool = field(default=True, compare=False)
    segments: tuple[tuple[int, int, int], ...] = field(default=(), compare=False, repr=False)

    def shifted(self, cols: int) -> Mark:
        """The place of the character ``cols`` characters into the value that starts here."""
        if self.line == 0 or not self.exact:
            return self
        if self.segments:
            off, line, col = self.segments[0]
            for seg in self.segments:
                if seg[0] <= cols:
                    off, line, col = seg
            return Mark(self.file, line, col + max(cols - off, 0), self.option)
        return Mark(self.file, self.line, self.col + cols, self.option)


_CONTROL = {c: repr(chr(c))[1:-1] for c in [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]}


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes (``\\n``).

    A name or value quoted in a message may contain them; a problem stays one line.
    """
    return text.translate(_CONTROL)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input."""

    mark: Mark
    path: str
    message: str

    def format(self, command: str = "sim") -> str:
        """The one-line form users see.

        ``file:line:col: path: message`` for files, ``sim run: --runs: message`` for
        options.
        """
        m = self.mark
        msg, path = one_line(self.message), one_line(self.path)
        if m.option is not None:
            return f"{command}: {one_line(m.option)}: {msg}"
        where = one_line(m.file) if m.line == 0 else f"{one_line(m.file)}:{m.line}:{m.col}"
        return f"{where}: {path}: {msg}" if path else f"{where}: {msg}"

    def sort_key(self) -> tuple:
        m = self.mark
        return (m.option is not None, m.file, m.line, m.col, self.path, self.message)


class InputError(Exception):
    """One or more problems with user input (scenario files, fact cards, options).

    The CLI prints one line per problem and exits with status 2. When most problems
    have one cause (a missing ``extends:``, say), ``cause`` says it and the problems it
    explains (``explained``) are folded: :meth:`format` prints the cause first, then the
    others; ``verbose=True`` (``sim --verbose``) prints every problem. ``problems``
    always holds them all.
    """

    def __init__(self, problems: Iterable[Problem], *, cause: Problem | None = None,
                 explained: Iterable[Problem] = ()):
        uniq: dict[tuple, Problem] = {}
        for p in problems:
            uniq.setdefault(_key(p), p)
        self.problems: list[Problem] = sorted(uniq.values(), key=Problem.sort_key)
        self.cause = cause
        self.explained = {_key(p) for p in explained}
        super().__init__(self.format())

    def format(self, command: str = "sim", verbose: bool = False) -> str:
        shown = self.problems
        if self.cause is not None and not verbose:
            shown = [self.cause] + [p for p in self.problems if _key(p) not in self.explained]
        return "\n".join(p.format(command) for p in shown)


def _key(p: Problem) -> tuple:
    return (p.mark, p.path, p.message)


def option_error(option: str, message: str) -> InputError:
    """An :class:`InputError` about a command-line option."""
    return InputError([Problem(Mark("<options>", option=option), "", message)])


PLUGIN_HINT = "; if a plugin registers it, load the plugin (--plugin MODULE; in Python, import it first)"
"""Said after a list of the known mechanisms, models or outcome kinds when a name is not among them
and is not close to one: it may be a part a plugin registers, and the plugin was not loaded."""


def suggest(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    choices = [c for c in choices if isinstance(c, str)]
    best = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    return f" (did you mean '{best[0]}'?)" if best else ""


def known_hint(kind: str, known: Iterable[str]) -> str:
    """``; states are one of 'a', 'b'`` (or ``; no states are defined``)."""
    items = [k for k in known if isinstance(k, str)]
    if not items:
        return f"; no {kind}s are defined"
    return f"; {kind}s are {one_of(items)}"


def one_of(choices: Iterable[str]) -> str:
    """A readable list of the valid choices: ``one of 'a', 'b', 'c'``."""
    items = sorted({c for c in choices if isinstance(c, str)})
    if not items:
        return "none are defined"
    if len(items) > 12:
        items = items[:12] + ["..."]
    return "one of " + ", ".join(f"'{c}'" if c != "..." else c for c in items)


def json_cut_short(text: str, exc: Exception) -> bool:
    """Does this JSON error say the text stops early (a copy or a write that did not finish)?

    sim writes each JSON file as one object: a file that does not end with its closing
    brace, and whose error is at its end or in a string left open, was cut short.
    """
    body = text.rstrip()
    if not body or body.endswith("}"):
        return False
    pos, msg = getattr(exc, "pos", 0), str(getattr(exc, "msg", ""))
    return pos >= len(body) - 1 or msg.startswith("Unterminated string")

