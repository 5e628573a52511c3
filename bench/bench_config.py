"""Config loading benchmark: a national config (14,000 sites, an availability check and
five columns each, about 7.4 MB of YAML) read and validated by `load_config`, as `serve`
does at start and a reload does in its worker thread.

    python bench/bench_config.py [--sites 14000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from probes.config import load_config  # noqa: E402


def national_yaml(sites: int) -> str:
    lines = ["channels:"]
    for i in range(sites):
        host = f"https://www{i}.example.gov.cn"
        lines += [f"  - name: site-{i}", "    kind: website", f"    owner: 局{i}",
                  f"    url: {host}/", "    checks:", "      availability: {}",
                  "      freshness:", "        columns:"]  # fmt: skip
        for c in range(5):
            lines += [f"          - id: c{c}", f"            url: {host}/col{c}/"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=14_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "national.yaml"
        path.write_text(national_yaml(args.sites), encoding="utf-8")
        size = path.stat().st_size
        started = time.perf_counter()
        config = load_config(path)
        took = time.perf_counter() - started
    print(f"{len(config.channels):,} channels, {size / 1e6:.1f} MB of YAML: loaded in {took:.1f} s")


if __name__ == "__main__":
    main()
