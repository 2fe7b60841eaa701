"""Per-channel record writers: each planned report as the versions its channel serves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.channels import Channel
from simulators.scenario import people, texts
from simulators.scenario.clock import cst, iso_cst, plain_cst
from simulators.scenario.labels import (
    CITIZEN_STATUSES,
    CLERKS,
    DISTRICT_WEIGHTS,
    HOTLINE_STATUSES,
    LEGAL_STAGES,
)
from simulators.scenario.model import CsvRow, RecordVersion
from simulators.scenario.state import GeneratorState, PlannedReport


class RecordWriters(GeneratorState):
    """Writes the records of planned reports (petition rows wait for their exports)."""

    def _emit(self, r: PlannedReport) -> None:
        incident = self.report_incident[r.key]
        {
            Channel.CITIZEN_APP: self._emit_appeal,
            Channel.PETITION_WINDOW: self._emit_row,
            Channel.HOTLINE_12351: self._emit_order,
            Channel.PROVINCIAL_PETITION: self._emit_petition,
            Channel.LEGAL_STATIONS: self._emit_case,
        }[r.channel](r, incident)

    def _emit_appeal(self, r: PlannedReport, incident: str) -> None:
        rng = self.rng
        t0 = self.clock.at(r.s)
        appeal_id = f"MY{cst(t0):%Y%m%d}{self._next('MY'):07d}"
        loc = r.loc
        employer_addr = r.employer_address if loc.get("employer_address") else None
        base = {
            "appeal_id": appeal_id,
            "version": 1,
            "submitted_at": iso_cst(t0),
            "updated_at": iso_cst(t0),
            "source": rng.choice(("i深圳APP", "微信小程序", "网页")),
            "title": r.title or r.content[:12],
            "content": r.content,
            "category_code": r.category_label,
            "appellant": {"name": r.ident.name, "mobile": r.ident.phone,
                          "id_no": r.ident.id_number},
            "subject": {"org_name": r.employer_written, "uscc": r.employer_uscc,
                        "address": employer_addr},
            "location": {
                "district_code": loc.get("code"),
                "district_name": loc.get("name"),
                "street_name": loc.get("street"),
                "address": loc.get("address"),
                "lng": round(113.8 + rng.random() * 0.5, 5) if loc.get("code") else None,
                "lat": round(22.5 + rng.random() * 0.2, 5) if loc.get("code") else None,
            },
            "people_involved": r.people_involved,
            "attachments": [{"name": "工资条.jpg", "url": f"https://files.example.cn/{appeal_id}/1.jpg"}]
            if rng.random() < 0.3 else [],
            "status": CITIZEN_STATUSES[0],
        }  # fmt: skip
        s = r.s
        for version, status in enumerate(CITIZEN_STATUSES, 1):
            if version > 1:
                if rng.random() < 0.35:
                    break
                s = self._later(s, 86400)
                if not self._live_ok(s):
                    break
            t = self.clock.at(s)
            record = base | {"version": version, "updated_at": iso_cst(t), "status": status}
            self.versions.append(
                RecordVersion(Channel.CITIZEN_APP, appeal_id, str(version), t, t, record,
                              incident, r.key)
            )  # fmt: skip

    def _emit_row(self, r: PlannedReport, incident: str) -> None:
        rng = self.rng
        t = self.clock.at(r.s)
        reg_no = f"XF{cst(t):%Y%m%d}-{self._next('XF'):05d}"
        content = r.content
        if r.text_from is None:
            content = texts.with_csv_hazards(rng, content, r.person.mobile)
        cells = [
            reg_no,
            cst(t).strftime("%Y/%m/%d %H:%M"),
            r.ident.name,
            r.ident.phone or "",
            r.ident.id_number or "",
            r.employer_written or "",
            (r.employer_address or "") if r.loc.get("employer_address") else "",
            r.loc.get("district", ""),
            r.category_label,
            content,
            str(r.people_involved),
            rng.choice(CLERKS),
        ]
        self.petition_rows.append((t, CsvRow(reg_no, cells), incident + "|" + r.key))

    def _emit_order(self, r: PlannedReport, incident: str) -> None:
        rng = self.rng
        t_call = self.clock.at(r.s)
        order_no = f"GD12351-{cst(t_call):%Y%m%d}-{self._next('GD'):06d}"
        emp_addr = r.employer_address if r.loc.get("employer_address") else None
        base = {
            "order_no": order_no,
            "call_time": plain_cst(t_call),
            "update_time": "",
            "caller_name": r.ident.name,
            "caller_phone": r.ident.phone or r.person.mobile,
            "caller_id_card": r.ident.id_number or "",
            "company_name": r.employer_written or "",
            "company_address": emp_addr or "",
            "area": r.loc.get("area", ""),
            "order_type": r.category_label,
            "content": r.content,
            "status": HOTLINE_STATUSES[0],
            "handle_result": "",
            "satisfaction": "",
        }
        for _, status, t in self._progression(
            r.s + rng.randrange(20, 600), HOTLINE_STATUSES, 0.3, 2 * 86400
        ):
            record = base | {"update_time": plain_cst(t), "status": status}
            if status == HOTLINE_STATUSES[-1]:
                result = "已协调企业支付，工人确认" if rng.random() < 0.6 else "已告知仲裁途径"
                satisfaction = rng.choice(("满意", "基本满意", "不满意", ""))
                record |= {"handle_result": result, "satisfaction": satisfaction}
            self.versions.append(
                RecordVersion(Channel.HOTLINE_12351, order_no, plain_cst(t), t, t, record,
                              incident, r.key)
            )  # fmt: skip

    def _emit_petition(self, r: PlannedReport, incident: str) -> None:
        rng = self.rng
        t = self.clock.at(r.s)
        xfjbh = f"440300{cst(t):%Y%m%d}{self._next('XFJ'):06d}"
        emp_addr = r.employer_address if r.loc.get("employer_address") else None
        # Counties sync late: half within minutes, some within the hour, some nearly 2 h.
        roll = rng.random()
        if roll < 0.5:
            delay = rng.randrange(0, 300)
        elif roll < 0.85:
            delay = rng.randrange(300, 3600)
        else:
            delay = rng.randrange(3600, 6900)
        name = r.ident.name
        typo = rng.random() < 0.2 and len(name) >= 2
        record: dict[str, Any] = {
            "XFJBH": xfjbh,
            "BBH": "1",
            "DJSJ": cst(t).strftime("%Y-%m-%dT%H:%M:%S"),
            "XFXS": rng.choice(("来信", "来访", "网上信访")),
            "XFR": {
                "XM": (name[0] + "某" + name[2:]) if typo else name,
                "ZJHM": r.ident.id_number or "",
                "LXDH": r.ident.phone or "",
            },
            "BFYDW": {
                "DWMC": r.employer_written or "",
                "TYSHXYDM": r.employer_uscc or "",
                "DWDZ": emp_addr or "",
            },
            "WTSD": r.loc.get("area") or "深圳市",
            "NRFL": r.category_label,
            "RS": str(r.people_involved),
            "XFMD": r.content,
        }
        v1 = t + timedelta(seconds=delay)
        self.versions.append(
            RecordVersion(Channel.PROVINCIAL_PETITION, xfjbh, "1", t, v1, record, incident, r.key)
        )
        if typo:  # corrected within the two hours: the name typo is fixed
            v2 = t + timedelta(seconds=rng.randrange(delay + 60, 7140))
            fixed = record | {"BBH": "2", "XFR": {**record["XFR"], "XM": name}}
            self.versions.append(
                RecordVersion(Channel.PROVINCIAL_PETITION, xfjbh, "2", t, v2, fixed, incident,
                              r.key)
            )  # fmt: skip

    def _emit_case(self, r: PlannedReport, incident_id: str) -> None:
        rng = self.rng
        t0 = self.clock.at(r.s)
        placement = self.placements[incident_id]
        station = self._station_for(placement if placement in DISTRICT_WEIGHTS else None, t0)
        case_id = self._case_id(station, t0)
        emp_addr = r.employer_address if r.loc.get("employer_address") else None
        base = {
            "case_id": case_id,
            "opened_at": iso_cst(t0),
            "updated_at": "",
            "client": {"name": r.ident.name, "phone": r.ident.phone or r.person.mobile,
                       "id_number": r.ident.id_number},
            "employer": {"name": r.employer_written, "credit_code": r.employer_uscc,
                         "address": emp_addr},
            "matter": r.category_label,
            "summary": r.content,
            "stage": LEGAL_STAGES[0],
            "amount_claimed_cny": rng.randrange(5, 400) * 1000 if rng.random() < 0.6 else None,
            "workers": r.people_involved,
            "lawyer": None,
        }  # fmt: skip
        for i, stage, t in self._progression(r.s, LEGAL_STAGES, 0.35, 3 * 86400):
            record = base | {
                "updated_at": iso_cst(t),
                "stage": stage,
                "lawyer": rng.choice(people.LAWYERS) if i > 0 else None,
            }
            self.versions.append(
                RecordVersion(Channel.LEGAL_STATIONS, case_id, iso_cst(t), t,
                              t + timedelta(seconds=1), record, incident_id, r.key,
                              station_id=station.station_id)
            )  # fmt: skip
