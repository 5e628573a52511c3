"""Config loading benchmark: a national config read and validated by `load_config`, as
`serve` does at start and a reload does off the event loop; time and memory.

    python bench/bench_config.py [--sites 14000]       # availability + 5 columns per site
    python bench/bench_config.py --national            # bench/national.py's deployment:
                                                       # + a board channel per site

Memory: the RSS of this process after `load_config` (what stays resident once the YAML's
node tree and the walk's garbage are freed but not given back to the OS) and its peak,
then the RSS a fresh process needs for the same `Config` unpickled (the config models
alone, as a process gets them when another one read the file).
"""

from __future__ import annotations

import argparse
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(ROOT)]

import yaml  # noqa: E402

from probes.config import load_config  # noqa: E402

_UNPICKLE = """
import pickle, resource, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
import probes.runtime.serve  # what a serving process has imported anyway
before = rss()
config = pickle.loads(open(sys.argv[1], "rb").read())
print(f"{before:.0f} {rss():.0f}")
"""


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


def deployment_yaml(sites: int) -> str:
    """The YAML `bench/national.py --phases deployment` writes."""
    from national_monitor import config_dict
    from national_portal import COLUMN_CLASS
    from national_portal import sites as portal_sites

    spec = {
        "global": {"timeout": "15s", "max_in_flight": 256, "per_host_concurrency": 2,
                   "history_retention": "7d"},
        "columns": COLUMN_CLASS, "kinds": ["availability", "freshness", "board"],
        "sites": [{"n": s.n, "base": s.base, "fresh": True}
                  for s in portal_sites(sites, 18090, 18091, 0.02, 0.005)],
        "interval": {"availability": 300, "freshness": 3600, "board": 3600},
    }  # fmt: skip
    text: str = yaml.dump(config_dict(spec), Dumper=yaml.CSafeDumper, allow_unicode=True,
                          sort_keys=False)  # fmt: skip
    return text


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=14_000)
    ap.add_argument("--national", action="store_true", help="bench/national.py's deployment")
    args = ap.parse_args()
    import probes.runtime.serve  # noqa: F401 - a serving process's imports, before measuring

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "national.yaml"
        text = deployment_yaml(args.sites) if args.national else national_yaml(args.sites)
        path.write_text(text, encoding="utf-8")
        del text
        size = path.stat().st_size
        before = rss_mb()
        started = time.perf_counter()
        config = load_config(path)
        took = time.perf_counter() - started
        after = rss_mb()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pickled = Path(tmp) / "config.pickle"
        pickled.write_bytes(pickle.dumps(config, pickle.HIGHEST_PROTOCOL))
        fresh = subprocess.run(
            [sys.executable, "-c", _UNPICKLE, str(pickled)], capture_output=True, text=True,
            check=True, env={"PYTHONPATH": str(ROOT)},
        ).stdout.split()  # fmt: skip
    print(
        f"{len(config.channels):,} channels, {size / 1e6:.1f} MB of YAML: loaded in {took:.1f} s; "
        f"RSS {before:.0f} -> {after:.0f} MB (peak {peak:.0f} MB); the same config unpickled "
        f"in a fresh process: RSS {fresh[0]} -> {fresh[1]} MB"
    )


if __name__ == "__main__":
    main()
