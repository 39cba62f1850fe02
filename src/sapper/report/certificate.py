"""The completion report / handover certificate of a released hazard area as an HTML page or a PDF, in English,
Ukrainian or Russian.

The page renders :class:`~sapper.domain.handover.HandoverCertificate` (built from the area's land-release history)
through Jinja2 with every value escaped; no script, no network. Labels, classes, states, device categories, disposals,
signatory roles and the standard residual-risk statement come from the catalogues (:mod:`sapper.report.i18n`); the
free text recorded in the history (activity lines, inspection lines, names, earlier finds) is shown as recorded. The
PDF is made by WeasyPrint with the fonts shipped in ``sapper/report/fonts``.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from sapper.domain.handover import STANDARD_RESIDUAL_RISK, HandoverCertificate
from sapper.domain.hazards import DeviceCategory, HazardClass, Marking
from sapper.domain.landrelease import ReleaseState
from sapper.report.i18n import Lang, Speaker
from sapper.report.pages import Format, environment, font_faces, state_name, write_page


def residual_risk(sp: Speaker, text: str) -> str:
    """The certificate's residual-risk statement with its standard part translated."""
    standard = sp._(
        "All reasonable effort has been made to identify, define and remove all presence and suspicion of explosive "
        "ordnance (IMAS 07.11). A residual risk remains: report any item found to the national mine action "
        "authority; the area will be reopened where it is found."
    )
    return standard + text[len(STANDARD_RESIDUAL_RISK):] if text.startswith(STANDARD_RESIDUAL_RISK) else text


def _words(sp: Speaker) -> dict[tuple[str, str], str]:
    """Words for the record's coded values, by (kind of value, value): ``unknown`` is a marking and a device
    category."""
    return {
        ("class", HazardClass.SHA.value): sp._("suspected hazardous area (SHA)"),
        ("class", HazardClass.CHA.value): sp._("confirmed hazardous area (CHA)"),
        ("marking", Marking.UNKNOWN.value): sp._("not known"), ("marking", Marking.NONE.value): sp._("not marked"),
        ("marking", Marking.TEMPORARY.value): sp._("temporary marking"),
        ("marking", Marking.PERMANENT.value): sp._("permanent marking"),
        ("marking", Marking.FENCED.value): sp._("fenced"),
        ("device", DeviceCategory.AP_MINE.value): sp._("anti-personnel mine"),
        ("device", DeviceCategory.AT_MINE.value): sp._("anti-tank mine"),
        ("device", DeviceCategory.ERW_UXO.value): sp._("unexploded ordnance"),
        ("device", DeviceCategory.ERW_AXO.value): sp._("abandoned explosive ordnance"),
        ("device", DeviceCategory.SMALL_ARMS.value): sp._("small-arms ammunition"),
        ("device", DeviceCategory.CLUSTER.value): sp._("cluster submunition"),
        ("device", DeviceCategory.IED.value): sp._("improvised explosive device or booby trap"),
        ("device", DeviceCategory.UNKNOWN.value): sp._("unknown device"),
        ("disposal", "destroyed_in_place"): sp._("destroyed in place"),
        ("disposal", "moved"): sp._("moved and destroyed elsewhere"),
        ("disposal", "handed_over"): sp._("handed over"),
        ("role", "accepted by"): sp._("accepted by"), ("role", "handed over by"): sp._("handed over by"),
        ("role", "received by"): sp._("received by"),
    }


def render_certificate(cert: HandoverCertificate, *, lang: Lang = Lang.EN, pdf: bool = False) -> str:
    """The certificate as an HTML page in ``lang`` (with ``pdf``: A4 and the shipped fonts, for WeasyPrint)."""
    sp = Speaker(lang)
    words = _words(sp)
    return environment(lang).get_template("certificate.html.j2").render(
        c=cert, sp=sp, lang=lang.value, pdf=pdf, font_faces=Markup(font_faces()) if pdf else "",
        word=lambda kind, v: words.get((kind, str(v)), str(v)), state=state_name(sp, ReleaseState(cert.state)),
        cm=lambda v: sp._("{n} cm").format(n=sp.fmt_num(v)), m2=lambda v: sp._("{n} m²").format(n=sp.fmt_int(v)),
        residual=residual_risk(sp, cert.residual_risk))


def write_certificate(cert: HandoverCertificate, path: str | Path, *, fmt: Format = Format.HTML,
                      lang: Lang = Lang.EN) -> Path:
    """Write the certificate to ``path`` as HTML (UTF-8) or PDF; the file is written whole or not at all."""
    return write_page(render_certificate(cert, lang=lang, pdf=fmt is Format.PDF), path, fmt)
