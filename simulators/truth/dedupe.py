"""Cases as connected components of dispatch.md's "match" relation."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import combinations

from simulators.truth.normalize import jaccard
from simulators.truth.reports import Report

SAME_PERSON_WINDOW = timedelta(days=30)
NO_PERSON_WINDOW = timedelta(days=7)
TEXT_SIMILARITY = 0.7


def same_employer(a: Report, b: Report) -> bool:
    """Equal credit codes where both have one, else equal normalised names."""
    if a.uscc and b.uscc:
        return a.uscc == b.uscc
    return bool(a.employer_name) and a.employer_name == b.employer_name


def matches(a: Report, b: Report) -> bool:
    """dispatch.md "match" between two reports (each in its first version)."""
    if not same_employer(a, b):
        return False
    apart = abs(a.reported_at - b.reported_at)
    if a.persons and b.persons:
        shares_person = bool(set(a.persons) & set(b.persons))
        compatible = a.category == b.category or "other" in (a.category, b.category)
        return shares_person and compatible and apart <= SAME_PERSON_WINDOW
    return apart <= NO_PERSON_WINDOW and jaccard(a.text, b.text) >= TEXT_SIMILARITY


def match_graph(reports: list[Report]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """Adjacency of the match relation (only reports sharing an employer can match)."""
    buckets: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        if r.employer_name:
            buckets["name:" + r.employer_name].append(r)
        if r.uscc:
            buckets["uscc:" + r.uscc].append(r)
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {r.ref: set() for r in reports}
    for bucket in buckets.values():
        for a, b in combinations(bucket, 2):
            if b.ref not in graph[a.ref] and matches(a, b):
                graph[a.ref].add(b.ref)
                graph[b.ref].add(a.ref)
    return graph


def components(graph: dict[tuple[str, str], set[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Connected components, each sorted, in a stable order."""
    seen: set[tuple[str, str]] = set()
    out: list[list[tuple[str, str]]] = []
    for start in sorted(graph):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            comp.append(node)
            for nxt in graph[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        out.append(sorted(comp))
    return out


def can_merge(node: tuple[str, str], graph: dict[tuple[str, str], set[tuple[str, str]]]) -> bool:
    """Whether ``node``, arriving last, could link two or more separate cases (case_merged)."""
    neighbours = graph[node]
    if len(neighbours) < 2:
        return False
    first = next(iter(neighbours))
    reached, stack = {first}, [first]
    while stack:
        cur = stack.pop()
        for nxt in graph[cur]:
            if nxt != node and nxt not in reached:
                reached.add(nxt)
                stack.append(nxt)
    return not neighbours <= reached
