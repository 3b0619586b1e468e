"""`seek-sync cluster up|down`: the whole distributed deployment on one machine, in one command.

The sandbox, a moto S3, two receivers, a code server, `dagster-webserver`, `dagster-daemon` and
two `seek-sync worker` processes, each its own process group with its own working and temporary
directory and only its own role's settings, against the machine's PostgreSQL (a database of the
cluster's own), RabbitMQ (a queue of its own) and Redis. `config.py` names things and keeps the
state file, `processes.py` starts, checks and stops processes, `roles.py` gives each its
environment, `up.py` and `down.py` bring it up and tear it down, `existing.py` lets it run on a
database, bucket and sandbox that exist already (a home moved up), `view.py` reads a running one
and `demo.py` runs the demo's flow and count check on it. docs/deploying.md, "A local cluster in
one command".
"""
