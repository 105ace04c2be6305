"""Excel workbook: every result table on its own sheet, bold frozen header, widths fitted."""

from __future__ import annotations

import io

import pandas as pd


def workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """The tables as an .xlsx file (needs openpyxl); sheet names are the keys (max 31 chars)."""
    from openpyxl.styles import Font, PatternFill

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, frame in tables.items():
            frame.to_excel(xw, sheet_name=name[:31], index=False)
            ws = xw.sheets[name[:31]]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDDDDD")
            for i, col in enumerate(frame.columns, start=1):
                width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, width + 2)
    return buf.getvalue()
