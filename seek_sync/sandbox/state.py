"""The live state one sandbox server shares between its routes and its Python API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.faults import Fault, FaultPlan, RequestLog
from seek_sync.sandbox.held import Held
from seek_sync.sandbox.kombo import KomboFake
from seek_sync.sandbox.onderwijsregio import OnderwijsregioFake
from seek_sync.sandbox.received import ReceivedFiles
from seek_sync.sandbox.tokens import TokenIssuer
from seek_sync.sandbox.webhooks import DeliveryReport, WebhookRouting
from seek_sync.sandbox.world import World, build_world

if TYPE_CHECKING:
    from seek_sync.sandbox.trickle import Trickle


class FakeApi(Protocol):
    """An extra fake served on the sandbox's port (the ATS fakes)."""

    def add_routes(self, app: web.Application) -> None:
        """Register routes; name each `<fake>.<operation>` for fault targeting and counts."""

    def info(self, base_url: str) -> dict[str, Any]:
        """Its entries of the start-up JSON line (base URL, credentials)."""


@dataclass
class SandboxState:
    config: SandboxConfig
    world: World
    tokens: TokenIssuer
    faults: FaultPlan
    log: RequestLog = field(default_factory=RequestLog)
    received: ReceivedFiles = field(default_factory=ReceivedFiles)
    held: Held = field(default_factory=Held)  # requests parked by `hold` faults
    # With `config.byte_cache`: answers made once, by attachment id or GraphQL request body.
    byte_cache: dict[str | bytes, bytes] = field(default_factory=dict)
    fakes: dict[str, FakeApi] = field(default_factory=dict)
    webhooks: WebhookRouting = field(default_factory=WebhookRouting)  # set from config, or PUT
    webhook_totals: DeliveryReport = field(default_factory=DeliveryReport)  # every delivery
    trickle: Trickle | None = None  # the last trickle started (`/_sandbox/trickle`)

    @classmethod
    def from_config(cls, config: SandboxConfig) -> SandboxState:
        state = cls(
            config=config,
            world=world_of(config),
            tokens=TokenIssuer(
                config.token_lifetime_seconds, config.browser_token_lifetime_seconds
            ),
            faults=FaultPlan(config.faults),
            received=ReceivedFiles(keep=config.keep_received_files),
            webhooks=WebhookRouting.of(config),
        )
        state.fakes["onderwijsregio"] = OnderwijsregioFake(config.onderwijsregio, state)
        state.fakes["kombo"] = KomboFake(config.kombo, state)
        return state


STATE = web.AppKey("state", SandboxState)
FAULT = web.RequestKey("fault", Fault)  # the fault a handler applies itself (truncate, slow)


def world_of(config: SandboxConfig) -> World:
    """The world a sandbox with `config` serves (the same seed gives the same world)."""
    return build_world(
        seed=config.seed,
        applications=config.applications,
        hirers=config.hirers,
        edge_cases=config.edge_cases,
        busy=config.busy_hirers,
        people=config.people,
    )
