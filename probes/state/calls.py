"""State of the calls area: its tables and queries. (Owned by the calls work; extend freely.)"""

from __future__ import annotations

DDL = ""
