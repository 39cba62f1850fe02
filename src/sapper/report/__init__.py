"""Reports: the situation report (HTML or PDF, en/uk/ru) of a store and the completion report / handover certificate
of a released area; words from the gettext catalogues in ``sapper/locale``."""

from sapper.report.i18n import Lang, Speaker
from sapper.report.pages import Format

__all__ = ["Format", "Lang", "Speaker"]
