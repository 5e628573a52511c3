"""The running monitor: runner, scheduler, status, metrics collector, HTTP endpoints and the
serve process."""
