"""``moderation review``: serve the reviewer UI/API, import reports, manage users and tokens.

Wire into the main CLI with ``app.add_typer(review_app, name="review")``. With no subcommand it
serves (``moderation review`` == ``moderation review serve``). First run story: when the queue has
no admin yet, serving creates user ``admin``, prints its token once and a login URL that carries
the token in the fragment (browsers never send fragments to the server).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from moderation.config.policy import PolicyConfig
from moderation.review.settings import DEFAULT_QUEUE_URL, ReviewSettings
from moderation.review.store import ReviewStore

review_app = typer.Typer(add_completion=False, help="Reviewer web UI and API for the review queue.")

QueueOpt = Annotated[str, typer.Option("--queue", help="sqlite:///file.db (default) or postgresql://user@host/db")]
CategoryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--category", help="A category your policy adds beyond DESIGN.md's (repeat); reviewers may confirm as it."
    ),
]
MediaOpt = Annotated[Path | None, typer.Option("--media", help="Where the queue keeps clips (default: beside the db).")]
PoolOpt = Annotated[
    str | None,
    typer.Option(
        "--pool",
        help="The pool's control API (moderation serve), e.g. http://127.0.0.1:8080, for the patrol wall; "
        "its token from env MODERATION_POOL_TOKEN.",
    ),
]
PipelineOpt = Annotated[
    str | None,
    typer.Option("--pipeline", help="Pipeline (name or YAML) whose policy's penalties and risk tiers apply."),
]


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(2)


def _policy(pipeline: str | None) -> PolicyConfig | None:
    if pipeline is None:
        return None
    from moderation.config import ConfigError, load_pipeline

    try:
        return load_pipeline(pipeline).policy
    except (ConfigError, OSError) as exc:
        raise _fail(f"--pipeline {pipeline}: {str(exc).splitlines()[0]}") from None


def _open(
    queue: str, media: Path | None, categories: list[str] | None = None, policy: PolicyConfig | None = None
) -> tuple[ReviewSettings, ReviewStore]:
    import re

    from moderation.review.db import QueueUrlError
    from moderation.review.migrations import SchemaError
    from moderation.review.records import CATEGORY_PATTERN

    for c in categories or []:
        if not re.match(CATEGORY_PATTERN, c) or len(c) > 64:
            raise _fail(f"--category {c!r}: use lower-case letters, digits and '_' (like 'gambling'), at most 64")
    settings = ReviewSettings(queue_url=queue, media_dir=media, categories=tuple(categories or ()), policy=policy)
    try:
        return settings, ReviewStore.open(settings)
    except (QueueUrlError, SchemaError) as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # connection refused, bad credentials, unwritable file: one line, no trace
        raise _fail(f"cannot open queue {queue}: {str(exc).splitlines()[0]}") from None


def serve(
    queue: str = DEFAULT_QUEUE_URL,
    media: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    import_report: Path | None = None,
    categories: list[str] | None = None,
    pool: str | None = None,
    pipeline: str | None = None,
) -> None:
    """Open (and migrate) the queue, make sure an admin exists, then run the web server."""
    import uvicorn

    from moderation.review.api import create_app
    from moderation.review.auth import Auth
    from moderation.review.store import Filters

    if pool is not None:
        _with_pool(ReviewSettings(), pool)  # refuse a bad URL before touching the queue
    policy = _policy(pipeline)
    settings, s = _open(queue, media, categories, policy)
    settings = ReviewSettings(
        queue_url=queue, media_dir=media, host=host, port=port, categories=tuple(categories or ()), policy=policy
    )
    if pool is not None:
        settings = _with_pool(settings, pool)
    if import_report is not None:
        do_import(s, import_report)
    url = f"http://{host}:{port}/"
    token = Auth(s.engine).ensure_admin()
    typer.echo(f"review queue: {queue}  (media: {s.media_dir})")
    if token:
        typer.echo("first run: created user 'admin' (role admin). Its token is shown ONCE — keep it:")
        typer.echo(f"  {token}")
        typer.echo(f"open: {url}login#token={token}")
        typer.echo("more users: moderation review user NAME [--role admin]")
    else:
        typer.echo(f"open: {url}   (log in with your token; a new one: moderation review token NAME)")
    if s.count(Filters()) == 0:
        typer.echo("the queue is empty — load a scan: moderation review import demo-out/report.jsonl")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo("warning: serving beyond loopback without TLS; put it behind an HTTPS proxy", err=True)
    uvicorn.run(create_app(settings, store=s), host=host, port=port, log_level="warning")


def _with_pool(settings: ReviewSettings, url: str) -> ReviewSettings:
    """``settings`` with the patrol wall reading the pool at ``url``."""
    from dataclasses import replace

    from pydantic import ValidationError

    from moderation.config import PatrolConfig

    try:
        return replace(settings, patrol=PatrolConfig(pool_url=url))
    except ValidationError as exc:
        raise _fail(f"--pool: {str(exc.errors()[0]['msg']).removeprefix('Value error, ')}") from None


def do_import(
    store: ReviewStore, report: Path, base: Path | None = None, extra_bases: list[Path] | None = None
) -> None:
    """Import a report; exit 2 when it is not a report, 3 after importing the rest when items were refused."""
    from moderation.review.importer import ImportError_, import_report

    try:
        res = import_report(store, report, [base] if base else None, extra_bases=extra_bases)
    except ImportError_ as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"imported {report}: {res.created} new, {res.updated} updated, {res.unchanged} unchanged"
        + (f", {len(res.refused)} refused" if res.refused else "")
    )
    if res.refused:
        for line in res.refused:
            typer.echo(f"refused: {line}", err=True)
        raise typer.Exit(3)


@review_app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    queue: QueueOpt = DEFAULT_QUEUE_URL,
    media: MediaOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    import_report: Annotated[Path | None, typer.Option("--import", help="Import this JSONL report first.")] = None,
    category: CategoryOpt = None,
    pool: PoolOpt = None,
    pipeline: PipelineOpt = None,
) -> None:
    """Serve the reviewer UI and API (default http://127.0.0.1:8000)."""
    if ctx.invoked_subcommand is None:
        serve(queue, media, host, port, import_report, category, pool, pipeline)


@review_app.command("serve")
def serve_cmd(
    queue: QueueOpt = DEFAULT_QUEUE_URL,
    media: MediaOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    import_report: Annotated[Path | None, typer.Option("--import", help="Import this JSONL report first.")] = None,
    category: CategoryOpt = None,
    pool: PoolOpt = None,
    pipeline: PipelineOpt = None,
) -> None:
    """Serve the reviewer UI and API."""
    serve(queue, media, host, port, import_report, category, pool, pipeline)


@review_app.command("import")
def import_cmd(
    report: Annotated[Path, typer.Argument(help="JSONL verdict report written by `moderation scan/demo`.")],
    queue: QueueOpt = DEFAULT_QUEUE_URL,
    media: MediaOpt = None,
    base: Annotated[Path | None, typer.Option(help="Folder the report's clip paths are relative to.")] = None,
) -> None:
    """Load a scan report and its clips into the queue (idempotent)."""
    _, s = _open(queue, media)
    do_import(s, report, base)


@review_app.command("user")
def user_cmd(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="reviewer or admin")] = "reviewer",
    password: Annotated[bool, typer.Option("--password", help="Also set a password (prompted).")] = False,
    queue: QueueOpt = DEFAULT_QUEUE_URL,
) -> None:
    """Create a user and print a login token for them (shown once)."""
    from moderation.review.auth import Auth, AuthError

    _, s = _open(queue, None)
    pw = typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    auth = Auth(s.engine)
    try:
        auth.create_user(name, role, pw)
        token = auth.create_token(name, "created by CLI")
    except AuthError as exc:
        raise _fail(str(exc)) from None
    s.audit("cli", "user.create", detail={"user": name, "role": role})
    typer.echo(f"user {name} ({role}) created; token (shown once):\n  {token}")


