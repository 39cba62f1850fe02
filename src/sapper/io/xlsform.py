"""XLSForm templates for field data collection in ODK Collect / KoboCollect, defined as data and written with openpyxl.

Five forms: non-technical survey (``nts``), technical survey (``ts``), clearance daily progress (``clearance``),
accident (``accident``, IMAS 10.60) and builder brigade progress (``brigade``). Every label, hint, constraint
message and choice is in English, Ukrainian and Russian; English is the default language. Choice values come from
the register's enumerations where one exists, so a submission's values are the values the register stores.

The generated workbooks ship in the package (``sapper/io/forms/<form_id>.xlsx``); ``sapper forms write`` copies them.
After changing a form here, bump its ``version`` and regenerate the shipped files::

    .venv/bin/python -m sapper.io.xlsform

``tests/io/test_xlsform.py`` fails when the shipped files differ from what this module generates, when a form does
not convert with pyxform, or when the field names differ from ``sapper.io.form_fields.FIELD_NAMES``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Final, TypeVar

from sapper.domain.activities import DeviceCondition, Disposal
from sapper.domain.hazards import DeviceCategory, Evidence, LandUse, Marking
from sapper.domain.resources import Method, Trade
from sapper.errors import ImportFileError, NotFoundError
from sapper.messages import msg

E = TypeVar("E", bound=StrEnum)

#: The form languages, as XLSForm column suffixes (``label::English (en)``) and ODK's language names.
LANGUAGES: Final = ("English (en)", "Українська (uk)", "Русский (ru)")
DEFAULT_LANGUAGE: Final = LANGUAGES[0]


@dataclass(frozen=True, slots=True)
class Text:
    """One text in the three form languages."""

    en: str
    uk: str
    ru: str

    def values(self) -> tuple[str, str, str]:
        """The text in the order of ``LANGUAGES``."""
        return (self.en, self.uk, self.ru)


@dataclass(frozen=True, slots=True)
class Question:
    """One row of the survey sheet: a question, or metadata such as ``start`` (which has no label)."""

    type: str
    name: str
    label: Text | None = None
    hint: Text | None = None
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message: Text | None = None
    appearance: str = ""
    default: str = ""
    parameters: str = ""
    #: XLSForm ``choice_filter`` (only for questions whose choices come from a file; the shipped templates use none).
    choice_filter: str = ""


@dataclass(frozen=True, slots=True)
class Repeat:
    """A repeat group: ``questions`` asked once per item (a device found, a victim)."""

    name: str
    label: Text
    questions: tuple[Question, ...]
    relevant: str = ""
    repeat_count: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    label: Text


@dataclass(frozen=True, slots=True)
class Form:
    """One XLSForm: settings, the survey's items in order, and the choice lists its select questions use."""

    key: str
    form_id: str
    title: Text
    version: str
    instance_name: str
    items: tuple[Question | Repeat, ...]

    @property
    def file_name(self) -> str:
        return f"{self.form_id}.xlsx"

    def questions(self) -> Iterable[Question]:
        """Every question, those inside repeats included, in form order."""
        for item in self.items:
            if isinstance(item, Repeat):
                yield from item.questions
            else:
                yield item

    def choice_lists(self) -> dict[str, tuple[Choice, ...]]:
        """The choice lists the form's select questions use, in order of first use."""
        lists: dict[str, tuple[Choice, ...]] = {}
        for q in self.questions():
            kind, _, list_name = q.type.partition(" ")
            if kind in ("select_one", "select_multiple") and list_name not in lists:
                lists[list_name] = CHOICES[list_name]
        return lists


# --- choice lists -------------------------------------------------------------------------------------------------


def _from_enum(enum: type[E], labels: Mapping[E, Text], members: Iterable[E] | None = None) -> tuple[Choice, ...]:
    """Choices whose names are the enum's values (all members, or ``members``), each with its label."""
    chosen = list(enum) if members is None else list(members)
    missing = [m for m in chosen if m not in labels]
    if missing:
        raise KeyError(f"no form labels for {enum.__name__} members {missing}")
    return tuple(Choice(m.value, labels[m]) for m in chosen)


def _choices(*items: tuple[str, Text]) -> tuple[Choice, ...]:
    return tuple(Choice(name, label) for name, label in items)


_DEVICE_CATEGORY_LABELS: Final[Mapping[DeviceCategory, Text]] = {
    DeviceCategory.AP_MINE: Text("Anti-personnel mine", "Протипіхотна міна", "Противопехотная мина"),
    DeviceCategory.AT_MINE: Text("Anti-tank (anti-vehicle) mine", "Протитанкова міна", "Противотанковая мина"),
    DeviceCategory.ERW_UXO: Text("ERW / unexploded ordnance", "ВЗВ / нерозірвані боєприпаси",
                                 "ВПВ / неразорвавшиеся боеприпасы"),
    DeviceCategory.ERW_AXO: Text("ERW / abandoned ordnance", "ВЗВ / покинуті боєприпаси",
                                 "ВПВ / оставленные боеприпасы"),
    DeviceCategory.SMALL_ARMS: Text("Small-arms ammunition", "Боєприпаси до стрілецької зброї",
                                    "Боеприпасы к стрелковому оружию"),
    DeviceCategory.CLUSTER: Text("Cluster submunition", "Касетний суббоєприпас", "Кассетный суббоеприпас"),
    DeviceCategory.IED: Text("Improvised explosive device / booby trap", "Саморобний вибуховий пристрій / міна-пастка",
                             "Самодельное взрывное устройство / мина-ловушка"),
    DeviceCategory.UNKNOWN: Text("Unknown (not identified)", "Невідомо (не ідентифіковано)",
                                 "Неизвестно (не идентифицировано)"),
}
_UNKNOWN: Final = Text("Unknown", "Невідомо", "Неизвестно")
_OTHER: Final = Text("Other", "Інше", "Другое")

