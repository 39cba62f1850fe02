"""Pure data and rules of mine action and reconstruction: no I/O, no solver, no web, no SQL."""
