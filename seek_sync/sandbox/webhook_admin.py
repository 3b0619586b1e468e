"""`/_sandbox/webhooks`: where the sandbox pushes new events, and what it delivered so far.

`GET` answers the routing (the subscription URL, the receiver replicas delivered to round-robin, the
share of batches duplicated) and the running totals of every delivery (batches, duplicates, 2xx
deliveries per URL), so a test counts through HTTP what reached each replica. `PUT` changes the
routing of later deliveries; one URL (no replicas) is the single-receiver setting of old.
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from pydantic import ValidationError

from seek_sync.sandbox.state import STATE
from seek_sync.sandbox.webhooks import WebhookRouting


async def get_webhooks(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {"routing": state.webhooks.model_dump(), "delivered": asdict(state.webhook_totals)}
    )


async def put_webhooks(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        state.webhooks = WebhookRouting.model_validate_json(await request.read())
    except ValidationError as error:
        return web.json_response({"error": str(error)}, status=400)
    return web.json_response({"routing": state.webhooks.model_dump()})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_sandbox/webhooks", get_webhooks, name="admin.webhooks.get")
    app.router.add_put("/_sandbox/webhooks", put_webhooks, name="admin.webhooks.put")
