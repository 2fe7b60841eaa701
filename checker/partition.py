"""The case partition a run published, following ``case_merged`` chains."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from checker.events import Event
from checker.expectations import Ref


class PublishedCases:
    """Reports grouped into the cases the dispatch events say they are in.

    A report belongs to the case of each of its events; a ``case_merged``
    event joins its ``merged_case_ids`` into its ``case_id``. Case ids that
    end up joined are one case, whatever the order of the events.
    """

    def __init__(self, events: Iterable[Event]) -> None:
        self._parent: dict[str, str] = {}
        for event in events:
            case = self._case_node(event.case_id)
            self._union(self._ref_node(event.ref), case)
            for merged in event.merged_case_ids:
                self._union(self._case_node(merged), case)

    def group_of_ref(self, ref: Ref) -> str | None:
        """The published case (a root label) of a report, or ``None`` if never dispatched."""
        node = self._ref_node(ref)
        return self._find(node) if node in self._parent else None

    def group_of_case_id(self, case_id: str) -> str | None:
        """The published case a case id ended in, or ``None`` for an id no event carried."""
        node = self._case_node(case_id)
        return self._find(node) if node in self._parent else None

    def groups(self) -> dict[str, set[Ref]]:
        """Published case (root label) -> its reports."""
        out: dict[str, set[Ref]] = defaultdict(set)
        for node in list(self._parent):
            if node.startswith("r\x00"):
                _, channel, external_id = node.split("\x00", 2)
                out[self._find(node)].add((channel, external_id))
        return dict(out)

    @staticmethod
    def _ref_node(ref: Ref) -> str:
        return f"r\x00{ref[0]}\x00{ref[1]}"

    @staticmethod
    def _case_node(case_id: str) -> str:
        return f"c\x00{case_id}"

    def _find(self, node: str) -> str:
        self._parent.setdefault(node, node)
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:
            self._parent[node], node = root, self._parent[node]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[ra] = rb
