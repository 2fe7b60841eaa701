"""The legal-service stations of the registry: studios, injury studios, industrial parks."""

from __future__ import annotations

from schemas.shenzhen import DISTRICT_BY_SLUG, DISTRICTS
from simulators.scenario.clock import LIVE_SPAN_S
from simulators.scenario.labels import DISTRICT_WEIGHTS, STATION_PREFIX
from simulators.scenario.model import Station
from simulators.scenario.state import GeneratorState


class StationPlanner(GeneratorState):
    """Draws the station registry (first, before any incident)."""

    def _make_stations(self) -> None:
        rng = self.rng
        total = self.options.stations
        slugs = [d.slug for d in DISTRICTS]
        # One district studio each, 12 work-injury studios, the rest in industrial parks.
        plan: list[tuple[str, str]] = [(s, "studio") for s in slugs]
        injury = [s for s in slugs if s != "shenshan"] + ["baoan", "longgang"]
        plan += [(s, "injury") for s in injury[:12]]
        weights = [DISTRICT_WEIGHTS[s] for s in slugs]
        while len(plan) < total:
            plan.append((rng.choices(slugs, weights)[0], "park"))
        plan = plan[:total]
        for slug, kind in plan:
            d = DISTRICT_BY_SLUG[slug]
            self.station_seq[slug] += 1
            sid = f"{STATION_PREFIX[slug]}-{self.station_seq[slug]:03d}"
            if kind == "studio":
                name = f"{d.name}总工会法律服务工作室"
            elif kind == "injury":
                name = f"{d.name}工伤服务工作室（社保{d.short}分局）"
            else:
                street = rng.choice(d.streets)
                name = f"{street}第{'一二三四五六七八九'[rng.randrange(9)]}工业区工会法律服务站"
            opens = closes = None
            roll = rng.random()
            if kind == "park" and roll < 0.03:
                opens = self.clock.at(rng.randrange(60, LIVE_SPAN_S // 2))
            elif kind == "park" and roll < 0.05:
                closes = self.clock.at(rng.randrange(60, LIVE_SPAN_S))
            self.stations.append(Station(sid, name, d.name, slug, opens, closes))
