"""Records that must become dead letters, outside any incident."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.channels import Channel
from simulators.scenario.clock import cst, iso_cst
from simulators.scenario.exports import encode_row
from simulators.scenario.labels import CITIZEN_STATUSES, LABELS, LEGAL_STAGES
from simulators.scenario.model import CsvRow, ExpectedDeadLetter, RecordVersion
from simulators.scenario.state import GeneratorState


class MalformedRecords(GeneratorState):
    """Adds the malformed records of every kind the connectors must dead-letter."""

    def _make_malformed(self) -> None:
        """Records that must become dead letters, outside any incident."""
        n = max(1, self.options.incidents // 100)
        for i in range(n):
            for kind in ("csv_bad_encoding", "csv_wrong_cell_count", "csv_impossible_date"):
                self._malformed_row(kind, i)
            self._malformed_appeal(i)
        for i in range(max(1, self.options.incidents // 150)):
            self._malformed_petition(i)
            self._malformed_case(i)

    def _malformed_row(self, kind: str, i: int) -> None:
        s = -self.rng.randrange(7200, self.backlog_s) if i % 2 == 0 else self._start_s()
        t = self.clock.at(s)
        reg_no = f"XF{cst(t):%Y%m%d}-{self._next('XF'):05d}"
        person = self._person()
        cells = [
            reg_no, cst(t).strftime("%Y/%m/%d %H:%M"), person.name, person.mobile, "",
            "深圳市某某制衣厂", "", "", LABELS[Channel.PETITION_WINDOW]["wage_arrears"][0],
            "老板欠薪三个月", "1", "刘晓",
        ]  # fmt: skip
        row = CsvRow(reg_no, cells, malformed=kind)
        if kind == "csv_wrong_cell_count":
            row.cells = [*cells[:9], "老板欠薪", "三个月", "1", "刘晓"]
        elif kind == "csv_impossible_date":
            row.cells[1] = f"{cst(t):%Y}/02/30 25:61"
        else:
            good = encode_row(cells)
            row.raw_bytes = good.replace("老板".encode("gbk"), b"\xff\xfe\xff", 1)
        self.petition_rows.append((t, row, "malformed"))
        self.dead_letters.append(
            ExpectedDeadLetter(Channel.PETITION_WINDOW.value, reg_no, kind, f"{cst(t):%Y%m%d-%H}")
        )

    def _malformed_appeal(self, i: int) -> None:
        s = self._start_s()
        t = self.clock.at(s)
        appeal_id = f"MY{cst(t):%Y%m%d}{self._next('MY'):07d}"
        record: dict[str, Any] = {
            "appeal_id": appeal_id,
            "version": "v二",
            "submitted_at": iso_cst(t),
            "updated_at": iso_cst(t),
            "source": "网页",
            "title": "？？？",
            "content": "测试测试",
            "category_code": "LAB-???",
            "appellant": None,
            "subject": None,
            "location": None,
            "people_involved": "若干",
            "attachments": [],
            "status": CITIZEN_STATUSES[0],
        }
        self.versions.append(
            RecordVersion(Channel.CITIZEN_APP, appeal_id, "?", t, t, record, "malformed",
                          "malformed", malformed="invalid_version")
        )  # fmt: skip
        self.dead_letters.append(
            ExpectedDeadLetter(Channel.CITIZEN_APP.value, appeal_id, "invalid_version", "feed")
        )

    def _malformed_petition(self, i: int) -> None:
        s = -self.rng.randrange(3 * 3600, self.backlog_s)
        t = self.clock.at(s)
        xfjbh = f"440300{cst(t):%Y%m%d}{self._next('XFJ'):06d}"
        record = {
            "XFJBH": xfjbh, "BBH": "贰", "DJSJ": cst(t).strftime("%Y-%m-%dT%H:%M:%S"),
            "XFXS": "来信", "XFR": {"XM": "", "ZJHM": "", "LXDH": ""},
            "BFYDW": {"DWMC": "", "TYSHXYDM": "", "DWDZ": ""}, "WTSD": "深圳市",
            "NRFL": LABELS[Channel.PROVINCIAL_PETITION]["other"][0], "RS": "1", "XFMD": "内容缺失",
        }  # fmt: skip
        self.versions.append(
            RecordVersion(Channel.PROVINCIAL_PETITION, xfjbh, "?", t, t, record, "malformed",
                          "malformed", malformed="invalid_version")
        )  # fmt: skip
        self.dead_letters.append(
            ExpectedDeadLetter(Channel.PROVINCIAL_PETITION.value, xfjbh, "invalid_version", "xml")
        )

    def _malformed_case(self, i: int) -> None:
        s = -self.rng.randrange(3600, self.backlog_s)
        t = self.clock.at(s)
        station = self._station_for(None, t)
        case_id = self._case_id(station, t)
        record = {
            "case_id": case_id,
            "opened_at": iso_cst(t),
            "updated_at": f"{cst(t):%Y}-13-45T99:00:00+08:00",
            "client": {"name": "", "phone": "", "id_number": None},
            "employer": {"name": None, "credit_code": None, "address": None},
            "matter": LABELS[Channel.LEGAL_STATIONS]["other"][0],
            "summary": "",
            "stage": LEGAL_STAGES[0],
            "amount_claimed_cny": None,
            "workers": 1,
            "lawyer": None,
        }
        self.versions.append(
            RecordVersion(Channel.LEGAL_STATIONS, case_id, "?", t, t + timedelta(seconds=1),
                          record, "malformed", "malformed", malformed="invalid_timestamp",
                          station_id=station.station_id)
        )  # fmt: skip
        self.dead_letters.append(
            ExpectedDeadLetter(
                Channel.LEGAL_STATIONS.value, case_id, "invalid_timestamp", station.station_id
            )
        )
