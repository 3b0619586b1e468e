"""Onderwijsregio v2 fake: its settings, every unconfirmed wire assumption, and the JSON Schema.

Written from `reference/ats-apis.md` §1 and seed 002, never from our client. What the reference
marks unconfirmed is a named constant here and the default of a field of `OnderwijsregioConfig`,
so one change moves the served schema, the request validator and the engine together.

`GET /schema` serves `candidate_schema(config)`; every write is validated against that same document
(`onderwijsregio_validation.validate`), with one extension a stock JSON Schema validator ignores:
`x-maxDecodedBytes` (the base64 data limit, counted on the decoded bytes).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# --- confirmed (seed 002, ats-apis.md §1) ---------------------------------------------------------
ATTACHMENT_FIELDS = ("curriculumVitae", "otherAttachments")
# fmt: off
ALLOWED_MIME_TYPES: tuple[str, ...] = (
    # Images
    "image/png", "image/jpeg", "image/webp", "image/gif", "image/heic", "image/heif",
    # PDFs
    "application/pdf",
    # Word / Office
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    # Spreadsheets
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # Presentations
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    # Text
    "text/plain", "text/markdown", "text/csv", "application/rtf",
    # Structured text
    "application/json", "application/xml",
)
# fmt: on
MAX_CANDIDATES_PER_CREATE = 10
MAX_PAGE_SIZE = 100

# --- ASSUMPTIONS (unconfirmed; each is also a setting below) -------------------------------------
ATTACHMENT_FILENAME_FIELD = "filename"  # attachment item: the file's name
ATTACHMENT_DATA_FIELD = "data"  # attachment item: `data:<mime>;base64,<...>`
ATTACHMENT_URL_FIELD = "url"  # attachment item: a public http(s) URL the engine fetches
DELETE_IDS_FIELD = (
    "attachmentIds"  # DELETE /candidates/{id}/attachments body: {attachmentIds: [..]}
)
DATA_LIMIT_BYTES = 5_000_000  # "5MB" read as decimal megabytes (the stricter reading)
URL_LIMIT_BYTES = 25_000_000  # "25MB" likewise
MAX_FILES_PER_FIELD = 5
IDEMPOTENCY_BODY_FIELD = "idempotencyKey"  # top-level field of an object body ...
IDEMPOTENCY_HEADER = "Idempotency-Key"  # ... or this header, for any body; the header wins
CALLBACK_BODY_FIELD = "callbackUrl"  # likewise for the callback URL
CALLBACK_HEADER = "x-callback-url"
SANDBOX_HEADER = "x-api-sandbox"  # confirmed name; honoured under /candidates only
INFLIGHT_REPLAY_STATUS = 202  # same key again while the first is still queued or running
VALIDATION_STATUS = 422  # a payload that fails the schema
UPSERT_TAKES_ATTACHMENTS = True  # upsert accepts inline attachments (appended when it updates)
CANDIDATE_ID_PREFIX = "rec"  # Airtable record ids: `rec` + 14 alphanumerics
ATTACHMENT_ID_PREFIX = "att"


class OnderwijsregioConfig(BaseModel):
    """Settings of the fake; every default is one of the constants above."""

    api_key: str = "sandbox-onderwijsregio-key-0123456789"
    callback_secret: str = "sandbox-onderwijsregio-callback-secret-0123"
    data_limit_bytes: int = Field(default=DATA_LIMIT_BYTES, ge=1)
    url_limit_bytes: int = Field(default=URL_LIMIT_BYTES, ge=1)
    max_files_per_field: int = Field(default=MAX_FILES_PER_FIELD, ge=1)
    max_candidates_per_create: int = Field(default=MAX_CANDIDATES_PER_CREATE, ge=1)
    max_page_size: int = Field(default=MAX_PAGE_SIZE, ge=1)
    allowed_mime_types: list[str] = Field(default_factory=lambda: list(ALLOWED_MIME_TYPES))
    filename_field: str = ATTACHMENT_FILENAME_FIELD
    data_field: str = ATTACHMENT_DATA_FIELD
    url_field: str = ATTACHMENT_URL_FIELD
    delete_ids_field: str = DELETE_IDS_FIELD
    idempotency_body_field: str = IDEMPOTENCY_BODY_FIELD
    idempotency_header: str = IDEMPOTENCY_HEADER
    callback_body_field: str = CALLBACK_BODY_FIELD
    callback_header: str = CALLBACK_HEADER
    inflight_replay_status: Literal[202, 409] = INFLIGHT_REPLAY_STATUS
    validation_status: Literal[400, 422] = VALIDATION_STATUS
    upsert_takes_attachments: bool = UPSERT_TAKES_ATTACHMENTS
    # The mutation engine.
    mutation_delay_seconds: float = Field(default=0.05, ge=0)
    fetch_timeout_seconds: float = Field(default=15.0, gt=0)
    callback_attempts: int = Field(default=4, ge=1)
    callback_backoff_seconds: float = Field(default=0.1, ge=0)
    callback_timeout_seconds: float = Field(default=5.0, gt=0)
    # Find each create's caller pid (`onderwijsregio_creates`): a scan of the host's connections.
    record_callers: bool = False


SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Operation (`?operation=`) → the definition the served document's root points at.
OPERATIONS = {"create": "candidate", "update": "candidateUpdate"}

_PERSON: dict[str, dict[str, Any]] = {
    "firstName": {"type": "string", "minLength": 1, "maxLength": 200},
    "lastName": {"type": "string", "maxLength": 200},
    "email": {
        "type": "string",
        "maxLength": 254,
        "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        "x-errorMessage": {"pattern": "must be an email address"},
    },
    "phone": {
        "type": "string",
        "maxLength": 40,
        "pattern": r"^\+?[0-9 ().-]{6,}$",
        "x-errorMessage": {"pattern": "must be a phone number"},
    },
    "city": {"type": "string", "maxLength": 200},
    "postalCode": {"type": "string", "maxLength": 20},
    "linkedinUrl": {"type": "string", "pattern": r"^https?://", "maxLength": 2048},
    "motivation": {"type": "string", "maxLength": 100_000},
    "source": {"type": "string", "maxLength": 200},
}


def data_uri_pattern(allowed: list[str]) -> str:
    """`data:<allowed mime>[;k=v]*;base64,<base64>` as an ECMA-262-compatible pattern."""
    mimes = "|".join(m.replace(".", r"\.").replace("+", r"\+") for m in allowed)
    return (
        rf"^data:(?:{mimes})(?:;[A-Za-z0-9_.+-]+=[A-Za-z0-9_.+-]+)*;base64,[A-Za-z0-9+/]*={{0,2}}$"
    )


def _attachment(config: OnderwijsregioConfig) -> dict[str, Any]:
    name, data, url = config.filename_field, config.data_field, config.url_field
    return {
        "type": "object",
        "description": f"`{name}` plus exactly one of `{data}` (base64 data URI) or `{url}`.",
        "properties": {
            name: {"type": "string", "minLength": 1, "maxLength": 255},
            data: {
                "type": "string",
                "pattern": data_uri_pattern(config.allowed_mime_types),
                "x-maxDecodedBytes": config.data_limit_bytes,
                "x-kind": "dataUri",
                "description": f"Decoded size at most {config.data_limit_bytes} bytes.",
            },
            url: {
                "type": "string",
                "pattern": r"^https?://[^\s]+$",
                "maxLength": 2048,
                "x-maxFetchedBytes": config.url_limit_bytes,
                "x-errorMessage": {"pattern": "must be an http(s) URL"},
                "description": (
                    f"Fetched when the mutation runs: at most {config.url_limit_bytes} bytes, "
                    "Content-Type in the allow-list."
                ),
            },
        },
        "required": [name],
        "oneOf": [{"required": [data]}, {"required": [url]}],
        "additionalProperties": False,
        "x-errorMessage": {"oneOf": f"exactly one of '{data}' or '{url}' is required"},
        "x-allowedMimeTypes": list(config.allowed_mime_types),
    }


def _defs(config: OnderwijsregioConfig) -> dict[str, Any]:
    files = {
        "type": "array",
        "maxItems": config.max_files_per_field,
        "items": {"$ref": "#/$defs/attachment"},
        "x-errorMessage": {"maxItems": f"at most {config.max_files_per_field} files per field"},
    }
    nonempty = {"$ref": "#/$defs/attachmentList", "minItems": 1}
    with_files = {**_PERSON, **{f: {"$ref": "#/$defs/attachmentList"} for f in ATTACHMENT_FIELDS}}
    nullable = {k: {**v, "type": [v["type"], "null"]} for k, v in _PERSON.items()}
    control = {
        config.idempotency_body_field: {"type": "string", "minLength": 1, "maxLength": 255},
        config.callback_body_field: {
            "type": "string",
            "pattern": r"^https?://[^\s]+$",
            "x-errorMessage": {"pattern": "must be an http(s) URL"},
        },
    }
    upsert_fields = with_files if config.upsert_takes_attachments else _PERSON
    one_field = "at least one of curriculumVitae or otherAttachments is required"
    return {
        "attachment": _attachment(config),
        "attachmentList": files,
        "candidate": {
            "type": "object",
            "properties": with_files,
            "required": ["firstName"],
            "additionalProperties": False,
        },
        "candidateUpdate": {
            "type": "object",
            "properties": nullable,
            "minProperties": 1,
            "additionalProperties": False,
            "description": "PATCH semantics; inline attachments are not accepted on update.",
        },
        "createRequest": {
            "type": "array",
            "minItems": 1,
            "maxItems": config.max_candidates_per_create,
            "items": {"$ref": "#/$defs/candidate"},
        },
        "upsertRequest": {
            "type": "object",
            "properties": {**upsert_fields, **control},
            "required": ["firstName"],
            "anyOf": [{"required": ["email"]}, {"required": ["phone"]}],
            "additionalProperties": False,
            "x-errorMessage": {"anyOf": "email or phone is required to match on"},
        },
        "attachmentsRequest": {
            "type": "object",
            "properties": {**{f: nonempty for f in ATTACHMENT_FIELDS}, **control},
            "anyOf": [{"required": [f]} for f in ATTACHMENT_FIELDS],
            "additionalProperties": False,
            "x-errorMessage": {"anyOf": one_field},
        },
        "deleteAttachmentsRequest": {
            "type": "object",
            "properties": {
                config.delete_ids_field: {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"type": "string", "minLength": 1},
                },
                **control,
            },
            "required": [config.delete_ids_field],
            "additionalProperties": False,
        },
    }


def candidate_schema(config: OnderwijsregioConfig, operation: str = "create") -> dict[str, Any]:
    """The document `GET /schema[?operation=update]` serves; its `$defs` validate every write."""
    root = OPERATIONS.get(operation, "candidate")
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Candidate" if root == "candidate" else "Candidate update",
        "$ref": f"#/$defs/{root}",
        "$defs": _defs(config),
    }


def request_schema(served: dict[str, Any], definition: str) -> dict[str, Any]:
    """The served document re-rooted at one of its definitions (same `$defs`, same rules)."""
    return {**served, "$ref": f"#/$defs/{definition}"}
