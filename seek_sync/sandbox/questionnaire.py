"""Questionnaires (one per job ad) and candidates' submissions, shaped after SEEK's schema.

A job ad's `ApplicationQuestionnaire` has FreeText, SingleSelect and MultiSelect questions and a
privacy consent component; every application to that job answers the same components. Scores follow
SEEK's documentation: FreeText is unscored (null), SingleSelect is 1 or 0 (a preferred choice or
not), MultiSelect is the fraction of the preferred choices selected, and the submission's score is
the mean of the scored responses (null when none is scored). For custom questions SEEK sets
`selectedIndicator` equal to `preferredIndicator`; the candidate's picks are the answers' choices.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from seek_sync.sandbox import corpus

Token = Callable[[int], str]


@dataclass
class Choice:
    id: str
    text: str
    value: str | None
    preferred: bool


@dataclass
class Component:
    id: str
    type_code: str  # "Question" | "PrivacyConsent"
    value: str | None  # the partner's own id for the component, if it gave one
    question_html: str = ""
    response_type: str = ""  # "FreeText" | "SingleSelect" | "MultiSelect"
    choices: list[Choice] = field(default_factory=list)
    source_code: str = "Custom"
    privacy_policy_url: str = ""
    description_html: str | None = None


@dataclass
class Questionnaire:
    id: str
    hirer_id: str
    components: list[Component]


@dataclass
class Answer:
    answer: str
    choice: Choice | None


@dataclass
class Response:
    component: Component
    answers: list[Answer] = field(default_factory=list)
    score: float | None = None
    consent_given: bool | None = None  # privacy consent responses only


@dataclass
class Submission:
    questionnaire: Questionnaire
    responses: list[Response]
    score: float | None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def _question(
    rng: random.Random,
    token: Token,
    text: str,
    response_type: str,
    texts: list[str],
    best: list[int],
) -> Component:
    choices = [
        Choice(token(22), t, _slug(t) if rng.random() < 0.5 else None, i in best)
        for i, t in enumerate(texts)
    ]
    return Component(
        id=token(22),
        type_code="Question",
        value=_slug(text) if rng.random() < 0.5 else None,
        question_html=f"<p>{text}</p>",
        response_type=response_type,
        choices=choices,
    )


def make_questionnaire(
    rng: random.Random, scheme_id: str, hirer_id: str, token: Token
) -> Questionnaire | None:
    """A job ad's questionnaire, or None for an ad posted without one (about one in six)."""
    if rng.random() < 0.15:
        return None
    free = _question(rng, token, rng.choice(corpus.FREE_TEXT_QUESTIONS), "FreeText", [], [])
    single = _question(rng, token, *_pick(rng, corpus.SINGLE_SELECT_QUESTIONS, "SingleSelect"))
    multi = _question(rng, token, *_pick(rng, corpus.MULTI_SELECT_QUESTIONS, "MultiSelect"))
    consent = Component(
        id=token(22),
        type_code="PrivacyConsent",
        value=None,
        privacy_policy_url=rng.choice(corpus.PRIVACY_POLICY_URLS),
        description_html=rng.choice(corpus.CONSENT_HTML),
    )
    components = [free, single, multi, consent]
    return Questionnaire(
        f"{scheme_id}:applicationQuestionnaire:rrv2:{token(22)}", hirer_id, components
    )


def _pick(
    rng: random.Random, options: list[tuple[str, list[str], list[int]]], response_type: str
) -> tuple[str, str, list[str], list[int]]:
    text, texts, best = rng.choice(options)
    return text, response_type, texts, best


def _respond(rng: random.Random, component: Component) -> Response:
    if component.type_code == "PrivacyConsent":
        return Response(component, consent_given=rng.random() < 0.95)
    if component.response_type == "FreeText":
        return Response(component, [Answer(rng.choice(corpus.FREE_TEXT_ANSWERS), None)], None)
    count = (
        1 if component.response_type == "SingleSelect" else rng.randint(1, len(component.choices))
    )
    picked = sorted(rng.sample(range(len(component.choices)), k=count))
    chosen = [component.choices[i] for i in picked]
    preferred = [c for c in component.choices if c.preferred]
    hits = sum(1 for c in chosen if c.preferred)
    if component.response_type == "SingleSelect":
        score: float | None = 1.0 if hits else 0.0
    else:
        score = round(hits / len(preferred), 4) if preferred else None
    return Response(component, [Answer(c.text, c) for c in chosen], score)


def make_submission(rng: random.Random, questionnaire: Questionnaire | None) -> Submission | None:
    """A candidate's answers to the job's questionnaire (None when the job has none)."""
    if questionnaire is None:
        return None
    responses = [_respond(rng, c) for c in questionnaire.components]
    scores = [r.score for r in responses if r.score is not None]
    overall = round(sum(scores) / len(scores), 4) if scores else None
    return Submission(questionnaire, responses, overall)
