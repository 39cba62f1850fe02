"""Forecasts of completion with uncertainty (Monte Carlo over plans). Not built yet: see the open issues."""
