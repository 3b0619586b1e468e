"""Local, faithful fakes of SEEK (and later the ATSs) served over real HTTP on loopback.

Written from the API documents in `shared/reference`, never from our clients: nothing here imports
`seek_sync.seek` or `seek_sync.ats`.
"""
