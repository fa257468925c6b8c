"""Free-text (and recognised speech) finance commands in Russian and Uzbek → a structured record.

``parse_command("Потратил 50 тыс на продукты")`` → expense, 50000.00 UZS, category food,
description "продукты". With no verb, a recognised category decides ("кофе 15000" is an expense,
"фриланс 500$" an income; an expense one when both kinds match). A pure function: no database, no
Flask. When the phrase is ambiguous (no amount, two amounts, both "spent" and "received", a debt
without a person) the result carries a ``question`` code instead of a guess, and the caller asks
the user.

Uzbek Cyrillic is latinised before keyword matching, and apostrophes (oʻ, gʻ in all their
spellings) are dropped for matching, so one Latin stem list serves both Uzbek scripts. Typos of
one letter are tolerated in keywords of five letters or more, when no keyword matches exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from webapp.finance.services.categories import DEFAULT_CATEGORIES, FALLBACK_CATEGORY, CategoryDef

EXPENSE, INCOME, GOAL, DEBT, UNKNOWN = "expense", "income", "goal", "debt", "unknown"
INTENTS = (EXPENSE, INCOME, GOAL, DEBT, UNKNOWN)

# Question codes (the caller turns them into a sentence in the user's language).
Q_INTENT = "intent"  # an amount, but not whether it was spent or received
Q_CONFLICT = "conflict"  # both "spent" and "received" words
Q_AMOUNT = "amount"  # no amount
Q_MULTIPLE = "multiple_amounts"
Q_COUNTERPARTY = "counterparty"  # a debt without a person
Q_DIRECTION = "direction"  # a debt, but who owes whom is unclear
Q_TITLE = "title"  # a goal without a name
Q_SETTLE = "debt_settle"  # "returned the debt": settling is done on an existing debt
Q_UNKNOWN = "unknown"  # nothing recognisable

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)


def _stems(text: str) -> tuple[str, ...]:
    return tuple(text.split())


INTENT_STEMS: dict[str, tuple[str, ...]] = {
    EXPENSE: _stems(
        "потрат потрачен трат расход израсход истратил купил покупк заплат оплат "
        "sarfl sarf xarajat harajat tolad tolov sotib xarid"
    ),
    # Salary, bonuses, transfers and cashback are money received, whatever verb (or none) comes with them.
    INCOME: _stems(
        "получил получен заработ зарплат =зп оклад доход преми бонус поступил =пришло =пришли =пришла продал "
        "выручк аванс перевод перевели кэшбэк кешбэк кэшбек кешбек "
        "oylik maosh =haqi =haqqi avans daromad tushdi topdim mukofot bonus sotdim otkazma otkazishdi "
        "keshbek cashback"
    ),
    GOAL: _stems(
        "накопит накопл скопит копит коплю =цель =цели =целью отложит откладыв "
        "yigmoq yigish yigaman yigmoqchi jamgar maqsad toplamoq toplash toplayman"
    ),
    DEBT: _stems("долг одолжил занял займ заем =должен =должна =должны задолж qarz"),
}
DEBT_SETTLE_STEMS = _stems("вернул погасил qaytard qaytarib qaytardi")
OWED_TO_ME_STEMS = _stems("=дал =дала =дали одолжил berdim berdi berib")
I_OWE_STEMS = _stems("взял занял займ заем задолж oldim olgan qarzdorman")
OWE_VERB_STEMS = _stems("=должен =должна =должны qarzdor")
ME_WORDS = frozenset({"мне", "menga", "менга"})
I_WORDS = frozenset({"я", "men", "мен"})
YESTERDAY = {"вчера": 1, "позавчера": 2, "kecha": 1, "кеча": 1}

STOPWORDS = frozenset(
    _stems(
        """я мне меня мой моя мои на за в во и а у от для с со к по из до хочу хотел хотела хочется бы это вот
    сегодня вчера позавчера всего еще ещё уже тоже деньги денег сумма суммой сумму
    men menga meni mening va uchun bilan ga bugun kecha pul pulni pulga xohlayman istayman kerak bu ham yana oldim
    мен менга мени менинг ва учун билан бугун кеча пулни пулга хохлайман истайман керак бу хам яна олдим"""
    )
)
# A number written before one of these counts things ("2 кг мяса"), it is not a sum of money.
QUANTITY_UNITS = frozenset(
    _stems(
        """кг г гр грамм граммов л литр литра литров шт штук штуки kg gr litr dona ta час часа часов минут минуты день
    дня дней лет год года раз раза soat daqiqa kun yil marta соат дақиқа кун йил марта"""
    )
)
COUNTERPARTY_PREPOSITIONS = frozenset({"у", "от", "для"})
UZ_NAME_SUFFIXES = ("dan", "ga", "ka", "qa", "дан", "га", "ка", "қа")
UZ_CASE_SUFFIXES = ("larga", "lardan", "larni", "lari", "lar", "ning", "dagi", "dan", "ga", "ka", "qa", "ni", "da")

CURRENCY_WORDS: dict[str, str] = {
    **dict.fromkeys(("сум", "сумов", "сума", "сўм", "som", "sum", "uzs", "сумга", "somga"), "UZS"),
    **dict.fromkeys(("$", "usd", "доллар", "долларов", "доллара", "долл", "бакс", "баксов", "dollar"), "USD"),
    **dict.fromkeys(("₽", "руб", "рубль", "рублей", "рубля", "rub", "rubl"), "RUB"),
    **dict.fromkeys(("€", "евро", "eur", "yevro", "evro"), "EUR"),
    **dict.fromkeys(("тенге", "тг", "kzt", "tenge"), "KZT"),
}

RU_NUMBERS: dict[str, tuple[Decimal, int]] = {}  # word → (value, order: 1 units, 2 tens, 3 hundreds)
for _words, _value, _order in (
    ("один одна одну", 1, 1),
    ("два две", 2, 1),
    ("три", 3, 1),
    ("четыре", 4, 1),
    ("пять", 5, 1),
    ("шесть", 6, 1),
    ("семь", 7, 1),
    ("восемь", 8, 1),
    ("девять", 9, 1),
    ("десять", 10, 1),
    ("одиннадцать", 11, 1),
    ("двенадцать", 12, 1),
    ("тринадцать", 13, 1),
    ("четырнадцать", 14, 1),
    ("пятнадцать", 15, 1),
    ("шестнадцать", 16, 1),
    ("семнадцать", 17, 1),
    ("восемнадцать", 18, 1),
    ("девятнадцать", 19, 1),
    ("двадцать", 20, 2),
    ("тридцать", 30, 2),
    ("сорок", 40, 2),
    ("пятьдесят", 50, 2),
    ("шестьдесят", 60, 2),
    ("семьдесят", 70, 2),
    ("восемьдесят", 80, 2),
    ("девяносто", 90, 2),
    ("сто", 100, 3),
    ("двести", 200, 3),
    ("триста", 300, 3),
    ("четыреста", 400, 3),
    ("пятьсот", 500, 3),
    ("шестьсот", 600, 3),
    ("семьсот", 700, 3),
    ("восемьсот", 800, 3),
    ("девятьсот", 900, 3),
    ("полтора полторы", Decimal("1.5"), 1),
):
    for _w in _words.split():
        RU_NUMBERS[_w] = (Decimal(_value), _order)

# Uzbek, by the latinised spelling with apostrophes (o'n "ten" needs its apostrophe: "on" is Russian "он").
UZ_NUMBERS: dict[str, tuple[Decimal, int]] = {}
for _words, _value, _order in (
    ("bir", 1, 1),
    ("ikki", 2, 1),
    ("uch", 3, 1),
    ("to'rt tort", 4, 1),
    ("besh", 5, 1),
    ("olti", 6, 1),
    ("yetti", 7, 1),
    ("sakkiz", 8, 1),
    ("to'qqiz toqqiz", 9, 1),
    ("o'n", 10, 2),
    ("yigirma", 20, 2),
    ("o'ttiz ottiz", 30, 2),
    ("qirq", 40, 2),
    ("ellik", 50, 2),
    ("oltmish", 60, 2),
    ("yetmish", 70, 2),
    ("sakson", 80, 2),
    ("to'qson toqson", 90, 2),
):
    for _w in _words.split():
        UZ_NUMBERS[_w] = (Decimal(_value), _order)
UZ_HUNDRED = "yuz"
UZ_HALF = "yarim"

_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "g'", "д": "d", "е": "e", "ё": "yo", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ў": "o'", "ф": "f", "х": "x", "ҳ": "h", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "sh", "ъ": "'", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_VOWELS = set("аеёиоуўэюяaeiou")
_APOSTROPHES = re.compile(r"[ʻʼ’‘`´′]")
# "50 000", "1,500,000", "1.500.000" (optionally with cents): thousands groups of one separator kind.
_GROUPED = re.compile(
    r"(?<![\d.,])(\d{1,3})((?:[ \u00a0\u202f]\d{3})+|(?:,\d{3})+|(?:\.\d{3})+)(?:[.,](\d{1,2}))?(?!\d)"
)
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+(?:['-][^\W\d_]+)*'?|[$€₽]")
_UZ_LETTERS = set("ўқғҳ")


def latinize(word: str) -> str:
    """Uzbek Cyrillic → Uzbek Latin (apostrophes kept); Latin text is returned unchanged."""
    out = []
    for i, ch in enumerate(word):
        if ch == "е" and (i == 0 or word[i - 1] in _VOWELS):
            out.append("ye")
        else:
            out.append(_CYR_TO_LAT.get(ch, ch))
    return "".join(out)


@dataclass
class Token:
    text: str  # as written
    low: str  # lower case, ё → е
    lat: str  # latinised, apostrophes kept
    key: str  # latinised, no apostrophes or hyphens
    start: int
    end: int
    used: bool = False  # consumed as a number, currency or intent word

    @property
    def capitalized(self) -> bool:
        return self.text[:1].isupper()

    @property
    def is_digit(self) -> bool:
        return self.text[0].isdigit()


def _tokenize(text: str) -> list[Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        low = raw.lower().replace("ё", "е") if not raw[0].isdigit() else raw
        lat = latinize(raw.lower())
        key = lat.replace("'", "").replace("-", "")
        tokens.append(Token(raw, low, lat, key, m.start(), m.end()))
    return tokens


def _normalize_numbers(text: str) -> str:
    def grouped(m: re.Match) -> str:
        digits = m.group(1) + re.sub(r"\D", "", m.group(2))
        return digits + (f".{m.group(3)}" if m.group(3) else "")

    return _DECIMAL_COMMA.sub(".", _GROUPED.sub(grouped, text))


def _osa_distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _is_cyrillic(stem: str) -> bool:
    return any("а" <= ch <= "я" or ch == "ё" for ch in stem)


def _uz_bases(key: str) -> set[str]:
    bases = {key}
    for suffix in UZ_CASE_SUFFIXES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 2:
            bases.add(key[: -len(suffix)])
    return bases


def _exact(token: Token, stem: str) -> bool:
    whole = stem.startswith("=")
    stem = stem.lstrip("=").replace("ё", "е")
    if _is_cyrillic(stem):
        return token.low == stem if whole else token.low.startswith(stem)
    if whole:
        return stem in _uz_bases(token.key)
    return token.key.startswith(stem)


def _near(token: Token, stem: str) -> bool:
    """One typo away from the stem (stems of five letters or more only: short ones collide).

    Whole-word stems ("=пришло") are exact by design: a letter off they are another word ("пришлю").
    """
    if stem.startswith("="):
        return False
    stem = stem.replace("ё", "е")
    word = token.low if _is_cyrillic(stem) else token.key
    if len(stem) < 5 or len(word) < len(stem) - 1:
        return False
    return any(_osa_distance(word[: len(stem) + d], stem) <= 1 for d in (-1, 0, 1))


def _matches(tokens: list[Token], stems: Iterable[str], *, fuzzy_ok: set[int] | None = None) -> list[int]:
    """Indexes of tokens matching any stem; fuzzy matching only for indexes in ``fuzzy_ok``."""
    stems = tuple(stems)
    hits = []
    for i, tok in enumerate(tokens):
        if tok.is_digit:
            continue
        if any(_exact(tok, s) for s in stems) or (fuzzy_ok and i in fuzzy_ok and any(_near(tok, s) for s in stems)):
            hits.append(i)
    return hits


# --- amounts ------------------------------------------------------------------------------------------


@dataclass
class _Amount:
    total: Decimal = Decimal(0)
    current: Decimal = Decimal(0)
    last: str = ""  # "num" | "word" | "scale"
    last_order: int = 0
    words: int = 0
    has_scale: bool = False
    has_digits: bool = False
    indexes: list[int] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return self.total + self.current

    @property
    def weak(self) -> bool:
        """A lone small number word ("одну булку", "bir kilo") is a count, not a sum of money."""
        return not self.has_digits and not self.has_scale and self.value < 10


def _scale_of(tok: Token, prev: Token | None) -> Decimal | None:
    low, key = tok.low, tok.key
    if low.startswith("тыс") or key in ("ming", "mingta") or key == "ming'":
        return Decimal(1000)
    if low in ("к", "k", "т") and prev is not None and prev.is_digit and prev.end == tok.start:
        return Decimal(1000)  # "50к", "50k": only when written together with the digits
    if low.startswith("миллион") or low == "млн" or key in ("mln", "million", "millon", "milion"):
        return Decimal(1_000_000)
    if low.startswith("миллиард") or low == "млрд" or key in ("mlrd", "milliard"):
        return Decimal(1_000_000_000)
    return None


def _word_number(tok: Token) -> tuple[Decimal, int] | None:
    return RU_NUMBERS.get(tok.low) or UZ_NUMBERS.get(tok.lat) or UZ_NUMBERS.get(tok.key if "'" not in tok.lat else "")


def _find_amounts(tokens: list[Token]) -> list[_Amount]:
    amounts: list[_Amount] = []
    cur: _Amount | None = None

    def start() -> _Amount:
        nonlocal cur
        cur = _Amount()
        amounts.append(cur)
        return cur

    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        scale = None if tok.is_digit else _scale_of(tok, prev)
        word = None if tok.is_digit or scale else _word_number(tok)
        if tok.is_digit:
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if following is not None and following.low in QUANTITY_UNITS:
                cur = None
                continue
            if cur is None or cur.last != "scale":
                start()
            cur.current = Decimal(tok.text)
            cur.last, cur.has_digits = "num", True
        elif scale is not None:
            if cur is None:
                start()
            if cur.last == "scale":  # "тысяч миллионов": not a way anyone says money
                start()
            cur.total += (cur.current or Decimal(1)) * scale
            cur.current, cur.last, cur.has_scale = Decimal(0), "scale", True
        elif tok.key == UZ_HUNDRED:
            if cur is None or cur.last == "num":
                start()
            if cur.last == "word" and cur.last_order < 3:
                cur.current = (cur.current or Decimal(1)) * 100
            else:
                cur.current += 100
            cur.last, cur.last_order = "word", 3
            cur.words += 1
        elif tok.key == UZ_HALF and cur is not None and cur.last in ("word", "num"):
            cur.current += Decimal("0.5")
        elif word is not None:
            value, order = word
            joins = cur is not None and ((cur.last == "word" and order < cur.last_order) or cur.last == "scale")
            if not joins:
                start()
            cur.current += value
            cur.last, cur.last_order = "word", order
            cur.words += 1
        else:
            cur = None
            continue
        cur.indexes.append(i)
    return amounts


# --- the parser -----------------------------------------------------------------------------------


@dataclass
class ParsedCommand:
    intent: str
    amount: Decimal | None
    currency: str
    category: str | None  # a category code
    description: str
    language: str  # the language the phrase was detected as: "ru" or "uz"
    question: str | None = None  # a Q_* code when the phrase needs an answer before it becomes a record
    direction: str | None = None  # debts: "i_owe" | "owed_to_me"
    counterparty: str | None = None  # debts
    days_ago: int = 0  # "вчера" / "kecha"
    text: str = ""

    @property
    def complete(self) -> bool:
        return self.question is None and self.intent != UNKNOWN

    def as_dict(self) -> dict:
        return {
            "intent": self.intent,
            "amount": None if self.amount is None else str(self.amount),
            "currency": self.currency,
            "category": self.category,
            "description": self.description,
            "question": self.question,
            "complete": self.complete,
            "direction": self.direction,
            "counterparty": self.counterparty,
            "days_ago": self.days_ago,
            "detected_language": self.language,
        }


def _fuzzy_candidates(tokens: list[Token], all_stems: tuple[str, ...]) -> set[int]:
    """Tokens that no keyword, number or currency matches exactly: only they may be typos."""
    out = set()
    for i, tok in enumerate(tokens):
        if tok.is_digit or tok.low in STOPWORDS or tok.key in STOPWORDS or tok.low in CURRENCY_WORDS:
            continue
        if _word_number(tok) or _scale_of(tok, None) or any(_exact(tok, s) for s in all_stems):
            continue
        out.add(i)
    return out


def _intent_hits(tokens: list[Token], fuzzy: set[int]) -> dict[str, list[int]]:
    hits = {intent: _matches(tokens, stems) for intent, stems in INTENT_STEMS.items()}
    if not any(hits.values()):
        # Only when nothing matched as written: a typo may hit two intents' stems, then it counts for neither.
        fuzzy_hits = {intent: _matches(tokens, stems, fuzzy_ok=fuzzy) for intent, stems in INTENT_STEMS.items()}
        claimed: dict[int, int] = {}
        for idxs in fuzzy_hits.values():
            for i in idxs:
                claimed[i] = claimed.get(i, 0) + 1
        hits = {intent: [i for i in idxs if claimed[i] == 1] for intent, idxs in fuzzy_hits.items()}
    return hits


def _decide_intent(hits: dict[str, list[int]]) -> tuple[str, str | None]:
    if hits[DEBT]:
        return (UNKNOWN, Q_CONFLICT) if hits[GOAL] else (DEBT, None)
    if hits[GOAL]:
        return GOAL, None
    if hits[EXPENSE] and hits[INCOME]:
        return UNKNOWN, Q_CONFLICT
    if hits[EXPENSE]:
        return EXPENSE, None
    if hits[INCOME]:
        return INCOME, None
    return UNKNOWN, None


def _intent_by_category(tokens: list[Token], categories: Iterable[CategoryDef], fuzzy: set[int]) -> str | None:
    """No verb says spent or received: a recognised category does ("кофе 15000" is an expense). A word
    written exactly beats a typo; an expense category wins over an income one (expense by default)."""
    for fuzzy_ok in (None, fuzzy):
        for kind in (EXPENSE, INCOME):
            if any(
                c.type == kind and c.keywords and _matches(tokens, c.keywords, fuzzy_ok=fuzzy_ok) for c in categories
            ):
                return kind
    return None


def _category(tokens: list[Token], kind: str, categories: Iterable[CategoryDef], fuzzy: set[int]) -> str | None:
    candidates = [c for c in categories if c.type == kind and c.keywords]
    for c in candidates:
        if _matches(tokens, c.keywords):
            return c.code
    for c in candidates:
        if _matches(tokens, c.keywords, fuzzy_ok=fuzzy):
            return c.code
    return None


def _debt_direction(tokens: list[Token]) -> str | None:
    words = {t.low for t in tokens} | {t.key for t in tokens}
    owed = bool(_matches(tokens, OWED_TO_ME_STEMS))
    owe = bool(_matches(tokens, I_OWE_STEMS))
    for i, tok in enumerate(tokens[:-1]):
        if tok.low.startswith("одолжил") and tokens[i + 1].low == "у":  # "одолжил у брата": borrowed
            owed, owe = False, True
    if _matches(tokens, OWE_VERB_STEMS):
        if words & ME_WORDS:
            owed = True
        elif words & I_WORDS:
            owe = True
    if owed == owe:
        return None
    return "owed_to_me" if owed else "i_owe"


def _strip_uz_suffix(word: str) -> str:
    for suffix in UZ_NAME_SUFFIXES:
        if word.lower().endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    return word


def _counterparty(tokens: list[Token], content: list[int]) -> int | None:
    if not content:
        return None
    for i in content:
        if i > 0 and tokens[i - 1].low in COUNTERPARTY_PREPOSITIONS:
            return i
    for i in content:
        if tokens[i].capitalized and (i > 0 or len(content) == 1 or tokens[i].key.endswith(UZ_NAME_SUFFIXES)):
            return i
    return content[0]


def _language(tokens: list[Token]) -> str:
    """ "uz" for Latin letters, Uzbek-only Cyrillic letters, or Cyrillic words known only as Uzbek keywords."""
    words = [t for t in tokens if not t.is_digit and t.low not in CURRENCY_WORDS]
    if any(set(t.low) & _UZ_LETTERS or t.text.isascii() for t in words) or any(t.key == "ming" for t in words):
        return "uz"
    intent_stems = [s for stems in INTENT_STEMS.values() for s in stems]
    uz = sum(1 for t in words if any(_exact(t, s) for s in intent_stems if not _is_cyrillic(s)))
    ru = sum(1 for t in words if any(_exact(t, s) for s in intent_stems if _is_cyrillic(s)))
    return "uz" if uz > ru else "ru"


def _is_stopword(tok: Token) -> bool:
    return tok.low in STOPWORDS or tok.key in STOPWORDS


def _describe(tokens: list[Token], remaining: list[int]) -> str:
    """What is left of the phrase, without the function words it started or ended with."""
    while remaining and _is_stopword(tokens[remaining[0]]):
        remaining = remaining[1:]
    while remaining and _is_stopword(tokens[remaining[-1]]):
        remaining = remaining[:-1]
    return " ".join(tokens[i].text for i in remaining)


def parse_command(
    text: str, *, default_currency: str = "UZS", categories: Iterable[CategoryDef] = DEFAULT_CATEGORIES
) -> ParsedCommand:
    """Turn one phrase into a ParsedCommand; never raises on any string."""
    text = _APOSTROPHES.sub("'", (text or "").strip())[:1000]
    tokens = _tokenize(_normalize_numbers(text))
    categories = tuple(categories)
    all_stems = tuple(s for stems in INTENT_STEMS.values() for s in stems) + tuple(
        s for c in categories for s in c.keywords
    )
    fuzzy = _fuzzy_candidates(tokens, all_stems)

    language = _language(tokens)

    currency, currency_given = default_currency, False
    for tok in tokens:
        if tok.low in CURRENCY_WORDS or tok.key in CURRENCY_WORDS:
            currency = CURRENCY_WORDS.get(tok.low) or CURRENCY_WORDS[tok.key]
            currency_given = True
            break
    for tok in tokens:
        if tok.low in CURRENCY_WORDS or tok.key in CURRENCY_WORDS:
            tok.used = True

    days_ago = max((YESTERDAY.get(t.low, 0) for t in tokens), default=0)

    hits = _intent_hits(tokens, fuzzy)
    intent, question = _decide_intent(hits)
    if intent == DEBT and _matches(tokens, DEBT_SETTLE_STEMS):
        intent, question = UNKNOWN, Q_SETTLE

    amounts = [a for a in _find_amounts(tokens) if not a.weak]
    amount: Decimal | None = None
    for a in amounts:
        for i in a.indexes:
            tokens[i].used = True
    if len(amounts) == 1:
        value = amounts[0].value
        if Decimal(0) < value <= MAX_AMOUNT:
            amount = value.quantize(CENT)

    if intent == UNKNOWN and question is None and amounts:
        intent = _intent_by_category(tokens, categories, fuzzy) or UNKNOWN

    category = None
    if intent in (EXPENSE, INCOME):
        category = _category(tokens, intent, categories, fuzzy) or FALLBACK_CATEGORY[intent]

    category_idx = set()
    for c in categories:
        if c.code == category:
            category_idx = set(_matches(tokens, c.keywords, fuzzy_ok=fuzzy))
    for idxs in hits.values():
        for i in idxs:
            if i not in category_idx:
                tokens[i].used = True
    if intent == DEBT:
        for i in _matches(tokens, (*OWED_TO_ME_STEMS, *I_OWE_STEMS, *OWE_VERB_STEMS)):
            tokens[i].used = True

    remaining = [i for i, t in enumerate(tokens) if not t.used and t.low not in YESTERDAY]
    content = [i for i in remaining if not _is_stopword(tokens[i])]
    direction = counterparty = None
    if intent == DEBT:
        direction = _debt_direction(tokens)
        cp = _counterparty(tokens, content)
        if cp is not None:
            counterparty = _strip_uz_suffix(tokens[cp].text)
            remaining.remove(cp)
    description = _describe(tokens, remaining)

    if question is None:
        if intent == UNKNOWN:
            # "Позвони маме в 5": a bare small number is not worth asking "spent or received?" about.
            money_like = any(a.has_scale or a.value >= 100 for a in amounts) or currency_given
            question = Q_INTENT if amounts and money_like else Q_UNKNOWN
        elif len(amounts) > 1:
            question = Q_MULTIPLE
        elif amount is None:
            question = Q_AMOUNT
        elif intent == DEBT and direction is None:
            question = Q_DIRECTION
        elif intent == DEBT and counterparty is None:
            question = Q_COUNTERPARTY
        elif intent == GOAL and not description:
            question = Q_TITLE
    if intent == UNKNOWN and question == Q_INTENT and len(amounts) == 1 and amount is None:
        question = Q_UNKNOWN
    if question == Q_UNKNOWN:
        amount = None

    return ParsedCommand(
        intent=intent,
        amount=amount if len(amounts) == 1 else None,
        currency=currency,
        category=category,
        description=description[:500],
        language=language,
        question=question,
        direction=direction,
        counterparty=counterparty[:200] if counterparty else None,
        days_ago=days_ago,
        text=text,
    )


def with_intent(
    parsed: ParsedCommand, intent: str, categories: Iterable[CategoryDef] = DEFAULT_CATEGORIES
) -> ParsedCommand:
    """The user answered "expense or income?": the same phrase, read as that intent."""
    if intent not in (EXPENSE, INCOME):
        raise ValueError(f"intent must be {EXPENSE} or {INCOME}")
    tokens = _tokenize(_normalize_numbers(parsed.text))
    categories = tuple(categories)
    all_stems = tuple(s for c in categories for s in c.keywords)
    category = _category(tokens, intent, categories, _fuzzy_candidates(tokens, all_stems)) or FALLBACK_CATEGORY[intent]
    question = None if parsed.amount is not None else Q_AMOUNT
    return replace(parsed, intent=intent, category=category, question=question)
