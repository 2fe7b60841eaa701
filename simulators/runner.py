"""Start every channel simulator on one port: ``async with start_simulators(options) as sims``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from schemas.channels import Channel
from simulators.options import SimulatorOptions
from simulators.scenario.generator import generate
from simulators.scenario.model import Scenario
from simulators.servers.citizen_app import PREFIX as CITIZEN_PREFIX
from simulators.servers.citizen_app import CitizenApp
from simulators.servers.faults import FaultInjector
from simulators.servers.hotline import PREFIX as HOTLINE_PREFIX
from simulators.servers.hotline import Hotline
from simulators.servers.ledger import Reply
from simulators.servers.legal_stations import DOWN_MODES, LegalStations
from simulators.servers.legal_stations import PREFIX as LEGAL_PREFIX
from simulators.servers.petition_window import PREFIX as PETITION_PREFIX
from simulators.servers.petition_window import PetitionWindow
from simulators.servers.provincial import PREFIX as PROVINCIAL_PREFIX
from simulators.servers.provincial import Provincial
from simulators.servers.state import ServerState
from simulators.servers.storms import REPLY_STORM_KINDS, Storm, check_storm, storm_middleware

Replier = CitizenApp | Hotline  # the channel servers that take replies

# Which channel's OAuth tokens die with each credential (the others have no tokens).
TOKEN_CHANNEL_OF = {"citizen_client_secret": Channel.CITIZEN_APP.value}


def make_credentials(seed: int) -> dict[str, str]:
    """Per-seed credentials of every channel (stable, so configs can be reused)."""
    rng = random.Random(f"credentials-{seed}")

    def secret(prefix: str) -> str:
        return f"{prefix}-{rng.getrandbits(64):016x}"

    return {
        "citizen_client_id": "unionhub",
        "citizen_client_secret": secret("cs"),
        "petition_api_key": secret("pk"),
        "hotline_app_key": "unionhub",
        "hotline_app_secret": secret("hs"),
        "provincial_username": "unionhub",
        "provincial_password": secret("pw"),
        "legal_token": secret("lt"),
    }


def connector_configs(base_url: str, creds: dict[str, str]) -> dict[str, dict[str, object]]:
    """A ready connector config per channel: ``name``, ``channel`` and the spec's settings."""
    return {
        Channel.CITIZEN_APP.value: {
            "name": "citizen_app-sim",
            "channel": Channel.CITIZEN_APP.value,
            "base_url": base_url + CITIZEN_PREFIX,
            "client_id": creds["citizen_client_id"],
            "client_secret": creds["citizen_client_secret"],
            "page_size": 100,
            "poll_interval_s": 5,
            "replies": True,
        },
        Channel.PETITION_WINDOW.value: {
            "name": "petition_window-sim",
            "channel": Channel.PETITION_WINDOW.value,
            "base_url": base_url + PETITION_PREFIX,
            "api_key": creds["petition_api_key"],
            "poll_interval_s": 60,
        },
        Channel.HOTLINE_12351.value: {
            "name": "hotline_12351-sim",
            "channel": Channel.HOTLINE_12351.value,
            "base_url": base_url + HOTLINE_PREFIX,
            "app_key": creds["hotline_app_key"],
            "app_secret": creds["hotline_app_secret"],
            "poll_interval_s": 10,
            "lookback_s": 900,
            "replies": True,
        },
        Channel.PROVINCIAL_PETITION.value: {
            "name": "provincial_petition-sim",
            "channel": Channel.PROVINCIAL_PETITION.value,
            "base_url": base_url + PROVINCIAL_PREFIX,
            "username": creds["provincial_username"],
            "password": creds["provincial_password"],
            "poll_interval_s": 60,
            "window_s": 3600,
            "late_arrival_s": 7200,
        },
        Channel.LEGAL_STATIONS.value: {
            "name": "legal_stations-sim",
            "channel": Channel.LEGAL_STATIONS.value,
            "registry_url": base_url + LEGAL_PREFIX,
            "token": creds["legal_token"],
            "poll_interval_s": 30,
            "registry_refresh_s": 600,
            "max_concurrency": 32,
            "request_timeout_s": 5,
        },
    }


