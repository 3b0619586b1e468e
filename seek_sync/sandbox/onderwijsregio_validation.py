"""Request validation of the Onderwijsregio fake against the JSON Schema it serves.

Draft 2020-12 (the `jsonschema` package) plus one keyword of ours, `x-maxDecodedBytes`. Each error
is reported as `{field, message}`: the field as a path (`[0].curriculumVitae`,
`otherAttachments[2].data`) and a short message that never repeats the offending value (it may be
megabytes of base64, or a candidate's personal data).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from seek_sync.sandbox.onderwijsregio_schema import request_schema

_UNEXPECTED = re.compile(r"'([^']*)'")
_DATA_URI = re.compile(r"^data:([^;,]+)((?:;[^;,]*)*);base64,", re.IGNORECASE)
MAX_ERRORS = 20


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def decoded_size(value: str) -> int:
    """Decoded byte count of a data URI's base64 part; ValueError when it is not valid base64."""
    encoded = value.partition(",")[2]
    try:
        return len(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None


def _max_decoded(
    validator: Validator, limit: int, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not isinstance(instance, str) or not instance.startswith("data:"):
        return
    try:
        size = decoded_size(instance)
    except ValueError as error:
        yield ValidationError(str(error))
        return
    if size > limit:
        yield ValidationError(f"decoded size {size} bytes is over the {limit}-byte data limit")


OnderwijsregioValidator = validators.extend(
    Draft202012Validator, {"x-maxDecodedBytes": _max_decoded}
)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def _explain_data_uri(value: Any, schema: dict[str, Any]) -> str:
    match = _DATA_URI.match(value) if isinstance(value, str) else None
    if match is None:
        return "must be a data URI: data:<mime type>;base64,<data>"
    mime = match.group(1)
    if mime not in schema.get("x-allowedMimeTypes", ()):
        return f"MIME type {mime!r} is not allowed"
    return "is not valid base64"


def _messages(error: ValidationError, attachment: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) pairs for one error, without echoing the instance."""
    field, keyword = _path(error.absolute_path), str(error.validator)
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        names = _UNEXPECTED.findall(error.message.partition("(")[2]) or [""]
        return [(_join(field, name), "is not an allowed field") for name in names]
    return [_message(error, attachment)]


def _message(error: ValidationError, attachment: dict[str, Any]) -> tuple[str, str]:
    field, keyword, value = _path(error.absolute_path), str(error.validator), error.validator_value
    custom = error.schema.get("x-errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        return field, custom
    if isinstance(custom, dict) and keyword in custom:
        return field, custom[keyword]
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((p for p in value if p not in instance), "")
        return _join(field, missing), "is required"
    if keyword == "pattern" and isinstance(error.schema, dict):
        if error.schema.get("x-kind") == "dataUri":
            return field, _explain_data_uri(error.instance, attachment)
        return field, "has an invalid format"
    templates = {
        "type": f"must be of type {value}",
        "minLength": "must not be empty" if value == 1 else f"must be at least {value} characters",
        "maxLength": f"must be at most {value} characters",
        "minItems": f"must have at least {value} item(s)",
        "maxItems": f"must have at most {value} items",
        "minProperties": "must not be empty",
        "uniqueItems": "must not contain duplicates",
        "oneOf": "must match exactly one allowed form",
        "anyOf": "must match one of the allowed forms",
        "x-maxDecodedBytes": error.message,
    }
    return field, templates.get(keyword, f"fails the {keyword!r} rule")


class SchemaValidator:
    """Validates bodies against one served schema document, re-rooted per request kind."""

    def __init__(self, served: dict[str, Any]) -> None:
        self.served = served
        OnderwijsregioValidator.check_schema(served)
        self._by_definition: dict[str, Validator] = {}

    def _validator(self, definition: str) -> Validator:
        if definition not in self._by_definition:
            schema = request_schema(self.served, definition)
            self._by_definition[definition] = OnderwijsregioValidator(schema)
        return self._by_definition[definition]

    def errors(self, definition: str, body: Any) -> list[FieldError]:
        """Every violation (at most MAX_ERRORS), ordered by field path."""
        attachment = self.served["$defs"].get("attachment", {})
        found = []
        for error in self._validator(definition).iter_errors(body):
            found += [FieldError(f, m) for f, m in _messages(error, attachment)]
            if len(found) >= MAX_ERRORS:
                break
        return sorted(set(found), key=lambda e: (e.field, e.message))
