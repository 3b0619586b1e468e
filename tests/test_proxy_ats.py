"""The ATS leg of the proxy over real HTTP: the sandbox's Kombo fake fetches a SEEK attachment
through a proxy URL given as `data_url`, as an on-demand push will hand it; the same URL works
again within its lifetime and an expired one is refused to the ATS."""

from __future__ import annotations

import hashlib

import pytest
from kombo import errors

from seek_sync.sandbox.kombo import kombo_fake
from seek_sync.sandbox.server import SandboxServer
from tests.proxy_helpers import proxy_settings, running_proxy, url_for
from tests.sandbox.test_browser_tokens import attachment_of, two_hirers
from tests.sandbox.test_kombo import apply, open_job, sdk
from tests.test_proxy import claims, direct


def test_kombo_fetches_a_seek_attachment_through_the_proxy(sandbox: SandboxServer) -> None:
    fake = kombo_fake(sandbox.state)
    record = attachment_of(sandbox, two_hirers(sandbox)[0])
    token = claims(sandbox)
    assert token.attachment_id == record.id
    seek_sha = hashlib.sha256(direct(sandbox, token.url).content).hexdigest()
    client = sdk(sandbox)
    with running_proxy(proxy_settings(sandbox.info())) as proxy:
        url = url_for(proxy, token)
        for _ in range(2):  # the second upload is the ATS fetching the same URL again
            application = apply(client, open_job(fake)).data
            body = {"name": "CV.pdf", "type": "CV", "data_url": url}
            client.ats.add_application_attachment(application_id=application.id, attachment=body)
            (stored,) = fake.attachments(application.id)
            assert stored.via == "data_url" and stored.sha256 == seek_sha
        expired = url_for(proxy, token.model_copy(update={"expires": 1_000_000}))
        application = apply(client, open_job(fake)).data
        with pytest.raises(errors.KomboAtsError) as refused:
            client.ats.add_application_attachment(
                application_id=application.id,
                attachment={"name": "CV.pdf", "type": "CV", "data_url": expired},
            )
        assert "HTTP 403" in refused.value.data.error.message
        assert fake.attachments(application.id) == []
