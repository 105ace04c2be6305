"""Data model: table schemas, the validated Tender and result objects (no file I/O, no solver)."""

from procurement.model.result import TenderResult
from procurement.model.schema import TABLES, Column, TableSchema
from procurement.model.tender import PICK_POLICIES, Tender

__all__ = ["PICK_POLICIES", "TABLES", "Column", "TableSchema", "Tender", "TenderResult"]
