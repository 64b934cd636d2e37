"""WinRM transport (pywinrm): one shell, one PowerShell, the collector on stdin, JSON back.

HTTPS with certificate validation unless the inventory says
``ansible_winrm_server_cert_validation: ignore`` or the command line
``--insecure-skip-winrm-cert-check`` (both said on the terminal and in the host's report);
NTLM, Kerberos, CredSSP or basic as ``ansible_winrm_transport`` says; plain HTTP only with
message encryption (checked when the inventory is read). It only moves bytes;
``fleet/windows.py`` parses them.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from typing import Any

from ..core.model import Outcome
from .host import HostFailure, InventoryHost, Job
from .reports import RemoteEvidence
from .windows import parse_document, windows_evidence, windows_script

# Reads the whole of stdin, then runs it: the collector is too long for a command line.
BOOTSTRAP = "$s = [Console]::In.ReadToEnd(); Invoke-Expression $s"
POWERSHELL_ARGS = ("-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                   "-EncodedCommand", base64.b64encode(BOOTSTRAP.encode("utf-16-le")).decode())


def protocol_options(target: InventoryHost, ca_trust_path: str | None = None,
                     insecure: bool = False) -> dict[str, Any]:
    """pywinrm's Protocol arguments for a target (its ``ansible_winrm_*`` settings);
    ``insecure``: --insecure-skip-winrm-cert-check."""
    settings = target.winrm
    endpoint = target.endpoint
    options: dict[str, Any] = {
        "endpoint": f"{settings.scheme}://{endpoint.address}:{endpoint.port}{settings.path}",
        "transport": settings.transport,
        "username": endpoint.user,
        "password": target.password.reveal() if target.password else None,
        "server_cert_validation": "validate" if settings.cert_validation and not insecure
                                  else "ignore",
        "message_encryption": "always" if settings.scheme == "http" else settings.message_encryption,
    }
    if settings.ca_trust_path or ca_trust_path:
        options["ca_trust_path"] = settings.ca_trust_path or ca_trust_path
    return options


def collect_windows(target: InventoryHost, options: Any, job: Job) -> RemoteEvidence:
    text = run_winrm(target, windows_script(), options.winrm_ca_trust_path, job,
                     insecure=options.winrm_insecure)
    try:
        return windows_evidence(parse_document(text))
    except ValueError as exc:
        raise HostFailure(Outcome.PARTIAL, f"the collector's output is not usable: {exc}") from exc


def run_winrm(target: InventoryHost, script: str, ca_trust_path: str | None, job: Job,
              insecure: bool = False) -> str:
    import requests
    import winrm
    from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError

    operation = max(1, min(20, int(job.remaining()) - 2))
    protocol = winrm.Protocol(**protocol_options(target, ca_trust_path, insecure),
                              operation_timeout_sec=operation, read_timeout_sec=operation + 2)
    job.on_abort(protocol.transport.close_session)
    try:
        return _run(protocol, script, job)
    except UnicodeEncodeError as exc:
        raise HostFailure(Outcome.AUTH_FAILED, "the password has letters that basic "
                          "authentication cannot send (Latin-1 only); use ntlm, kerberos or "
                          "credssp") from exc
    except InvalidCredentialsError as exc:
        raise HostFailure(Outcome.AUTH_FAILED, f"WinRM login refused: {exc}") from exc
    except requests.exceptions.SSLError as exc:
        raise HostFailure(Outcome.HOST_KEY_MISMATCH, f"TLS certificate not trusted: {exc}",
                          fingerprint=_certificate_fingerprint(target)) from exc
    except requests.exceptions.ReadTimeout as exc:
        raise HostFailure(Outcome.TIMED_OUT, f"WinRM: the host accepted the connection but "
                                             f"did not answer in time ({exc})") from exc
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
        job.check()
        raise HostFailure(Outcome.UNREACHABLE, f"WinRM: {exc}") from exc
    except (WinRMError, WinRMTransportError) as exc:
        job.check()
        raise HostFailure(Outcome.PARTIAL, f"WinRM: {exc}") from exc


def _run(protocol: Any, script: str, job: Job) -> str:
    shell = protocol.open_shell(codepage=65001)
    try:
        command = protocol.run_command(shell, "powershell.exe", list(POWERSHELL_ARGS))
        protocol.send_command_input(shell, command, script.encode("utf-8"), end=True)
        stdout, stderr, code = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
    finally:
        protocol.close_shell(shell)
    job.check()
    if code != 0:
        raise HostFailure(Outcome.PARTIAL, f"the collector exited with {code}: "
                                           f"{stderr.decode('utf-8', errors='replace')[:300]}",
                          partial_output=None)
    return stdout.decode("utf-8", errors="replace")


def _certificate_fingerprint(target: InventoryHost) -> str | None:
    """SHA-256 of the certificate the host showed (to compare with the one on the machine)."""
    try:
        pem = ssl.get_server_certificate((target.endpoint.address, target.endpoint.port),
                                         timeout=5)
    except (OSError, ValueError):
        return None
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return "SHA256:" + ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
