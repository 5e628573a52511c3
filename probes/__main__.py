"""`python -m probes` is the `zombie-probes` command."""

from probes.cli import main

main()
