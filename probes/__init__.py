"""zombie-probes: finds zombie government service channels and exports Prometheus metrics."""

__version__ = "0.1.0"
