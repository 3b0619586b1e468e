"""Field and type resolvers from the world's objects to SEEK's GraphQL types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema

from seek_sync.sandbox.world import (
    Application,
    AttachmentRecord,
    Candidate,
    Hirer,
    StreamEvent,
    World,
)

Resolver = Callable[..., Any]


def _world(info: Any) -> World:
    return info.context.world


def _ident(value: str) -> dict[str, str]:
    return {"value": value}


def _event_profile(event: StreamEvent, info: Any) -> Application | None:
    from seek_sync.sandbox.graphql_api import _profile

    return _profile(_world(info), event.profile_id or "") if event.profile_id else None


def _event_candidate(event: StreamEvent, info: Any) -> Candidate | None:
    from seek_sync.sandbox.graphql_api import resolve_candidate

    return resolve_candidate(None, info, event.candidate_id or "")


def _event_hirer(event: StreamEvent, info: Any) -> Hirer | None:
    from seek_sync.sandbox.graphql_api import resolve_hiring_organization

    return resolve_hiring_organization(None, info, event.hirer_id)


EVENT: dict[str, Resolver] = {
    "id": lambda e, _: _ident(e.id),
    "typeCode": lambda e, _: e.type_code,
    "schemeId": lambda e, info: _world(info).scheme_id,
    "createDateTime": lambda e, _: e.create_date_time,
    "candidateApplicationProfileId": lambda e, _: e.profile_id,
    "candidateId": lambda e, _: e.candidate_id,
    "candidate": _event_candidate,
    "candidateApplicationProfile": _event_profile,
    "hirerId": lambda e, _: e.hirer_id,
    "hirer": _event_hirer,
}


def _attachment(record: AttachmentRecord, info: Any) -> dict[str, Any]:
    path = f"/anzPublicTest/applications/{record.application_id}/attachments/{record.id}"
    return {
        "id": _ident(record.id),
        "url": info.context.origin + path,
        "descriptions": record.descriptions,
        "seekRoleCode": record.role,
    }


PROFILE: dict[str, Resolver] = {
    "profileId": lambda a, _: _ident(a.profile_id),
    "candidate": lambda a, info: _world(info).candidates[a.candidate_id],
    "createDateTime": lambda a, _: a.create_date_time,
    "updateDateTime": lambda a, _: a.update_date_time,
    "associatedPositionProfile": lambda a, info: _world(info).jobs.get(a.job_id),
    "employment": lambda a, _: a.content["employment"],
    "education": lambda a, _: a.content["education"],
    "certifications": lambda a, _: a.content["certifications"],
    "qualifications": lambda a, _: a.content["qualifications"],
    "attachments": lambda a, info: [_attachment(r, info) for r in a.attachments],
    "seekQuestionnaireSubmission": lambda a, _: a.questionnaire,
}


def _profiles(candidate: Candidate, info: Any, last: int = 10) -> list[Application]:
    mine = [a for a in _world(info).applications.values() if a.candidate_id == candidate.id]
    return sorted(mine, key=lambda a: a.create_date_time)[-last:]


CANDIDATE: dict[str, Resolver] = {
    "documentId": lambda c, _: _ident(c.id),
    "person": lambda c, _: c.person,
    "profiles": _profiles,
    "seekPrimaryEmailAddress": lambda c, _: None,
}

POSITION: dict[str, Resolver] = {
    "profileId": lambda j, _: _ident(j.id),
    "positionTitle": lambda j, _: j.title,
    "positionUri": lambda j, _: j.position_uri,
    "seekHirerJobReference": lambda j, _: j.seek_hirer_job_reference,
    "positionOrganizations": lambda j, info: [_world(info).hirers[j.hirer_id]],
}

HIRER: dict[str, Resolver] = {
    "id": lambda h, _: _ident(h.id),
    "name": lambda h, _: h.name,
    "seekApiCapabilities": lambda h, _: {
        "relationshipTypeCodes": ["ApplicationExport"] if h.relationship else []
    },
}

OBJECTS: dict[str, dict[str, Resolver]] = {
    "CandidateApplicationCreatedEvent": EVENT,
    "HirerRelationshipChangedEvent": EVENT,
    "CandidateProfile": PROFILE,
    "Candidate": CANDIDATE,
    "PostedPositionProfile": POSITION,
    "HiringOrganization": HIRER,
}

INTERFACES: dict[str, Resolver] = {
    "Event": lambda e, *_: f"{e.type_code}Event",
    "PositionProfile": lambda *_: "PostedPositionProfile",
    "ApplicationQuestionnaireComponent": lambda c, *_: (
        "ApplicationQuestion"
        if c["componentTypeCode"] == "Question"
        else "ApplicationPrivacyConsent"
    ),
    "ApplicationQuestionnaireComponentResponse": lambda r, *_: (
        "ApplicationQuestionResponse"
        if r["componentTypeCode"] == "Question"
        else "ApplicationPrivacyConsentResponse"
    ),
}


def bind(schema: GraphQLSchema) -> None:
    """Attach the resolvers above to the parsed SDL."""
    for type_name, resolvers in OBJECTS.items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, field in graphql_type.fields.items():
            if field_name in resolvers:
                field.resolve = resolvers[field_name]
    for type_name, resolve_type in INTERFACES.items():
        interface = schema.type_map[type_name]
        assert isinstance(interface, GraphQLInterfaceType)
        interface.resolve_type = resolve_type
