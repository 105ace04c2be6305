"""Files in and out: tender folders, published-results tables, result folders (written atomically)."""

from procurement.io.atomic import atomic_dir, atomic_file
from procurement.io.results import read_result, write_result
from procurement.io.tender_files import load_tender

__all__ = ["atomic_dir", "atomic_file", "load_tender", "read_result", "write_result"]
