"""Message boards (留言板, 市长信箱): reading list and message pages (`parse`, `status`),
the statistics of a board's messages (`stats`: deadlines in Chinese working days, reply
latency) and the boilerplate-reply detector (`boilerplate`). Pure functions on text and
records: the `board` check kind does the fetching and the state store the tracking."""
