"""`/_sandbox/kombo/...`: the Kombo fake's control surface (state, fault rules, stored files)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from seek_sync.sandbox.kombo_data import KomboFault
from seek_sync.sandbox.received import NOT_KEPT

if TYPE_CHECKING:
    from seek_sync.sandbox.kombo import KomboFake

ADMIN = "/_sandbox/kombo"


class KomboAdmin:
    """The admin handlers over one Kombo fake."""

    def __init__(self, fake: KomboFake) -> None:
        self.fake = fake

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get(f"{ADMIN}/state", self.state, name="admin.kombo.state")
        r.add_post(f"{ADMIN}/faults", self.add_faults, name="admin.kombo.faults.add")
        r.add_delete(f"{ADMIN}/faults", self.clear, name="admin.kombo.faults.clear")
        r.add_get(f"{ADMIN}/files/{{attachment_id}}", self.file, name="admin.kombo.file")

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(self.fake.snapshot())

    async def add_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            items = body if isinstance(body, list) else [body]
            faults = [KomboFault.model_validate(item) for item in items]
        except (ValueError, json.JSONDecodeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        for fault in faults:
            self.fake.faults.add(fault)
        return web.json_response({"added": len(faults), "faults": self.fake.faults.describe()})

    async def clear(self, request: web.Request) -> web.Response:
        self.fake.faults.clear()
        return web.json_response({"ok": True})

    async def file(self, request: web.Request) -> web.Response:
        wanted = request.match_info["attachment_id"]
        found = next((a for a in self.fake.attachments() if a.id == wanted), None)
        if found is None:
            return web.json_response({"error": "unknown attachment"}, status=404)
        data = self.fake.store.received.read(found.sha256)
        if data is None:
            return web.json_response({"error": NOT_KEPT}, status=404)
        return web.Response(body=data, content_type=found.content_type)
