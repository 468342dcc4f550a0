"""Policy packs: each jurisdiction's time limits, categories and lists, as data (packs/*.toml).

    from gateway.policies import load_pack, Category
    pack = load_pack("qingyang")
    pack.handling_limit(Category.parse("投诉"), urgent=False)   # Duration(5 working_days, source=…)
"""

from gateway.policies.categories import Category
from gateway.policies.loader import available_packs, load_pack
from gateway.policies.model import (
    Duration,
    EmergencyRule,
    ExtensionRule,
    ExtensionTerms,
    ListItem,
    PolicyPack,
    ReopenRule,
    SatisfactionExclusion,
    SurveyRule,
)

__all__ = [
    "Category",
    "Duration",
    "EmergencyRule",
    "ExtensionRule",
    "ExtensionTerms",
    "ListItem",
    "PolicyPack",
    "ReopenRule",
    "SatisfactionExclusion",
    "SurveyRule",
    "available_packs",
    "load_pack",
]
