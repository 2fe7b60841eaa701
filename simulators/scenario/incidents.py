"""Incidents and the reports they produce: people, employers, identities, locations.

Invariants the ground truth relies on (documented in ``simulators/README.md``):

* every report of one incident places to the same district (or the same
  triage reason), so a case's district does not depend on arrival order;
* different incidents never share a person, and share an employer only inside
  a collective dispute, whose reports all carry a person identity.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from schemas.channels import Channel
from schemas.shenzhen import DISTRICT_BY_SLUG, DISTRICTS, District
from simulators.scenario import addresses, employers, people, texts, typed
from simulators.scenario.labels import CHANNEL_WEIGHTS, DISTRICT_WEIGHTS, LABELS
from simulators.scenario.model import Employer, Incident, Person
from simulators.scenario.state import GeneratorState, Identity, PlannedReport


class IncidentPlanner(GeneratorState):
    """Plans incidents and their reports (before any record is written)."""

    def _placement(self, *, allow_triage: bool = True) -> str:
        """A district slug (weighted by size), or now and then a triage reason."""
        roll = self.rng.random()
        if allow_triage and roll < 0.05:
            return "outside_jurisdiction"
        if allow_triage and roll < 0.09:
            return "unplaced"
        slugs = list(DISTRICT_WEIGHTS)
        return self.rng.choices(slugs, [DISTRICT_WEIGHTS[s] for s in slugs])[0]

    def _employer(self, placement: str) -> tuple[Employer, bool]:
        """An employer for ``placement``; the flag says its name is a place trap."""
        rng = self.rng
        core = self.names.core()
        slug = placement if placement in DISTRICT_WEIGHTS else None
        trap = False
        if slug == "nanshan" and rng.random() < 0.2:
            name, trap = f"龙岗{core}公司南山分公司", True
        elif slug is not None:
            name = employers.make_registered_name(core, rng, slug)
        else:
            name = f"深圳市{core}{rng.choice(employers.FORMS)}"
        if slug is not None:
            address = addresses.trap_address(slug, rng) if rng.random() < 0.25 else None
            address = address or addresses.make_address(slug, rng)
        elif placement == "outside_jurisdiction":
            address = rng.choice(addresses.OUTSIDE_ADDRESSES)
        else:
            address = None
        return Employer(name, employers.make_employer_uscc(rng, slug), address, slug), trap

    def _channel(self, allow_legal: bool) -> Channel:
        choices = [(c, w) for c, w in CHANNEL_WEIGHTS if allow_legal or c != Channel.LEGAL_STATIONS]
        return self.rng.choices([c for c, _ in choices], [w for _, w in choices])[0]

    def _make_incident(self, incident_id: str) -> None:
        rng = self.rng
        roll = rng.random()
        kind = "single"
        if roll < 0.07:
            kind = "collective"
        elif roll < 0.12:
            kind = "mass"
        elif roll < 0.17:
            kind = "consultation"
        category = rng.choice(texts.CATEGORIES)
        if kind == "consultation":
            self._consultation(incident_id)
            return
        placement = self._placement(allow_triage=kind != "collective")
        employer, trap = self._employer(placement)
        incident = Incident(incident_id, kind, category, placement, employer)
        s0 = self._start_s()
        if kind == "collective":
            incident.group_dispute = True
            persons = [self._person() for _ in range(rng.randrange(5, 9))]
            for person in persons:
                s = self._report_s(s0, 5 * 86400, 1800) if person is not persons[0] else s0
                channel = self._channel(True)
                self._add_report(incident, channel, s, person, trap, allow_no_identity=False)
        else:
            person = self._person()
            n = rng.choices((1, 2, 3, 4), (55, 25, 15, 5))[0]
            mass_at = rng.randrange(n) if kind == "mass" else -1
            allow_legal = placement != "unplaced"
            for i in range(n):
                s = s0 if i == 0 else self._report_s(s0, 3 * 86400)
                channel = self._channel(allow_legal)
                if i == mass_at and channel == Channel.HOTLINE_12351:
                    channel = Channel.CITIZEN_APP
                self._add_report(
                    incident, channel, s, person, trap, allow_no_identity=n > 1,
                    mass=i == mass_at,
                )  # fmt: skip
            self._maybe_copy_text(incident)
        incident.case_groups = self._intended_groups(incident)
        self.incidents.append(incident)

    def _consultation(self, incident_id: str) -> None:
        """An (often anonymous) hotline call with no employer: a case of its own."""
        rng = self.rng
        person = self._person()
        area_slug = rng.choice([d.slug for d in DISTRICTS] + [None, None])
        placement = area_slug or "unplaced"
        incident = Incident(incident_id, "consultation", "other", placement, None)
        anonymous = rng.random() < 0.5
        ident = Identity(
            phone=(person.landline or person.mobile) if rng.random() < 0.3 else person.mobile,
            phone_key=None,
            id_number=None,
            id_key=None,
            name="" if anonymous else person.name,
        )
        key = f"{incident_id}-R1"
        report = PlannedReport(
            key=key,
            channel=Channel.HOTLINE_12351,
            s=self._start_s(),
            person=person,
            ident=ident,
            employer_written=None,
            employer_uscc=None,
            employer_address=None,
            category_label=LABELS[Channel.HOTLINE_12351]["other"][0],  # 咨询
            title="",
            content=self._in_own_words(rng.choice(texts.CONSULTATIONS), person, ident.name),
            people_involved=1,
            loc={"area": f"深圳市{DISTRICT_BY_SLUG[area_slug].name}" if area_slug else "深圳市"},
        )
        self._register(incident, report)
        incident.case_groups = [[key]]
        self.incidents.append(incident)

    def _identity(self, channel: Channel, person: Person, allow_none: bool) -> Identity:
        rng = self.rng
        use_phone = True
        use_id = (
            rng.random()
            < {
                Channel.CITIZEN_APP: 0.4,
                Channel.HOTLINE_12351: 0.25,
                Channel.PETITION_WINDOW: 0.7,
                Channel.PROVINCIAL_PETITION: 0.6,
                Channel.LEGAL_STATIONS: 0.5,
            }[channel]
        )
        name = person.name
        if channel in (Channel.PETITION_WINDOW, Channel.PROVINCIAL_PETITION):
            use_phone = rng.random() < 0.65
            if not use_phone and not use_id and not allow_none:
                use_id = True
        if channel == Channel.HOTLINE_12351 and rng.random() < 0.2:
            name, use_id = "", False  # anonymous caller: a phone, no name, no ID
        phone_raw = person.mobile
        if channel == Channel.HOTLINE_12351 and person.landline and rng.random() < 0.5:
            phone_raw = person.landline
        phone = None
        if use_phone:
            phone = phone_raw if "-" in phone_raw else people.phone_variant(rng, phone_raw)
        return Identity(
            phone=phone,
            phone_key=phone_raw if use_phone else None,
            id_number=people.id_variant(rng, person.id_number) if use_id else None,
            id_key=person.id_number if use_id else None,
            name=name,
        )

    def _add_report(
        self,
        incident: Incident,
        channel: Channel,
        s: int,
        person: Person,
        trap: bool,
        *,
        allow_no_identity: bool,
        mass: bool = False,
    ) -> None:
        rng = self.rng
        emp = incident.employer
        if emp is None:
            raise ValueError("a report with an employer needs an incident with one")
        ident = self._identity(channel, person, allow_no_identity)
        category = incident.category
        if channel == Channel.HOTLINE_12351 and rng.random() < 0.15:
            category = "other"  # callers are often logged as a consultation first
        label = rng.choice(LABELS[channel][category])
        written = employers.name_variant(emp.name, rng)
        slug = emp.district
        where = ""
        if slug is not None and rng.random() < 0.35:
            d = DISTRICT_BY_SLUG[slug]
            place = rng.choice(d.places + d.streets)
            where = f"({place})" if rng.random() < 0.5 else f"在{place}的厂区"
        title, content = texts.complaint(rng, incident.category, written, where)
        content = self._in_own_words(content, person, ident.name)
        n_people = 1
        if mass:
            n_people = rng.randrange(10, 80)
        elif incident.kind == "collective" and rng.random() < 0.2:
            n_people = rng.randrange(2, 6)
        report = PlannedReport(
            key=f"{incident.incident_id}-R{len(incident.report_keys) + 1}",
            channel=channel,
            s=s,
            person=person,
            ident=ident,
            employer_written=written,
            employer_uscc=emp.uscc if rng.random() < 0.5 else None,
            employer_address=emp.address,
            category_label=label,
            title=title,
            content=content,
            people_involved=n_people,
        )
        report.loc = self._location(channel, incident.placement, emp, trap)
        self._register(incident, report)

    def _in_own_words(self, content: str, person: Person, name: str) -> str:
        """``content`` as the complainant writes it: maybe their name, own numbers, others.

        The numbers are the complainant's own, in any of the typed forms (the
        router masks them); the other numbers (amounts, dates, order-like ids) it
        keeps. A name is introduced with 我叫 (no evidence of a place, see
        ``router/README.md`` "Placement").
        """
        rng = self.rng
        # Names holding a place (李南山) are introduced more often: the trap gets exercised.
        if name and rng.random() < (0.7 if name[1:] in people.PLACE_GIVEN else 0.2):
            content = f"我叫{name}，{content}"
        extra = ""
        if rng.random() < 0.5:
            extra += typed.typed_number(rng, person.mobile, person.landline, person.id_number)
        if rng.random() < 0.35:
            extra += typed.kept_numbers(rng, self.clock.anchor.year)
        if not extra:
            return content
        return content.rstrip("。") + extra + "。"

    def _register(self, incident: Incident, report: PlannedReport) -> None:
        incident.report_keys.append(report.key)
        self.by_incident.setdefault(incident.incident_id, []).append(report)
        self.reports.append(report)
        self.report_incident[report.key] = incident.incident_id

    def _location(
        self, channel: Channel, placement: str, emp: Employer, trap: bool
    ) -> dict[str, Any]:
        """Channel location fields consistent with ``placement`` (see module doc)."""
        rng = self.rng
        loc: dict[str, Any] = {"employer_address": True}
        if placement == "unplaced":
            loc["employer_address"] = False
            return loc | {"area": rng.choice(("深圳市", ""))}
        if placement == "outside_jurisdiction":
            city = next(
                c for c in addresses.OUTSIDE_AREAS if emp.address and emp.address.startswith(c)
            )
            if channel == Channel.CITIZEN_APP and rng.random() < 0.5:
                loc |= {"employer_address": False, "address": emp.address}
            elif channel in (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION):
                loc |= {"area": city, "employer_address": rng.random() < 0.5}
            return loc
        d = DISTRICT_BY_SLUG[placement]
        # How strongly the record states its own location (rule 1).
        use_field = rng.random() < (0.9 if trap else 0.65)
        name_says = emp.name.startswith("深圳市" + d.name)
        loc["employer_address"] = trap or (not use_field and not name_says) or rng.random() < 0.6
        if channel == Channel.CITIZEN_APP:
            if use_field:
                loc |= self._citizen_location(d)
            elif rng.random() < 0.4:
                loc["address"] = addresses.make_address(d.slug, rng)
        elif channel == Channel.PETITION_WINDOW:
            loc["district"] = addresses.district_label(d.slug, rng) if use_field else ""
        elif channel in (Channel.HOTLINE_12351, Channel.PROVINCIAL_PETITION):
            loc["area"] = f"深圳市{d.name}" if use_field else "深圳市"
        return loc

    def _citizen_location(self, d: District) -> dict[str, Any]:
        rng = self.rng
        street = rng.choice(d.streets)
        street_name = street + d.street_suffix
        code = d.code or ("440307" if d.slug == "dapeng" else "441521")
        form = rng.randrange(4)
        if d.slug == "dapeng":
            # The trap: 大鹏 comes with 龙岗's code; a name or a street must say 大鹏.
            return {"code": "440307", "name": d.name if form < 2 else None, "street": street_name}
        if form == 0:
            return {"code": code, "name": d.name, "street": street_name}
        if form == 1:
            return {"code": code, "name": d.name}
        if form == 2:
            return {"code": None, "name": None, "street": street_name}
        return {"code": code}

    def _maybe_copy_text(self, incident: Incident) -> None:
        """Give a report without identity the text of a sibling, as when a clerk re-types it."""
        mine = self.by_incident[incident.incident_id]
        bare = [r for r in mine if r.ident.phone is None and r.ident.id_number is None]
        if not bare:
            return
        others = [r for r in mine if r not in bare]
        sources = [r for r in others if r.channel not in _NO_COPY]
        # Copy only where the others are one identity group already: a copied text then
        # cannot link two groups the generator means to keep apart.
        if not sources or len(_union_identities(others)) != 1:
            for r in bare:  # nothing to copy from: give it an ID number after all
                r.ident.id_number = r.person.id_number
                r.ident.id_key = r.person.id_number
            return
        for r in bare:
            r.title, r.content, r.text_from = "", sources[0].content, sources[0].key

    def _intended_groups(self, incident: Incident) -> list[list[str]]:
        """The generator's own partition: shared identity keys, plus copied texts."""
        mine = self.by_incident[incident.incident_id]
        groups = _union_identities([r for r in mine if r.text_from is None])
        by_key = {k: g for g in groups for k in g}
        for r in mine:
            if r.text_from is not None:
                by_key[r.text_from].append(r.key)
        return [sorted(g) for g in groups]


# Channels whose text a copy would not reproduce exactly (title + content; clerk additions).
_NO_COPY = (Channel.CITIZEN_APP, Channel.PETITION_WINDOW)


def _union_identities(reports: list[PlannedReport]) -> list[list[str]]:
    """Reports grouped by shared identity (the generator's own person keys)."""
    parent = {r.key: r.key for r in reports}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    owner: dict[str, str] = {}
    for r in reports:
        for ident in (r.ident.phone_key, r.ident.id_key):
            if ident is None:
                continue
            if ident in owner:
                parent[find(r.key)] = find(owner[ident])
            else:
                owner[ident] = r.key
    groups: dict[str, list[str]] = defaultdict(list)
    for r in reports:
        groups[find(r.key)].append(r.key)
    return list(groups.values())
