"""Where hotline call records come from: MQTT topics and followed files. (Owned by the
hotline work; extend freely.)"""

from __future__ import annotations

from probes.config.types import Strict


class CallSourcesConfig(Strict):
    pass
