"""docs/conversation.md states the transition table; it must stay the code's table."""

import re
from pathlib import Path

from atende.fsm.table import TABLE

DOC = Path(__file__).resolve().parents[2] / "docs" / "conversation.md"


def documented_edges() -> set[tuple[frozenset[str], str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Transitions", 1)[1].split("\n### ", 1)[0]
    edges = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[1].startswith("`"):
            continue
        sources = frozenset(re.findall(r"`(\w+)`", cells[0]))
        edges.add((sources, cells[1].strip("`"), cells[2].strip("`")))
    return edges


def test_the_documented_transition_table_is_the_codes():
    in_code = {
        (frozenset(state.value for state in edge.source), edge.target.value, edge.guard.__name__)
        for edge in TABLE
    }
    assert documented_edges() == in_code