#: Every choice list of the templates. Lists named after a register enumeration carry exactly its values.
CHOICES: Final[Mapping[str, tuple[Choice, ...]]] = {
    "yes_no": _choices(("yes", Text("Yes", "Так", "Да")), ("no", Text("No", "Ні", "Нет"))),
    "device_category": _from_enum(DeviceCategory, _DEVICE_CATEGORY_LABELS),
    "accident_device": _from_enum(DeviceCategory, _DEVICE_CATEGORY_LABELS),  # "unknown" is a category now
    "marking": _from_enum(Marking, {
        Marking.UNKNOWN: _UNKNOWN,
        Marking.NONE: Text("Not marked", "Не позначено", "Не обозначен"),
        Marking.TEMPORARY: Text("Temporary marking", "Тимчасове позначення", "Временное обозначение"),
        Marking.PERMANENT: Text("Permanent marking", "Постійне позначення", "Постоянное обозначение"),
        Marking.FENCED: Text("Fenced", "Огороджено", "Огорожен"),
    }),
    "disposal": _from_enum(Disposal, {
        Disposal.DESTROYED_IN_PLACE: Text("Destroyed in place", "Знищено на місці", "Уничтожен на месте"),
        Disposal.MOVED: Text("Moved and destroyed elsewhere", "Переміщено і знищено в іншому місці",
                             "Перемещён и уничтожен в другом месте"),
        Disposal.HANDED_OVER: Text("Handed over (police, army, another operator)",
                                   "Передано (поліції, армії, іншому оператору)",
                                   "Передан (полиции, армии, другому оператору)"),
    }),
    "device_condition": _from_enum(DeviceCondition, {
        DeviceCondition.ARMED: Text("Armed (fuzed)", "У бойовому положенні", "В боевом положении"),
        DeviceCondition.UNARMED: Text("Not armed", "Не в бойовому положенні", "Не в боевом положении"),
        DeviceCondition.DAMAGED: Text("Damaged", "Пошкоджений", "Повреждённый"),
        DeviceCondition.UNKNOWN: _UNKNOWN,
    }),
    "evidence": _from_enum(Evidence, {
        Evidence.DIRECT: Text("Direct evidence", "Прямі докази", "Прямые доказательства"),
        Evidence.INDIRECT: Text("Indirect evidence", "Непрямі докази", "Косвенные доказательства"),
    }),
    "land_use": _from_enum(LandUse, {
        LandUse.AGRICULTURAL: Text("Agricultural land", "Сільськогосподарські угіддя", "Сельскохозяйственные угодья"),
        LandUse.FOREST: Text("Forest", "Ліс", "Лес"),
        LandUse.RESIDENTIAL: Text("Residential (houses, gardens)", "Житлова забудова (будинки, городи)",
                                  "Жилая застройка (дома, огороды)"),
        LandUse.INFRASTRUCTURE: Text("Infrastructure (roads, power, water)",
                                     "Інфраструктура (дороги, електромережі, водопостачання)",
                                     "Инфраструктура (дороги, электросети, водоснабжение)"),
        LandUse.WETLAND: Text("Wetland", "Заболочена місцевість", "Заболоченная местность"),
        LandUse.OTHER: _OTHER,
    }),
    # How deminers work on the ground; the register's ``survey`` method (survey teams) is not a TS or clearance method.
    "method": _from_enum(Method, {
        Method.MANUAL: Text("Manual (deminers with detectors)", "Ручний (сапери з металошукачами)",
                            "Ручной (сапёры с металлоискателями)"),
        Method.DOG: Text("Mine detection dogs", "Мінно-розшукові собаки", "Минно-розыскные собаки"),
        Method.MECHANICAL: Text("Mechanical (flail, tiller)", "Механізований (машини розмінування)",
                                "Механизированный (машины разминирования)"),
    }, (Method.MANUAL, Method.DOG, Method.MECHANICAL)),
    "trade": _from_enum(Trade, {
        Trade.ROAD: Text("Roads", "Дороги", "Дороги"),
        Trade.BRIDGE: Text("Bridges", "Мости", "Мосты"),
        Trade.POWER: Text("Power lines and substations", "Електромережі та підстанції", "Электросети и подстанции"),
        Trade.WATER: Text("Water supply", "Водопостачання", "Водоснабжение"),
        Trade.BUILDING: Text("Buildings", "Будівлі", "Здания"),
    }),
    "nts_outcome": _choices(
        ("cancel", Text("Cancel: no evidence, the whole area is released",
                        "Скасувати: доказів немає, вся територія вивільняється",
                        "Аннулировать: доказательств нет, вся территория высвобождается")),
        ("sha", Text("Suspected hazardous area: indirect evidence only",
                     "Підозріла небезпечна територія: лише непрямі докази",
                     "Предположительно опасный район: только косвенные доказательства")),
        ("confirm", Text("Confirm as CHA: direct evidence",
                         "Визнати підтвердженою небезпечною територією: прямі докази",
                         "Признать подтверждённым опасным районом: прямые доказательства")),
        ("reduce", Text("Reduce: cancel part of the area, the rest stays hazardous",
                        "Зменшити: скасувати частину території, решта лишається небезпечною",
                        "Уменьшить: аннулировать часть территории, остальное остаётся опасным")),
    ),
    "informant_role": _choices(
        ("resident", Text("Local resident", "Місцевий мешканець", "Местный житель")),
        ("land_user", Text("Landowner or land user", "Власник або користувач землі",
                           "Владелец или пользователь земли")),
        ("authority", Text("Local authority", "Представник місцевої влади", "Представитель местной власти")),
        ("police_military", Text("Police or military", "Поліція або військові", "Полиция или военные")),
        ("medical", Text("Medical staff", "Медичний працівник", "Медицинский работник")),
        ("witness", Text("Witness of an explosion or accident", "Свідок вибуху чи нещасного випадку",
                         "Свидетель взрыва или несчастного случая")),
        ("other", _OTHER),
    ),
    "ts_type": _choices(
        ("targeted", Text("Targeted", "Цільове", "Целевое")),
        ("systematic", Text("Systematic", "Систематичне", "Систематическое")),
    ),
    "accident_type": _choices(
        ("demining", Text("Demining accident (during demining work)", "Нещасний випадок під час розмінування",
                          "Несчастный случай при разминировании")),
        ("mine", Text("Mine/ERW accident (not during demining)",
                      "Нещасний випадок з міною чи ВЗВ (не під час розмінування)",
                      "Несчастный случай с миной или ВПВ (не при разминировании)")),
    ),
    "gender": _choices(
        ("female", Text("Female", "Жіноча", "Женский")),
        ("male", Text("Male", "Чоловіча", "Мужской")),
    ),
    "victim_outcome": _choices(
        ("killed", Text("Killed", "Загинув (загинула)", "Погиб (погибла)")),
        ("injured", Text("Injured", "Поранений (поранена)", "Ранен (ранена)")),
    ),
    "victim_activity": _choices(
        ("demining", Text("Demining work", "Розмінування", "Разминирование")),
        ("farming", Text("Farming or herding", "Сільськогосподарські роботи чи випас худоби",
                         "Сельхозработы или выпас скота")),
        ("collecting", Text("Collecting wood, food or scrap metal", "Збирання дров, грибів чи металобрухту",
                            "Сбор дров, грибов или металлолома")),
        ("travel", Text("Travelling, on foot or by vehicle", "Пересування пішки чи транспортом",
                        "Передвижение пешком или на транспорте")),
        ("household", Text("Household work, near home", "Хатні справи біля дому", "Домашние дела у дома")),
        ("construction", Text("Construction or repair work", "Будівельні чи ремонтні роботи",
                              "Строительные или ремонтные работы")),
        ("playing", Text("Playing", "Гра", "Игра")),
        ("handling", Text("Handling or tampering with a device", "Поводження з предметом (підняв, розбирав)",
                          "Обращение с предметом (поднял, разбирал)")),
        ("other", _OTHER),
    ),
}


