"""State of the board area: its tables and queries. (Owned by the board work; extend freely.)"""

from __future__ import annotations

DDL = ""
