"""Field resolvers from the world's objects to SEEK's GraphQL types, and SEEK's access rules.

Fields not listed here use `field_resolver`: the snake_case attribute of an object, or the key of a
dict. Access follows SEEK: candidate data needs an ApplicationExport relationship with its hirer,
a hirer and its job ads need any relationship; otherwise the field is null with a FORBIDDEN error
at its path (the rest of the response is kept). A deleted candidate or application reads as SEEK
redacts it (`world_deletion.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from graphql import GraphQLError, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema

from seek_sync.sandbox import questionnaire_resolvers
from seek_sync.sandbox.world import (
    Application,
    AttachmentRecord,
    Candidate,
    Certification,
    Hirer,
    Job,
    Person,
    StreamEvent,
    World,
)
from seek_sync.sandbox.world_deletion import seen_through

Resolver = Callable[..., Any]
ROLE_ENUM = {
    "Resume": "RESUME",
    "CoverLetter": "COVER_LETTER",
    "SelectionCriteria": "SELECTION_CRITERIA",
}


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def forbidden(what: str) -> GraphQLError:
    return GraphQLError(
        f"No relationship with the hirer of this {what}", extensions={"code": "FORBIDDEN"}
    )


def world_of(info: Any) -> World:
    return info.context.world


# --- access rules (shared by root fields and nested fields) -----------------------------------
def profile_for(world: World, profile_id: str | None, *, count: bool = False) -> Application | None:
    if count:  # a `candidateProfile` query (tests count what a client asked for, by id)
        world.profile_reads[profile_id or ""] += 1
    application = world.applications.get(profile_id or "")
    if application is not None and not world.has_relationship(application.hirer_id):
        raise forbidden("candidate profile")
    return application


def candidate_for(world: World, candidate_id: str | None) -> Candidate | None:
    candidate = world.candidates.get(candidate_id or "")
    if candidate is not None and not world.has_relationship(candidate.hirer_id):
        raise forbidden("candidate")
    return candidate


def job_for(world: World, job_id: str) -> Job | None:
    job = world.jobs.get(job_id)
    if job is not None and not world.has_any_relationship(job.hirer_id):
        raise forbidden("position profile")
    return job


def hirer_for(world: World, hirer_id: str) -> Hirer | None:
    hirer = world.hirers.get(hirer_id)
    if hirer is not None and not world.has_any_relationship(hirer_id):
        raise forbidden("hiring organization")
    return hirer


# --- the default resolver ----------------------------------------------------------------------
@cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def field_resolver(source: Any, info: Any, **_args: Any) -> Any:
    if isinstance(source, dict):
        return source.get(info.field_name)
    return getattr(source, _snake(info.field_name), None)


def _ident(value: str) -> dict[str, str]:
    return {"value": value}


# --- object types --------------------------------------------------------------------------------
EVENT: dict[str, Resolver] = {
    "id": lambda e, _: _ident(e.id),
    "schemeId": lambda e, info: world_of(info).scheme_id,
}


def _event_candidate(world: World, event: StreamEvent) -> Candidate | None:
    """The event's candidate, as its application shows it (redacted once that is deleted)."""
    candidate = candidate_for(world, event.candidate_id)
    application = world.applications.get(event.profile_id or "")
    return candidate and seen_through(candidate, application)


APPLICATION_EVENT: dict[str, Resolver] = {
    **EVENT,
    "candidateApplicationProfileId": lambda e, _: e.profile_id,
    "candidate": lambda e, info: _event_candidate(world_of(info), e),
    "candidateApplicationProfile": lambda e, info: profile_for(world_of(info), e.profile_id),
}
RELATIONSHIP_EVENT: dict[str, Resolver] = {
    **EVENT,
    "hirer": lambda e, info: hirer_for(world_of(info), e.hirer_id),
}


def _profiles(candidate: Candidate, info: Any, last: int | None = None) -> list[Application]:
    """Up to `last` (default 10) of the candidate's profiles with this hirer, latest last;
    deleted ones left out (SEEK: "an empty/filtered list")."""
    count = 10 if last is None else last
    if count < 0:
        raise bad_input("last must not be negative")
    profiles = [a for a in world_of(info).profiles_of(candidate.id) if not a.deleted]
    return profiles[-count:] if count else []


def _communication(person: Person) -> dict[str, Any]:
    """Each array empty when the person has none (a redacted person has none at all)."""
    address = {
        "city": person.city,
        "countryCode": person.country,
        "countrySubDivisions": [{"type": "State", "value": person.state}],
        "extendedLines": [{"type": "Apartment", "value": line} for line in person.extended_lines],
        "formattedAddress": person.formatted_address,
        "geoLocation": {"latitude": person.latitude, "longitude": person.longitude},
        "line": person.line,
        "postalCode": person.postcode,
    }
    return {
        "address": [address] if person.line or person.city else [],
        "email": [{"address": person.email}] if person.email else [],
        "phone": [{"formattedNumber": person.phone}] if person.phone else [],
        "seekDoNotContactIndicator": None,
    }


