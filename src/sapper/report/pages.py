"""What the report pages share: the Jinja2 environment with a language's catalogue installed, the shipped fonts as
``@font-face`` rules, HTML → PDF through WeasyPrint, the output format, and land-release states in words."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from sapper.domain.landrelease import ReleaseState
from sapper.errors import Fault, ValidationError
from sapper.messages import msg
from sapper.report.i18n import Lang, Speaker, translations


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"

    @classmethod
    def parse(cls, value: str) -> Format:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValidationError(msg("report format"), [Fault("--format", msg("must be html or pdf, got {value}",
                                                                               value=repr(value)))]) from None


@lru_cache(maxsize=4)
def environment(lang: Lang) -> Environment:
    env = Environment(loader=PackageLoader("sapper.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def font_faces() -> str:
    """``@font-face`` rules for the shipped DejaVu Sans (regular and bold), as ``file://`` URLs."""
    fonts = resources.files("sapper").joinpath("report", "fonts")
    rules = []
    for name, weight in (("DejaVuSans.ttf", "normal"), ("DejaVuSans-Bold.ttf", "bold")):
        path = Path(str(fonts.joinpath(name))).resolve()
        rules.append(f"@font-face {{ font-family: 'DejaVu Sans'; font-weight: {weight}; "
                     f"src: url('{path.as_uri()}') format('truetype'); }}")
    return "\n".join(rules)


def state_name(sp: Speaker, state: ReleaseState) -> str:
    return {
        ReleaseState.SUSPECTED: sp._("suspected hazardous area"),
        ReleaseState.CONFIRMED: sp._("confirmed hazardous area"),
        ReleaseState.RELEASED: sp._("released"),
        ReleaseState.HANDED_OVER: sp._("handed over"),
    }[state]


def html_to_pdf(page: str, path: Path) -> None:
    from weasyprint import HTML  # loaded only for a PDF: it takes about a second

    HTML(string=page, base_url=str(path.parent)).write_pdf(str(path))


def write_page(page: str, path: str | Path, fmt: Format) -> Path:
    """Write a rendered page to ``path`` as HTML (UTF-8) or PDF, whole or not at all (a temporary file beside it,
    renamed); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    try:
        if fmt is Format.PDF:
            html_to_pdf(page, tmp)
        else:
            tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
