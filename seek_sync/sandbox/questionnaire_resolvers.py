"""Field resolvers for SEEK's questionnaire types (`questionnaire.py` objects), bound by
`type_resolvers.bind` with the rest: a job ad's `ApplicationQuestionnaire` and a candidate's
`ApplicationQuestionnaireSubmission`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seek_sync.sandbox.questionnaire import Component, Response

Resolver = Callable[..., Any]


def _ident(value: str) -> dict[str, str]:
    return {"value": value}


QUESTIONNAIRE: dict[str, Resolver] = {
    "id": lambda q, _: _ident(q.id),
    "hirer": lambda q, info: info.context.world.hirers[q.hirer_id],
}
COMPONENT: dict[str, Resolver] = {
    "id": lambda c, _: _ident(c.id),
    "componentTypeCode": lambda c, _: c.type_code,
}
QUESTION: dict[str, Resolver] = {
    **COMPONENT,
    "responseTypeCode": lambda c, _: c.response_type,
    "responseChoice": lambda c, _: c.choices,
}
CONSENT: dict[str, Resolver] = {
    **COMPONENT,
    "privacyPolicyUrl": lambda c, _: {"url": c.privacy_policy_url},
}
CHOICE: dict[str, Resolver] = {
    "id": lambda c, _: _ident(c.id),
    "preferredIndicator": lambda c, _: c.preferred,
    "selectedIndicator": lambda c, _: c.preferred,  # custom questions: always the same
}
RESPONSE: dict[str, Resolver] = {"componentTypeCode": lambda r, _: r.component.type_code}
CONSENT_RESPONSE: dict[str, Resolver] = {
    **RESPONSE,
    "consentGivenIndicator": lambda r, _: r.consent_given,
}

OBJECTS: dict[str, dict[str, Resolver]] = {
    "ApplicationQuestionnaire": QUESTIONNAIRE,
    "ApplicationQuestion": QUESTION,
    "ApplicationPrivacyConsent": CONSENT,
    "ApplicationQuestionChoice": CHOICE,
    "ApplicationQuestionResponse": RESPONSE,
    "ApplicationPrivacyConsentResponse": CONSENT_RESPONSE,
}


def _component_type(code: str) -> str:
    return "ApplicationQuestion" if code == "Question" else "ApplicationPrivacyConsent"


def _component(component: Component, *_: Any) -> str:
    return _component_type(component.type_code)


def _response(response: Response, *_: Any) -> str:
    return _component_type(response.component.type_code) + "Response"


INTERFACES: dict[str, Resolver] = {
    "ApplicationQuestionnaireComponent": _component,
    "ApplicationQuestionnaireComponentResponse": _response,
}
