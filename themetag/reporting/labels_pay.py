"""Where the next labels pay: a section of ``metrics/report.md`` from the ``learning_curve``
stage's ``metrics/learning_curve.json`` (``themetag/curves/``)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from tabulate import tabulate

from themetag.curves.verdict import AT_TARGET, FLAT, RISING, TOO_FEW
from themetag.reporting.report_page import anchor


def _interval(f: dict) -> str:
    return f"{f['average_precision']:.3f} [{f['low']:.3f}, {f['high']:.3f}]"


def to_test_level(f: dict, shift: float, test_sd: float, interval: float) -> dict:
    """The forecast ``f`` moved to the test set's level (``shift``: today's test AP less today's
    out-of-fold AP), with its interval: the gain's own interval, widened in quadrature by the part
    of the test AP's bootstrap sd (``test_sd``) that the later figure does not share with today's
    and by one model's own spread (``theme_curve.unshared_test_noise``). Today's out-of-fold level, and how
    uncertain it is, do not enter: the test AP replaces it. Clipped to [0, 1]."""
    point = f["average_precision"] + shift
    gain, noise = f.get("gain"), f.get("test_noise")
    if gain is None or noise is None:  # a curve from before the forecast carried these
        low, high = f["low"] + shift, f["high"] + shift
    else:
        sd = NormalDist().inv_cdf((1 + interval) / 2) * float(
            np.hypot(noise["paired_ratio"] * test_sd, noise["model_sd"])
        )
        low, high = point - float(np.hypot(gain[1] - gain[0], sd)), point + float(np.hypot(gain[2] - gain[1], sd))
    return {"average_precision": point, "low": max(low, 0.0), "high": min(high, 1.0)}


def needs(curve: dict, horizon: float) -> str:
    if curve["verdict"] == AT_TARGET:
        return "meets it now"
    if curve["verdict"] == TOO_FEW:
        return "-"
    n = curve.get("positives_needed")
    return f"about {n}" if n is not None else f"not within {horizon:g}x"


def test_aps(labels, scores) -> dict[str, float]:
    """Each theme's average precision on the test set (themes with a test positive)."""
    from sklearn.metrics import average_precision_score

    return {
        t: float(average_precision_score(labels[t], scores[t]))
        for t in scores.columns
        if t in labels and labels[t].sum()
    }


def test_ap_sds(labels, scores, replicates: int = 200, seed: int = 0) -> dict[str, float]:
    """Each theme's bootstrap sd of its test AP (test rows reweighted): how far a test AP sits
    from the model's true one by the test set's size alone."""
    from themetag.curves.forecast import weighted_ap

    w = np.random.default_rng(seed).poisson(1.0, (replicates, len(labels))).astype(float)
    return {
        t: float(weighted_ap(labels[t].to_numpy(dtype=int), scores[t].to_numpy(dtype=float), w).std(ddof=1))
        for t in scores.columns
        if t in labels and labels[t].sum()
    }


