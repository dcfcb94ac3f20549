"""Two small SQL expressions that each database spells its own way: days between two moments, and a moment's month."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class DaysBetween(FunctionElement[float]):
    """Fractional days from the first argument to the second."""

    type = Float()
    inherit_cache = True
    name = "days_between"


class YearMonth(FunctionElement[str]):
    """A moment's month as 'YYYY-MM'."""

    type = String()
    inherit_cache = True
    name = "year_month"


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(DaysBetween, "sqlite")
def _days_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return f"(julianday({end}) - julianday({start}))"


@compiles(DaysBetween, "postgresql")
def _days_postgresql(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


@compiles(YearMonth, "sqlite")
def _month_sqlite(element: YearMonth, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = _arguments(element, compiler, **kw)
    return f"strftime('%Y-%m', {moment})"


@compiles(YearMonth, "postgresql")
def _month_postgresql(element: YearMonth, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = _arguments(element, compiler, **kw)
    return f"to_char({moment}, 'YYYY-MM')"
