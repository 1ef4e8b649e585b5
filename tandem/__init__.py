"""The `tandem` command: local broker, services, training, and the end-to-end demo."""
