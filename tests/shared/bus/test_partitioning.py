"""The batch partitioner must put every key exactly where kafka-python's (and Java's) default would."""

from __future__ import annotations

import random

from kafka.partitioner.default import murmur2 as reference_murmur2

from shared.bus.partitioning import default_partitions, murmur2


def _keys(n: int, seed: int = 3) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randint(0, 41)) for _ in range(n)]


def test_murmur2_matches_kafka_for_every_length_and_tail() -> None:
    keys = [*_keys(3000), b"", b"a", b"ab", b"abc", b"abcd", "кр-1".encode(), b"\xff" * 9]
    assert murmur2(keys).tolist() == [reference_murmur2(k) for k in keys]


def test_default_partitions_match_the_default_partitioner_in_any_partition_order() -> None:
    keys = [f"creator-{i}".encode() for i in range(500)]
    expected = [[0, 1, 2, 3, 4, 5][(reference_murmur2(k) & 0x7FFFFFFF) % 6] for k in keys]
    assert default_partitions(keys, [5, 3, 1, 0, 2, 4]) == expected
    assert len(set(expected)) == 6  # the keys spread, so a constant answer could not pass
    assert default_partitions([], [0, 1]) == []
