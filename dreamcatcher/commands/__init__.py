"""One module per CLI subcommand; each exposes ``register(subparsers)``.

The CLI imports every module here, so a new command is a new file, not an
edit to a shared one.
"""
