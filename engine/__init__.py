"""The pure core of dreamcatcher: events and a clock in, firings out, no I/O."""
