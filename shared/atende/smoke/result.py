"""The outcome of one smoke check: one line when it passed; what failed, what it means and
where to look when it did not."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    #: One line: what was checked and what answered.
    summary: str
    #: On failure: what it means and what to look at.
    hint: str = ""

    def lines(self) -> list[str]:
        if self.ok:
            return [f"ok    {self.name}: {self.summary}"]
        hints = [f"      {line}" for line in self.hint.splitlines() if line]
        return [f"FAIL  {self.name}: {self.summary}", *hints]


def passed(name: str, summary: str) -> CheckResult:
    return CheckResult(name, True, summary)


def failed(name: str, summary: str, hint: str) -> CheckResult:
    return CheckResult(name, False, summary, hint)
