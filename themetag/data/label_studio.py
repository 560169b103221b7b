"""Label Studio: a batch as import tasks with pre-annotations, and labelled tasks back as rows.

The import format is Label Studio's "basic JSON format" for pre-annotated tasks: a list of
``{"data": {...}, "predictions": [{"model_version", "result": [...]}]}``, each result
a ``choices`` region naming the control (``from_name``) and object (``to_name``) tags of the
labelling config (``labeling_config``). An export in Label Studio's JSON format carries the same
``data`` plus ``annotations``, whose ``choices`` results are the labeller's themes.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from themetag.errors import InputError

FROM_NAME, TO_NAME = "themes", "text"


def labeling_config(themes: list[str]) -> str:
    """The labelling config that matches the tasks: the text, and one multiple choice per theme."""
    choices = "\n".join(f"    <Choice value={quoteattr(t)}/>" for t in themes)
    return (
        f'<View>\n  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple" showInline="true">\n'
        f"{choices}\n  </Choices>\n</View>\n"
    )


def tasks(rows: list[dict], model_version: str) -> list[dict]:
    """One task per row: ``text`` and ``line`` (plus the rest of ``data``) and the bundle's tags as
    a prediction (no ``score``: a tag is a threshold decision, not a confidence). Each row is
    ``{"text", "tags", "data"}``."""
    out = []
    for i, row in enumerate(rows):
        result = []
        if row["tags"]:
            result.append(
                {
                    "id": f"t{i}",
                    "from_name": FROM_NAME,
                    "to_name": TO_NAME,
                    "type": "choices",
                    "value": {"choices": list(row["tags"])},
                }
            )
        out.append(
            {
                "data": {"text": row["text"], **row["data"]},
                "predictions": [{"model_version": model_version, "result": result}],
            }
        )
    return out


def labelled_rows(export: object, source: str) -> tuple[list[tuple[str, list[str]]], int]:
    """(text, themes) of each labelled task of a Label Studio JSON export, and how many tasks had
    no annotation yet. The latest annotation that was not cancelled counts. ``labelled_tasks``
    gives the tasks' positions in the export."""
    rows, unlabelled, _ = labelled_tasks(export, source)
    return rows, unlabelled


def labelled_tasks(export: object, source: str) -> tuple[list[tuple[str, list[str]]], int, list[int]]:
    """``labelled_rows``, and each row's task index in the export (for messages)."""
    if not isinstance(export, list):
        raise InputError(f"{source}: not a Label Studio JSON export (a list of tasks); export the project as JSON")
    out, unlabelled, where = [], 0, []
    for i, task in enumerate(export):
        data = task.get("data", {}) if isinstance(task, dict) else {}
        if "text" not in data:
            raise InputError(f"{source}: task {i} has no data.text; import the tasks from metrics/label_next.json")
        done = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
        if not done:
            unlabelled += 1
            continue
        latest = done[-1]
        themes = [
            c
            for r in latest.get("result", [])
            if r.get("type") == "choices" and r.get("from_name") == FROM_NAME
            for c in r.get("value", {}).get("choices", [])
        ]
        out.append((str(data["text"]), themes))
        where.append(i)
    return out, unlabelled, where
