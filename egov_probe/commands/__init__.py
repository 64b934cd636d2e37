"""The ``egov-probe`` command line: one module per command, registered by ``main`` from a table.

A command module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit
code``; what several commands share is in ``common`` and ``store_options``. No command module
imports another command module or ``main``.
"""
