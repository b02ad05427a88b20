"""One dashboard connection: the API client, its request budget and call log, the webhook receiver, and —
by default — the simulator started in this very event loop (``embedded``) with its webhooks wired to that
receiver; or in a process of its own (``spawned``, ``bulkdash.sim_process``: measured in issue 16, opt-in).

I/O only (no Textual): the screens get a ``Session`` and call it from workers.
"""

from __future__ import annotations

import asyncio
import errno
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from pydantic import SecretStr

from bulkdash.api.budget import DEFAULT_WINDOWS, RequestBudget
from bulkdash.api.client import CallRecord, WeavrClient
from bulkdash.model.timeline import Timeline
from bulkdash.serving import QuietServer, bind_problem
from bulkdash.webhooks import ReceivedWebhook, ReceiverSettings, WebhookReceiver

if TYPE_CHECKING:
    from bulkdash.sim_process import SimProcess
    from bulkdash.simctl import SimControl

DEMO_API_KEY = "sim-api-key-P1"
DEMO_EMAIL = "alice@acme.example"
DEMO_PASSWORD = "Passw0rd!Sim"
#: Logging out is a courtesy when quitting: a slow endpoint must not hold the dashboard open.
LOGOUT_TIMEOUT_S = 0.2
#: How long a failed first request waits for the simulator's process to end, to say why it did.
ENDING_S = 2.0


def loopback_transport() -> httpx.AsyncHTTPTransport:
    """The client's transport to the embedded simulator (plain HTTP on 127.0.0.1): without a TLS context.
    httpx's default loads the CA bundle (20-40 ms) on the way to the first screen connected, for a
    connection that never uses TLS."""
    return httpx.AsyncHTTPTransport(verify=False)


def _demo_receiver(data_dir: Path | None, port: int | None = None) -> WebhookReceiver:
    """The receiver of the embedded simulator's webhooks: the demo programme's keys; its history in
    ``data_dir`` (a throw-away session), else the default file."""
    extra: dict[str, object] = {}
    if data_dir is not None:
        extra["db_path"] = data_dir / "webhooks.db"
    if port is not None:
        extra["port"] = port
    return WebhookReceiver(
        ReceiverSettings(
            signing_key=SecretStr(DEMO_API_KEY),
            webhooks_key=SecretStr("sim-webhooks-key-P1"),
            **extra,  # type: ignore[arg-type]
        )
    )


def _receiver_problem(host: str, port: int, exc: OSError) -> str:
    """Why the webhook receiver cannot listen on ``host:port``, in one sentence for the connection line."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"the webhook receiver cannot listen on {host}:{port}: the port is in use (another bulkdash "
            "open? port 0 picks a free one)"
        )
    return f"the webhook receiver {bind_problem(host, port, exc)}"


def _demo_client(root: str) -> WeavrClient:
    """The client of the embedded simulator at ``root``: the demo programme's key, plain HTTP."""
    return WeavrClient(
        root + "/multi", DEMO_API_KEY, budget=RequestBudget(DEFAULT_WINDOWS), transport=loopback_transport()
    )


@dataclass(slots=True)
class EmbeddedOptions:
    db: Path | None = None  # None: the simulator's default file in the user data dir
    op_delay_ms: int = 50
    rate_limits: str | None = None  # None: Weavr's limits, as the simulator enforces by default
    fresh: bool = False  # a throw-away database (tests, training)
    # One transaction webhook per operation would flood a dashboard sharing its event loop with the
    # simulator (10,000 HTTP deliveries for one bulk); bulk webhooks (≤ 4 per bulk) are always sent.
    transaction_webhooks: bool = False


