"""docs/audit.md's field lists, read the way a person reads them: under
each `### `event`` heading, the first column of its tables names the
event's fields (a nested table, like container.create's `changes`
entries, adds names that may appear at the top level only by mistake, a
looseness the check accepts); the table under "Common fields" names the
fields of every record.  The tests check each record a run wrote against
them, so a field the code writes but the document does not describe
fails the test that wrote it."""

import json
import re
from pathlib import Path

from conftest import TOP

DOC = TOP / "docs" / "audit.md"
_EVENT = re.compile(r"^###\s+`([a-z_.]+)`")
_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|")


def documented_fields(text=None):
    """{event: set of field names}, and the common fields under the key None."""
    text = DOC.read_text() if text is None else text
    fields = {None: set()}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = None if line.strip() == "## Common fields" else False
            continue
        match = _EVENT.match(line)
        if match:
            current = match.group(1)
            fields.setdefault(current, set())
            continue
        row = _ROW.match(line)
        if row and current is not False:
            fields[current].add(row.group(1))
    return fields


def budget_object_names(text=None):
    """The names the `budget` record's `limits` row quotes ("timeout", ...)."""
    text = DOC.read_text() if text is None else text
    section = text.split("### `budget`", 1)[1].split("###", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| `limits`"))
    return set(re.findall(r'"([a-z_]+)"', row))


def undocumented(records, text=None):
    """[(event, field), ...] present in `records` but not documented for
    their event; the entries of `changes` and the objects of a budget's
    `limits` are looked into too."""
    text = DOC.read_text() if text is None else text
    fields = documented_fields(text)
    limit_names = budget_object_names(text)
    missing = set()
    for r in records:
        event = r.get("event")
        if event not in fields:
            missing.add((event, "<the event itself>"))
            continue
        for key in r:
            if key not in fields[None] and key not in fields[event]:
                missing.add((event, key))
        for change in r.get("changes") or []:
            missing.update((event, f"changes[].{key}") for key in change if key not in fields["container.create"])
        limits = r.get("limits") if event == "budget" else None
        if isinstance(limits, dict):
            rates = limits.get("rates") or {}
            nested = list(limits) + list(rates)
            nested += [key for entry in rates.get("metered_domains") or [] for key in entry]
            missing.update((event, f"limits.{key}") for key in nested if key not in limit_names)
    return sorted(missing, key=str)


def logs_in(directory):
    """Every record of every log in `directory`."""
    records = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records
