"""Message boards (留言板, 市长信箱), as pure functions on text and records:

- `parse`: list pages (message rows) and message pages (reply text and time, posting
  time), with `cells` reading each row element by element (status, dates; `links`: the
  message link and title)
  and `status` holding the status vocabulary (answered, pending, in progress);
- `apilist`: the messages of a JSON list API's page;
- `stats`: reply deadlines in Chinese working days, latency quantiles;
- `boilerplate`: the boilerplate-reply detector (near-duplicates, acknowledge-only);
- `summary`: a board's standing from its tracked messages, and its evidence lines.

The `board` check kind does the fetching and the state store (`probes.state.board`) the
tracking across runs.
"""
