"""Use cases: build a scenario, import and export, plan. Each takes a store path and typed settings."""
