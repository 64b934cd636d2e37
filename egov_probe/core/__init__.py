"""The shared core: the report model, errors, clock, versions, secrets, the bounded YAML/JSON
loaders, unit data and the plan, the message catalogue and atomic output.

Every layer imports it; it imports nothing of the project outside ``egov_probe.core``.
"""