# --- shared questions ---------------------------------------------------------------------------------------------

_VERSION: Final = "2026120702"  # yyyymmddnn; ODK Central needs a new version for each changed form definition

_META: Final = (Question("start", "start"), Question("end", "end"))

_NOT_FUTURE = Text("The date cannot be in the future.", "Дата не може бути в майбутньому.",
                   "Дата не может быть в будущем.")
_NOT_NEGATIVE = Text("Cannot be negative.", "Не може бути від’ємним.", "Не может быть отрицательным.")


def _date(name: str, label: Text) -> Question:
    return Question("date", name, label, required=True, default="today()", constraint=". <= today()",
                    constraint_message=_NOT_FUTURE)


def _organisation(*, required: bool = True, relevant: str = "") -> Question:
    return Question("text", "organisation_id",
                    Text("Organisation id", "Ідентифікатор організації", "Идентификатор организации"),
                    Text("As in the register, e.g. OP-01.", "Як у реєстрі, напр. OP-01.",
                         "Как в реестре, напр. OP-01."),
                    required=required, relevant=relevant)


def _team() -> Question:
    return Question("text", "team_id", Text("Team id", "Ідентифікатор групи", "Идентификатор группы"),
                    Text("As in the register, e.g. T-014.", "Як у реєстрі, напр. T-014.",
                         "Как в реестре, напр. T-014."),
                    required=True)


def _hazard(*, required: bool = True, relevant: str = "") -> Question:
    if required:
        label = Text("Hazard area id (from the register)", "Ідентифікатор небезпечної території (з реєстру)",
                     "Идентификатор опасного района (из реестра)")
    else:
        label = Text("Hazard area id, if known", "Ідентифікатор небезпечної території, якщо відомий",
                     "Идентификатор опасного района, если известен")
    return Question("text", "hazard_id", label, required=required, relevant=relevant)


def _task_order(*, relevant: str = "") -> Question:
    """The task order the day's work was done under (``sapper tasks``): free text in the template, a pick from the
    unit's open orders at the site in forms written with the register (``task_orders.csv``)."""
    return Question("text", "task_order",
                    Text("Task order number, if the work is under one", "Номер завдання, якщо роботу виконують за ним",
                         "Номер задания, если работу выполняют по нему"),
                    Text("As on the order, e.g. TO-2026-0001.", "Як у завданні, напр. TO-2026-0001.",
                         "Как в задании, напр. TO-2026-0001."),
                    constraint="regex(., '^TO-[0-9]{4}-[0-9]{4,}$')",
                    constraint_message=Text("An order number: TO-, the year, -, the number (TO-2026-0001).",
                                            "Номер завдання: TO-, рік, -, номер (TO-2026-0001).",
                                            "Номер задания: TO-, год, -, номер (TO-2026-0001)."),
                    relevant=relevant)


def _method(label: Text) -> Question:
    return Question("select_one method", "method", label, required=True)


def _marking() -> tuple[Question, Question]:
    """The area's benchmark and its marking (IMAS 08.30/08.40), both optional."""
    return (
        Question("geopoint", "benchmark",
                 Text("Benchmark (a fixed point outside the area)", "Репер (нерухома точка поза ділянкою)",
                      "Репер (неподвижная точка вне участка)"),
                 Text("Optional. The point from which the turning points are measured; never inside the area.",
                      "Необов’язково. Точка, від якої вимірюють поворотні точки; ніколи не всередині ділянки.",
                      "Необязательно. Точка, от которой измеряют поворотные точки; никогда не внутри участка.")),
        Question("select_one marking", "marking", Text("Marking of the area", "Позначення ділянки",
                                                       "Обозначение участка")),
    )


def _notes() -> Question:
    return Question("text", "notes", Text("Notes", "Примітки", "Примечания"), appearance="multiline")


def _devices_found() -> Question:
    return Question("select_one yes_no", "devices_found",
                    Text("Were any mines or ERW found?", "Чи знайдено міни або ВЗВ?", "Найдены ли мины или ВПВ?"),
                    required=True)


