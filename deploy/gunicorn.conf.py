"""Gunicorn settings for a county: several web workers, one jobs process, PostgreSQL (docs/county-deployment.md).

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Before the first start and after every update, once: `flask --app wsgi db upgrade` (gunicorn does not
upgrade the database; `serve` does, but `serve` is the single-PC command). Settings from the environment:
WEB_CONCURRENCY (workers, default 4), HALL_THREADS (threads per worker, default 2), HALL_BIND
(default 0.0.0.0:5000), HALL_TIMEOUT (seconds, default 120), HALL_ACCESS_LOG ("-" = stdout, the default).
"""
import os

bind = [a.strip() for a in os.environ.get("HALL_BIND", "0.0.0.0:5000").split(",") if a.strip()]
# About 2 per CPU core; each worker holds up to 15 PostgreSQL connections (SQLAlchemy's pool: 5 + 10 overflow),
# so workers × 15 + a few for the jobs process and backups must stay below PostgreSQL's max_connections (100).
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Threads: a worker goes on serving while one request waits for the database, a slow phone or a long PDF (the
# app runs under waitress with 8 threads on the single PC, so it is thread-safe). Two, not more: the threads of
# one process share its interpreter lock, and on 2 cores the load test served more requests with a shorter
# tail with 2 a worker than with 4 (tests/bench/README.md, "Two threads a worker").
worker_class = "gthread"
threads = int(os.environ.get("HALL_THREADS", "2"))
# Off: each worker imports the app and opens its own database connections after the fork (a pool made
# before the fork would be shared by all workers). Nothing in create_app writes to the database.
preload_app = False
# A worker silent this long (stuck, not merely busy: with threads it keeps reporting) is killed and replaced.
timeout = int(os.environ.get("HALL_TIMEOUT", "120"))
graceful_timeout = 30      # on stop or reload, requests in progress get this long to finish
keepalive = 5
# A worker is replaced after about this many requests, one at a time: a net under a slow leak. Not sooner: a new
# worker costs about 1.7 s of CPU (importing the app, then compiling templates and SQL again), and a worker's memory
# stays level (190 MB after 400 receipts, 205 MB after 12 ledgers); at 5,000 the load test replaced each of its
# workers about once a minute.
max_requests = 50_000
max_requests_jitter = 5_000
# The access log, with the worker's pid (%(p)s) and the time taken in microseconds (%(D)s).
accesslog = os.environ.get("HALL_ACCESS_LOG", "-")
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)sus pid=%(p)s "%(a)s"'
errorlog = "-"
loglevel = "info"
proc_name = "hall-web"
# Heartbeat files in memory, not on a possibly slow disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# gunicorn ≥ 25 opens a control socket in ~/.gunicorn by default; two instances would share it.
control_socket_disable = True


def post_worker_init(worker):
    """Freeze what loading the app made (app.freeze_start_up: the garbage collector's full collections then
    walk the requests' objects only) and say the worker takes requests ("Booting worker" comes before the
    import)."""
    from app import freeze_start_up
    worker.log.info("Worker ready (pid: %s; %s objects of start-up frozen)", worker.pid, freeze_start_up())
