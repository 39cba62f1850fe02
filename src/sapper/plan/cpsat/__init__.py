"""plan/cpsat."""