def _devices() -> Repeat:
    return Repeat(
        "devices",
        Text("Device found", "Знайдений вибухонебезпечний предмет", "Найденный взрывоопасный предмет"),
        (
            Question("geopoint", "device_position",
                     Text("Position of the device", "Місце знаходження предмета", "Место обнаружения предмета"),
                     Text("Take the point as close to the device as safe procedure allows.",
                          "Зафіксуйте точку якомога ближче до предмета, наскільки дозволяють правила безпеки.",
                          "Зафиксируйте точку как можно ближе к предмету, насколько позволяют правила безопасности."),
                     required=True),
            Question("select_one device_category", "device_category",
                     Text("Category", "Категорія", "Категория"), required=True),
            Question("text", "device_type", Text("Type (model)", "Тип (модель)", "Тип (модель)"),
                     Text("For example PMN-2, TM-62M, 122 mm HE shell.",
                          "Наприклад, ПМН-2, ТМ-62М, осколково-фугасний снаряд 122 мм.",
                          "Например, ПМН-2, ТМ-62М, осколочно-фугасный снаряд 122 мм.")),
            Question("select_one device_condition", "device_condition",
                     Text("Condition", "Стан", "Состояние"), required=True),
            Question("integer", "device_depth_cm", Text("Depth, cm", "Глибина, см", "Глубина, см"),
                     Text("0 for a device on the surface.", "0 для предмета на поверхні.",
                          "0 для предмета на поверхности."),
                     constraint=". >= 0 and . <= 200",
                     constraint_message=Text("Depth must be from 0 to 200 cm.", "Глибина має бути від 0 до 200 см.",
                                             "Глубина должна быть от 0 до 200 см.")),
            Question("integer", "device_quantity", Text("Quantity", "Кількість", "Количество"),
                     Text("How many of this device at this point (empty: 1).",
                          "Скільки таких предметів у цій точці (порожньо: 1).",
                          "Сколько таких предметов в этой точке (пусто: 1)."),
                     constraint=". > 0 and . <= 10000",
                     constraint_message=Text("From 1 to 10,000.", "Від 1 до 10 000.", "От 1 до 10 000.")),
            Question("text", "device_fuze", Text("Fuze, where known", "Підривник, якщо відомо",
                                                 "Взрыватель, если известно")),
            Question("select_one disposal", "device_disposal",
                     Text("Disposal", "Знешкодження", "Обезвреживание")),
            Question("date", "device_disposal_date", Text("Date of disposal", "Дата знешкодження",
                                                          "Дата обезвреживания"),
                     relevant="${device_disposal} != ''", constraint=". <= today()",
                     constraint_message=_NOT_FUTURE),
        ),
        relevant="${devices_found} = 'yes'",
    )


# --- the forms ----------------------------------------------------------------------------------------------------

_NTS_OUTCOME_RULE = (
    "(. = 'cancel' and ${evidence_found} = 'no') or "
    "(. != 'cancel' and ${evidence_found} = 'yes' and (. != 'confirm' or ${evidence} = 'direct') "
    "and (. != 'reduce' or ${new_area} = 'no'))"
)

NTS: Final = Form(
    key="nts",
    form_id="sapper_nts",
    title=Text("Non-technical survey", "Нетехнічне обстеження", "Нетехническое обследование"),
    version=_VERSION,
    instance_name="concat('NTS ', coalesce(${hazard_id}, 'new area'), ' ', ${survey_date})",
    items=(
        *_META,
        _date("survey_date", Text("Date of survey", "Дата обстеження", "Дата обследования")),
        _organisation(),
        _team(),
        Question("select_one yes_no", "new_area",
                 Text("Is this a new area, not yet in the register?", "Це нова територія, якої ще немає в реєстрі?",
                      "Это новый район, которого ещё нет в реестре?"),
                 required=True),
        _hazard(relevant="${new_area} = 'no'"),
        _task_order(relevant="${new_area} = 'no'"),
        Question("geoshape", "area_shape",
                 Text("Outline of the suspected area", "Контур підозрілої території",
                      "Контур предположительно опасного района"),
                 Text("Walk or draw the perimeter; do not enter the suspected area.",
                      "Обійдіть або намалюйте периметр; не заходьте на підозрілу територію.",
                      "Обойдите или нарисуйте периметр; не заходите на подозрительную территорию."),
                 required=True, relevant="${new_area} = 'yes'"),
        Question("select_one yes_no", "evidence_found",
                 Text("Was any evidence of mines or ERW found?", "Чи знайдено докази наявності мін або ВЗВ?",
                      "Найдены ли доказательства наличия мин или ВПВ?"),
                 required=True),
        Question("select_one evidence", "evidence",
                 Text("Strongest evidence", "Найвагоміші докази", "Самые веские доказательства"),
                 Text("Direct: devices seen, mine accidents, marked minefields. Indirect: fighting positions, "
                      "reports without confirmation.",
                      "Прямі: бачили предмети, були підриви, позначені мінні поля. Непрямі: позиції бойових дій, "
                      "непідтверджені повідомлення.",
                      "Прямые: видели предметы, были подрывы, обозначенные минные поля. Косвенные: позиции боевых "
                      "действий, неподтверждённые сообщения."),
                 required=True, relevant="${evidence_found} = 'yes'"),
        Question("select_multiple device_category", "device_categories",
                 Text("Suspected device categories", "Ймовірні категорії предметів",
                      "Предполагаемые категории предметов"),
                 Text("Tick all that apply.", "Позначте всі, що підходять.", "Отметьте все подходящие."),
                 relevant="${evidence_found} = 'yes'"),
        Question("image", "evidence_photo",
                 Text("Photo of the evidence", "Фото доказів", "Фото доказательств"),
                 Text("From a safe distance.", "З безпечної відстані.", "С безопасного расстояния."),
                 relevant="${evidence_found} = 'yes'", parameters="max-pixels=1600"),
        Question("select_one land_use", "land_use",
                 Text("Main land use", "Основне використання землі", "Основное использование земли"), required=True),
        Question("integer", "beneficiaries",
                 Text("Beneficiaries", "Бенефіціари", "Бенефициары"),
                 Text("How many people would use the land once it is released (estimate).",
                      "Скільки людей користуватимуться землею після її вивільнення (оцінка).",
                      "Сколько людей будут пользоваться землёй после её высвобождения (оценка)."),
                 required=True, constraint=". >= 0", constraint_message=_NOT_NEGATIVE),
        Repeat(
            "informants",
            Text("Person interviewed", "Опитана особа", "Опрошенный человек"),
            (
                Question("select_one informant_role", "informant_role",
                         Text("Who is this person?", "Хто ця особа?", "Кто этот человек?"),
                         Text("Do not record names.", "Не записуйте імен.", "Не записывайте имена."),
                         required=True),
                Question("text", "informant_statement",
                         Text("What did they report?", "Що повідомила особа?", "Что сообщил человек?"),
                         appearance="multiline"),
            ),
        ),
        Question("select_one nts_outcome", "outcome",
                 Text("Outcome of the survey", "Результат обстеження", "Результат обследования"),
                 required=True, constraint=_NTS_OUTCOME_RULE,
                 constraint_message=Text(
                     "Cancel only when no evidence was found; the other outcomes need evidence; a CHA needs direct "
                     "evidence; only an area already in the register can be reduced.",
                     "Скасувати можна лише без доказів; інші результати потребують доказів; підтверджена небезпечна "
                     "територія потребує прямих доказів; зменшити можна лише територію з реєстру.",
                     "Аннулировать можно только без доказательств; другие результаты требуют доказательств; "
                     "подтверждённый опасный район требует прямых доказательств; уменьшить можно только район из "
                     "реестра.")),
        Question("geoshape", "cancelled_shape",
                 Text("Outline of the land cancelled", "Контур скасованої території",
                      "Контур аннулированной территории"),
                 Text("The part of the area this survey releases (no evidence there); the rest stays hazardous.",
                      "Частина території, яку вивільняє це обстеження (доказів там немає); решта лишається "
                      "небезпечною.",
                      "Часть территории, которую высвобождает это обследование (доказательств там нет); остальное "
                      "остаётся опасным."),
                 required=True, relevant="${outcome} = 'reduce'"),
        *_marking(),
        _notes(),
    ),
)

