"""The channels' vocabularies live once in ``schemas.vocabulary``; everyone reads them there."""

from __future__ import annotations

from connectors.channels import petition_csv, petition_xml
from router.normalize import vocabulary as router_vocabulary
from schemas.channels import Channel
from schemas.complaint import Category
from schemas.vocabulary import (
    CATEGORY_LABELS,
    PETITION_CSV_HEADER,
    PROVINCIAL_XML_NAMESPACE,
    STATUS_LABELS,
    category_labels,
)
from simulators.scenario import labels as generator_labels
from simulators.servers import provincial
from simulators.truth.reports import CATEGORY as TRUTH_CATEGORY


def test_every_channel_names_every_category() -> None:
    for channel in Channel:
        assert set(CATEGORY_LABELS[channel]) == set(Category), channel
        assert STATUS_LABELS[channel], channel


def test_router_connectors_and_simulators_share_one_vocabulary() -> None:
    assert router_vocabulary.STATUSES is STATUS_LABELS
    assert {c: category_labels(c) for c in Channel} == router_vocabulary.CATEGORIES
    assert petition_csv.HEADER is PETITION_CSV_HEADER
    assert generator_labels.CSV_HEADER is PETITION_CSV_HEADER
    assert petition_xml.NAMESPACE == provincial.NS == PROVINCIAL_XML_NAMESPACE
    for channel in Channel:
        assert {
            label for labels in generator_labels.LABELS[channel].values() for label in labels
        } == set(category_labels(channel))


def test_the_independent_truth_reads_the_labels_the_same_way() -> None:
    # simulators/truth keeps its own table on purpose; the two must agree.
    for channel in Channel:
        for label, category in category_labels(channel).items():
            assert TRUTH_CATEGORY[label] == category.value, (channel, label)
