"""State of the content area: its tables and queries. (Owned by the content work; extend freely.)"""

from __future__ import annotations

DDL = ""
