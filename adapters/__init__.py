"""All I/O: sources and parsers in, alert sinks and remediation hooks out."""
