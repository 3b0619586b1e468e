"""Pydantic models of every SEEK payload we read. Unknown extra fields are tolerated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SeekModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class TokenResponse(SeekModel):
    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    token_type: str = "Bearer"


class ErrorExtensions(SeekModel):
    code: str = "UNKNOWN"


class GraphQLErrorItem(SeekModel):
    message: str = ""
    path: list[str | int] | None = None
    extensions: ErrorExtensions = Field(default_factory=ErrorExtensions)

    @property
    def code(self) -> str:
        return self.extensions.code


class GraphQLResponse(SeekModel):
    data: dict[str, Any] | None = None
    errors: list[GraphQLErrorItem] = Field(default_factory=list)


class ObjectIdentifier(SeekModel):
    value: str


# --- events ------------------------------------------------------------------------------------
class HiringOrganizationRef(SeekModel):
    id: ObjectIdentifier
    name: str | None = None


class PositionProfileRef(SeekModel):
    position_organizations: list[HiringOrganizationRef] = Field(
        default_factory=list, alias="positionOrganizations"
    )
    seek_hirer_job_reference: str | None = Field(default=None, alias="seekHirerJobReference")


class ApplicationProfileRef(SeekModel):
    associated_position_profile: PositionProfileRef | None = Field(
        default=None, alias="associatedPositionProfile"
    )


class EventNode(SeekModel):
    id: ObjectIdentifier
    type_code: str = Field(alias="typeCode")
    create_date_time: datetime = Field(alias="createDateTime")
    candidate_application_profile_id: str | None = Field(
        default=None, alias="candidateApplicationProfileId"
    )
    candidate_id: str | None = Field(default=None, alias="candidateId")
    hirer_id: str | None = Field(default=None, alias="hirerId")
    candidate_application_profile: ApplicationProfileRef | None = Field(
        default=None, alias="candidateApplicationProfile"
    )

    @property
    def hirer(self) -> str | None:
        """The event's hirer: its own `hirerId`, else the first organization of its position."""
        if self.hirer_id:
            return self.hirer_id
        profile = self.candidate_application_profile
        position = profile.associated_position_profile if profile else None
        if position and position.position_organizations:
            return position.position_organizations[0].id.value
        return None


class EventEdge(SeekModel):
    cursor: str
    stream_date_time: datetime = Field(alias="streamDateTime")
    node: EventNode


class PageInfo(SeekModel):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: str | None = Field(default=None, alias="endCursor")


class EventsConnection(SeekModel):
    edges: list[EventEdge]
    page_info: PageInfo = Field(alias="pageInfo")


# --- candidate profiles --------------------------------------------------------------------------
class Attachment(SeekModel):
    id: ObjectIdentifier
    url: str
    descriptions: list[str] = Field(default_factory=list)
    seek_role_code: str | None = Field(default=None, alias="seekRoleCode")


class PersonName(SeekModel):
    formatted_name: str | None = Field(default=None, alias="formattedName")
    given: str | None = None
    family: str | None = None


class EmailAddress(SeekModel):
    address: str


class Phone(SeekModel):
    formatted_number: str = Field(alias="formattedNumber")


class Communication(SeekModel):
    email: list[EmailAddress] = Field(default_factory=list)
    phone: list[Phone] = Field(default_factory=list)


class Person(SeekModel):
    name: PersonName
    communication: Communication = Field(default_factory=Communication)


class Candidate(SeekModel):
    document_id: ObjectIdentifier | None = Field(default=None, alias="documentId")
    person: Person


class CandidateProfile(SeekModel):
    profile_id: ObjectIdentifier = Field(alias="profileId")
    create_date_time: datetime = Field(alias="createDateTime")
    update_date_time: datetime | None = Field(default=None, alias="updateDateTime")
    candidate: Candidate
    associated_position_profile: PositionProfileRef | None = Field(
        default=None, alias="associatedPositionProfile"
    )
    employment: list[dict[str, Any]] = Field(default_factory=list)
    education: list[dict[str, Any]] = Field(default_factory=list)
    certifications: list[dict[str, Any]] = Field(default_factory=list)
    qualifications: list[dict[str, Any]] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    seek_questionnaire_submission: dict[str, Any] | None = Field(
        default=None, alias="seekQuestionnaireSubmission"
    )

    @property
    def redacted(self) -> bool:
        """SEEK deleted the candidate or the application: names read "redacted", no family
        name, no email, phone or attachments (seek-api.md §4)."""
        person = self.candidate.person
        return (
            person.name.given == "redacted"
            and person.name.family is None
            and not person.communication.email
            and not person.communication.phone
            and not self.attachments
        )

    @property
    def hirer_id(self) -> str | None:
        position = self.associated_position_profile
        if position and position.position_organizations:
            return position.position_organizations[0].id.value
        return None


# --- hirers ---------------------------------------------------------------------------------------
class ApiCapabilities(SeekModel):
    relationship_type_codes: list[str] = Field(default_factory=list, alias="relationshipTypeCodes")


class HiringOrganization(SeekModel):
    id: ObjectIdentifier
    name: str
    seek_api_capabilities: ApiCapabilities | None = Field(default=None, alias="seekApiCapabilities")


class HiringOrganizationEdge(SeekModel):
    node: HiringOrganization


class HiringOrganizationsConnection(SeekModel):
    edges: list[HiringOrganizationEdge]
    page_info: PageInfo = Field(alias="pageInfo")