def sink_configs(configs: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """A ready reply-sink config per channel that takes replies, naming its source connector."""
    return {
        channel: {
            "name": f"{config['name']}-replies",
            "type": "sink",
            "channel": channel,
            "connector": config["name"],
        }
        for channel, config in configs.items()
        if config.get("replies") is True
    }


class Simulators:
    """A running set of channel simulators and the controls tests use on them."""

    def __init__(
        self, state: ServerState, legal: LegalStations, repliers: dict[str, Replier] | None = None
    ) -> None:
        self._state = state
        self._legal = legal
        self._repliers = repliers or {}
        self.sink_configs: dict[str, dict[str, object]] = {}
        self._rotations = 0
        self.connector_configs: dict[str, dict[str, object]] = {}

    @property
    def base_url(self) -> str:
        """``http://host:port`` every channel is served under."""
        return self._state.base_url

    @property
    def scenario(self) -> Scenario:
        """The generated scenario being served."""
        return self._state.scenario

    @property
    def credentials(self) -> dict[str, str]:
        """Every channel's credentials (also inside ``connector_configs``)."""
        return dict(self._state.credentials)

    def release_all(self) -> None:
        """Serve every record version now, as if the whole live part had happened."""
        self._state.released_all = True

    def set_fault_rate(self, rate: float) -> None:
        """Change the per-request fault probability (0 turns faults off)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must lie in [0, 1]")
        self._state.faults.rate = rate

    def fault_counts(self) -> dict[str, int]:
        """Faults injected so far, by ``<channel>.<kind>``."""
        return self._state.faults.counts()

    def request_counts(self) -> dict[str, int]:
        """Requests that could draw a fault so far, by channel."""
        return dict(self._state.faults.requests)

    def set_station_down(self, station_id: str, mode: str | None) -> None:
        """Force a station ``refuse``, ``hang`` or ``http_503``; ``None`` forces it up."""
        if mode is not None and mode not in DOWN_MODES:
            raise ValueError(f"mode must be one of {DOWN_MODES} or None")
        self._state.station_overrides[station_id] = mode

    def set_batch_torn(self, batch_id: str, torn: bool = True) -> None:
        """Serve every download of ``batch_id`` torn (sha256 never matches) until reset."""
        if torn:
            self._state.torn_batches.add(batch_id)
        else:
            self._state.torn_batches.discard(batch_id)

    def storm(self, channel: str, kind: str, rate: float = 1.0) -> None:
        """Hit a share ``rate`` of ``channel``'s requests with ``kind`` until :meth:`end_storm`.

        Kinds: ``http_5xx``, ``http_429``, ``drop``, ``hang``, and ``torn``
        (petition_window downloads only). A new storm on a channel replaces its
        current one. Counted in :meth:`fault_counts` as ``<channel>.storm_<kind>``.
        """
        storm = Storm(kind, rate)
        check_storm(channel, storm)
        storms = self._state.reply_storms if kind in REPLY_STORM_KINDS else self._state.storms
        storms[channel] = storm

    def end_storm(self, channel: str, kind: str | None = None) -> None:
        """Let ``channel`` answer normally again (faults at the rate only): the storm of
        ``kind``'s side (listing, or replies for a ``reply_*`` kind), or both sides."""
        if kind is None or kind not in REPLY_STORM_KINDS:
            self._state.storms.pop(channel, None)
        if kind is None or kind in REPLY_STORM_KINDS:
            self._state.reply_storms.pop(channel, None)

    def replies(self, channel: str) -> list[Reply]:
        """Every reply ``channel``'s idempotency ledger took (a repeated key is not in twice)."""
        return self._state.replies.replies(channel)

    def reply_answers(self, channel: str) -> dict[str, int]:
        """How ``channel``'s reply endpoint answered: ``taken``, ``repeat``, ``closed``..."""
        prefix = channel + "."
        answers = self._state.replies.answers.items()
        return {k.removeprefix(prefix): n for k, n in answers if k.startswith(prefix)}

    def current_record(self, channel: str, external_id: str) -> dict[str, object] | None:
        """The record as ``channel`` (one that takes replies) serves it now, if it does."""
        server = self._repliers.get(channel)
        latest = server.latest(external_id) if server is not None else None
        return dict(latest.record) if latest is not None else None

    def close_upstream(self, channel: str, external_id: str) -> None:
        """The upstream closes a record itself (a new version): replies to it get 409 / 40901."""
        server = self._repliers.get(channel)
        if server is None or server.close_upstream(external_id) is None:
            raise ValueError(f"no {channel} record {external_id!r} to close")

    def rotate_secret(self, key: str) -> str:
        """Replace credential ``key`` (e.g. ``citizen_client_secret``) by a new one; return it.

        The upstream refuses the old value from now on, and every OAuth token
        issued with it is revoked, as when an operator rotates a client secret.
        ``connector_configs`` carry the new value.
        """
        if key not in self._state.credentials:
            raise ValueError(f"no credential named {key!r}")
        self._rotations += 1
        rng = random.Random(f"rotation-{self._state.credentials[key]}-{self._rotations}")
        secret = f"{key[:2]}-{rng.getrandbits(64):016x}"
        self._state.credentials[key] = secret
        channel = TOKEN_CHANNEL_OF.get(key)
        if channel is not None and channel in self._state.token_stores:
            self._state.token_stores[channel].revoke_all()
        self.connector_configs = connector_configs(self.base_url, self._state.credentials)
        return secret

    def clear_station_override(self, station_id: str) -> None:
        """Let ``station_id`` follow the fault schedule again."""
        self._state.station_overrides.pop(station_id, None)

    def station_down_mode(self, station_id: str) -> str | None:
        """How the station fails right now (``None``: it answers)."""
        return self._legal.down_mode(station_id)


def build_app(state: ServerState) -> tuple[web.Application, LegalStations, dict[str, Replier]]:
    """The aiohttp application serving all five channels (and the two that take replies)."""
    app = web.Application(middlewares=[storm_middleware(state)])
    legal = LegalStations(state)
    citizen, hotline = CitizenApp(state), Hotline(state)
    for server in (citizen, PetitionWindow(state), hotline, Provincial(state), legal):
        app.add_routes(server.routes())
    repliers: dict[str, Replier] = {
        Channel.CITIZEN_APP.value: citizen,
        Channel.HOTLINE_12351.value: hotline,
    }
    return app, legal, repliers


@asynccontextmanager
async def start_simulators(options: SimulatorOptions) -> AsyncIterator[Simulators]:
    """Generate the scenario, serve all channels on one port, stop on exit."""
    anchor = options.anchor or datetime.now(UTC).replace(microsecond=0)
    scenario = generate(options, anchor)
    state = ServerState(
        scenario=scenario,
        faults=FaultInjector(options.seed, options.fault_rate),
        credentials=make_credentials(options.seed) | dict(options.credentials),
        station_outage_s=options.station_outage_s / options.speed,
    )
    app, legal, repliers = build_app(state)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    await site.start()
    port = _bound_port(site)
    state.base_url = f"http://{options.host}:{port}"
    sims = Simulators(state, legal, repliers)
    sims.connector_configs = connector_configs(state.base_url, state.credentials)
    sims.sink_configs = sink_configs(sims.connector_configs)
    try:
        yield sims
    finally:
        state.stopping.set()
        await runner.cleanup()


def _bound_port(site: web.TCPSite) -> int:
    server: Any = site._server  # aiohttp exposes the bound socket only here
    return int(server.sockets[0].getsockname()[1])
