"""The built-in categories: names in three languages and the keywords the parser recognises them by.

Keywords are word stems: Russian ones in Cyrillic; Uzbek ones in Latin without apostrophes (the
parser latinises Uzbek Cyrillic and drops apostrophes, so "goʻsht", "go'sht", "gosht" and "гўшт"
all meet "gosht"). A stem starting with "=" must be the whole word (after Uzbek case endings are
stripped), for stems short enough to start unrelated words.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPENSE = "expense"
INCOME = "income"


@dataclass(frozen=True)
class CategoryDef:
    code: str
    type: str
    name_ru: str
    name_uz: str
    name_en: str
    keywords: tuple[str, ...]


def _kw(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEFAULT_CATEGORIES: tuple[CategoryDef, ...] = (
    CategoryDef(
        "food",
        EXPENSE,
        "Продукты",
        "Oziq-ovqat",
        "Food",
        _kw(
            "продукт еда еды продовольств хлеб булк батон лепешк сыр колбас яйц сахар мясо мяса овощ фрукт молок "
            "супермаркет рынок рынке базар "
            "бакале корзин oziq ovqat mahsulot =non gosht sabzavot meva bozor supermarket =sut"
        ),
    ),
    CategoryDef(
        "cafe",
        EXPENSE,
        "Кафе и рестораны",
        "Kafe va restoranlar",
        "Cafes and restaurants",
        _kw(
            "кафе ресторан обед ужин завтрак кофе фастфуд пицц бургер шаурм столов "
            "kafe restoran tushlik kechki nonushta choyxona oshxona qahva kofe pizza lavash shashlik"
        ),
    ),
    CategoryDef(
        "transport",
        EXPENSE,
        "Транспорт",
        "Transport",
        "Transport",
        _kw(
            "такси транспорт бензин заправк метро автобус проезд маршрутк парковк топлив "
            "taksi transport benzin yoqilgi metro avtobus yolkira parkovka zapravka"
        ),
    ),
    CategoryDef(
        "housing",
        EXPENSE,
        "Жильё и коммунальные",
        "Uy-joy va kommunal",
        "Housing and utilities",
        _kw(
            "квартир аренд коммунал =свет электричеств =газ =газа =газу =вода =воду отоплен ипотек жкх "
            "kvartira ijara kommunal =svet elektr =gaz =suv ipoteka =uy"
        ),
    ),
    CategoryDef(
        "communication",
        EXPENSE,
        "Связь и интернет",
        "Aloqa va internet",
        "Phone and internet",
        _kw("связь связи интернет мобильн сотов aloqa internet mobil"),
    ),
    CategoryDef(
        "health",
        EXPENSE,
        "Здоровье",
        "Salomatlik",
        "Health",
        _kw(
            "аптек лекарств таблет врач больниц клиник анализ стоматолог "
            "dorixona =dori shifokor kasalxona klinika tahlil stomatolog"
        ),
    ),
    CategoryDef(
        "clothes",
        EXPENSE,
        "Одежда",
        "Kiyim-kechak",
        "Clothes",
        _kw("одежд обув куртк платье джинс футболк кроссовк kiyim poyabzal kurtka koylak =shim krossovka"),
    ),
    CategoryDef(
        "entertainment",
        EXPENSE,
        "Развлечения",
        "Koʻngilochar",
        "Entertainment",
        _kw("кино развлечен концерт театр =игры =игру kinoteatr =kino konsert teatr kongilochar =oyin"),
    ),
    CategoryDef(
        "education",
        EXPENSE,
        "Образование",
        "Taʼlim",
        "Education",
        _kw(
            "учеб учёб =курсы =курсов книг школ университет репетитор обучен "
            "oqish =kurs kurslar kitob maktab universitet repetitor talim"
        ),
    ),
    CategoryDef(
        "gifts",
        EXPENSE,
        "Подарки",
        "Sovgʻalar",
        "Gifts",
        _kw("подар =цветы sovga =gul gullar"),
    ),
    CategoryDef("other_expense", EXPENSE, "Другое", "Boshqa", "Other", ()),
    CategoryDef(
        "salary",
        INCOME,
        "Зарплата",
        "Oylik maosh",
        "Salary",
        _kw("зарплат =зп оклад аванс oylik maosh =haqi =haqqi avans"),
    ),
    CategoryDef("bonus", INCOME, "Премия", "Mukofot", "Bonus", _kw("преми бонус mukofot bonus")),
    CategoryDef(
        "business",
        INCOME,
        "Продажи и бизнес",
        "Savdo va biznes",
        "Sales and business",
        _kw("продал продаж выручк бизнес фриланс заказ sotdim savdo biznes frilans buyurtma"),
    ),
    CategoryDef(
        "transfer",
        INCOME,
        "Переводы",
        "Oʻtkazmalar",
        "Transfers",
        _kw("перевод перевели otkazma otkazishdi"),
    ),
    CategoryDef(
        "cashback", INCOME, "Кэшбэк", "Keshbek", "Cashback", _kw("кэшбэк кешбэк кэшбек кешбек keshbek cashback")
    ),
    CategoryDef("other_income", INCOME, "Другой доход", "Boshqa daromad", "Other income", ()),
)

CATEGORY_BY_CODE = {c.code: c for c in DEFAULT_CATEGORIES}
FALLBACK_CATEGORY = {EXPENSE: "other_expense", INCOME: "other_income"}
