"""Where the next labels pay: a section of ``metrics/report.md`` from the ``learning_curve``
stage's ``metrics/learning_curve.json`` (``themetag/curves/``)."""

from __future__ import annotations

from tabulate import tabulate

from themetag.curves.verdict import AT_TARGET, FLAT, RISING, TOO_FEW
from themetag.reporting.report_page import anchor


def _interval(f: dict) -> str:
    return f"{f['average_precision']:.3f} [{f['low']:.3f}, {f['high']:.3f}]"


def needs(curve: dict, horizon: float) -> str:
    if curve["verdict"] == AT_TARGET:
        return "meets it now"
    if curve["verdict"] == TOO_FEW:
        return "-"
    n = curve.get("positives_needed")
    return f"about {n}" if n is not None else f"not within {horizon:g}x"


def labels_pay_section(report: dict | None) -> list[str]:
    """Markdown lines; none when the stage has not run."""
    if not report:
        return []
    settings, rule, themes = report["settings"], report["early_stop"], report["themes"]
    horizons = [str(float(h)) for h in settings["horizons"]]
    top = float(max(settings["horizons"]))
    rows = []
    for t, c in themes.items():
        if c["verdict"] == TOO_FEW:
            rows.append([t, c["positives"], "-", *(["-"] * len(horizons)), c["verdict"], "-"])
            continue
        rows.append(
            [
                t,
                c["positives"],
                f"{c['now']['average_precision']:.3f}",
                *(_interval(c["forecast"][h]) for h in horizons),
                c["verdict"],
                needs(c, top),
            ]
        )
    head = [
        "theme",
        "positives",
        "AP now (no-gain forecast)",
        *(f"AP at {float(h):g}x [{settings['interval']:.0%}]" for h in horizons),
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
        "is the baseline beside it: bench/results/learning_forecast/ says how each did against the figures "
        "measured after more random labels. AP is forecast because a precision at a recall is too noisy to fit; "
        "it is mapped to the early-stop rule by the line through the theme's own points. **Optimistic side**: the "
        "point at 100% is the selected candidate's, the best of many, so the last step of the curve may be a "
        "little high; the interval carries scoring and subset noise, not the luck of the folds.",
        "",
        f"*{AT_TARGET}*: meets the early-stop rule out of fold now. *{FLAT}*: even the upper bound of the fitted "
        f"ceiling stays below the rule, and more labels are not forecast to gain {settings.get('min_gain', 0.01)} AP "
        "even at the interval's top: look at the theme's definition and labels before labelling more of it. "
        f'*{RISING}*: the rest; more labels are forecast to lift it, towards the rule or ("not within") a ceiling '
        "below it. The forecasts err low: in the benchmark they fell short of the measured gain by about 0.01 on "
        "average.",
        "",
        tabulate(rows, head, tablefmt="github", disable_numparse=True),
        "",
    ]
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
