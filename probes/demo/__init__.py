"""The simulated government portal of the fictional 云泽市, served on localhost for the demo,
the integration tests and the benchmarks.

- `portal`: builds the app from the section modules in `portal.SECTIONS`, serves it
  (`run_portal`, or `python -m probes.demo.portal --port 9780`) and merges their ground truth.
- `truth`: `Truth`, the verdict the monitor must reach on a demo channel.
- one module per section (`sites` for availability, …): its pages and its `TRUTH`, keyed by
  the channel names in `config/demo.yaml`.
"""
