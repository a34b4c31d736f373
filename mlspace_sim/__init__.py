"""Command-line entry point of mlspace-sim (``mlspace-sim --help``)."""
