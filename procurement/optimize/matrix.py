"""A solver-neutral MIP in matrix form, with named blocks of columns and rows.

The optimiser builds one :class:`MatrixModel` from numpy coefficient arrays (no per-element Python
objects). HiGHS receives the arrays in process; the PuLP adapter turns the same arrays into a PuLP
problem for LP files and CBC. Names are built only when asked for (LP files, CBC, diagnoses), from the
ASCII ids stored as block keys, so building stays proportional to numpy work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

INF = float("inf")
_ILLEGAL = re.compile(r"[^A-Za-z0-9_.]")  # LP-format-safe, readable: other id characters become _


@dataclass(frozen=True)
class Block:
    """A contiguous range of columns (or rows) of one family.

    Attributes:
        name: family prefix of every name in the block, e.g. ``assign``.
        start: index of the block's first column (row).
        size: number of columns (rows).
        keys: one array of ASCII ids (or ints) per key level; the name of entry ``i`` is
            ``name_key0[i]_key1[i]...``.
    """

    name: str
    start: int
    size: int
    keys: tuple[np.ndarray, ...] = ()

    @property
    def stop(self) -> int:
        return self.start + self.size

    def names(self) -> np.ndarray:
        out = np.full(self.size, self.name, dtype=object)
        for key in self.keys:
            out = out + "_" + np.asarray(key).astype(str).astype(object)
        return out


@dataclass
class MatrixModel:
    """min c'x + offset s.t. row_lower <= A x <= row_upper, col_lower <= x <= col_upper, x_j integer
    where ``integrality[j] == 1``; A in compressed sparse row form (a_start, a_index, a_value)."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    col_blocks: dict[str, Block]
    row_blocks: dict[str, Block]
    offset: float = 0.0

    @property
    def num_col(self) -> int:
        return len(self.col_cost)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)

    @property
    def num_nz(self) -> int:
        return len(self.a_value)

    def column_names(self) -> np.ndarray:
        """Unique, LP-safe ASCII names of every column (built on demand)."""
        return _unique(_names(self.col_blocks.values(), self.num_col))

    def row_names(self) -> np.ndarray:
        """Unique, LP-safe ASCII names of every row (built on demand)."""
        return _unique(_names(self.row_blocks.values(), self.num_row))

    def row_block_of(self, row: int) -> Block:
        for block in self.row_blocks.values():
            if block.start <= row < block.stop:
                return block
        raise IndexError(row)


def _names(blocks, n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    for block in blocks:
        out[block.start:block.stop] = block.names()
    return np.array([_ILLEGAL.sub("_", s) for s in out], dtype=object)


def _unique(names: np.ndarray) -> np.ndarray:
    # ids may differ only in characters that sanitising maps to "_": keep names unique by suffixing
    _, first, counts = np.unique(names.astype(str), return_index=True, return_counts=True)
    if (counts == 1).all():
        return names
    seen: set[str] = set()
    out = names.copy()
    for i, s in enumerate(names):
        if s in seen:
            out[i] = f"{s}_n{i}"
        seen.add(s)
    return out


@dataclass
class ModelBuilder:
    """Accumulates blocks of columns and rows (coefficients as COO triplets) and returns a
    :class:`MatrixModel`."""

    _cols: list[tuple] = field(default_factory=list)
    _rows: list[tuple] = field(default_factory=list)
    _entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _cost_adds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    col_blocks: dict[str, Block] = field(default_factory=dict)
    row_blocks: dict[str, Block] = field(default_factory=dict)
    num_col: int = 0
    num_row: int = 0
    offset: float = 0.0

    def add_columns(self, name: str, keys: tuple, *, lower=0.0, upper=INF, cost=0.0,
                    integer: bool = False) -> np.ndarray:
        """Add a block of columns; return their global indices. Scalars broadcast."""
        size = len(keys[0]) if keys else 1
        if name in self.col_blocks:
            raise ValueError(f"column block {name!r} added twice")
        idx = np.arange(self.num_col, self.num_col + size)
        self.col_blocks[name] = Block(name, self.num_col, size, tuple(keys))
        self._cols.append((np.broadcast_to(np.asarray(lower, float), size),
                           np.broadcast_to(np.asarray(upper, float), size),
                           np.broadcast_to(np.asarray(cost, float), size),
                           np.full(size, 1 if integer else 0, dtype=np.int32)))
        self.num_col += size
        return idx

    def add_cost(self, cols: np.ndarray, cost: np.ndarray) -> None:
        """Add objective coefficients to existing columns (duplicates accumulate)."""
        self._cost_adds.append((np.asarray(cols, np.int64), np.asarray(cost, float)))

    def add_rows(self, name: str, keys: tuple, *, lower, upper, rows: np.ndarray, cols: np.ndarray,
                 vals: np.ndarray) -> np.ndarray:
        """Add a block of rows ``lower <= sum(vals * x[cols]) <= upper``.

        Args:
            name: family name (unique).
            keys: id arrays naming each row.
            lower, upper: bounds per row (scalars broadcast; +-inf for one-sided rows).
            rows: local row index (0..size-1) of each coefficient.
            cols: global column index of each coefficient.
            vals: coefficient values.

        Returns:
            Global indices of the rows.
        """
        size = len(keys[0])
        if name in self.row_blocks:
            raise ValueError(f"row block {name!r} added twice")
        idx = np.arange(self.num_row, self.num_row + size)
        self.row_blocks[name] = Block(name, self.num_row, size, tuple(keys))
        self._rows.append((np.broadcast_to(np.asarray(lower, float), size),
                           np.broadcast_to(np.asarray(upper, float), size)))
        vals = np.broadcast_to(np.asarray(vals, float), np.shape(rows))
        self._entries.append((np.asarray(rows, np.int64) + self.num_row, np.asarray(cols, np.int64), vals))
        self.num_row += size
        return idx

    def finish(self) -> MatrixModel:
        """Assemble the arrays (CSR by row, entries of one row in insertion order)."""
        blocks = self._cols
        lower = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0)
        upper = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0)
        cost = np.concatenate([b[2] for b in blocks]).copy() if blocks else np.zeros(0)
        integ = np.concatenate([b[3] for b in blocks]) if blocks else np.zeros(0, np.int32)
        for cols, values in self._cost_adds:
            np.add.at(cost, cols, values)
        row_lower = np.concatenate([r[0] for r in self._rows]) if self._rows else np.zeros(0)
        row_upper = np.concatenate([r[1] for r in self._rows]) if self._rows else np.zeros(0)
        if self._entries:
            rows = np.concatenate([e[0] for e in self._entries])
            cols = np.concatenate([e[1] for e in self._entries])
            vals = np.concatenate([e[2] for e in self._entries])
        else:
            rows = cols = np.zeros(0, np.int64)
            vals = np.zeros(0)
        keep = vals != 0
        if not keep.all():
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.argsort(rows, kind="stable")
        counts = np.bincount(rows, minlength=self.num_row)
        start = np.zeros(self.num_row + 1, dtype=np.int32)
        np.cumsum(counts, out=start[1:])
        return MatrixModel(col_cost=cost, col_lower=np.ascontiguousarray(lower, float),
                           col_upper=np.ascontiguousarray(upper, float), integrality=integ.astype(np.int32),
                           row_lower=np.ascontiguousarray(row_lower, float),
                           row_upper=np.ascontiguousarray(row_upper, float),
                           a_start=start, a_index=cols[order].astype(np.int32),
                           a_value=np.ascontiguousarray(vals[order], float),
                           col_blocks=dict(self.col_blocks), row_blocks=dict(self.row_blocks),
                           offset=self.offset)
