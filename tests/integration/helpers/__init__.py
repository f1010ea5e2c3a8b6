"""Programs and helpers the integration tests run beside the runtime."""
