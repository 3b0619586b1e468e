"""Questionnaire submissions shaped as SEEK's `ApplicationQuestionnaireSubmission`.

Scores follow SEEK's rules: FreeText is unscored (null), SingleSelect scores 0 or 1, MultiSelect the
fraction of preferred choices selected; the overall score is the mean of the scored responses.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from seek_sync.sandbox import corpus


def _choices(
    rng: random.Random, token: Callable[[int], str], texts: list[str], pick: int
) -> list[dict[str, Any]]:
    preferred = set(rng.sample(range(len(texts)), k=max(1, len(texts) // 2)))
    selected = set(rng.sample(range(len(texts)), k=pick))
    return [
        {
            "id": {"value": token(22)},
            "text": text,
            "value": text.lower(),
            "preferredIndicator": i in preferred,
            "selectedIndicator": i in selected,
        }
        for i, text in enumerate(texts)
    ]


def _question(
    token: Callable[[int], str], html: str, response_type: str, choices: list[dict[str, Any]]
) -> dict[str, Any]:
    component_id = token(22)
    return {
        "id": {"value": component_id},
        "componentTypeCode": "Question",
        "value": component_id,
        "questionHtml": f"<p>{html}</p>",
        "responseTypeCode": response_type,
        "responseChoice": choices,
        "sourceCode": "Custom",
    }


def _answers(question: dict[str, Any]) -> tuple[list[dict[str, Any]], float | None]:
    chosen = [c for c in question["responseChoice"] if c["selectedIndicator"]]
    answers = [{"answer": c["text"], "choice": c} for c in chosen]
    preferred = [c for c in question["responseChoice"] if c["preferredIndicator"]]
    if question["responseTypeCode"] == "SingleSelect":
        return answers, 1.0 if chosen and chosen[0]["preferredIndicator"] else 0.0
    hits = sum(1 for c in chosen if c["preferredIndicator"])
    return answers, round(hits / len(preferred), 4) if preferred else None


def make_questionnaire(
    rng: random.Random, scheme_id: str, token: Callable[[int], str]
) -> dict[str, Any] | None:
    """A submission with FreeText, SingleSelect and MultiSelect questions and a privacy consent."""
    if rng.random() < 0.15:
        return None  # jobs posted without a questionnaire
    free = _question(token, rng.choice(corpus.FREE_TEXT_QUESTIONS), "FreeText", [])
    single_text, single_options = rng.choice(corpus.SINGLE_SELECT_QUESTIONS)
    single = _question(token, single_text, "SingleSelect", _choices(rng, token, single_options, 1))
    multi_text, multi_options = rng.choice(corpus.MULTI_SELECT_QUESTIONS)
    picks = rng.randint(1, len(multi_options))
    multi = _question(token, multi_text, "MultiSelect", _choices(rng, token, multi_options, picks))
    consent_id = token(22)
    consent = {
        "id": {"value": consent_id},
        "componentTypeCode": "PrivacyConsent",
        "value": consent_id,
        "privacyPolicyUrl": {"url": "https://www.example.com/privacy"},
        "descriptionHtml": "<p>I agree to the hirer's privacy policy.</p>",
    }
    responses: list[dict[str, Any]] = [
        {
            "component": free,
            "componentTypeCode": "Question",
            "answers": [
                {"answer": "I enjoy working with people and solving problems.", "choice": None}
            ],
            "score": None,
        }
    ]
    scores = []
    for question in (single, multi):
        answers, score = _answers(question)
        responses.append(
            {
                "component": question,
                "componentTypeCode": "Question",
                "answers": answers,
                "score": score,
            }
        )
        if score is not None:
            scores.append(score)
    responses.append(
        {"component": consent, "componentTypeCode": "PrivacyConsent", "consentGivenIndicator": True}
    )
    return {
        "questionnaire": {
            "id": {"value": f"{scheme_id}:applicationQuestionnaire:rrv2:{token(22)}"},
            "components": [free, single, multi, consent],
        },
        "responses": responses,
        "score": round(sum(scores) / len(scores), 4) if scores else None,
    }
