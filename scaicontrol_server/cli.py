"""The ``scaicontrol`` command line: serve, worker, migrate and demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from scaicontrol_core import __version__
from scaicontrol_core.demo import load_demo
from scaicontrol_core.errors import ScaiControlError, StorageError
from scaicontrol_core.ports import Migrator, Storage

from .bootstrap import load_plugins, open_storage
from .cli_identity import COMMANDS as IDENTITY_COMMANDS
from .cli_identity import add_identity_commands, print_demo_logins
from .clock import SystemClock
from .settings import Settings, load_settings

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scaicontrol", description="Run and manage a scaicontrol deployment."
    )
    parser.add_argument("--version", action="version", version=f"scaicontrol {__version__}")
    parser.add_argument("--env-file", help="read settings from this file instead of ./.env")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (and the workers)")
    serve.add_argument("--host", help="listen address (default: SCAICONTROL_HOST)")
    serve.add_argument("--port", type=int, help="listen port (default: SCAICONTROL_PORT, 8000)")
    serve.add_argument("--no-workers", action="store_true", help="do not run background workers")
    serve.add_argument("--migrate", action="store_true", help="upgrade the schema before serving")
    serve.add_argument("--demo", action="store_true", help="load the demo data set at start")

    worker = commands.add_parser("worker", help="run the background workers only")
    worker.add_argument("--once", action="store_true", help="run every job once, then exit")

    migrate = commands.add_parser("migrate", help="manage the database schema")
    steps = migrate.add_subparsers(dest="step", required=True, metavar="STEP")
    upgrade = steps.add_parser("upgrade", help="upgrade to a revision (default: newest)")
    upgrade.add_argument("target", nargs="?", default="head")
    steps.add_parser("current", help="print the current and newest revisions")
    downgrade = steps.add_parser("downgrade", help="downgrade to a revision ('base' for empty)")
    downgrade.add_argument("target")

    commands.add_parser("demo", help="load the demo data set (running it twice changes nothing)")
    add_identity_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(env_file=args.env_file)
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if settings.log_level.upper() != "DEBUG":
            # readiness probes consult Alembic on every call; keep its chatter out of the log
            logging.getLogger("alembic").setLevel(logging.WARNING)
        handler = _COMMANDS[args.command]
        return handler(args, settings)
    except ScaiControlError as exc:
        print(f"scaicontrol: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _storage(settings: Settings) -> Storage:
    return open_storage(settings, load_plugins(settings))


def _migrator(storage: Storage) -> Migrator:
    migrator = storage.migrator
    if migrator is None:
        raise StorageError(f"the '{storage.name}' storage has no schema to migrate")
    return migrator


def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    storage = _storage(settings)
    try:
        migrator = _migrator(storage)
        if args.step == "upgrade":
            migrator.upgrade(args.target)
        elif args.step == "downgrade":
            migrator.downgrade(args.target)
        current = migrator.current() or "base"
        head = migrator.head()
        state = "up to date" if current == head else "behind"
        print(f"current: {current}\nhead: {head}\n({state})")
    finally:
        storage.close()
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    storage = _storage(settings)
    try:
        status = storage.check()
        if not status.ready:
            raise StorageError(f"storage not ready: {status.detail}; run 'scaicontrol migrate "
                               "upgrade' first")
        with storage.unit_of_work(cross_tenant=True) as uow:
            summary = load_demo(uow, now=SystemClock().now())
            uow.commit()
    finally:
        storage.close()
    print(f"demo data: {summary.created} created, {summary.unchanged} already present")
    print_demo_logins()
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from .app import create_app
    from .keys import STORAGE

    changes: dict[str, Any] = {}
    if args.host:
        changes["host"] = args.host
    if args.port is not None:
        changes["port"] = args.port
    if args.no_workers:
        changes["workers_enabled"] = False
    if args.migrate:
        changes["auto_migrate"] = True
    settings = attrs.evolve(settings, **changes)
    app = create_app(settings)
    if args.demo:

        async def _load(app: web.Application) -> None:
            def work() -> None:
                with app[STORAGE].unit_of_work(cross_tenant=True) as uow:
                    load_demo(uow, now=SystemClock().now())
                    uow.commit()

            await asyncio.to_thread(work)

        app.on_startup.append(_load)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=lambda _: print(
            f"scaicontrol {__version__} serving on http://{settings.host}:{settings.port}",
            flush=True,
        ),
        access_log=None,
    )
    return 0


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from .workers import WorkerRunner, build_jobs, run_once

    storage = _storage(settings)
    clock = SystemClock()
    try:
        jobs = build_jobs(storage, settings, clock=clock)
        if args.once:
            for name, handled in asyncio.run(run_once(jobs, clock)):
                print(f"{name}: {handled}")
            return 0

        async def run() -> None:
            runner = WorkerRunner(jobs, clock, storage=storage)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            await runner.open()
            runner.start()
            print(f"scaicontrol worker running {len(jobs)} job(s)", flush=True)
            await stop.wait()
            await runner.stop()

        asyncio.run(run())
    finally:
        storage.close()
    return 0


_COMMANDS = {
    "serve": _cmd_serve,
    "worker": _cmd_worker,
    "migrate": _cmd_migrate,
    "demo": _cmd_demo,
    **IDENTITY_COMMANDS,
}

if __name__ == "__main__":
    raise SystemExit(main())
