"""Bounds on a workbook, checked before a workbook library reads it.

An ``.xlsx`` file is a zip of XML parts, and its size on disk says little about the work of
reading it: 2 MB of zip may unpack to gigabytes (a zip bomb), a sheet of a million rows
takes a workbook library minutes and gigabytes where the same table as CSV takes seconds,
and one blank formatted cell at ``XFD1048576`` makes a sheet's dimension 17 billion cells.
:func:`workbook_limits` reads the zip's directory and streams each sheet's XML once,
counting rows and cells, and refuses a workbook beyond :data:`MAX_UNCOMPRESSED` bytes
unpacked, :data:`MAX_SHEET_ROWS` rows in a sheet or :data:`MAX_CELLS` cells in all, before
anything is built. It returns, per sheet part, the extent of the cells that hold a value, so
that the reader looks at nothing beyond it (a formatted blank cell far away is not data).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

#: The most bytes a workbook's parts may unpack to, all together.
MAX_UNCOMPRESSED = 256 * 1024**2
#: The most rows one sheet may have (counting every row element, empty or not).
MAX_SHEET_ROWS = 200_000
#: The most cells the sheets may have together (every cell element, blank or not).
MAX_CELLS = 2_000_000

_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml$")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)$")


class WorkbookTooLarge(Exception):
    """The workbook is beyond a bound; ``str(exc)`` names the bound, in a planner's words."""


@dataclass(frozen=True)
class Extent:
    """The rows and columns (1-based, inclusive) that hold the values of one sheet."""

    rows: int
    columns: int


def workbook_limits(raw: bytes) -> dict[str, Extent]:
    """Check the bounds of the workbook ``raw``; return each sheet's value extent by title.

    Raises :class:`WorkbookTooLarge` beyond a bound, :class:`zipfile.BadZipFile` for a
    damaged zip and :class:`xml.etree.ElementTree.ParseError` for a damaged part.
    """
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        infos = z.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_UNCOMPRESSED:
            raise WorkbookTooLarge(
                f"unpacks to {unpacked:,} bytes, more than the {MAX_UNCOMPRESSED:,} a case "
                "workbook may (a zip bomb, or tables to give as CSV files)")
        extents: dict[str, Extent] = {}
        cells = 0
        for info in infos:
            if _SHEET.match(info.filename):
                with z.open(info) as part:
                    extents[info.filename], n = _scan(part, MAX_CELLS - cells)
                cells += n
        titles = _sheet_parts(z)
    return {title: extents[part] for title, part in titles.items() if part in extents}


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's title and the zip part that holds it (workbook.xml and its relations)."""
    names = set(z.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return {}
    targets: dict[str, str] = {}
    with z.open("xl/_rels/workbook.xml.rels") as rels:
        for _, elem in iterparse(rels, events=("end",)):
            if _local(elem.tag) == "Relationship":
                target = elem.get("Target") or ""
                target = target[1:] if target.startswith("/") else f"xl/{target}"
                targets[elem.get("Id") or ""] = target
    out: dict[str, str] = {}
    with z.open("xl/workbook.xml") as book:
        for _, elem in iterparse(book, events=("end",)):
            if _local(elem.tag) == "sheet":
                rid = next((v for k, v in elem.attrib.items() if _local(k) == "id"), "")
                if rid in targets:
                    out[elem.get("name") or ""] = targets[rid]
    return out


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _scan(part: IO[bytes], cells_left: int) -> tuple[Extent, int]:
    """Stream one sheet's XML: its value extent and its number of cells, within the bounds."""
    rows = cells = 0
    last_row = last_col = 0
    row_number = col_number = 0
    for event, elem in iterparse(part, events=("start", "end")):
        tag = _local(elem.tag)
        if event == "start":
            if tag == "row":
                rows += 1
                if rows > MAX_SHEET_ROWS:
                    raise WorkbookTooLarge(
                        f"has a sheet of more than {MAX_SHEET_ROWS:,} rows, the most a case "
                        "sheet may have; give the table as a CSV file")
                row_number = int(elem.get("r") or row_number + 1)
                col_number = 0
            continue
        if tag == "c":
            cells += 1
            if cells > cells_left:
                raise WorkbookTooLarge(f"has more than {MAX_CELLS:,} cells, the most a case "
                                       "workbook may have; give the tables as CSV files")
            row, col_number = _position(elem.get("r"), row_number, col_number + 1)
            if _holds_value(elem):
                last_row, last_col = max(last_row, row), max(last_col, col_number)
            elem.clear()
        elif tag == "row":
            elem.clear()
    if last_row * last_col > MAX_CELLS:
        raise WorkbookTooLarge(f"has values spread over {last_row:,} rows and {last_col:,} "
                               f"columns, more than the {MAX_CELLS:,} cells a case workbook may "
                               "have (a value far below or right of the table?)")
    return Extent(rows=last_row, columns=last_col), cells


def _holds_value(cell: Any) -> bool:
    """Whether a ``<c>`` element holds a value or a formula (not only a format)."""
    for child in cell:
        tag = _local(child.tag)
        if tag == "f" or (tag in ("v", "is") and "".join(child.itertext()).strip()):
            return True
    return False


def _position(ref: str | None, row_number: int, next_col: int) -> tuple[int, int]:
    """The (row, column) of a cell: its reference (``XFD1048576``), else the next place."""
    match = _CELL_REF.match(ref or "")
    if match is None:
        return row_number, next_col
    col = 0
    for ch in match[1]:
        col = col * 26 + ord(ch) - ord("A") + 1
    return int(match[2]), col


__all__ = ["MAX_CELLS", "MAX_SHEET_ROWS", "MAX_UNCOMPRESSED", "Extent", "ParseError",
           "WorkbookTooLarge", "workbook_limits"]
