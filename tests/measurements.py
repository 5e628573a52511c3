"""Reading a check result's measurements in tests, as the exporter sees them."""

from __future__ import annotations

from probes.model import CheckResult


def measured(result: CheckResult, name: str, **labels: str) -> float | None:
    """The plain value of the named measurement with exactly these extra labels."""
    want = sorted(labels.items())
    for m in result.measurements:
        if m.name == name and sorted(m.labels) == want:
            return m.value if isinstance(m.value, float | int) else None
    return None
