"""``moderation watch`` and ``moderation serve`` (registered in :mod:`moderation.cli.main`).

Heavy imports (PyAV, models, Ray, FastAPI) happen inside the commands so ``moderation --help``
and the other commands stay fast. ``watch`` follows streams in this process (one shared set of
batchers, no Ray start-up cost) until Ctrl-C or every stream ended; ``serve`` runs the Ray
worker pool behind the control API: streams placed and supervised by the stream manager on Ray
(``--local``: the in-process pool instead).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from moderation.config import PipelineConfig
    from moderation.messages import Verdict
    from moderation.pipeline.status import StreamSpec, StreamStatus
    from moderation.policy.governance import GovernanceSource

AllowNet = Annotated[
    list[str] | None,
    typer.Option("--allow-network", help="Non-public CIDR streams may come from, e.g. 127.0.0.0/8 (repeatable)."),
]


#: Which command-line option set a ``live`` field, for the one-line error when it is invalid.
_OPTIONS = {
    "allow_networks": "--allow-network",
    "allow_files": "--allow-files",
    "chat_source": "--chat",
    "gift_source": "--gifts",
}


def _config(
    pipeline: str | None,
    allow_network: list[str] | None,
    allow_files: bool = False,
    chat: str | None = None,
    gifts: str | None = None,
) -> PipelineConfig:
    """The pipeline with the command-line overrides merged in and validated (before any model loads)."""
    from moderation.config import load_pipeline, with_overrides

    cfg = load_pipeline(pipeline)
    live = cfg.live
    update: dict[str, object] = {}
    if allow_network:
        update["allow_networks"] = (*live.allow_networks, *allow_network)
    if allow_files:
        update["allow_files"] = True
    if chat:
        update["chat_source"] = chat
    if gifts:
        update["gift_source"] = gifts
    return with_overrides(cfg, "live", update, _OPTIONS)


def _check_meta(meta: Path) -> None:
    """A ``--meta`` file that parses and whose images are images, or one UserError line."""
    from moderation.cli.common import UserError
    from moderation.signals.room import RoomMetaError, load_room_images, parse_meta_file

    try:
        load_room_images(parse_meta_file(meta, "room"))
    except RoomMetaError as exc:
        raise UserError(str(exc)) from None


def _line(v: Verdict) -> str:
    kinds = ", ".join(sorted({f"{s.kind}:{s.term or s.label or ''}".rstrip(":") for s in v.signals}))
    return (
        f"{v.wallclock_start or '-'}  {v.stream}  {v.category} ({v.severity}, {v.score:.2f})  "
        f"{v.start:.1f}-{v.end:.1f}s  [{kinds}]  clip: {v.clip or '-'}"
    )


def watch(
    urls: Annotated[list[str], typer.Argument(help="Stream URLs (rtmp, HLS, rtsp, udp, files).", metavar="URL...")],
    pipeline: Annotated[str | None, typer.Option(help="Pipeline preset name or YAML path.")] = None,
    out: Annotated[Path | None, typer.Option(help="Append verdicts to this JSONL report as they come.")] = None,
    clips: Annotated[Path | None, typer.Option(help="Write evidence clips and thumbnails here.")] = None,
    queue: Annotated[str | None, typer.Option(help="Also upsert verdicts into this review queue URL.")] = None,
    allow_network: AllowNet = None,
    allow_files: Annotated[bool, typer.Option(help="Allow local files (read at real-time pace).")] = False,
    chat: Annotated[
        str | None,
        typer.Option(help="Chat feed of each stream (JSONL over HTTP(S); {stream}, {app}, {name} are filled in)."),
    ] = None,
    gifts: Annotated[
        str | None,
        typer.Option(help="Gift feed of each stream (JSONL over HTTP(S); {stream}, {app}, {name} are filled in)."),
    ] = None,
    meta: Annotated[
        Path | None,
        typer.Option(
            help="Room metadata of the one stream: a JSON file {title, introduction, nickname, cover, avatar}; "
            "re-read every live.meta_poll_s and checked again whenever it changes."
        ),
    ] = None,
    records: Annotated[
        Path | None,
        typer.Option(help="Keep each stream's chat and gift lines and one image every records.image_every_s here."),
    ] = None,
) -> None:
    """Follow live streams until Ctrl-C or all ended, printing verdicts as they are decided."""
    from moderation.cli.common import UserError, console, err, user_errors
    from moderation.config import guard_config
    from moderation.ingest.urlguard import UrlGuard
    from moderation.pipeline.status import StreamSpec

    with user_errors():
        cfg = _config(pipeline, allow_network, allow_files, chat, gifts)
        for url in urls:  # refuse bad URLs before any model loads
            UrlGuard(guard_config(cfg.live)).check(url)
        if meta is not None:
            if len(urls) != 1:
                raise UserError(f"--meta belongs to one stream, but {len(urls)} URLs were given")
            _check_meta(meta)
        if records is not None:
            from moderation.report import check_output_dir

            check_output_dir(records, "--records")
        specs, seen = [], set()
        for url in urls:
            spec = StreamSpec.from_url(url)
            n, sid = 1, spec.stream_id
            while sid in seen:
                n += 1
                sid = f"{spec.stream_id}-{n}"
            seen.add(sid)
            specs.append(
                StreamSpec(
                    sid,
                    spec.url,
                    spec.app,
                    spec.name,
                    meta_file=str(meta.resolve()) if meta is not None else None,
                    records=str(records) if records is not None else None,
                )
            )
        show = lambda v: console.print(_line(v), highlight=False, soft_wrap=True, markup=False)  # noqa: E731
        statuses = asyncio.run(_watch(specs, cfg, out, clips, queue, show))
    bad = [s for s in statuses if s.state == "error"]
    for s in statuses:
        err.print(
            f"{s.stream}: {s.state} ({s.end_reason or s.error or ''}); frames {s.frames_in}, "
            f"dropped {s.frames_dropped}, gaps {s.gaps}, verdicts {s.verdicts}",
            highlight=False,
            soft_wrap=True,
        )
    if bad:
        raise typer.Exit(1)


async def _watch(
    specs: list[StreamSpec],
    cfg: PipelineConfig,
    out: Path | None,
    clips: Path | None,
    queue: str | None,
    show: Callable[[Verdict], None],
) -> list[StreamStatus]:
    from moderation.cli.common import err
    from moderation.pipeline.alerts import Alert
    from moderation.pipeline.clients import LocalClients
    from moderation.pipeline.pool import LocalPool
    from moderation.pipeline.sinks import CallbackSink, JsonlSink, VerdictSink
    from moderation.review.sink import ReviewSink

    sinks: list[VerdictSink] = [CallbackSink(show)]
    if out is not None:
        sinks.append(JsonlSink(out))
    if queue is not None:
        sinks.append(ReviewSink(queue))
    clients = LocalClients(cfg)

    def alerted(stream: str, a: Alert) -> None:
        said = "the offending words ended" if a.first == "speech" else "its first evidence"
        known = f"{a.latency_s:.1f} s after {said}" if a.latency_s is not None else "now"
        err.print(
            f"open  {stream}  {a.category}  from {a.start:.1f}s  (known {known}, from {' + '.join(a.sources)})",
            highlight=False,
            soft_wrap=True,
        )

    pool = LocalPool(cfg, clients, sinks, clips_dir=clips, on_alert=alerted)
    err.print("loading models…")
    await clients.warm_up()
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        err.print("stopping…")
        for s in specs:
            p = pool.pipeline(s.stream_id)
            if p is not None:
                p.stop()

    loop.add_signal_handler(signal.SIGINT, stop_all)
    loop.add_signal_handler(signal.SIGTERM, stop_all)
    for s in specs:
        await pool.add(s)
        err.print(f"watching {s.stream_id}: {s.url}")
    try:
        return await pool.wait_all()  # a stream that failed is reported, after the others flushed
    finally:
        closers: list[tuple[str, Callable[[], object]]] = [(type(s).__name__, s.close) for s in sinks]
        for name, close in [("inference clients", clients.close), *closers]:
            try:  # one failing close must not skip the others (a report or queue not flushed)
                done = close()
                if asyncio.iscoroutine(done):
                    await done
            except Exception as exc:
                err.print(f"closing {name} failed: {exc}", highlight=False, soft_wrap=True)


def governance_source(queue: str | None, cfg: PipelineConfig) -> GovernanceSource | None:
    """The governance source ``serve`` hands the pool: bans, standings and pending actions, read
    from the review store at ``queue`` under ``cfg.policy`` (its risk tiers and penalties); None
    without ``--queue`` (no bans, no tiers, no actions).

    The one place the review store's implementation of
    :class:`moderation.policy.governance.GovernanceSource` is wired in: the pool never imports the
    review package, the CLI joins the two.
    """
    if queue is None:
        return None
    from moderation.review.governance import StoreGovernance

    return StoreGovernance.open(queue, cfg.policy)


def serve(
    host: Annotated[str, typer.Option(help="Address the control API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the control API.")] = 8090,
    pipeline: Annotated[str | None, typer.Option(help="Pipeline preset name or YAML path.")] = None,
    queue: Annotated[str | None, typer.Option(help="Review queue URL verdicts are upserted into.")] = None,
    clips: Annotated[Path | None, typer.Option(help="Where evidence clips and thumbnails go.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also append verdicts to this JSONL report.")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: start Ray locally).")] = None,
    local: Annotated[bool, typer.Option(help="Run streams in this process instead of Ray actors.")] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Cluster mode: place streams through the stream manager actor, which keeps its "
            "assignments in this SQLite checkpoint (on storage every node sees) and survives restarts."
        ),
    ] = None,
    allow_network: AllowNet = None,
) -> None:
    """Run the worker pool with its control API (streams, publish hooks, /metrics)."""
    from moderation.cli.common import user_errors
    from moderation.config import ConfigError
    from moderation.service.access import check_bind
    from moderation.service.api import create_app

    with user_errors():
        cfg = _config(pipeline, allow_network)
        check_bind(host, cfg.live)  # before Ray or any model starts
        if checkpoint is not None and allow_network:  # the manager's workers load --pipeline themselves
            raise ConfigError(
                "--allow-network does not reach the stream manager's workers (--checkpoint): "
                "set live.allow_networks in the --pipeline YAML instead"
            )
    import uvicorn

    if local:
        from moderation.pipeline.pool import LocalPool
        from moderation.pipeline.sinks import JsonlSink, VerdictSink
        from moderation.review.sink import ReviewSink

        sinks: list[VerdictSink] = ([JsonlSink(out)] if out else []) + ([ReviewSink(queue)] if queue else [])
        app = create_app(LocalPool(cfg, sinks=sinks, clips_dir=clips), cfg, governance=governance_source(queue, cfg))
        uvicorn.run(app, host=host, port=port)
        return
    from moderation.cluster.managed_pool import ManagedPool
    from moderation.config import ClusterConfig

    # One control plane on Ray: the stream manager, its checkpoint in memory unless --checkpoint.
    cluster = ClusterConfig(checkpoint=str(checkpoint) if checkpoint else None, pipeline=pipeline, queue_url=queue)
    pool = ManagedPool(cluster, cfg, clips_dir=str(clips) if clips else None, report=str(out) if out else None)
    pool.start(address)
    try:
        app = create_app(pool, cfg, governance=governance_source(queue, cfg))
        uvicorn.run(app, host=host, port=port)  # with --checkpoint, streams outlive it
    finally:
        pool.shutdown()  # in memory: streams, batchers and manager stop with the service
