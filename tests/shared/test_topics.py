"""Topic names and their dead-letter twins."""

from __future__ import annotations

from shared.topics import DLQ_SUFFIX, TOPICS, all_topics, dlq


def test_dlq_appends_suffix() -> None:
    assert dlq("catalog.creators.v1") == "catalog.creators.v1.dlq"


def test_all_topics_has_dlq_twin_for_every_topic() -> None:
    specs = {s.name: s for s in all_topics()}
    for topic in TOPICS:
        assert topic.name in specs
        twin = specs.get(dlq(topic.name))
        assert twin is not None, f"{topic.name} has no dead-letter topic"
        assert twin.partitions == 1


def test_all_topics_lists_each_name_once() -> None:
    names = [s.name for s in all_topics()]
    assert len(names) == len(set(names)) == 2 * len(TOPICS)


def test_all_topics_has_no_dlq_of_dlq() -> None:
    assert not any(s.name.endswith(DLQ_SUFFIX + DLQ_SUFFIX) for s in all_topics())


def test_topics_have_positive_partitions_and_version_suffix() -> None:
    for spec in TOPICS:
        assert spec.partitions >= 1
        assert spec.name.rsplit(".", 1)[1].startswith("v")
