"""Use cases: build a scenario, import and export, plan. Each takes a store (a file path or a
postgresql:// URL) and typed settings."""