def labels_pay_section(
    report: dict | None, test_ap: dict[str, float] | None = None, test_sd: dict[str, float] | None = None
) -> list[str]:
    """Markdown lines; none when the stage has not run. ``test_ap``: today's test AP per theme,
    to which the same forecast gain is added (in the benchmark, the closer forecast of test AP);
    ``test_sd``: its bootstrap sd, which widens that forecast's interval (``to_test_level``)."""
    if not report:
        return []
    settings, rule, themes = report["settings"], report["early_stop"], report["themes"]
    horizons = [str(float(h)) for h in settings["horizons"]]
    top = float(max(settings["horizons"]))
    test_ap = test_ap or {}
    rows = []
    for t, c in themes.items():
        extra = [f"{test_ap[t]:.3f}" if t in test_ap else "-"] if test_ap else []
        if c["verdict"] == TOO_FEW:
            gain = ["-"] if test_ap else []
            rows.append([t, c["positives"], "-", *(["-"] * len(horizons)), *extra, *gain, c["verdict"], "-"])
            continue
        if test_ap:
            f = c["forecast"][str(top)]
            # a carried curve's gain is added from today's out-of-fold figure, the one the test AP goes with
            shift = test_ap[t] - c.get("today", c["now"])["average_precision"] if t in test_ap else None
            sd = (test_sd or {}).get(t, 0.0)
            moved = to_test_level(f, shift, sd, float(settings["interval"])) if shift is not None else None
            extra.append(_interval(moved) if moved else "-")
        rows.append(
            [
                f"{t} (curve of {c['rows']:,} rows)" if "today" in c else t,
                c["positives"],
                f"{c['now']['average_precision']:.3f}",
                *(_interval(c["forecast"][h]) for h in horizons),
                *extra,
                c["verdict"],
                needs(c, top),
            ]
        )
    head = [
        "theme",
        "positives",
        "AP now (no-gain forecast)",
        *(f"AP at {float(h):g}x [{settings['interval']:.0%}]" for h in horizons),
        *(["test AP now", f"test AP at {top:g}x (same gain)"] if test_ap else []),
        "verdict",
        f"positives to reach P >= {rule['min_precision']} at R >= {rule['min_recall']}",
    ]
    lines = [
        "## Where the next labels pay",
        "",
        f"Each theme's selected setting refitted on {', '.join(f'{f:.0%}' for f in settings['fractions'])} of its "
        f"folds' training rows ({settings['seeds']} nested, stratified subsets each), scored out of fold; "
        f"`{settings['forecast']}` forecasts the average precision (AP) at {', '.join(f'{float(h):g}x' for h in settings['horizons'])} "
        "today's labelled rows, with a bootstrap interval. The no-gain forecast (today's figure carried forward) "
        "is the baseline beside it; with a test set, the same gain is added to today's test AP, the closer "
        "forecast of the test figure in the benchmark (bench/results/learning_forecast/, where each is compared "
        "with the figures measured after more random labels); its interval is the gain's, widened by the test "
        "set's noise that today's figure and the later one do not share and by one model's spread. AP is forecast because a precision at a recall is too noisy to fit; "
        "it is mapped to the early-stop rule by the line through the theme's own points. **Optimistic side**: the "
        "point at 100% is the selected candidate's, the best of many, so the last step of the curve may be a "
        "little high; the interval carries scoring and subset noise, not the luck of the folds.",
        "",
        f"*{AT_TARGET}*: meets the early-stop rule out of fold now. *{FLAT}*: even the upper bound of the fitted "
        f"ceiling stays below the rule, and more labels are not forecast to gain {settings.get('min_gain', 0.02)} AP "
        "even at the interval's top: look at the theme's definition and labels before labelling more of it. "
        f'*{RISING}*: the rest; more labels are forecast to lift it, towards the rule or ("not within") a ceiling '
        "below it. The forecasts err low: in the benchmark they fell short of the measured figure by 0.01 to 0.03 "
        "from 500 labelled rows, and by about 0 from 2,000 (docs/labelling.md).",
        "",
        tabulate(rows, head, tablefmt="github", disable_numparse=True),
        "",
    ]
    carried = {t: c for t, c in themes.items() if "today" in c}
    for t, c in carried.items():
        now, f = c["today"], c["today"]["forecast"]
        lines.append(
            f"- **{t}**: curve measured at {c['rows']:,} rows ({c['positives']} positives) and carried: today "
            f"{now['rows']:,} rows ({now['positives']} positives), AP {now['average_precision']:.3f}, inside its "
            f"forecast for today's rows, {_interval(f)}. It is measured again past "
            f"+{float(settings.get('remeasure_growth') or 0):.0%} rows, or when a round's figure leaves its interval."
        )
    if carried:
        lines.append("")
    flat = [t for t, c in themes.items() if c["verdict"] == FLAT]
    for t in flat:
        lines.append(
            f"- **{t}** is flat: read its [errors and confusions](errors.md#{anchor(t)}) and its "
            "[label review](label_review.md) first; the batch in label_next.md gives it no quota of its own."
        )
    if flat:
        lines.append("")
    lines.append("`dvc plots show` draws each theme's curve with its band (metrics/learning_curves/).")
    lines.append("")
    return lines
