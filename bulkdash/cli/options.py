"""What more than one ``bulkdash`` command shares: argparse types (playback speed, port), the one-line
refusal (``bulkdash COMMAND: why``, exit status 2), and running a server after checking its port
(``listen``, ``serve``).

Nothing heavy is imported here: ``bulkdash --help`` builds every command's parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

PROG = "bulkdash"
#: The exit status of a command that refused to start (argparse's, for a usage error).
USAGE_ERROR = 2
TRAINING_SPEED = 1.0  # each scenario pack plays at its own pace for a trainee (its [run] speed)


def fail(command: str | None, problem: str) -> int:
    """Print ``bulkdash[ COMMAND]: problem`` on stderr, one line, and return the exit status 2."""
    print(f"{PROG} {command}: {problem}" if command else f"{PROG}: {problem}", file=sys.stderr, flush=True)
    return USAGE_ERROR


def playback_speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    # Here, not at the top: pydantic (0.1 s) must not delay the dashboard's start (its simulator is spawned
    # as soon as the command line is parsed).
    from bulkdash.contract.presenter import MAX_SPEED, MIN_SPEED

    if not MIN_SPEED <= value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {value:g}")
    return value


def add_speed_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str) -> None:
    parser.add_argument(
        "--speed",
        type=playback_speed,
        default=TRAINING_SPEED,
        metavar="X",
        help=f"{help} (default: %(default)s)",
    )


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535."""
    return _port(text, lowest=1)


def port_or_any(text: str) -> int:
    """A TCP port, or 0 for any free one."""
    return _port(text, lowest=0)


def _port(text: str, *, lowest: int) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not lowest <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between {lowest} and 65535, not {port}")
    return port


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number, 0 or more (``--op-delay-ms``: a negative one reached the simulator's
    settings, and the dashboard showed pydantic's dump of the error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


class CannotStart(Exception):
    """A server cannot start for a reason its message says in one line (an unusable database, say)."""


def run_server(command: str, host: str, port: int, serve: Callable[[], object]) -> int:
    """Check that ``host:port`` can be bound (bind, release), then run ``serve`` until it returns or Ctrl-C.

    0, or 2 with one line on stderr (no traceback) when it cannot start: the port is taken, the address is
    not this machine's — found before anything starts or prints a banner — or, should another program take
    the port between the check and the server's own bind, when the server then fails to bind.
    """
    from bulkdash.serving import bind_problem, probe_bind  # uvicorn: only when a server runs

    try:
        probe_bind(host, port)
    except OSError as exc:
        return fail(command, bind_problem(host, port, exc))
    try:
        serve()
    except OSError as exc:
        return fail(command, bind_problem(host, port, exc))
    except CannotStart as exc:
        return fail(command, str(exc))
    except KeyboardInterrupt:
        pass  # where the loop cannot install signal handlers (Windows): still a clean stop
    return 0