TS: Final = Form(
    key="ts",
    form_id="sapper_ts",
    title=Text("Technical survey", "Технічне обстеження", "Техническое обследование"),
    version=_VERSION,
    instance_name="concat('TS ', ${hazard_id}, ' ', ${survey_date})",
    items=(
        *_META,
        _date("survey_date", Text("Date of survey", "Дата обстеження", "Дата обследования")),
        _organisation(),
        _team(),
        _hazard(),
        _task_order(),
        Question("select_one ts_type", "ts_type",
                 Text("Type of technical survey", "Вид технічного обстеження", "Вид технического обследования"),
                 required=True),
        _method(Text("Method", "Спосіб", "Способ")),
        Question("geoshape", "reduced_shape",
                 Text("Land reduced (shown free of hazard)", "Скорочена територія (вільна від небезпеки)",
                      "Сокращённая территория (свободна от опасности)"),
                 Text("Outline of the land this survey showed to be free of mines and ERW. Leave empty if none was "
                      "released.",
                      "Контур території, яку це обстеження показало вільною від мін і ВЗВ. Залиште порожнім, якщо "
                      "нічого не вивільнено.",
                      "Контур территории, которую это обследование показало свободной от мин и ВПВ. Оставьте "
                      "пустым, если ничего не высвобождено.")),
        _devices_found(),
        _devices(),
        *_marking(),
        _notes(),
    ),
)

CLEARANCE: Final = Form(
    key="clearance",
    form_id="sapper_clearance",
    title=Text("Clearance: daily progress", "Розмінування: щоденний звіт", "Разминирование: ежедневный отчёт"),
    version=_VERSION,
    instance_name="concat('Clearance ', ${hazard_id}, ' ', ${team_id}, ' ', ${work_date})",
    items=(
        *_META,
        _date("work_date", Text("Date of work", "Дата робіт", "Дата работ")),
        _organisation(),
        _team(),
        _hazard(),
        _task_order(),
        _method(Text("Clearance method", "Спосіб розмінування", "Способ разминирования")),
        Question("decimal", "cleared_m2",
                 Text("Area cleared today, m²", "Розміновано сьогодні, м²", "Разминировано сегодня, м²"),
                 Text("Land cleared to the required depth today, in square metres.",
                      "Площа, розмінована сьогодні на потрібну глибину, у квадратних метрах.",
                      "Площадь, разминированная сегодня на требуемую глубину, в квадратных метрах."),
                 required=True, constraint=". >= 0 and . <= 100000",
                 constraint_message=Text("From 0 to 100,000 m².", "Від 0 до 100 000 м².", "От 0 до 100 000 м².")),
        Question("geoshape", "cleared_shape",
                 Text("Outline of the land cleared today", "Контур розмінованої сьогодні ділянки",
                      "Контур разминированного сегодня участка"),
                 Text("Optional.", "Необов’язково.", "Необязательно.")),
        Question("integer", "clearance_depth_cm",
                 Text("Clearance depth, cm", "Глибина розмінування, см", "Глубина разминирования, см"),
                 Text("As set in the task order.", "Як визначено в завданні.", "Как указано в задании."),
                 required=True, constraint=". > 0 and . <= 300",
                 constraint_message=Text("From 1 to 300 cm.", "Від 1 до 300 см.", "От 1 до 300 см.")),
        Question("integer", "deminers_working",
                 Text("Deminers working today", "Кількість саперів, які працювали сьогодні",
                      "Количество сапёров, работавших сегодня"),
                 required=True, constraint=". >= 0 and . <= 200",
                 constraint_message=Text("From 0 to 200 people.", "Від 0 до 200 осіб.", "От 0 до 200 человек.")),
        Question("decimal", "hours_worked",
                 Text("Hours of clearance work", "Години роботи з розмінування", "Часы работы по разминированию"),
                 Text("Time spent clearing in the hazard area, breaks excluded.",
                      "Час роботи на небезпечній території без перерв.",
                      "Время работы в опасном районе без перерывов."),
                 required=True, constraint=". >= 0 and . <= 24",
                 constraint_message=Text("From 0 to 24 hours.", "Від 0 до 24 годин.", "От 0 до 24 часов.")),
        _devices_found(),
        _devices(),
        _notes(),
    ),
)

_SENSITIVE = Text(
    "Sensitive personal data: record only with the consent of the person or their family, and do not copy it "
    "anywhere else.",
    "Чутливі персональні дані: записуйте лише за згодою особи чи її родини й нікуди їх не копіюйте.",
    "Чувствительные персональные данные: записывайте только с согласия человека или его семьи и никуда их не "
    "копируйте.",
)

