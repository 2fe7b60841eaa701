"""Petition-window exports: hourly batches, corrected revisions, the GBK CSV bytes."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from schemas.channels import Channel
from simulators.scenario.clock import CST, LIVE_SPAN_S, cst
from simulators.scenario.labels import CLERKS, CSV_HEADER
from simulators.scenario.model import Batch, BatchRevision, CsvRow, RecordVersion
from simulators.scenario.state import GeneratorState


class BatchExports(GeneratorState):
    """Groups petition rows into exports and records each row version they serve."""

    def _make_batches(self) -> list[Batch]:
        """Group petition rows into hourly exports; some batches get a corrected revision.

        The last export published before the start is always corrected during the
        live part (when it has three good rows), so every run shows a correction
        arriving while connectors watch.
        """
        rng = self.rng
        by_hour: dict[str, list[tuple[datetime, CsvRow, str]]] = defaultdict(list)
        for t, row, owner in sorted(self.petition_rows, key=lambda x: (x[0], x[1].registration_no)):
            by_hour[f"{cst(t):%Y%m%d-%H}"].append((t, row, owner))
        batches: list[Batch] = []
        owners: dict[str, str] = {}
        for batch_id in sorted(by_hour):
            entries = by_hour[batch_id]
            owners |= {row.registration_no: owner for _, row, owner in entries}
            hour_start = datetime.strptime(batch_id, "%Y%m%d-%H").replace(tzinfo=CST)
            created = (hour_start + timedelta(hours=1, seconds=2)).astimezone(UTC)
            batch = Batch(
                batch_id, [BatchRevision(1, created, created, [r for _, r, _ in entries])]
            )
            if rng.random() < 0.2:
                s_created = self.clock.inverse(created)
                delay = rng.randrange(60, 900) if s_created >= 0 else rng.randrange(1200, 6 * 3600)
                self._correct(batch, self.clock.at(s_created + delay))
            batches.append(batch)
        published = [
            b
            for b in batches
            if b.revisions[0].visible_at <= self.clock.anchor
            and len(b.revisions) == 1
            and sum(r.malformed is None for r in b.revisions[0].rows) >= 3
        ]
        if published:
            self._correct(published[-1], self.clock.at(rng.randrange(60, LIVE_SPAN_S // 2)))
        for batch in batches:
            self._row_versions(batch.batch_id, batch.revisions, owners)
        return batches

    def _correct(self, batch: Batch, at: datetime) -> None:
        """Add revision 2 to ``batch``: a clerk corrects one or two rows (the receptionist)."""
        rng = self.rng
        rows = batch.revisions[0].rows
        good = [i for i, row in enumerate(rows) if row.malformed is None]
        if not good:
            return
        new_rows = [
            CsvRow(r.registration_no, list(r.cells), r.malformed, r.raw_bytes) for r in rows
        ]
        for i in rng.sample(good, k=min(len(good), rng.randrange(1, 3))):
            cells = new_rows[i].cells
            cells[11] = rng.choice([c for c in CLERKS if c != cells[11]])
        batch.revisions.append(BatchRevision(2, at, at, new_rows))

    def _row_versions(
        self, batch_id: str, revisions: list[BatchRevision], owners: dict[str, str]
    ) -> None:
        seen: set[tuple[str, ...]] = set()
        for rev in revisions:
            for row in rev.rows:
                content = tuple(row.cells)
                if row.malformed is not None or content in seen:
                    continue
                seen.add(content)
                owner = owners[row.registration_no]
                incident, _, report_key = owner.partition("|")
                t = datetime.strptime(row.cells[1], "%Y/%m/%d %H:%M").replace(tzinfo=CST)
                self.versions.append(
                    RecordVersion(
                        Channel.PETITION_WINDOW,
                        row.registration_no,
                        f"{batch_id}#{rev.revision}",
                        t.astimezone(UTC),
                        rev.visible_at,
                        dict(zip(CSV_HEADER, row.cells, strict=True)),
                        incident,
                        report_key,
                    )
                )


def encode_row(cells: Sequence[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue().encode("gbk")


def encode_csv(rows: list[CsvRow]) -> bytes:
    """The GBK bytes of an export: header row, then every row (CRLF, RFC 4180 quoting)."""
    parts = [encode_row(CSV_HEADER)]
    parts += [row.raw_bytes if row.raw_bytes is not None else encode_row(row.cells) for row in rows]
    return b"".join(parts)
