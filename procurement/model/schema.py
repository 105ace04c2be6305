"""Table schemas of a tender: one schema per entity, as data.

The same objects drive the loader's checks (types, required columns, keys, foreign keys), the format
documentation in ``tenders/README.md`` (see :func:`format_markdown`) and the schema tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: dtypes a column may have; ``id`` is a non-empty ASCII token without spaces.
DTYPES = ("id", "str", "float", "int", "bool")


@dataclass(frozen=True)
class Column:
    """One column of a tender table.

    Attributes:
        name: column header as written in the CSV file.
        dtype: one of :data:`DTYPES`.
        description: what the column means, for the format docs.
        unit: physical or money unit, empty when not applicable.
        required: whether the column must be present in the file.
        nullable: whether a cell may be blank (the value is then missing, never guessed).
        default: value used when an optional column is absent (None: missing).
        positive: numeric values must be finite and > 0.
        references: (table, column) that every non-blank value must exist in.
    """

    name: str
    dtype: str
    description: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    default: object = None
    positive: bool = False
    references: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name}: dtype {self.dtype!r} not in {DTYPES}")


@dataclass(frozen=True)
class TableSchema:
    """Schema of one tender table.

    Attributes:
        name: table name (also the key in ``[tables]`` of tender.toml).
        default_file: file name used when tender.toml does not name one.
        key: columns whose combination must be unique.
        columns: the columns, in documentation order.
        description: what one row is.
        optional: whether a tender may omit the table altogether.
    """

    name: str
    default_file: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    optional: bool = False
    unique_together: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


LOTS = TableSchema(
    name="lots",
    default_file="lots.csv",
    key=("lot_id",),
    description="One row per lot: a molecule in one dosage-form class, bid for as one competition.",
    columns=(
        Column("lot_id", "id", "Unique lot identifier."),
        Column("molecule", "str", "Generic (INN) name of the molecule."),
        Column("dosage_form", "str", "Dosage-form class, e.g. `oral-solid`, `injection`, `modified-release`."),
        Column("rep_spec_id", "id", "Representative specification of the lot; comparable prices are "
               "normalised to one smallest unit of it. Must be a spec of this lot.",
               references=("specs", "spec_id")),
        Column("share_class", "id", "Agreed-volume share table of the rule preset to use "
               "(`general`, or `special` for the anti-infective classes with lower shares).",
               required=False, default="general"),
        Column("term_years", "float", "Contract term override in years (e.g. named injectables: 1); "
               "blank = the preset's term table.", unit="years", required=False, nullable=True,
               positive=True),
    ),
)

SPECS = TableSchema(
    name="specs",
    default_file="specs.csv",
    key=("spec_id",),
    description="One row per specification (strength and pack) of a lot; prices are per smallest unit.",
    columns=(
        Column("spec_id", "id", "Unique specification identifier."),
        Column("lot_id", "id", "Lot the specification belongs to.", references=("lots", "lot_id")),
        Column("strength", "float", "Active content per smallest unit, in `unit`.", positive=True),
        Column("unit", "str", "Unit of `strength` (mg, g, IU, ...); all specs of a lot use one unit."),
        Column("pack_size", "int", "Smallest units per pack.", positive=True),
        Column("fill_volume", "float", "Fill volume per smallest unit for injections and liquids; blank "
               "for solids.", unit="ml", required=False, nullable=True, positive=True),
        Column("ceiling_price", "float", "Highest valid bid price per smallest unit (最高有效申报价); "
               "blank only for a spec nobody may bid on.", unit="currency/unit", nullable=True, positive=True),
        Column("reference_price", "float", "Pre-tender reference price per smallest unit (e.g. the "
               "median purchase price); blank if unknown.", unit="currency/unit", nullable=True,
               positive=True),
    ),
)

SUPPLIERS = TableSchema(
    name="suppliers",
    default_file="suppliers.csv",
    key=("supplier_id",),
    description="One row per maker (marketing-authorisation holder) that may bid.",
    columns=(
        Column("supplier_id", "id", "Unique supplier identifier."),
        Column("name", "str", "Company name."),
        Column("originator", "bool", "True for the originator / reference-listed product's maker."),
        Column("group_id", "id", "Related-party group; firms of one group count as one bidder under "
               "presets that say so. Blank = its own group.", required=False, nullable=True),
        Column("capacity", "float", "Annual production capacity across all lots, in smallest units; "
               "blank = unlimited.", unit="units/year", required=False, nullable=True, positive=True),
        Column("latitude", "float", "Latitude of the main production site.", unit="degrees",
               required=False, nullable=True),
        Column("longitude", "float", "Longitude of the main production site.", unit="degrees",
               required=False, nullable=True),
    ),
)

BIDS = TableSchema(
    name="bids",
    default_file="bids.csv",
    key=("supplier_id", "spec_id"),
    description="One row per bid: a supplier's declared price for one specification. A supplier bids "
                "at most one specification per lot.",
    columns=(
        Column("supplier_id", "id", "Bidding supplier.", references=("suppliers", "supplier_id")),
        Column("spec_id", "id", "Specification bid for.", references=("specs", "spec_id")),
        Column("price", "float", "Declared price per smallest unit of the specification.",
               unit="currency/unit", positive=True),
    ),
)

REGIONS = TableSchema(
    name="regions",
    default_file="regions.csv",
    key=("region_id",),
    description="One row per region (province) whose demand is allocated to a primary supplier.",
    columns=(
        Column("region_id", "id", "Unique region identifier (e.g. ISO 3166-2 code)."),
        Column("name", "str", "Region name."),
        Column("latitude", "float", "Latitude of the region's distribution centre (capital).",
               unit="degrees", required=False, nullable=True),
        Column("longitude", "float", "Longitude of the region's distribution centre (capital).",
               unit="degrees", required=False, nullable=True),
    ),
)

DEMAND = TableSchema(
    name="demand",
    default_file="demand.csv",
    key=("region_id", "spec_id"),
    description="Reported annual demand of one region for one specification, before the agreed share.",
    columns=(
        Column("region_id", "id", "Region.", references=("regions", "region_id")),
        Column("spec_id", "id", "Specification.", references=("specs", "spec_id")),
        Column("volume", "float", "Reported annual volume in smallest units.", unit="units/year",
               positive=True),
    ),
)

COSTS = TableSchema(
    name="costs",
    default_file="costs.csv",
    key=("supplier_id", "region_id", "lot_id"),
    optional=True,
    description="Optional (optimal mode): circulation (distribution) cost per smallest unit shipped from a "
                "supplier to a region, for one lot or, with `lot_id` blank, for every lot; a lot-specific "
                "row wins over the blank-lot row.",
    columns=(
        Column("supplier_id", "id", "Supplier.", references=("suppliers", "supplier_id")),
        Column("region_id", "id", "Region.", references=("regions", "region_id")),
        Column("lot_id", "id", "Lot; blank = every lot.", required=False, nullable=True,
               references=("lots", "lot_id")),
        Column("cost", "float", "Circulation cost per smallest unit (>= 0).", unit="currency/unit"),
    ),
)

TIERS = TableSchema(
    name="tiers",
    default_file="tiers.csv",
    key=("supplier_id", "spec_id", "min_volume"),
    optional=True,
    description="Optional (optimal mode): tiered (volume-discount) bids. A supplier whose agreed volume in "
                "the lot reaches `min_volume` is paid `price` on all of it (all-units discount); below the "
                "lowest tier the bids.csv price holds. (supplier_id, spec_id) must be a bid.",
    columns=(
        Column("supplier_id", "id", "Bidding supplier.", references=("suppliers", "supplier_id")),
        Column("spec_id", "id", "Specification of the supplier's bid.", references=("specs", "spec_id")),
        Column("min_volume", "float", "Agreed volume of the lot, in smallest units, from which the tier "
               "applies.", unit="units/year", positive=True),
        Column("price", "float", "Price per smallest unit of the spec in this tier.", unit="currency/unit",
               positive=True),
    ),
)

#: The six tables every tender has (fields of :class:`~procurement.model.tender.Tender`).
CORE_TABLES = ("lots", "specs", "suppliers", "bids", "regions", "demand")

#: Every table of a tender folder: the core ones, then optional ones (kept in ``Tender.extra``).
TABLES: dict[str, TableSchema] = {t.name: t for t in (LOTS, SPECS, SUPPLIERS, BIDS, REGIONS, DEMAND,
                                                           COSTS, TIERS)}


def format_markdown() -> str:
    """Render every table schema as Markdown: the canonical format reference of tender folders."""
    out: list[str] = []
    for table in TABLES.values():
        out.append(f"### `{table.default_file}` ({table.name})\n")
        out.append(f"{table.description} Key: {', '.join('`' + k + '`' for k in table.key)}.\n")
        out.append("| column | type | unit | required | blank allowed | meaning |")
        out.append("|---|---|---|---|---|---|")
        for c in table.columns:
            meaning = c.description
            if c.references:
                meaning += f" Must exist in `{c.references[0]}.{c.references[1]}`."
            if c.positive:
                meaning += " Must be finite and > 0."
            if not c.required and c.default is not None:
                meaning += f" Default `{c.default}`."
            out.append(
                f"| `{c.name}` | {c.dtype} | {c.unit or ''} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {meaning} |"
            )
        out.append("")
    return "\n".join(out)
