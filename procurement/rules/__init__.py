"""VBP rule presets by batch and the rules-mode engine."""

from procurement.rules.presets import get_preset, preset_names, register
from procurement.rules.ruleset import RuleSet

__all__ = ["RuleSet", "get_preset", "preset_names", "register"]
