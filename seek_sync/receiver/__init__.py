"""The receiver role: the internet-facing ASGI app (`seek-sync receiver serve`).

- `app`: the Starlette app, `POST /webhooks/seek` (signed SEEK events into the inbox), `GET
  /healthz`, and `serve`.
- `ats_routes`: `POST /callbacks/onderwijsregio` (signed mutation results into the inbox) and
  `GET /blobs/{key}` (signed, expiring file URLs an ATS fetches).
- `body`: request bodies capped before they are read.
- `config`: what the receiver reads at start besides its settings (callback secrets per hirer).

It reads only `ReceiverSettings`: no SEEK partner credential, no ATS key. No Dagster here.
"""
