"""The application layer: wires engine and adapters into commands."""
