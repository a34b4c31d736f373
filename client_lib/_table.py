"""The box table ``get_instance_types`` returns, drawn like a ``rich`` table with its default
heavy-head box (without depending on ``rich``)."""

from __future__ import annotations

from collections.abc import Sequence

# rich's HEAVY_HEAD box: top, header row, header rule, body rows, bottom.
TOP = ("┏", "━", "┳", "┓")
HEAD = ("┃", "┃", "┃")
HEAD_RULE = ("┡", "━", "╇", "┩")
ROW = ("│", "│", "│")
BOTTOM = ("└", "─", "┴", "┘")


class BoxTable:
    """Columns and rows of text; ``str()`` is the drawing a Jupyter cell shows."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]

    def _widths(self) -> list[int]:
        return [
            max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
            for i, c in enumerate(self.columns)
        ]

    def __str__(self) -> str:
        widths = self._widths()

        def rule(left: str, fill: str, cross: str, right: str) -> str:
            return left + cross.join(fill * (w + 2) for w in widths) + right

        def line(cells: Sequence[str], bars: tuple[str, str, str]) -> str:
            left, mid, right = bars
            padded = (f" {c:<{w}} " for c, w in zip(cells, widths, strict=True))
            return left + mid.join(padded) + right

        out = [rule(*TOP), line(self.columns, HEAD), rule(*HEAD_RULE)]
        out += [line(r, ROW) for r in self.rows]
        out.append(rule(*BOTTOM))
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)
