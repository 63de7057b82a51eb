"""The one TOML line locator: on which line of a file a key path is written (best effort).

TOML parsers return values without positions, so a message that wants to say "line 12" asks
:class:`TomlLines` built from the same text. A path is a tuple of table names, keys and, for arrays of
tables, element indices: ``("params", "trust_gain")``, ``("merchants", 1, "price")``,
``("events", 0, "set", "price")``. :meth:`TomlLines.find` gives the line of the longest prefix of the
path that the file writes, so a key the file does not write still points at its table.

>>> lines = TomlLines('[params]\\ntrust_gain = 2\\n\\n[[merchants]]\\nname = "A"\\n[[merchants]]\\nprice = 9\\n')
>>> lines.find("params", "trust_gain"), lines.find("merchants", 1, "price"), lines.find("merchants", 1, "quality")
(2, 7, 6)
>>> path_key(("merchants", 1, "price"))
'merchants[1].price'
"""

from __future__ import annotations

import re

__all__ = ["TomlLines", "find_line", "split_key", "path_key"]

_BARE = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_BARE}(?:\s*\.\s*{_BARE})*"
_KEY_RE = re.compile(rf"^\s*({_DOTTED})\s*=")
_AOT_RE = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_RE = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_INLINE_KEY_RE = re.compile(rf"(?:^|[{{,])\s*({_DOTTED})\s*=")


def split_key(dotted: str) -> tuple[str, ...]:
    """A TOML dotted key (``a."b.c".d``) as its parts, quotes removed: ``("a", "b.c", "d")``."""
    parts = re.findall(_BARE, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def path_key(path: tuple) -> str:
    """A key path as messages write it: ``("merchants", 1, "price")`` → ``merchants[1].price``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class TomlLines:
    """Where each key path (``("merchants", 1, "price")``) first appears in a TOML text."""

    def __init__(self, text: str):
        self.at: dict[tuple, int] = {}
        self.count: dict[tuple, int] = {}  # arrays of tables: elements seen so far
        current: tuple = ()
        in_string: str | None = None
        for no, raw in enumerate(text.splitlines(), start=1):
            if in_string:
                if raw.count(in_string) % 2:
                    in_string = None
                continue
            m = _AOT_RE.match(raw)
            if m:
                parts = split_key(m.group(1))
                base = self._resolve(parts[:-1]) + parts[-1:]
                i = self.count.get(base, 0)
                self.count[base] = i + 1
                self.at.setdefault(base, no)
                current = base + (i,)
                self.at.setdefault(current, no)
                continue
            m = _TABLE_RE.match(raw)
            if m:
                current = self._resolve(split_key(m.group(1)))
                for k in range(1, len(current) + 1):
                    self.at.setdefault(current[:k], no)
                continue
            m = _KEY_RE.match(raw)
            if not m:
                continue
            path = current + split_key(m.group(1))
            for k in range(len(current) + 1, len(path) + 1):
                self.at.setdefault(path[:k], no)
            rest = raw[m.end():]
            if rest.lstrip().startswith("{"):
                for im in _INLINE_KEY_RE.finditer(rest.lstrip()[1:]):
                    self.at.setdefault(path + split_key(im.group(1)), no)
            for delim in ('"""', "'''"):
                if rest.count(delim) % 2:
                    in_string = delim
                    break

    def _resolve(self, parts: tuple) -> tuple:
        """Insert the current element index after every array-of-tables prefix."""
        out: tuple = ()
        for p in parts:
            out = out + (p,)
            if out in self.count:
                out = out + (self.count[out] - 1,)
        return out

    def find(self, *path) -> int | None:
        """The line (1-based) of ``path``, else of its longest written prefix, else ``None``."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.at:
                return self.at[path[:k]]
        return None


def find_line(text: str | None, *path) -> int | None:
    """:meth:`TomlLines.find` on ``text`` in one call (``None`` for no text or an empty path)."""
    if not text or not path:
        return None
    return TomlLines(text).find(*path)
