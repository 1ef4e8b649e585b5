"""The event bus on kafka-python: producer, transactional outbox, idempotent consumer loop, dead letters."""