CANDIDATE: dict[str, Resolver] = {
    "documentId": lambda c, _: _ident(c.id),
    "profiles": _profiles,
    "distributionGuidelines": lambda c, _: {"seekProductCodes": ["CandidateManagement"]},
}
PERSON: dict[str, Resolver] = {
    "name": lambda p, _: {"formattedName": p.formatted_name, "given": p.given, "family": p.family},
    "communication": lambda p, _: _communication(p),
}


def _attachment_url(record: AttachmentRecord, info: Any) -> str:
    path = f"/anzPublicTest/applications/{record.application_id}/attachments/{record.id}"
    return info.context.origin.rstrip("/") + path


PROFILE: dict[str, Resolver] = {
    "profileId": lambda a, _: _ident(a.profile_id),
    "candidate": lambda a, info: seen_through(world_of(info).candidates[a.candidate_id], a),
    "associatedPositionProfile": lambda a, info: world_of(info).jobs.get(a.job_id),
    "candidateSources": lambda a, _: [{"name": "SEEK", "type": "SeekApplication"}],
    "qualifications": lambda a, _: [{"competencyName": name} for name in a.qualifications],
    "positionPreferences": lambda a, _: [],
    "seekActions": lambda a, _: [],
    "seekQuestionnaireSubmission": lambda a, _: a.submission,
}
EMPLOYER: dict[str, Resolver] = {
    "organization": lambda e, _: {"name": e.organization},
    "positionHistories": lambda e, _: e.positions,
}
EDUCATION: dict[str, Resolver] = {
    "institution": lambda e, _: {"name": e.institution},
    "educationDegrees": lambda e, _: e.degrees,
}


def _period(cert: Certification, _: Any) -> dict[str, str] | None:
    return {"validTo": cert.valid_to} if cert.valid_to else None


CERTIFICATION: dict[str, Resolver] = {
    "effectiveTimePeriod": _period,
    "issueDate": lambda c, _: c.issued,
    "issuingAuthority": lambda c, _: {"name": c.issuing_authority} if c.issuing_authority else None,
}
ATTACHMENT: dict[str, Resolver] = {
    "id": lambda r, _: _ident(r.id),
    "url": _attachment_url,
    "seekRoleCode": lambda r, _: r.role,
    "seekRole": lambda r, _: ROLE_ENUM.get(r.role or ""),
}


def _posting(job: Job, _: Any) -> list[dict[str, Any]]:
    return [
        {
            "applicationMethods": [],
            "brandingId": None,
            "start": job.posted,
            "end": job.closes,
            "seekAnzAdvertisementType": job.ad_type,
        }
    ]


POSITION: dict[str, Resolver] = {
    "profileId": lambda j, _: _ident(j.id),
    "positionTitle": lambda j, _: j.title,
    "positionOrganizations": lambda j, info: [world_of(info).hirers[j.hirer_id]],
    "postingInstructions": _posting,
    "seekAnzWorkTypeCode": lambda j, _: j.work_type,
    "seekApplicationQuestionnaire": lambda j, _: j.questionnaire,
    "seekApplicationUri": lambda j, _: {"url": f"{j.position_uri}/apply"},
    "seekTypeCode": lambda j, _: "PostedPositionProfile",
}
HIRER: dict[str, Resolver] = {
    "id": lambda h, _: _ident(h.id),
    "seekAnzAdvertiserId": lambda h, _: h.advertiser_id,
    "seekApiCapabilities": lambda h, _: {
        "applicationMethodCodes": [],
        "relationshipTypeCodes": h.relationship_codes,
    },
}

OBJECTS: dict[str, dict[str, Resolver]] = {
    "CandidateApplicationCreatedEvent": APPLICATION_EVENT,
    "HirerRelationshipChangedEvent": RELATIONSHIP_EVENT,
    "Candidate": CANDIDATE,
    "CandidatePerson": PERSON,
    "CandidateProfile": PROFILE,
    "EmployerHistory": EMPLOYER,
    "EducationAttendance": EDUCATION,
    "EducationDegree": {"degreeGrantedStatus": lambda d, _: d.granted_status},
    "Certification": CERTIFICATION,
    "Attachment": ATTACHMENT,
    "PostedPositionProfile": POSITION,
    "HiringOrganization": HIRER,
    **questionnaire_resolvers.OBJECTS,
}


INTERFACES: dict[str, Resolver] = {
    "Event": lambda e, *_: f"{e.type_code}Event",
    "PositionProfile": lambda *_: "PostedPositionProfile",
    **questionnaire_resolvers.INTERFACES,
}


def bind(schema: GraphQLSchema) -> None:
    """Attach the resolvers above to the parsed SDL (every name must exist in it)."""
    for type_name, resolvers in OBJECTS.items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, resolver in resolvers.items():
            if field_name not in graphql_type.fields:
                raise KeyError(f"{type_name}.{field_name} is not in schema.graphql")
            graphql_type.fields[field_name].resolve = resolver
    for type_name, resolve_type in INTERFACES.items():
        interface = schema.type_map[type_name]
        assert isinstance(interface, GraphQLInterfaceType)
        interface.resolve_type = resolve_type
