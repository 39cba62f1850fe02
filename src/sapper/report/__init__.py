"""Reports: the situation report (HTML or PDF, en/uk/ru) of a store and the completion report / handover certificate
of a released area; words from the gettext catalogues in ``sapper/locale``.

The package imports only the languages (:mod:`sapper.report.i18n`): the command line reads them on every run, the
pages (Jinja2 and the domain below them) only when it writes a report.
"""

from sapper.report.i18n import Lang, Speaker

__all__ = ["Lang", "Speaker"]
