"""Candidate profiles by id, fetched concurrently with a bound."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from seek_sync.seek.errors import SeekError, SeekGraphQLError
from seek_sync.seek.graphql import SeekGraphQLClient
from seek_sync.seek.models import CandidateProfile
from seek_sync.seek.queries import CANDIDATE_PROFILE


@dataclass(frozen=True)
class ProfileResult:
    """A profile, or why there is none: `not_found` (null), `forbidden`, `error` (with message)."""

    profile_id: str
    status: str
    profile: CandidateProfile | None = None
    raw: dict[str, Any] | None = None
    error: str | None = None


async def fetch_profile(
    graphql: SeekGraphQLClient, profile_id: str, *, session_id: str | None = None
) -> ProfileResult:
    try:
        data = await graphql.query(CANDIDATE_PROFILE, {"id": profile_id}, session_id=session_id)
    except SeekGraphQLError as error:
        status = "forbidden" if error.code == "FORBIDDEN" else "error"
        return ProfileResult(profile_id, status, error=str(error))
    except SeekError as error:
        return ProfileResult(profile_id, "error", error=str(error))
    raw = data.get("candidateProfile")
    if raw is None:
        return ProfileResult(profile_id, "not_found", error="SEEK has no such candidate profile")
    try:
        profile = CandidateProfile.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(map(str, e["loc"])) for e in error.errors()})
        return ProfileResult(profile_id, "error", error=f"malformed profile at {fields}")
    return ProfileResult(profile_id, "ok", profile=profile, raw=raw)


async def fetch_profiles(
    graphql: SeekGraphQLClient,
    profile_ids: Iterable[str],
    *,
    concurrency: int = 8,
    gate: asyncio.Semaphore | None = None,
    on_result: Callable[[ProfileResult], None] | None = None,
    session_id: str | None = None,
) -> list[ProfileResult]:
    """One result per id, in the order given; at most `concurrency` requests in flight (or as
    many as a shared `gate` allows). `on_result` sees each result as soon as it returns."""
    gate = gate or asyncio.Semaphore(concurrency)

    async def one(profile_id: str) -> ProfileResult:
        async with gate:
            result = await fetch_profile(graphql, profile_id, session_id=session_id)
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(one(p) for p in profile_ids)))
