"""What the leak test captures besides the run: every logger at DEBUG, and each bearer
credential the run derives (partner tokens, signed blob and proxy URL signatures) as it is made."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest

from seek_sync.pipeline.on_demand import OnDemandSource
from seek_sync.sandbox.tokens import TokenGrant, TokenIssuer
from seek_sync.store.signed_urls import SignedBlobSource


@contextmanager
def every_logger_at_debug(handler: logging.Handler) -> Iterator[None]:
    """Root and every existing logger at DEBUG; `handler` also on those that do not propagate."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    extra = [lg for lg in loggers if not lg.propagate]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    for lg in extra:
        lg.addHandler(handler)
    try:
        yield
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
        for lg in extra:
            lg.removeHandler(handler)


def record_derived_credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fills, as the run goes, with each partner token the sandbox issues and each signed blob
    URL's signature (bearer credentials while they live)."""
    found: dict[str, str] = {}
    issue, sign = TokenIssuer.issue, SignedBlobSource.signed_url
    sign_proxy = OnDemandSource.signed_url

    def issuing(self: TokenIssuer) -> TokenGrant:
        grant = issue(self)
        found[f"partner token {grant.access_token[:8]}..."] = grant.access_token
        return grant

    def signing(
        self: SignedBlobSource, blob_key: str, content_type: str, *, now: float | None = None
    ) -> str:
        url = sign(self, blob_key, content_type, now=now)
        signature = parse_qs(urlsplit(url).query)["signature"][0]
        found[f"blob URL signature {signature[:8]}..."] = signature
        return url

    def signing_proxy(
        self: OnDemandSource, blob_key: str, content_type: str, *, now: float | None = None
    ) -> str:
        url = sign_proxy(self, blob_key, content_type, now=now)
        if blob_key in self.files:
            signature = url.rsplit(".", 1)[1]
            found[f"proxy URL signature {signature[:8]}..."] = signature
        return url

    monkeypatch.setattr(TokenIssuer, "issue", issuing)
    monkeypatch.setattr(SignedBlobSource, "signed_url", signing)
    monkeypatch.setattr(OnDemandSource, "signed_url", signing_proxy)
    return found
