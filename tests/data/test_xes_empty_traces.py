"""A trace with no events gives no event row; the import keeps its count and line."""

from __future__ import annotations

from systemic.data import create_dataset, parse_mapping
from systemic.data.importer import import_file

XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <trace>
    <string key="concept:name" value="case-with-events"/>
    <event>
      <string key="concept:name" value="Apply"/>
      <date key="time:timestamp" value="2024-03-01T09:00:00+01:00"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="case-without-events"/>
  </trace>
</log>
"""

MAPPING = {
    "source": {"format": "xes"},
    "fields": {
        "person_id": "case:concept:name",
        "activity": "concept:name",
        "timestamp": "time:timestamp",
    },
    "constants": {"service": "Permits"},
    "privacy": {"identifiers": ["case:concept:name"]},
}


def test_empty_trace_is_counted_with_its_line(tmp_path):
    path = tmp_path / "log.xes"
    path.write_text(XES)
    entry = import_file(path, parse_mapping(MAPPING), create_dataset(tmp_path / "d"))
    assert entry.accepted == 1 and entry.rejected == 0
    assert entry.notes["traces"] == 2
    assert entry.notes["empty_traces"] == 1
    assert entry.notes["empty_trace_lines"] == [10]
    manifest = (tmp_path / "d" / "manifest.json").read_text()
    assert "case-without-events" not in manifest  # the clear identifier is not kept