ACCIDENT: Final = Form(
    key="accident",
    form_id="sapper_accident",
    title=Text("Mine/ERW accident (IMAS 10.60)", "Нещасний випадок з мінами/ВЗВ (IMAS 10.60)",
               "Несчастный случай с минами/ВПВ (IMAS 10.60)"),
    version=_VERSION,
    instance_name="concat('Accident ', ${accident_date})",  # no names: the list of submissions is not sensitive
    items=(
        *_META,
        _date("accident_date", Text("Date of the accident", "Дата нещасного випадку", "Дата несчастного случая")),
        Question("geopoint", "accident_location",
                 Text("Place of the accident", "Місце нещасного випадку", "Место несчастного случая"),
                 Text("Record it from a safe place nearby; never enter the area.",
                      "Зафіксуйте з безпечного місця поруч; ніколи не заходьте на територію.",
                      "Зафиксируйте из безопасного места рядом; никогда не заходите на территорию."),
                 required=True),
        Question("text", "place_description",
                 Text("Place description (settlement, landmark)", "Опис місця (населений пункт, орієнтир)",
                      "Описание места (населённый пункт, ориентир)")),
        Question("select_one accident_type", "accident_type",
                 Text("Type of accident", "Тип нещасного випадку", "Тип несчастного случая"), required=True),
        _organisation(relevant="${accident_type} = 'demining'"),
        _hazard(required=False),
        Question("select_one accident_device", "device_category",
                 Text("Device category", "Категорія предмета", "Категория предмета"), required=True),
        Question("text", "device_type", Text("Device type (model), if known", "Тип предмета (модель), якщо відомий",
                                             "Тип предмета (модель), если известен")),
        Question("text", "description", Text("What happened", "Що сталося", "Что произошло"),
                 appearance="multiline"),
        Question("integer", "victim_count",
                 Text("Number of people killed or injured", "Кількість загиблих і поранених",
                      "Число погибших и раненых"),
                 required=True, constraint=". >= 0 and . <= 100",
                 constraint_message=Text("From 0 to 100.", "Від 0 до 100.", "От 0 до 100.")),
        Repeat(
            "victims",
            Text("Victim", "Постраждала особа", "Пострадавший"),
            (
                Question("text", "victim_name",
                         Text("Full name", "Прізвище, ім’я, по батькові", "Фамилия, имя, отчество"), _SENSITIVE),
                Question("select_one gender", "victim_gender", Text("Gender", "Стать", "Пол"), _SENSITIVE),
                Question("date", "victim_birth_date", Text("Date of birth", "Дата народження", "Дата рождения"),
                         _SENSITIVE, constraint=". <= today()", constraint_message=_NOT_FUTURE),
                Question("select_one victim_outcome", "victim_outcome",
                         Text("Killed or injured", "Загинула чи поранена особа", "Погиб или ранен"), _SENSITIVE,
                         required=True),
                Question("select_one victim_activity", "victim_activity",
                         Text("Activity at the time of the accident", "Заняття в момент нещасного випадку",
                              "Занятие в момент несчастного случая"), _SENSITIVE, required=True),
            ),
            repeat_count="${victim_count}",
        ),
    ),
)

BRIGADE: Final = Form(
    key="brigade",
    form_id="sapper_brigade",
    title=Text("Brigade progress", "Звіт бригади про хід робіт", "Отчёт бригады о ходе работ"),
    version=_VERSION,
    instance_name="concat('Brigade ', ${brigade_id}, ' ', ${asset_id}, ' ', ${work_date})",
    items=(
        *_META,
        _date("work_date", Text("Date of work", "Дата робіт", "Дата работ")),
        _organisation(),
        Question("text", "brigade_id", Text("Brigade id", "Ідентифікатор бригади", "Идентификатор бригады"),
                 Text("As in the register, e.g. B-102.", "Як у реєстрі, напр. B-102.", "Как в реестре, напр. B-102."),
                 required=True),
        Question("text", "asset_id", Text("Asset id", "Ідентифікатор об’єкта", "Идентификатор объекта"),
                 Text("The road, bridge, line or building being repaired, as in the register.",
                      "Дорога, міст, лінія чи будівля, яку відновлюють, як у реєстрі.",
                      "Дорога, мост, линия или здание, которое восстанавливают, как в реестре."),
                 required=True),
        _task_order(),
        Question("select_one trade", "trade", Text("Type of work", "Вид робіт", "Вид работ"), required=True),
        Question("decimal", "builder_days",
                 Text("Work done today, builder-days", "Виконано сьогодні, людино-днів",
                      "Выполнено сегодня, человеко-дней"),
                 Text("People × full days worked: 6 builders for a whole day = 6; 4 builders for half a day = 2.",
                      "Люди × відпрацьовані повні дні: 6 будівельників цілий день = 6; 4 будівельники пів дня = 2.",
                      "Люди × отработанные полные дни: 6 строителей целый день = 6; 4 строителя полдня = 2."),
                 required=True, constraint=". >= 0 and . <= 500",
                 constraint_message=Text("From 0 to 500 builder-days.", "Від 0 до 500 людино-днів.",
                                         "От 0 до 500 человеко-дней.")),
        Question("integer", "percent_complete",
                 Text("Repair complete, %", "Відновлення завершено, %", "Восстановление завершено, %"),
                 Text("Your estimate of how much of this type of work on the asset is done.",
                      "Ваша оцінка, яку частину цього виду робіт на об’єкті виконано.",
                      "Ваша оценка, какая часть этого вида работ на объекте выполнена."),
                 required=True, constraint=". >= 0 and . <= 100",
                 constraint_message=Text("From 0 to 100 %.", "Від 0 до 100 %.", "От 0 до 100 %.")),
        Question("select_one yes_no", "blocked_by_hazard",
                 Text("Is work blocked by a mine or ERW hazard?", "Чи заблоковано роботу через мінну небезпеку чи ВЗВ?",
                      "Заблокирована ли работа из-за минной опасности или ВПВ?"),
                 Text("Yes if the site, its work area or its access is suspected and not yet released. Stop work "
                      "there and report; do not enter.",
                      "Так, якщо ділянка, робоча зона чи під’їзд під підозрою і ще не вивільнені. Зупиніть там "
                      "роботу й повідомте; не заходьте.",
                      "Да, если участок, рабочая зона или подъезд под подозрением и ещё не высвобождены. Остановите "
                      "там работу и сообщите; не заходите."),
                 required=True),
        Question("text", "blocking_hazard_id",
                 Text("Hazard area id, if known", "Ідентифікатор небезпечної території, якщо відомий",
                      "Идентификатор опасного района, если известен"),
                 relevant="${blocked_by_hazard} = 'yes'"),
        Question("geopoint", "blocking_location",
                 Text("Where work is blocked", "Де заблоковано роботу", "Где заблокирована работа"),
                 Text("Record it where you stand; do not go closer.", "Зафіксуйте там, де стоїте; не підходьте ближче.",
                      "Зафиксируйте там, где стоите; не подходите ближе."),
                 relevant="${blocked_by_hazard} = 'yes'"),
        Question("image", "photo", Text("Photo of the work", "Фото робіт", "Фото работ"), parameters="max-pixels=1600"),
        _notes(),
    ),
)

