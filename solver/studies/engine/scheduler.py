"""The ``--scheduler`` address of a Dask cluster: checked before Dask is imported, then joined.

Every study that sends work to Dask (sweep, share, stress ``--sample``) takes its address
through :func:`scheduler_address`, so a malformed one (``not a url``, ``tcp://``,
``tcp://host:notaport``, ``http://x:1``, empty) is refused at once with the form expected,
before any folder is made, anything is solved or Dask is imported. :func:`connect` then
knocks on the port (a refused or unanswered connection fails within
:data:`CONNECT_TIMEOUT` seconds, not Dask's minute) and only then starts a Dask client.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from solver.errors import UsageError

#: Seconds to wait for a scheduler to answer (a TCP connection, then Dask's handshake).
CONNECT_TIMEOUT = 10.0

#: The form a ``--scheduler`` address takes, as the messages say it.
FORM = "tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786; tls:// for TLS)"

#: Schemes with a HOST:PORT, reachable over TCP.
_NETWORK = frozenset({"tcp", "tls", "ws", "wss"})
#: Schemes Dask has without a TCP port to knock on: in this process, or UCX.
_OTHER = frozenset({"inproc", "ucx"})
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def _refuse(address: str, why: str) -> UsageError:
    return UsageError(f"--scheduler {address!r}: {why}; expected {FORM}")


def scheduler_address(scheduler: Any) -> str:
    """The address of ``scheduler`` (a text, or an object with ``scheduler_address``), checked.

    ``HOST:PORT`` without a scheme means ``tcp://HOST:PORT``, as it does to Dask. Raises
    :class:`~solver.errors.UsageError` (exit 2) naming the address and the form expected.
    """
    address = getattr(scheduler, "scheduler_address", scheduler)
    if not isinstance(address, str):
        raise UsageError(f"--scheduler: {type(address).__name__} is not an address; "
                         f"expected {FORM}")
    text = address.strip()
    if not text:
        raise _refuse(address, "empty")
    if "://" not in text:
        if re.search(r"\s", text) or ":" not in text:
            raise _refuse(address, "not an address")
        text = f"tcp://{text}"
    scheme = text.split("://", 1)[0].lower()
    if scheme in _OTHER:
        if not text.split("://", 1)[1]:
            raise _refuse(address, f"no address after {scheme}://")
        return text
    if scheme not in _NETWORK:
        raise _refuse(address, f"{scheme}:// is not a Dask scheduler's protocol")
    host, port = _host_port(address, text)
    return f"{scheme}://{host}:{port}"


def _host_port(address: str, text: str) -> tuple[str, int]:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _refuse(address, "the port is not a number from 1 to 65535") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise _refuse(address, "an address has no path, query or user")
    host = parts.hostname or ""
    if not host:
        raise _refuse(address, "no host")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            raise _refuse(address, f"{host!r} is not a host name") from None
    else:
        host = f"[{host}]" if ip.version == 6 else host
    if port is None:
        raise _refuse(address, "no port")
    if not 1 <= port <= 65535:
        raise _refuse(address, "the port is not a number from 1 to 65535")
    return host, port


def connect(scheduler: Any, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A Dask ``Client`` of the scheduler at ``scheduler`` (see :func:`scheduler_address`).

    A network address is first knocked on with a plain TCP connection, so that a port where
    nothing listens fails at once; then Dask gets ``timeout`` seconds to shake hands. Any
    failure is a :class:`~solver.errors.UsageError` naming the address. The caller closes the
    client.
    """
    address = scheduler_address(scheduler)
    scheme = address.split("://", 1)[0]
    if scheme in _NETWORK:
        parts = urlsplit(address)
        try:
            # The knock: a connection made and closed at once (Dask shakes hands below).
            socket.create_connection((parts.hostname, parts.port), timeout=timeout).close()
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                reason = f"no answer within {timeout:g} s"
            raise UsageError(f"--scheduler {address}: cannot connect ({reason}); is a Dask "
                             "scheduler running there?") from None
    from dask.distributed import Client

    try:
        return Client(address, set_as_default=False, timeout=f"{timeout:g}s")
    except (OSError, ValueError) as exc:
        raise UsageError(f"--scheduler {address}: cannot connect ({exc or type(exc).__name__})"
                         "; is a Dask scheduler running there?") from None
