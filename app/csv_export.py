"""CSV downloads that Excel opens as they are, and that never run a cell as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

# Spreadsheets run a cell starting with one of these as a formula: such text is prefixed with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cells(values: Sequence[Any]) -> list[Any]:
    """A row as written: None left empty, text a spreadsheet would run as a formula prefixed with an apostrophe."""
    # One comprehension per row, not a call per cell: the per-person export writes two million cells.
    return ["" if v is None else "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV download Excel opens as it is: UTF-8 with a byte-order mark, numbers left as numbers."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_cells(header))
    writer.writerows(map(_cells, rows))
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Content-Type": "text/csv; charset=utf-8"},
    )