#: The templates by key (the names ``sapper forms write --form`` takes), in the order of the land-release chain.
FORMS: Final[Mapping[str, Form]] = {f.key: f for f in (NTS, TS, CLEARANCE, ACCIDENT, BRIGADE)}


# --- the workbook -------------------------------------------------------------------------------------------------

Cell = str | None
Rows = list[tuple[Cell, ...]]


def _translated(column: str) -> list[str]:
    return [f"{column}::{lang}" for lang in LANGUAGES]


SURVEY_COLUMNS: Final = (
    "type", "name", *_translated("label"), *_translated("hint"), "required", "relevant", "constraint",
    *_translated("constraint_message"), "appearance", "default", "repeat_count", "parameters",
)
CHOICE_COLUMNS: Final = ("list_name", "name", *_translated("label"))
SETTINGS_COLUMNS: Final = ("form_title", "form_id", "version", "instance_name", "default_language", "name")


def _texts(text: Text | None) -> tuple[Cell, Cell, Cell]:
    return text.values() if text is not None else (None, None, None)


def _blank(value: str) -> Cell:
    return value or None


def _question_row(q: Question, *, filters: bool = False) -> tuple[Cell, ...]:
    row = (q.type, q.name, *_texts(q.label), *_texts(q.hint), "yes" if q.required else None, _blank(q.relevant),
           _blank(q.constraint), *_texts(q.constraint_message), _blank(q.appearance), _blank(q.default), None,
           _blank(q.parameters))
    return (*row, _blank(q.choice_filter)) if filters else row


def _repeat_rows(r: Repeat, *, filters: bool = False) -> Rows:
    width = len(SURVEY_COLUMNS) + (1 if filters else 0)
    begin: list[Cell] = [None] * width
    begin[:5] = ["begin_repeat", r.name, *r.label.values()]
    begin[SURVEY_COLUMNS.index("relevant")] = _blank(r.relevant)
    begin[SURVEY_COLUMNS.index("repeat_count")] = _blank(r.repeat_count)
    end: list[Cell] = [None] * width
    end[0] = "end_repeat"
    return [tuple(begin), *(_question_row(q, filters=filters) for q in r.questions), tuple(end)]


def sheet_rows(form: Form) -> dict[str, Rows]:
    """The cells of each sheet (``survey``, ``choices``, ``settings``), header first; empty cells are None. The
    ``choice_filter`` column is there only when a question uses one."""
    filters = any(q.choice_filter for q in form.questions())
    survey: Rows = [(*SURVEY_COLUMNS, "choice_filter") if filters else SURVEY_COLUMNS]
    for item in form.items:
        survey.extend(_repeat_rows(item, filters=filters) if isinstance(item, Repeat)
                      else [_question_row(item, filters=filters)])
    choices: Rows = [CHOICE_COLUMNS]
    for list_name, options in form.choice_lists().items():
        choices.extend((list_name, c.name, *c.label.values()) for c in options)
    title = " / ".join(form.title.values())
    settings: Rows = [SETTINGS_COLUMNS,
                      (title, form.form_id, form.version, form.instance_name, DEFAULT_LANGUAGE, form.form_id)]
    return {"survey": survey, "choices": choices, "settings": settings}


#: Fixed workbook timestamps, so that regenerating an unchanged form rewrites the same bytes (with the same openpyxl).
_TIMESTAMP: Final = dt.datetime(2026, 1, 1)


