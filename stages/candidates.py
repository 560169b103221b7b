"""Candidates: the (model family, feature space) pairs that tuning tries for every theme.

``models.families`` x ``models.spaces`` is the grid DVC expands into ``tune@<family>-<space>``
stages. A pair is tuned unless it is skipped, and a skipped pair says why:

* the family cannot take the space's input (naive Bayes on embeddings, which have negative
  values), or
* the family's own ``spaces`` list (``conf/families/<family>.yaml``) leaves the space out.

A family whose ``spaces`` list names a space it cannot take is a config error: it stops with
one line rather than being skipped quietly.
"""

from __future__ import annotations

from dataclasses import dataclass

from stages.budget import cost_on
from stages.errors import InputError
from stages.families import input_problem
from stages.spaces import space_of


@dataclass(frozen=True)
class Candidate:
    family: str
    space: str
    skip: str | None = None  # why it is not tuned, or None

    @property
    def name(self) -> str:
        return candidate_name(self.family, self.space)


def candidate_name(family: str, space: str) -> str:
    """The stage suffix DVC's matrix gives the pair (``tune@logreg-tfidf``)."""
    return f"{family}-{space}"


def candidate(params: dict, family: str, space: str) -> Candidate:
    if family not in params["families"]:
        raise InputError(f"conf/families/{family}.yaml: no such family; add it and list it in conf/models/")
    fam = params["families"][family]
    problem = input_problem(fam, space_of(params, space).non_negative)
    asked = fam.get("spaces")
    if asked is not None and space in asked and problem:
        raise InputError(
            f"conf/families/{family}.yaml: spaces lists {space!r}, but {problem} and {space} has negative "
            f"values; remove {space!r} from that list"
        )
    if problem:
        return Candidate(family, space, f"{problem} and {space} has negative values")
    if asked is not None and space not in asked:
        return Candidate(family, space, f"families.{family}.spaces is {list(asked)}")
    return Candidate(family, space)


def family_conf(params: dict, family: str, space: str) -> dict:
    """The family's config as fitted on ``space``: ``fixed_on[<space kind>]`` over ``fixed``, and
    ``cost_us`` (the cost model's, ``stages/budget.py``) as that kind's one number.

    Logistic regression is fitted by liblinear on TF-IDF and by lbfgs where the input has a
    dense block (embeddings, TF-IDF + embeddings): same average precision, 4-9x faster there
    (bench/results/solvers_goemotions.md).
    """
    fam = dict(params["families"][family])
    kind = space_of(params, space).kind
    fam["fixed"] = {**(fam.get("fixed") or {}), **((fam.get("fixed_on") or {}).get(kind) or {})}
    fam.pop("fixed_on", None)
    fam["cost_us"] = cost_on(family, fam, kind)
    return fam


def candidates(params: dict) -> list[Candidate]:
    """Every pair of the grid, in ``models.spaces`` then ``models.families`` order."""
    return [candidate(params, f, s) for s in params["models"]["spaces"] for f in params["models"]["families"]]
