"""What ``egov-probe fleet --network`` runs ON a Linux workstation, with the host's own python3.

The controller (``fleet/remote_network.py``) sends the probe over the SSH session it already
has: a small bootstrap given to ``python3 -I -c`` reads a zip of the probe's code from stdin
and imports from it in memory (nothing is written to the host's disk, nothing installed,
nothing left behind), then runs :func:`main` here with the request that follows.

The same network and signature sections as ``egov-probe audit --network`` run here, so the
reachability judged is the unit's own: its DNS, its routes, its proxy, its firewall. The answer
is one JSON document on stdout: each section's facts and checks (the model's JSON form).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

# Only what runs here, and nothing more at start (each module imported is time the host
# waits): the sections import their collectors and judges when they run.
from ..audit.network_sections import network_section, signature_section
from ..core import messages
from ..core.model import json_form
from ..judge.effective_policy import Policy


def run(request: dict[str, Any]) -> dict[str, Any]:
    """The network and signature sections under the request's policy."""
    if request.get("messages"):
        # The controller's catalogue, already parsed: this short-lived process then never
        # parses the YAML files with PyYAML's pure-Python loader (most of a second).
        catalogue = request["messages"]
        messages.catalogue = lambda: catalogue
    policy = Policy(**request["policy"])
    answer: dict[str, Any] = {"python": sys.version.split()[0], "sections": []}
    started = time.perf_counter()
    for section in (network_section, signature_section):
        try:
            result = section(policy)
        except Exception as exc:  # noqa: BLE001 - one section's surprise is told, not fatal
            answer["sections"].append({"name": section.__name__.removesuffix("_section"),
                                       "error": f"{type(exc).__name__}: {exc}"})
            continue
        answer["sections"].append({"name": result.name, "facts": json_form(result.facts),
                                   "checks": [json_form(check) for check in result.checks]})
    answer["seconds"] = round(time.perf_counter() - started, 3)  # the checks' own time
    return answer


def main(raw: bytes) -> None:
    sys.stdout.write(json.dumps(run(json.loads(raw.decode("utf-8"))), ensure_ascii=False))
    sys.stdout.flush()
