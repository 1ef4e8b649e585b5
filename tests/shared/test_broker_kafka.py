"""Apache Kafka's store is formatted whatever random cluster id comes up."""

from __future__ import annotations

import pytest

from shared import broker_kafka
from shared.broker_kafka import KafkaBroker, ensure_jars, kafka_available


@pytest.mark.skipif(not kafka_available(), reason="needs Java and the Kafka jars (make kafka)")
def test_a_cluster_id_starting_with_a_dash_formats_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # base64url ids start with "-" one time in 64; the storage tool once read such an id as an option.
    monkeypatch.setattr(broker_kafka, "_cluster_id", lambda: "-AbCdEfGhIjKlMnOpQrStUw")
    broker = KafkaBroker()
    try:
        broker._configure(ensure_jars())
        assert (broker.data_dir / "store" / "meta.properties").exists()
    finally:
        broker.close()
