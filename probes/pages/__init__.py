"""Pure reading of fetched text (no I/O): visible text and links, soft errors, dates,
list detection, blank columns, feeds, value extraction."""
