"""The two router stages as the runtime drives them: records in, outputs and changelog out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from checker.pii import KnownNumbers, clear_number
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from router.dispatch.processor import DispatchProcessor
from router.normalize.normalizer import Normalizer
from router.normalize.processor import NormalizeProcessor
from router.processor import InputRecord, Output
from router.stages import build_dispatch_processor, build_normalize_processor
from schemas.channels import Channel
from schemas.raw import RawEnvelope, StationRef
from tests.unit.router_builders import (
    KEY,
    T0,
    appeal_envelope,
    envelope,
    hotline_order,
    id_number,
    mobile,
    petition_row,
    provincial_petition,
    station_case,
)

NS = "t."
CATALOG = TopicCatalog(NS)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def raw_record(env: RawEnvelope, offset: int = 0, value: bytes | None = None) -> InputRecord:
    return InputRecord(
        topic=CATALOG.raw(env.channel),
        partition=0,
        offset=offset,
        key=env.external_id.encode(),
        value=env.to_json() if value is None else value,
        headers=(("schema", b"unionhub.raw/1"), ("channel", str(env.channel).encode())),
        timestamp_ms=0,
    )


class Pipeline:
    """Stage 1 then stage 2, in memory, with a changelog dict like the compacted topic."""

    def __init__(self) -> None:
        self.stage1 = NormalizeProcessor(CATALOG, Normalizer(KEY), clock)
        self.stage2 = DispatchProcessor(CATALOG, clock)
        self.changelog: dict[bytes, bytes | None] = {}
        self.offset = 0

    def feed(self, env: RawEnvelope) -> list[Output]:
        outputs = []
        for normalized in self.stage1.process(raw_record(env)):
            if normalized.topic != CATALOG.router_normalized:
                outputs.append(normalized)
                continue
            record = InputRecord(
                topic=normalized.topic,
                partition=0,
                offset=self.offset,
                key=normalized.key,
                value=normalized.value,
                headers=normalized.headers,
                timestamp_ms=0,
            )
            self.offset += 1
            outputs += self.stage2.process(record)
            self.changelog.update(self.stage2.take_changes())
        return outputs


def values(outputs: list[Output]) -> list[dict[str, Any]]:
    return [orjson.loads(o.value) for o in outputs]


# --- stage 1 --------------------------------------------------------------------------


def test_factories_build_processors_from_settings() -> None:
    settings = Settings(namespace=NS)
    out = build_normalize_processor(settings).process(raw_record(appeal_envelope()))
    assert [o.topic for o in out] == [CATALOG.router_normalized]
    assert isinstance(build_dispatch_processor(settings), DispatchProcessor)


def test_stage1_output_is_keyed_and_carries_headers() -> None:
    (out,) = NormalizeProcessor(CATALOG, Normalizer(KEY)).process(raw_record(appeal_envelope()))
    assert out.key == b"citizen_app:MY1"
    headers = dict(out.headers)
    assert headers["schema"] == b"unionhub.normalized/1"
    assert headers["channel"] == b"citizen_app"
    assert headers["trace_id"]


def test_stage1_every_channel_normalises() -> None:
    station = StationRef(station_id="NS-001", name="站", district="南山区")
    envelopes = [
        appeal_envelope(),
        envelope(Channel.PETITION_WINDOW, petition_row(), "DJ1", "20250523-14#1"),
        envelope(Channel.HOTLINE_12351, hotline_order(), "GD1", "2025-05-23 14:20:41"),
        envelope(Channel.PROVINCIAL_PETITION, provincial_petition(), "4403001", "1"),
        envelope(
            Channel.LEGAL_STATIONS,
            station_case(),
            "NS-001-2025-0042",
            "2025-06-02T09:30:00+08:00",
            station,
        ),
    ]
    stage1 = NormalizeProcessor(CATALOG, Normalizer(KEY))
    for env in envelopes:
        (out,) = stage1.process(raw_record(env))
        assert out.topic == CATALOG.router_normalized, env.channel
        assert orjson.loads(out.value)["placement"]["district"] == "nanshan"


def test_stage1_dead_letters_what_it_cannot_understand() -> None:
    stage1 = NormalizeProcessor(CATALOG, Normalizer(KEY), clock)
    env = appeal_envelope(phone=mobile(1))
    (not_json,) = stage1.process(raw_record(env, offset=7, value=b"{not json"))
    letter = orjson.loads(not_json.value)
    assert not_json.topic == CATALOG.router_dlq
    assert letter["stage"] == "router"
    assert letter["channel"] == "citizen_app"
    assert letter["external_id"] == "MY1"
    assert letter["source"] == f"{CATALOG.raw('citizen_app')}-0-7"
    assert letter["error"]["kind"] == "envelope_invalid"
    assert letter["raw"] == "{not json"
    bad = env.model_copy(update={"record": env.record | {"category_code": "LAB-NOPE"}})
    (unknown,) = stage1.process(raw_record(bad))
    assert orjson.loads(unknown.value)["error"]["kind"] == "unknown_category"
    broken = env.model_copy(update={"record": env.record | {"people_involved": mobile(1)}})
    (invalid,) = stage1.process(raw_record(broken))
    error = orjson.loads(invalid.value)["error"]
    assert error["kind"] == "record_invalid"
    assert mobile(1) not in error["message"]
    (binary,) = stage1.process(raw_record(env, value=b"\xff\xfe"))
    assert orjson.loads(binary.value)["raw_encoding"] == "base64"


# --- stage 2 --------------------------------------------------------------------------


def test_new_case_event_has_every_field_of_the_contract() -> None:
    pipeline = Pipeline()
    (out,) = pipeline.feed(appeal_envelope(phone=mobile(1), street_name="南头街道"))
    assert out.topic == CATALOG.dispatch("nanshan")
    event = orjson.loads(out.value)
    assert out.key == event["case_id"].encode()
    assert dict(out.headers)["schema"] == b"unionhub.dispatch/1"
    assert dict(out.headers)["channel"] == b"citizen_app"
    assert dict(out.headers)["trace_id"]
    assert event["schema"] == "unionhub.dispatch/1"
    assert event["event_type"] == "new_case"
    assert event["district"] == "nanshan"
    assert event["routing_reason"].startswith("rule 1")
    assert event["triage_reason"] is None
    assert event["category"] == "wage_arrears"
    assert event["report"]["channel"] == "citizen_app"
    assert event["report"]["version"] == "1"
    assert event["report"]["reported_at"] == "2025-05-23T06:00:00Z"
    assert event["sources"] == [{"channel": "citizen_app", "external_id": "MY1"}]
    assert event["merged_case_ids"] == []
    assert event["complainant"]["name_masked"] == "陈*"
    assert event["complainant"]["phone_masked"] == "138****0001"
    assert event["employer"]["name"] == "深圳市某某建筑工程有限公司"
    assert event["location"]["street"] == "南头"
    assert event["people_involved"] == 1
    assert event["status"] == "received"
    assert event["summary"].startswith("项目部拖欠工资")
    assert event["dispatched_at"] == "2026-01-01T00:00:00Z"
    expected = {
        "schema", "event_id", "event_type", "case_id", "district", "routing_reason",
        "triage_reason", "category", "report", "sources", "merged_case_ids", "complainant",
        "employer", "location", "people_involved", "summary", "status", "dispatched_at",
    }  # fmt: skip
    assert expected <= set(event)


def test_duplicate_updated_and_repeat_across_channels() -> None:
    pipeline = Pipeline()
    (first,) = pipeline.feed(appeal_envelope(phone=mobile(1)))
    order = hotline_order(caller_phone=mobile(1), area="深圳市福田区")
    (dup,) = pipeline.feed(envelope(Channel.HOTLINE_12351, order, "GD1", "2025-05-23 14:20:41"))
    case_id = orjson.loads(first.value)["case_id"]
    dup_event = orjson.loads(dup.value)
    assert dup_event["event_type"] == "duplicate_report"
    assert dup_event["case_id"] == case_id
    # Events of a case go where it was first dispatched, whatever the new report says.
    assert dup.topic == CATALOG.dispatch("nanshan")
    assert len(dup_event["sources"]) == 2
    newer = hotline_order(caller_phone=mobile(1), area="深圳市福田区", status="处理中")
    newer_env = envelope(Channel.HOTLINE_12351, newer, "GD1", "2025-05-24 09:00:00")
    (updated,) = pipeline.feed(newer_env)
    updated_event = orjson.loads(updated.value)
    assert updated_event["event_type"] == "case_updated"
    assert updated_event["status"] == "in_progress"
    assert updated_event["report"]["version"] == "2025-05-24 09:00:00"
    assert pipeline.feed(newer_env) == []
    assert pipeline.feed(appeal_envelope(phone=mobile(1))) == []


def test_version_older_than_one_seen_produces_nothing() -> None:
    pipeline = Pipeline()
    assert len(pipeline.feed(appeal_envelope(version=3))) == 1
    assert pipeline.feed(appeal_envelope(version=2)) == []
    (updated,) = pipeline.feed(appeal_envelope(version=4))
    assert orjson.loads(updated.value)["event_type"] == "case_updated"


def test_merge_event_goes_to_survivor_and_merged_case_topics() -> None:
    pipeline = Pipeline()
    (a,) = pipeline.feed(appeal_envelope(appeal_id="A", phone=mobile(1), district_name="南山区"))
    (b,) = pipeline.feed(appeal_envelope(appeal_id="B", id_no=id_number(2), district_name="福田区"))
    merged = pipeline.feed(
        appeal_envelope(appeal_id="C", phone=mobile(1), id_no=id_number(2), district_name="罗湖区")
    )
    assert [o.topic for o in merged] == [CATALOG.dispatch("nanshan"), CATALOG.dispatch("futian")]
    first, second = values(merged)
    assert first == second
    assert first["event_type"] == "case_merged"
    assert first["case_id"] == orjson.loads(a.value)["case_id"]
    assert first["merged_case_ids"] == [orjson.loads(b.value)["case_id"]]
    assert first["district"] == "nanshan"
    assert [s["external_id"] for s in first["sources"]] == ["A", "B", "C"]


def test_triage_events() -> None:
    pipeline = Pipeline()
    (outside,) = pipeline.feed(appeal_envelope(appeal_id="A", district_name="东莞市"))
    assert outside.topic == CATALOG.triage
    event = orjson.loads(outside.value)
    assert event["district"] is None
    assert event["triage_reason"] == "outside_jurisdiction"
    (unplaced,) = pipeline.feed(
        appeal_envelope(appeal_id="B", district_name=None, employer="某公司", content="欠薪")
    )
    assert unplaced.topic == CATALOG.triage
    assert orjson.loads(unplaced.value)["triage_reason"] == "unplaced"


def test_alerts_are_published_keyed_by_employer_and_updated() -> None:
    pipeline = Pipeline()
    outputs: list[Output] = []
    for i in range(6):
        outputs += pipeline.feed(
            appeal_envelope(appeal_id=f"A{i}", phone=mobile(i), at=T0 + timedelta(days=i))
        )
    alerts = [o for o in outputs if o.topic == CATALOG.alerts]
    assert len(alerts) == 2  # raised by the 5th person, updated by the 6th
    raised, updated = values(alerts)
    assert raised["alert_id"] == updated["alert_id"]
    assert raised["kind"] == "group_dispute"
    assert (raised["persons"], updated["persons"]) == (5, 6)
    assert len(updated["case_ids"]) == 6
    assert raised["district"] == "nanshan"
    assert alerts[0].key == "name:某某建筑工程".encode()
    assert dict(alerts[0].headers)["schema"] == b"unionhub.alert/1"


def test_no_id_number_or_full_phone_in_any_output() -> None:
    pipeline = Pipeline()
    outputs: list[Output] = []
    for i in range(12):
        ident, phone = id_number(i), mobile(i)
        text = f"我叫某某，身份证{ident}，手机{phone}，座机0755-2688{i:04d}"
        outputs += pipeline.feed(
            appeal_envelope(
                appeal_id=f"A{i}",
                phone=phone,
                id_no=ident,
                content=text,
                address=f"南山区某路{i}号，电话{phone}",
                employer_address=f"南山区，联系人{phone}",
                people=12,
            )
        )
        order = hotline_order(f"GD{i}", caller_phone=phone, caller_id_card=ident, content=text)
        outputs += pipeline.feed(envelope(Channel.HOTLINE_12351, order, f"GD{i}", "v1"))
    assert {o.topic for o in outputs} == {CATALOG.dispatch("nanshan"), CATALOG.alerts}
    planted = KnownNumbers.of([n for i in range(12) for n in (id_number(i), mobile(i))])
    for out in outputs:
        text = out.value.decode()
        assert not clear_number(text), text
        assert not planted.found(text), text
        assert not any(
            clear_number(v.decode()) or planted.found(v.decode()) for _, v in out.headers
        )
    for value in pipeline.changelog.values():
        assert value is not None
        assert not clear_number(value.decode())
        assert not planted.found(value.decode())


# --- state -------------------------------------------------------------------------


def scenario() -> list[RawEnvelope]:
    envs = [
        appeal_envelope(appeal_id=f"A{i}", phone=mobile(i % 4), at=T0 + timedelta(days=i))
        for i in range(8)
    ]
    envs.insert(3, appeal_envelope(appeal_id="M", id_no=id_number(1), people=20))
    envs.append(appeal_envelope(appeal_id="A1", phone=mobile(1), version=2, status="closed"))
    envs.append(appeal_envelope(appeal_id="L", phone=mobile(0), id_no=id_number(1)))
    envs += [appeal_envelope(appeal_id=f"G{i}", phone=mobile(50 + i)) for i in range(5)]
    return envs


def test_restore_from_changelog_continues_exactly_like_one_run() -> None:
    envs = scenario()
    whole = Pipeline()
    expected = [o for env in envs for o in whole.feed(env)]
    for cut in (1, 4, 9, len(envs) - 2):
        first = Pipeline()
        got = [o for env in envs[:cut] for o in first.feed(env)]
        second = Pipeline()
        second.stage2.reset()
        for key, value in first.changelog.items():
            second.stage2.restore(key, value)
        second.offset = first.offset
        got += [o for env in envs[cut:] for o in second.feed(env)]
        assert got == expected, cut


def test_discard_then_restore_forgets_uncommitted_work() -> None:
    envs = scenario()
    pipeline = Pipeline()
    committed = [o for env in envs[:5] for o in pipeline.feed(env)]
    assert committed
    # An aborted transaction: the processor ran, its changes are discarded.
    pipeline.stage2.process(
        InputRecord(
            topic=CATALOG.router_normalized,
            partition=0,
            offset=99,
            key=None,
            value=pipeline.stage1.process(raw_record(envs[5]))[0].value,
            headers=(),
            timestamp_ms=0,
        )
    )
    pipeline.stage2.discard_changes()
    pipeline.stage2.reset()
    for key, value in pipeline.changelog.items():
        pipeline.stage2.restore(key, value)
    rest = [o for env in envs[5:] for o in pipeline.feed(env)]
    whole = Pipeline()
    assert committed + rest == [o for env in envs for o in whole.feed(env)]


def test_unreadable_normalized_record_is_dead_lettered() -> None:
    stage2 = DispatchProcessor(CATALOG, clock)
    record = InputRecord(
        topic=CATALOG.router_normalized,
        partition=0,
        offset=3,
        key=b"citizen_app:X",
        value=b'{"channel": "citizen_app"}',
        headers=(("channel", b"citizen_app"),),
        timestamp_ms=0,
    )
    (letter,) = stage2.process(record)
    assert letter.topic == CATALOG.router_dlq
    assert orjson.loads(letter.value)["source"] == f"{CATALOG.router_normalized}-0-3"
