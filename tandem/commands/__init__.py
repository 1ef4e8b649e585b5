"""Command groups of the `tandem` CLI, one module per domain; each defines `NAME` and `app`."""