@review_app.command("token")
def token_cmd(
    name: Annotated[str, typer.Argument(help="Existing user name.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke all the user's tokens and sessions.")] = False,
    queue: QueueOpt = DEFAULT_QUEUE_URL,
) -> None:
    """Print a new token for a user (e.g. a lost one), or revoke all their tokens."""
    from moderation.review.auth import Auth, AuthError

    _, s = _open(queue, None)
    auth = Auth(s.engine)
    try:
        if revoke:
            typer.echo(f"revoked {auth.revoke_tokens(name)} token(s) of {name}")
            s.audit("cli", "token.revoke", detail={"user": name})
            return
        token = auth.create_token(name, "created by CLI")
    except AuthError as exc:
        raise _fail(str(exc)) from None
    s.audit("cli", "token.create", detail={"user": name})
    typer.echo(f"token for {name} (shown once):\n  {token}")


@review_app.command("purge")
def purge_cmd(
    days: Annotated[
        float | None, typer.Option(help="Default retention in days (default: the pipeline's records.retention_days).")
    ] = None,
    records: Annotated[
        Path | None, typer.Option("--records", help="Records folder to purge too (default: records.dir).")
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Pipeline preset or YAML whose 'records' section applies.")
    ] = None,
    queue: QueueOpt = DEFAULT_QUEUE_URL,
    media: MediaOpt = None,
) -> None:
    """Apply retention (run daily): delete clips/thumbnails of items decided longer ago than their
    category's period and record files past theirs; decisions stay, and nothing a hold covers
    (items under review, confirmed items) is deleted."""
    from moderation.config import ConfigError, RecordsConfig, load_pipeline
    from moderation.review.retention import apply_retention

    cfg = RecordsConfig()
    if pipeline is not None:
        try:
            cfg = load_pipeline(pipeline).records
        except ConfigError as exc:
            raise _fail(str(exc)) from None
    if days is not None:
        if not days >= 0:
            raise _fail(f"--days {days}: must be >= 0")
        cfg = cfg.model_copy(update={"retention_days": days})
    folder = records if records is not None else (Path(cfg.dir) if cfg.dir else None)
    if folder is not None and not folder.is_dir():
        raise _fail(f"--records {folder}: not a folder")
    _, s = _open(queue, media)
    res = apply_retention(s, cfg, folder)
    typer.echo(f"purged evidence of {res.items} item(s), {res.files} file(s) deleted")
    if folder is not None:
        typer.echo(
            f"records in {folder}: {res.records} file(s) deleted ({res.record_bytes / 1e6:.1f} MB), "
            f"{res.held} past retention kept under hold"
        )


if __name__ == "__main__":
    review_app(sys.argv[1:])
