"""Analysis of tender results: the circulation-cost chain and savings by stakeholder.

See ``docs/circulation.md`` for the model and its parameters.
"""

from procurement.analysis.batch_savings import (
    PUBLISHED_FIGURES,
    REFERENCE_BASES,
    BatchSavings,
    PublishedFigure,
    batch_savings,
    format_batch_savings_table,
    write_batch_savings,
)
from procurement.analysis.chain import (
    CUT_GROUPS,
    PARAMETER_NAMES,
    PRICE_LAYERS,
    ChainParams,
    decompose_cut,
    floor_price,
    load_chain_params,
    parameter_table,
    post_chain,
    pre_chain,
    sweep_ranges,
)
from procurement.analysis.logistics import (
    LogisticsParams,
    distribution_cost,
    distribution_rate,
    load_logistics_params,
)
from procurement.analysis.savings import (
    STAKEHOLDER_NAMES,
    SavingsResult,
    format_savings_table,
    savings,
    worked_example,
    write_savings,
)
from procurement.geo import distance_matrix_km, great_circle_km

__all__ = [
    "PUBLISHED_FIGURES",
    "REFERENCE_BASES",
    "BatchSavings",
    "PublishedFigure",
    "batch_savings",
    "format_batch_savings_table",
    "write_batch_savings",
    "CUT_GROUPS",
    "PARAMETER_NAMES",
    "PRICE_LAYERS",
    "STAKEHOLDER_NAMES",
    "ChainParams",
    "LogisticsParams",
    "SavingsResult",
    "decompose_cut",
    "distribution_cost",
    "distribution_rate",
    "floor_price",
    "format_savings_table",
    "distance_matrix_km",
    "great_circle_km",
    "load_chain_params",
    "load_logistics_params",
    "parameter_table",
    "post_chain",
    "pre_chain",
    "savings",
    "sweep_ranges",
    "worked_example",
    "write_savings",
]
