"""Spec of the `service` check. (Owned by the service work; extend freely.)"""

from __future__ import annotations

from probes.config.base import CheckSpec


class ServiceSpec(CheckSpec):
    pass
