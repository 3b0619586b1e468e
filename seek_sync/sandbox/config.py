"""Configuration of one sandbox server: data set, demo credentials, token lifetime, faults."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from seek_sync.sandbox.faults import Fault
from seek_sync.sandbox.kombo_data import KomboConfig
from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig


class SandboxConfig(BaseModel):
    """Everything a sandbox needs to start; the defaults give a useful demo data set."""

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    seed: int = 7
    applications: int = Field(default=60, ge=0)
    hirers: int = Field(default=4, ge=1, description="above 10, every hirer is related")
    busy_hirers: int | None = Field(
        default=None, ge=1, description="applications go to only this many related hirers"
    )
    people: int | None = Field(
        default=None,
        ge=1,
        description="applications come from at most this many people, each then applying to"
        " several hirers (one person, one email, across hirers sharing an ATS tenant)",
    )
    edge_cases: bool = True
    byte_cache: bool = Field(
        default=False,
        description="serve attachments and GraphQL answers from bytes made once (the floor"
        " bench: so the client is what is measured); later changes to the world are not seen",
    )
    keep_received_files: bool = Field(
        default=False,
        description="spill files the ATS fakes receive to the sandbox's own folder, so a test"
        " can read them back; otherwise only their sizes and digests are kept",
    )

    # Demo credentials (Playground-style: test audience, public-test scheme).
    client_id: str = "sandbox-partner-client"
    client_secret: str = "sandbox-partner-secret-0123456789abcdef"
    audience: str = "https://test.graphql.seek.com"
    webhook_secret: str = "sandbox-webhook-secret-0123456789"
    token_lifetime_seconds: int = Field(default=1800, ge=1)
    browser_token_lifetime_seconds: int = Field(default=3600, ge=1)  # SEEK's example answer

    # What an old attachment URL answers once SEEK deleted its application or candidate; SEEK does
    # not document it (404 or 403 are both plausible).
    deleted_attachment_status: Literal[403, 404] = 404

    # Where new events are pushed as signed webhooks, if anywhere: the subscription's one URL,
    # or receiver replicas behind it, delivered round-robin (the first is then the subscription's
    # URL unless `webhook_url` is given), with a share of batches delivered twice.
    webhook_url: str | None = None
    webhook_urls: list[str] = Field(default_factory=list)
    webhook_duplicate_share: float = Field(default=0.0, ge=0.0, le=1.0)
    faults: list[Fault] = Field(default_factory=list)
    kombo: KomboConfig = Field(default_factory=KomboConfig)
    onderwijsregio: OnderwijsregioConfig = Field(default_factory=OnderwijsregioConfig)
