"""The metric catalogue: every family the monitor exports, its type, help and labels.

A `Measurement` named `http_duration_seconds` becomes the family
`zombie_http_duration_seconds`; the exporter refuses a measurement whose name or labels are
not declared here, and `tests/test_catalogue.py` pins this list, so a rename is deliberate.

Label rules (DESIGN "Metrics"): every per-channel family starts with `channel` and `kind`
(the channel's kind: website, service, board, hotline); label values are bounded (ids from
config, fixed enums), never a URL, a message text or a phone number. Free text goes only in
`zombie_channel_info`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PREFIX = "zombie_"
FamilyType = Literal["gauge", "counter", "histogram"]
CH = ("channel", "kind")


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # without the prefix, and for counters without `_total`
    type: FamilyType
    help: str
    labels: tuple[str, ...]
    # Detail (per column, step, percentile or message state; a check's timing; a page's
    # size and redirects) is left out of /metrics unless asked for
    # (`global.metrics_detail`, `/metrics?detail=true`); /probe always has it. No alert
    # reads it: the headline (state, reasons, info, availability and freshness
    # summaries, check outcomes) is what a national deployment must scrape cheaply.
    detail: bool = False

    @property
    def full_name(self) -> str:
        return PREFIX + self.name

    @property
    def extra_labels(self) -> tuple[str, ...]:
        """Labels a measurement supplies itself (channel and kind come from the channel)."""
        return self.labels[2:] if self.labels[:2] == CH else self.labels


def _f(name: str, type_: FamilyType, help_: str, *labels: str, detail: bool = False) -> Family:
    return Family(name, type_, help_, labels, detail)


FAMILIES: tuple[Family, ...] = (
    # --- channel verdicts (exporter) ---
    _f("channel_state", "gauge", "Current state of the channel: 1 for the active state.",
       *CH, "state"),
    _f("channel_reason", "gauge", "1 for each reason active in the channel's verdict.",
       *CH, "reason"),
    _f("channel_maintenance", "gauge", "1 while the channel is inside a maintenance window "
       "(its failures do not count and alerts stay quiet).", *CH),
    # Plus the channel label keys declared in `global.labels` (district, level, ...).
    _f("channel_info", "gauge", "Descriptive text of a channel and its configured labels; "
       "always 1.", *CH, "owner", "title", "url"),
    _f("check_failure", "gauge", "1 when the check's last run failed, labelled with why "
       "(dns, connect, tls, timeout, http_status, soft_error, blocked, assertion, "
       "parse_error, too_large).",
       *CH, "check", "reason"),
    _f("check_success", "gauge", "1 if the check's last run succeeded, 0 if it failed; "
       "absent when it could not tell.", *CH, "check"),
    _f("check_duration_seconds", "gauge", "Duration of the check's last run.",
       *CH, "check", detail=True),
    _f("check_last_run_timestamp_seconds", "gauge", "When the check last ran.",
       *CH, "check", detail=True),
    _f("check_runs", "counter", "Check runs by result (success, failure, unknown).",
       *CH, "check", "result"),
    # --- availability ---
    _f("http_status_code", "gauge", "HTTP status of the last availability probe "
       "(0 when no response).", *CH),
    _f("http_duration_seconds", "gauge", "Total time of the last availability probe.", *CH),
    _f("http_content_length_bytes", "gauge", "Decoded body size of the last probe.",
       *CH, detail=True),
    _f("http_redirects", "gauge", "Redirects followed by the last probe.", *CH, detail=True),
    _f("tls_cert_not_after_timestamp_seconds", "gauge",
       "Expiry time of the site's TLS certificate.", *CH),
    _f("availability_window_probes", "gauge",
       "Availability probes in the rule window (default 7 days).", *CH),
    _f("availability_window_failures", "gauge",
       "Failed availability probes in the rule window.", *CH),
    _f("availability_consecutive_failures", "gauge",
       "Failed availability probes in a row, up to the latest.", *CH),
    # --- content freshness and links ---
    _f("content_newest_item_timestamp_seconds", "gauge",
       "Publication time of the newest item found in a column.", *CH, "column", detail=True),
    _f("content_items", "gauge", "Dated items found on a column page.", *CH, "column", detail=True),
    _f("content_last_change_timestamp_seconds", "gauge",
       "When a column's extracted item list last changed.", *CH, "column", detail=True),
    _f("content_max_age_seconds", "gauge", "A column's configured maximum age.",
       *CH, "column", detail=True),
    _f("content_stale_columns", "gauge", "Columns older than their maximum age.", *CH),
    _f("content_blank_columns", "gauge", "Columns with no items (空白栏目).", *CH),
    _f("links_checked", "gauge", "Links checked in the last links run.", *CH),
    _f("links_broken", "gauge", "Broken links found in the last links run.", *CH),
    # --- online services ---
    _f("service_step_success", "gauge", "1 if the step of the service transaction passed.",
       *CH, "step", detail=True),
    _f("service_duration_seconds", "gauge", "Duration of the whole service transaction.", *CH),
    _f("service_consecutive_failures", "gauge", "Failed service runs in a row.", *CH),
    # --- message boards ---
    _f("board_messages", "gauge", "Tracked board messages by state (answered, "
       "answered_late, unanswered, unknown).", *CH, "state", detail=True),
    _f("board_overdue_messages", "gauge",
       "Messages unanswered past their reply deadline (working days).", *CH),
    _f("board_oldest_unanswered_timestamp_seconds", "gauge",
       "Posting time of the oldest unanswered message.", *CH),
    # Not `quantile`: Prometheus reserves that label for summaries (promtool rejects it).
    _f("board_reply_latency_seconds", "gauge",
       "Reply latency percentiles (50, 90) over the window.", *CH, "percentile", detail=True),
    _f("board_boilerplate_ratio", "gauge",
       "Share of replies in the window that are boilerplate.", *CH),
    # --- hotlines ---
    _f("hotline_calls", "counter", "Call records ingested, by outcome.", *CH, "outcome"),
    _f("hotline_answer_wait_seconds", "histogram",
       "Seconds from call start to answer, answered calls.", *CH),
    _f("hotline_quick_hangups", "counter",
       "Answered calls over within the quick hang-up limit.", *CH),
    _f("hotline_transfer_loops", "counter",
       "Calls whose transfer chain visited a department twice.", *CH),
    _f("hotline_last_answered_timestamp_seconds", "gauge",
       "Start time of the latest answered call.", *CH),
    _f("hotline_last_record_timestamp_seconds", "gauge",
       "Start time of the latest call record of any outcome.", *CH),
    _f("hotline_window_calls", "gauge",
       "Calls in service hours in the rolling window, by outcome.", *CH, "window", "outcome"),
    _f("hotline_window_answered_ratio", "gauge",
       "Answered share of calls in service hours in the rolling window.", *CH, "window"),
    # --- work orders (over the check's window: orders received in it, and older open ones) ---
    _f("workorder_orders", "gauge", "Work orders judged, by state (open, closed).",
       *CH, "state"),
    _f("workorder_flagged_orders", "gauge", "Judged work orders showing a reason "
       "(buck_passing, forward_only, overdue, fake_closure, boilerplate).", *CH, "reason"),
    _f("workorder_orders_by_transfers", "gauge",
       "Judged work orders by transfers after the first assignment (0, 1, 2, 3, 4+).",
       *CH, "transfers"),
    _f("workorder_time_to_close_seconds", "gauge",
       "Receipt-to-first-closure percentiles (50, 90) of judged closed orders.",
       *CH, "percentile"),
    _f("workorder_reopened_orders", "gauge", "Judged work orders reopened after a closure.",
       *CH),
    _f("workorder_repeated_orders", "gauge", "Judged closures followed by the same complaint "
       "again (same caller, or near-identical text at the same address).", *CH),
    # --- the monitor itself (not per channel) ---
    _f("scheduler_lateness_seconds", "histogram",
       "How late checks started against their schedule."),
    _f("scheduler_checks_in_flight", "gauge", "Checks running now."),
    _f("scheduler_channels", "gauge", "Channels this replica runs (after sharding)."),
    _f("config_last_reload_successful", "gauge", "1 if the last config load succeeded."),
    _f("config_last_reload_success_timestamp_seconds", "gauge",
       "When the config was last loaded successfully."),
    _f("hotline_records_rejected", "counter",
       "Call records rejected at ingest, by source and reason.", "source", "reason"),
    _f("hotline_records_ingested", "counter", "Call records received at ingest, by source and "
       "outcome (stored, or duplicate: already stored, counted once).", "source", "outcome"),
    _f("hotline_source_connected", "gauge", "1 while a call-record source is connected to its "
       "broker or has its file open.", "source"),
    _f("hotline_records_not_mine", "counter",
       "Call records for a hotline of another replica (--shard), skipped, by source.",
       "source"),
    _f("state_write_errors", "counter",
       "Failed writes to the state file (locked by another process, disk full, I/O)."),
    _f("state_writes_pending", "gauge",
       "Writes kept in memory until the state file can be written again."),
    _f("workorder_events_rejected", "counter",
       "Work-order events rejected at ingest, by source and reason.", "source", "reason"),
    _f("workorder_events_ingested", "counter", "Work-order events received at ingest, by "
       "source and outcome (stored, or duplicate: already stored, counted once).", "source",
       "outcome"),
    _f("build_info", "gauge", "Version of the monitor; always 1.", "version"),
)  # fmt: skip

BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}
