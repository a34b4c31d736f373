"""Small arithmetic expressions for data files (log templates): names, numbers, + - * / // %,
comparisons, ``and``/``or``/``not``, ``a if c else b`` and a few functions. Anything else
(attributes, subscripts, other calls) is refused when the expression is compiled, so evaluating
one can only compute a value."""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from functools import cache
from types import CodeType
from typing import Any

FUNCTIONS: dict[str, Any] = {
    "round": round,
    "int": int,
    "float": float,
    "min": min,
    "max": max,
    "abs": abs,
    "cos": math.cos,
}
CONSTANTS = {"pi": math.pi, "nan": math.nan}
_GLOBALS = {"__builtins__": {}, **FUNCTIONS, **CONSTANTS}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Call,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)


class ExpressionError(ValueError):
    """An expression that is not valid, or uses something beyond arithmetic."""


@cache
def compile_expr(text: str) -> CodeType:
    """``text`` checked and compiled once (cached: templates reuse a few expressions)."""
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{text!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords
        ):
            raise ExpressionError(f"{text!r}: only {', '.join(FUNCTIONS)} may be called")
    return compile(tree, "<expression>", "eval")


def names_in(text: str) -> set[str]:
    """The names ``text`` reads (for dependency tracking)."""
    compile_expr(text)
    tree = ast.parse(text, mode="eval")
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(FUNCTIONS)


def evaluate(text: str | int | float, names: Mapping[str, Any]) -> Any:
    """The value of ``text`` (a number is itself) with ``names`` bound."""
    if isinstance(text, (int, float)):
        return text
    try:
        return eval(compile_expr(text), _GLOBALS, names)
    except NameError as exc:
        raise ExpressionError(f"{text!r}: {exc}") from None
