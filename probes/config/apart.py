"""Loading a large config file in a separate Python process, for a running monitor.

Composing and validating a national config (tens of thousands of channels, megabytes of
YAML) is seconds of work in C code (libyaml, pydantic-core) that holds the GIL for
hundreds of milliseconds at a time: in a thread of the serving process it stalls every
request for that long. `load_config_apart` runs `load_config` in a child process, so
the serving process only waits on a pipe; the child's answer is exactly what
`load_config` would have returned or raised:

- a bad file: the same `ConfigError`, every issue naming file, line and field;
- a good file: the same `Config`, sent as pickled parts of at most `PART_CHANNELS`
  channels each, unpickled one part at a time with the event loop let run between them
  (unpickling 20,000 channels at once would stall it as long as loading them) and the
  garbage collector held (`CollectorHeld`);
- a child that fails (a bug, killed): an error naming its exit status and last words.

The child's environment is the parent's, so `${NAME}` substitutes the same values. The
pickles come from our own child over a private pipe (never from the network or a file).
A cancelled load kills the child. Small files are not worth a process (starting one costs
about 0.4 s): the caller decides (see `probes.runtime.monitor`).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

from probes.config.loader import CollectorHeld, ConfigError, ConfigIssue, load_config
from probes.config.model import Config

PART_CHANNELS = 200  # channels unpickled between two turns of the event loop (~10 ms)
_STDERR_SHOWN = 400  # characters of a failing child's last words in the error
# The child resolves `probes` exactly as this process does (its sys.path comes first).
_CHILD = (
    "import sys; sys.path[:0] = sys.argv[2:]; "
    "from probes.config.apart import child_main; child_main(sys.argv[1])"
)


@dataclass(frozen=True, slots=True)
class ConfigParts:
    """A child's answer: the issues of a bad config, or a good one in pickled parts (the
    config without its channels, then its channels a part at a time)."""

    issues: tuple[ConfigIssue, ...] = ()
    head: bytes = b""
    channels: tuple[bytes, ...] = ()


def config_parts(path: str) -> ConfigParts:
    """`load_config(path)` as parts (a `ConfigError` becomes the parts' issues)."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return ConfigParts(issues=tuple(exc.issues))
    head = pickle.dumps(config.model_copy(update={"channels": []}), pickle.HIGHEST_PROTOCOL)
    chans = config.channels
    parts = tuple(
        pickle.dumps(chans[i : i + PART_CHANNELS], pickle.HIGHEST_PROTOCOL)
        for i in range(0, len(chans), PART_CHANNELS)
    )
    return ConfigParts(head=head, channels=parts)


def child_main(path: str) -> None:
    """The child process: load `path`, write its `ConfigParts` pickled to stdout."""
    # Background work: when the machine is busy, the serving process runs first.
    os.nice(10)
    answer = pickle.dumps(config_parts(path), pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.write(answer)
    sys.stdout.buffer.flush()


class LoaderProcessError(RuntimeError):
    """The child process ended without an answer (a bug in loading, or it was killed)."""


async def load_config_apart(path: str | Path) -> Config:
    """`load_config(path)` run in a child process; the same `Config` or `ConfigError`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, str(path), *sys.path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await proc.communicate()
    except BaseException:  # cancelled: the child must not go on loading for nobody
        if proc.returncode is None:
            proc.kill()
        raise
    if proc.returncode != 0 or not out:
        words = err.decode("utf-8", "replace").strip()
        last = words.splitlines()[-1][-_STDERR_SHOWN:] if words else "nothing on stderr"
        error = LoaderProcessError(
            f"the config loader process ended with status {proc.returncode}: {last}"
        )
        if words:
            error.add_note(words[-4000:])  # the child's traceback, for the log
        raise error
    parts: ConfigParts = pickle.loads(out)
    if parts.issues:
        raise ConfigError(list(parts.issues))
    config: Config = pickle.loads(parts.head)
    channels = []
    with CollectorHeld() as held:  # a config worth a child process is a large one
        held.keep = True
        for part in parts.channels:
            await asyncio.sleep(0)  # requests are answered between two parts
            channels += pickle.loads(part)
    return config.model_copy(update={"channels": channels})
