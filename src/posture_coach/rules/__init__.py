"""The rule catalogue: every rule class, in one explicit list.

Rule ids are a public contract (RULES.md): they never change once shipped.
"""

from __future__ import annotations

from posture_coach.rules.base import (
    REASONS,
    Param,
    Params,
    Rule,
    Status,
    Verdict,
    reason_text,
)
from posture_coach.rules.face import FACE_RULES
from posture_coach.rules.grooming import GROOMING_RULES
from posture_coach.rules.interaction import INTERACTION_RULES
from posture_coach.rules.sitting import SITTING_RULES
from posture_coach.rules.standing import STANDING_RULES

#: Every rule, in catalogue order. Add new rule classes here.
ALL_RULES: tuple[type[Rule], ...] = (
    *STANDING_RULES, *SITTING_RULES, *FACE_RULES, *INTERACTION_RULES, *GROOMING_RULES,
)

#: The rules an engine runs when nobody chose: everything but the opt-in self-checks.
DEFAULT_RULE_IDS: tuple[str, ...] = tuple(r.id for r in ALL_RULES if r.default_enabled)

#: Rule classes by id.
RULES_BY_ID: dict[str, type[Rule]] = {r.id: r for r in ALL_RULES}
assert len(RULES_BY_ID) == len(ALL_RULES), "duplicate rule id"
_CATALOGUE_INDEX = {rid: i for i, rid in enumerate(RULES_BY_ID)}


def catalogue_order(rule_id: str) -> tuple[int, str]:
    """A sort key: the handbook's order of the catalogue (standing, sitting, face, hands and
    interaction, distance, grooming), as pages, reports and exports list rules; ids the
    catalogue no longer has go last."""
    return _CATALOGUE_INDEX.get(rule_id, len(_CATALOGUE_INDEX)), rule_id

__all__ = [
    "ALL_RULES",
    "DEFAULT_RULE_IDS",
    "REASONS",
    "RULES_BY_ID",
    "Param",
    "Params",
    "Rule",
    "Status",
    "Verdict",
    "catalogue_order",
    "reason_text",
]
