"""Hotline call-answer logs: the call record, its parsers (Asterisk, FreeSWITCH, JSON Lines),
its sources (MQTT, followed files, one-off import) and its rolling statistics."""
