"""Candidates: the (model family, feature space) pairs that tuning tries for every theme.

``models.families`` x ``models.spaces`` is the grid DVC expands into ``tune@<family>-<space>``
stages, and ``models.costly`` x ``models.spaces`` into ``tune_costly@<family>-<space>`` stages,
which run after them (``themetag/tuning/settled.py``). A pair is tuned unless it is skipped, and a
skipped pair says why:

* the family cannot take the space's input (naive Bayes on embeddings, which have negative
  values), or
* the family's own ``spaces`` list (``conf/families/<family>.yaml``) leaves the space out.

A family whose ``spaces`` list names a space it cannot take is a config error: it stops with
one line rather than being skipped quietly.
"""

from __future__ import annotations

from dataclasses import dataclass

from themetag.errors import InputError
from themetag.features.spaces import space_of
from themetag.modelling.families import input_problem
from themetag.tuning.budget import cost_on


@dataclass(frozen=True)
class Candidate:
    family: str
    space: str
    skip: str | None = None  # why it is not tuned, or None
    costly: bool = False  # in models.costly: tuned after the others, on the themes they leave unsettled

    @property
    def name(self) -> str:
        return candidate_name(self.family, self.space)

    @property
    def stage(self) -> str:
        """Its DVC stage: ``tune@<name>``, or ``tune_costly@<name>`` for a costly family."""
        return f"{'tune_costly' if self.costly else 'tune'}@{self.name}"


def candidate_name(family: str, space: str) -> str:
    """The stage suffix DVC's matrix gives the pair (``tune@logreg-tfidf``)."""
    return f"{family}-{space}"


def candidate(params: dict, family: str, space: str) -> Candidate:
    if family not in params["families"]:
        raise InputError(f"conf/families/{family}.yaml: no such family; add it and list it in conf/models/")
    fam = params["families"][family]
    costly = family in costly_families(params)
    problem = input_problem(fam, space_of(params, space).non_negative)
    asked = fam.get("spaces")
    if asked is not None and space in asked and problem:
        raise InputError(
            f"conf/families/{family}.yaml: spaces lists {space!r}, but {problem} and {space} has negative "
            f"values; remove {space!r} from that list"
        )
    if problem:
        return Candidate(family, space, f"{problem} and {space} has negative values", costly)
    if asked is not None and space not in asked:
        return Candidate(family, space, f"families.{family}.spaces is {list(asked)}", costly)
    return Candidate(family, space, None, costly)


def costly_families(params: dict) -> list[str]:
    """``models.costly``: families tuned after ``models.families``, where those leave a theme open."""
    costly = list(params["models"].get("costly") or [])
    both = sorted(set(costly) & set(params["models"]["families"]))
    if both:
        raise InputError(
            f"conf/models: {both} listed in both families and costly; keep each family in one of the two lists"
        )
    return costly


def family_conf(params: dict, family: str, space: str) -> dict:
    """The family's config as fitted on ``space``: ``fixed_on[<space kind>]`` over ``fixed``, and
    ``cost_us`` (the cost model's, ``themetag/tuning/budget.py``) as that kind's one number.

    Logistic regression is fitted by liblinear on TF-IDF and by lbfgs where the input has a
    dense block (embeddings, TF-IDF + embeddings): same average precision, 4-8x faster there at 20,000 rows
    (bench/results/fit_costs/fit_costs_goemotions.md).
    """
    fam = dict(params["families"][family])
    kind = space_of(params, space).kind
    fam["fixed"] = {**(fam.get("fixed") or {}), **((fam.get("fixed_on") or {}).get(kind) or {})}
    fam.pop("fixed_on", None)
    fam["cost_us"] = cost_on(family, fam, kind)
    return fam


def candidates(params: dict) -> list[Candidate]:
    """Every pair of the grid, in ``models.spaces`` then family order (``models.families``, then
    ``models.costly``)."""
    families = [*params["models"]["families"], *costly_families(params)]
    return [candidate(params, f, s) for s in params["models"]["spaces"] for f in families]