def write_form(form: Form, path: Path) -> Path:
    """Write ``form`` as an XLSForm workbook at ``path`` (replaced atomically); return the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheet_rows(form).items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for i in range(len(rows[0])):
            longest = max(len(r[i] or "") for r in rows)
            ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = min(60, max(10, longest + 2))
    wb.properties.creator = "sapper"
    wb.properties.created = _TIMESTAMP
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(_reproducible(buffer.getvalue()))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _reproducible(xlsx: bytes) -> bytes:
    """The workbook with fixed timestamps (zip entries, and the ``modified`` openpyxl stamps on save)."""
    stamp = _TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_TIMESTAMP.timetuple()[:6]), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_forms(directory: Path, keys: Sequence[str] | None = None) -> list[Path]:
    """Generate the templates named by ``keys`` (all by default) into ``directory``."""
    return [write_form(form, directory / form.file_name) for form in _select(keys)]


def _select(keys: Sequence[str] | None) -> list[Form]:
    unknown = [k for k in keys or () if k not in FORMS]
    if unknown:
        raise NotFoundError(f"no form template {', '.join(map(repr, unknown))}; the templates are "
                            f"{', '.join(FORMS)}")
    return [FORMS[k] for k in keys] if keys else list(FORMS.values())


def template_bytes(key: str) -> bytes:
    """The shipped workbook of form ``key``, as bytes."""
    (form,) = _select([key])
    resource = resources.files("sapper.io").joinpath("forms", form.file_name)
    if not resource.is_file():
        raise NotFoundError(msg("the {key} template {file} is not installed with sapper", key=key, file=form.file_name))
    return resource.read_bytes()


def copy_templates(directory: Path, keys: Sequence[str] | None = None) -> list[Path]:
    """Copy the shipped templates named by ``keys`` (all by default) into ``directory``, created if needed.

    Files of the same names in ``directory`` are replaced; other files are left alone.
    """
    contents = [(directory / f.file_name, template_bytes(f.key)) for f in _select(keys)]
    if directory.exists() and not directory.is_dir():
        raise ImportFileError(msg("{directory} is not a folder", directory=directory))
    directory.mkdir(parents=True, exist_ok=True)
    for target, data in contents:
        target.write_bytes(data)
    return [target for target, _ in contents]


# --- forms that know the register ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListItem:
    """One choice of a list read from a CSV attachment: its value (the register's id), its label, and the columns a
    ``choice_filter`` uses (e.g. the organisation of a team)."""

    name: str
    label: str
    organisation_id: str = ""
    #: For a task order: the team or brigade it is for and its site (a hazard area or asset id), the columns the
    #: order question's ``choice_filter`` uses.
    unit_id: str = ""
    site_id: str = ""


@dataclass(frozen=True)
class RegisterLists:
    """The register's ids a field user picks from instead of typing them (``sapper forms write --db``)."""

    organisations: tuple[ListItem, ...]
    teams: tuple[ListItem, ...]
    brigades: tuple[ListItem, ...]
    hazard_areas: tuple[ListItem, ...]  # open hazard areas only
    assets: tuple[ListItem, ...]
    task_orders: tuple[ListItem, ...] = ()  # orders in force (issued or acknowledged) only

    def files(self) -> dict[str, tuple[ListItem, ...]]:
        """Each list by the file name of its CSV attachment."""
        return {"organisations.csv": self.organisations, "teams.csv": self.teams, "brigades.csv": self.brigades,
                "hazard_areas.csv": self.hazard_areas, "assets.csv": self.assets, TASK_ORDERS_CSV: self.task_orders}


#: The attachment of open task orders, and its columns (the other lists have the first three).
TASK_ORDERS_CSV: Final = "task_orders.csv"
_LIST_COLUMNS: Final = ("name", "label", "organisation_id")
_ORDER_COLUMNS: Final = (*_LIST_COLUMNS, "unit_id", "site_id")


#: Which question takes its choices from which attachment, and the filter that narrows units to the organisation
#: chosen before them.
_FROM_FILE: Final[Mapping[str, tuple[str, str]]] = {
    "organisation_id": ("organisations.csv", ""),
    "team_id": ("teams.csv", "organisation_id = ${organisation_id}"),
    "brigade_id": ("brigades.csv", "organisation_id = ${organisation_id}"),
    "hazard_id": ("hazard_areas.csv", ""),
    "asset_id": ("assets.csv", ""),
    "task_order": (TASK_ORDERS_CSV, ""),  # filtered by the unit and site asked before it (``_order_filter``)
}
_PICK_ORDER: Final = Text("The open task orders of your unit at this site (type to search); leave empty if none.",
                          "Відкриті завдання вашого підрозділу на цій ділянці (введіть, щоб шукати); залиште "
                          "порожнім, якщо немає.",
                          "Открытые задания вашего подразделения на этом участке (введите для поиска); оставьте "
                          "пустым, если нет.")
_PICK: Final = Text("Pick from the register's list (type to search).",
                    "Виберіть зі списку реєстру (введіть, щоб шукати).",
                    "Выберите из списка реестра (введите для поиска).")


def _order_filter(form: Form) -> str:
    """The task-order question's filter: the orders of the team or brigade and of the site chosen before it."""
    names = [q.name for q in form.questions()]
    before = names[:names.index("task_order")] if "task_order" in names else []
    unit = next((n for n in ("team_id", "brigade_id") if n in before), None)
    site = next((n for n in ("hazard_id", "asset_id") if n in before), None)
    return " and ".join(f"{column} = ${{{name}}}" for column, name in (("unit_id", unit), ("site_id", site)) if name)


def _from_file(q: Question, has_organisation: bool, order_filter: str = "") -> Question:
    if q.type != "text" or q.name not in _FROM_FILE:
        return q
    file_name, choice_filter = _FROM_FILE[q.name]
    if not has_organisation:
        choice_filter = ""
    if q.name == "task_order":
        return replace(q, type=f"select_one_from_file {file_name}", hint=_PICK_ORDER, appearance="autocomplete",
                       choice_filter=order_filter, constraint="", constraint_message=None)
    return replace(q, type=f"select_one_from_file {file_name}", hint=_PICK, appearance="autocomplete",
                   choice_filter=choice_filter)


def register_form(form: Form, version_suffix: str) -> Form:
    """``form`` with its id questions (organisation, team, brigade, hazard area, asset) as ``select_one_from_file``
    over the register's lists, and ``version_suffix`` added to its version (a new version when the lists change, so
    ODK Central and Kobo take the new attachments)."""
    # A unit picked from a list filtered by organisation needs the organisation asked first, always: a form that
    # asks it only sometimes (the accident form) keeps its lists unfiltered.
    org = [q for q in form.questions() if q.name == "organisation_id"]
    filtered = bool(org) and not org[0].relevant
    orders = _order_filter(form)

    def convert(item: Question | Repeat) -> Question | Repeat:
        if isinstance(item, Repeat):
            return replace(item, questions=tuple(_from_file(q, filtered, orders) for q in item.questions))
        return _from_file(item, filtered, orders)

    return replace(form, version=f"{form.version}-{version_suffix}", items=tuple(convert(i) for i in form.items))


def list_digest(lists: RegisterLists) -> str:
    """Eight hex digits that change whenever a list's content changes."""
    h = hashlib.sha256()
    for file_name, items in lists.files().items():
        h.update(file_name.encode())
        for item in items:
            h.update(f"\x1f{item.name}\x1e{item.label}\x1e{item.organisation_id}".encode())
            if item.unit_id or item.site_id:
                h.update(f"\x1e{item.unit_id}\x1e{item.site_id}".encode())
    return h.hexdigest()[:8]


def write_list(path: Path, items: Sequence[ListItem]) -> Path:
    """One CSV attachment (UTF-8, columns ``name``, ``label``, ``organisation_id``; the task orders' also
    ``unit_id`` and ``site_id``), replaced atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if path.name == TASK_ORDERS_CSV:
        writer.writerow(_ORDER_COLUMNS)
        writer.writerows((i.name, i.label, i.organisation_id, i.unit_id, i.site_id) for i in items)
    else:
        writer.writerow(_LIST_COLUMNS)
        writer.writerows((i.name, i.label, i.organisation_id) for i in items)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_register_forms(directory: Path, lists: RegisterLists, keys: Sequence[str] | None = None) -> list[Path]:
    """The forms named by ``keys`` (all by default) with their id questions picking from ``lists``, and the CSV
    attachments they use, written into ``directory`` (created if needed); the files written, forms first."""
    forms = _select(keys)
    if directory.exists() and not directory.is_dir():
        raise ImportFileError(msg("{directory} is not a folder", directory=directory))
    directory.mkdir(parents=True, exist_ok=True)
    suffix = list_digest(lists)
    written = [write_form(register_form(f, suffix), directory / f.file_name) for f in forms]
    used = {q.type.partition(" ")[2] for f in forms for q in register_form(f, suffix).questions()
            if q.type.startswith("select_one_from_file ")}
    written += [write_list(directory / name, items) for name, items in lists.files().items() if name in used]
    return written


if __name__ == "__main__":  # regenerate the shipped templates after editing a form
    for written in write_forms(Path(__file__).resolve().parent / "forms"):
        print(f"wrote {written}")
