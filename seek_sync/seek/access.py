"""The partner's own access check before it relays an attachment with its partner token.

SEEK checks a browser token's hirer itself; with the partner token the partner must (seed 000).
Before relaying, the attachment's URL must still be one of the profile's attachments (SEEK redacts
them when it deletes the application) and the profile's hirer must be the hirer asking.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, ValidationError

from seek_sync.seek.errors import MalformedResponseError
from seek_sync.seek.graphql import SeekGraphQLClient
from seek_sync.seek.models import ApplicationProfileRef, SeekModel

PROFILE_ACCESS = """
query ProfileAccess($id: String!) {
  candidateProfile(id: $id) {
    associatedPositionProfile { positionOrganizations { id { value } } }
    attachments { url }
  }
}
"""


class AttachmentUrl(SeekModel):
    url: str


class ProfileAccess(ApplicationProfileRef):
    attachments: list[AttachmentUrl] = Field(default_factory=list)


class Access(StrEnum):
    ALLOWED = "allowed"
    OTHER_HIRER = "other_hirer"  # the profile belongs to another hirer
    GONE = "gone"  # no such profile, or the attachment is no longer on it


async def attachment_access(
    graphql: SeekGraphQLClient,
    *,
    hirer_id: str,
    profile_id: str,
    url: str,
    session_id: str | None = None,
) -> Access:
    """Whether `hirer_id` may have the attachment at `url` of `profile_id`, as SEEK sees it now."""
    data = await graphql.query(PROFILE_ACCESS, {"id": profile_id}, session_id=session_id)
    if data.get("candidateProfile") is None:
        return Access.GONE
    try:
        profile = ProfileAccess.model_validate(data["candidateProfile"])
    except ValidationError:
        raise MalformedResponseError("candidateProfile is not {attachments, position}") from None
    position = profile.associated_position_profile
    hirers = [o.id.value for o in position.position_organizations] if position else []
    if not hirers or hirers[0] != hirer_id:
        return Access.OTHER_HIRER
    if url not in {a.url for a in profile.attachments}:
        return Access.GONE
    return Access.ALLOWED
