"""Use cases: build a scenario, import and export, land release, field data, plan, forecast.

Each takes an open :class:`~sapper.store.Store` (a GeoPackage file or a ``postgresql://`` database; an entry point
opens it once per operation with :func:`sapper.services.register.open_register` from its
:class:`~sapper.services.settings.Settings`) and typed parameters, and returns typed results the entry point prints
or serialises.
"""
