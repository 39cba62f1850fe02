"""Reports: the plan as one self-contained HTML page (map, Gantt, burn-down) built from ReportData."""

from sapper.report.html import render_report, write_report
from sapper.report.model import GanttBar, MapAsset, MapHazard, ReportData, SummaryRow, Town

__all__ = [
    "GanttBar",
    "MapAsset",
    "MapHazard",
    "ReportData",
    "SummaryRow",
    "Town",
    "render_report",
    "write_report",
]