class Session:
    def __init__(self, client: WeavrClient, *, label: str) -> None:
        self.client = client
        self.label = label
        self.calls: deque[CallRecord] = deque(maxlen=5000)
        self.timeline = Timeline()
        self.receiver: WebhookReceiver | None = None
        self.simulator = None  # simulator.server.Simulator when embedded
        self._sim_server: QuietServer | None = None
        #: The embedded simulator when it runs in a process of its own (``Session.spawned``).
        self.sim_process: SimProcess | None = None
        self._end_listeners: list[Callable[[str], None]] = []
        self._watch: asyncio.Task[None] | None = None
        #: Root URL of a simulator's control API (``/_sim``): the embedded one; None for a real endpoint.
        self.sim_root: str | None = None
        self._sim_control: SimControl | None = None
        self._sim_token: str | None = None  # the control token of a standalone simulator that requires one
        self._webhook_listeners: list[Callable[[ReceivedWebhook], None]] = []
        self._call_listeners: list[Callable[[CallRecord], None]] = []
        self._owned_token = False
        client.on_call = self._on_call

    # --- construction -------------------------------------------------------------------------------
    @classmethod
    async def embedded(cls, options: EmbeddedOptions | None = None) -> Session:
        """Start receiver + simulator in this loop, wire webhooks, log in as the demo user."""
        options = options or EmbeddedOptions()
        data_dir = Path(tempfile.mkdtemp(prefix="bulkdash-")) if options.fresh else None
        receiver = _demo_receiver(data_dir)
        await receiver.start()
        try:
            return await cls._embed(options, receiver, data_dir)
        except BaseException:
            # E.g. the database is in use by another simulator (a StoreError, an OSError saying so): the
            # receiver must not outlive the failed start.
            await receiver.stop()
            raise

    @classmethod
    async def _embed(
        cls, options: EmbeddedOptions, receiver: WebhookReceiver, data_dir: Path | None
    ) -> Session:
        from simulator.server import start_embedded  # the simulator is only imported when embedded
        from simulator.settings import SimSettings

        sim_kwargs: dict[str, object] = {
            "host": "127.0.0.1",
            "port": 0,
            "op_delay_ms": options.op_delay_ms,
            "webhook_base_url_p1": receiver.url,
            "transaction_webhooks": options.transaction_webhooks,
        }
        if data_dir is not None:
            sim_kwargs["db"] = data_dir / "simulator.db"
        elif options.db is not None:
            sim_kwargs["db"] = options.db
        if options.rate_limits is not None:
            sim_kwargs["rate_limits"] = options.rate_limits
        simulator, server = await start_embedded(SimSettings(**sim_kwargs))  # type: ignore[arg-type]
        client = _demo_client(server.url)
        session = cls(client, label=f"embedded simulator {server.url}")
        session.simulator, session._sim_server = simulator, server
        session.sim_root = server.url
        # Loopback needs no control token, unless one was set (SIM_CONTROL_TOKEN in the environment).
        token = simulator.settings.control_token
        session._sim_token = token.get_secret_value() if token is not None else None
        session._attach_receiver(receiver)
        try:
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        except BaseException:
            await client.aclose()
            await server.stop()
            raise
        session._owned_token = True
        return session

    @classmethod
    async def spawned(cls, process: SimProcess) -> Session:
        """The embedded simulator running in its own process (``bulkdash.sim_process.spawn``, started before
        the dashboard imported): start the receiver on the port the simulator delivers to and log in, side
        by side — the login waits in the socket's backlog until the simulator serves."""
        receiver = _demo_receiver(process.data_dir, port=process.receiver_port)
        client = _demo_client(process.url)
        session = cls(client, label=f"embedded simulator {process.url}")
        session.sim_process, session.sim_root, session._sim_token = process, process.url, process.token
        login = asyncio.ensure_future(client.login(DEMO_EMAIL, DEMO_PASSWORD))
        ended = asyncio.ensure_future(process.wait())
        try:
            await receiver.start()
            session._attach_receiver(receiver)
            # The simulator may die before it serves (its database in use by another one): say why, at once.
            await asyncio.wait({login, ended}, return_when=asyncio.FIRST_COMPLETED)
            if login.done() and login.exception() is not None and not ended.done():
                # Refused or cut off: the simulator is on its way out, and its reason beats "cannot reach".
                await asyncio.wait({ended}, timeout=ENDING_S)
            if ended.done():
                from bulkdash.sim_process import SimulatorStopped

                raise SimulatorStopped(process.why_ended())
            login.result()
        except BaseException:
            login.cancel()
            ended.cancel()
            await client.aclose()
            await receiver.stop()
            await process.stop()
            raise
        session._owned_token = True
        session._watch = asyncio.ensure_future(session._watch_process(ended))
        return session

    async def _watch_process(self, ended: asyncio.Future[int]) -> None:
        await ended
        process = self.sim_process
        if process is None or process.stopped:
            return  # stopped by us (quitting)
        reason = process.why_ended()
        from bulkdash.api.client import LinkState

        self.client.link.set(LinkState.UNREACHABLE, reason)
        for listener in list(self._end_listeners):
            listener(reason)

    def on_end(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(why)`` if the simulator's process dies under the dashboard."""
        self._end_listeners.append(callback)
        return lambda: self._end_listeners.remove(callback) if callback in self._end_listeners else None

    @classmethod
    async def remote(
        cls,
        url: str,
        api_key: str,
        *,
        token: str | None = None,
        email: str | None = None,
        password: str | None = None,
        signing_key: str | None = None,
        receiver_host: str = "127.0.0.1",
        receiver_port: int = 0,
        label: str | None = None,
        sim_root: str | None = None,
        sim_token: str | None = None,
        serve_webhooks: bool = True,
    ) -> Session:
        """A real endpoint — or a standalone ``bulkdash-sim``, whose control API at ``sim_root`` (with its
        control token ``sim_token``, if it requires one) then gives the Scenarios screen and the presenter
        controls. ``serve_webhooks=False``: the receiver's history is opened to read, its port left alone."""
        client = WeavrClient(url, api_key, token)
        session = cls(client, label=label or url)
        session.sim_root = sim_root.rstrip("/") if sim_root else None
        session._sim_token = sim_token
        receiver = WebhookReceiver(
            ReceiverSettings(
                signing_key=SecretStr(signing_key or api_key), host=receiver_host, port=receiver_port
            )
        )
        if serve_webhooks:
            try:
                await receiver.start()
            except OSError as exc:
                # The port named, and why: "Address already in use" alone said neither which port nor that it
                # is the webhooks' (another dashboard on the same profile holds it, most often).
                await client.aclose()
                raise OSError(_receiver_problem(receiver_host, receiver_port, exc)) from None
        else:
            await receiver.open_history()
        session._attach_receiver(receiver)
        if token is None and email and password:
            try:
                await client.login(email, password)
            except BaseException:
                # A refused (or cut-off) login must not leave the receiver behind: its database's thread
                # kept the process alive, so ``bulkdash report`` never exited after its one-line error and
                # the dashboard could not quit (a user's trial).
                await client.aclose()
                await receiver.stop()
                raise
            session._owned_token = True
        return session

    def _attach_receiver(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        receiver.add_listener(self._on_webhook)

    def sim_control(self) -> SimControl | None:
        """The simulator's control API (scenarios, presenter controls), or None on a real endpoint."""
        if self.sim_root is None:
            return None
        if self._sim_control is None:
            from bulkdash.simctl import SimControl

            self._sim_control = SimControl(self.sim_root, token=self._sim_token)
        return self._sim_control

    async def close(self) -> None:
        if self._sim_control is not None:
            await self._sim_control.aclose()
        if self._owned_token and self.client.token:
            try:
                await asyncio.wait_for(self.client.logout(), LOGOUT_TIMEOUT_S)
            except Exception:  # logging out is a courtesy: never block quitting on it
                pass
        await self.client.aclose()
        # Side by side: each server takes ~0.15 s to wind down (uvicorn's ticks), and quitting waits for both.
        servers = [s for s in (self._sim_server, self.receiver, self.sim_process) if s is not None]
        for outcome in await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    # --- fan-out ------------------------------------------------------------------------------------
    def on_webhook(self, callback: Callable[[ReceivedWebhook], None]) -> Callable[[], None]:
        self._webhook_listeners.append(callback)
        return lambda: self._webhook_listeners.remove(callback)

    def on_call(self, callback: Callable[[CallRecord], None]) -> Callable[[], None]:
        self._call_listeners.append(callback)
        return lambda: self._call_listeners.remove(callback)

    def _on_call(self, call: CallRecord) -> None:
        self.calls.append(call)
        self.timeline.add_call(call)
        for listener in list(self._call_listeners):
            listener(call)

    def _on_webhook(self, record: ReceivedWebhook) -> None:
        if record.bulk_id:
            sig = "✓" if str(record.signature_v2) == "valid" else "✗"
            dup = " duplicate" if record.duplicate else ""
            self.timeline.add_webhook(
                record.bulk_id,
                record.received_at_ms,
                f"{record.path} {record.bulk_status or ''} sig {sig}{dup}",
            )
        for listener in list(self._webhook_listeners):
            listener(record)

    @property
    def is_embedded(self) -> bool:
        return self.simulator is not None or self.sim_process is not None

    def now_ms(self) -> int:
        return int(time.time() * 1000)
