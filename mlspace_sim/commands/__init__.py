"""Subcommands of ``mlspace-sim``.

Each module has ``HELP``, ``add_arguments(parser)`` and ``run(args)``.
"""
