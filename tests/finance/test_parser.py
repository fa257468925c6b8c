"""The command parser: a table of phrases in Russian and Uzbek (both scripts), with typos and multipliers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from webapp.finance.services.parser import (
    DEBT,
    EXPENSE,
    GOAL,
    INCOME,
    Q_AMOUNT,
    Q_CONFLICT,
    Q_COUNTERPARTY,
    Q_DIRECTION,
    Q_INTENT,
    Q_MULTIPLE,
    Q_SETTLE,
    Q_TITLE,
    Q_UNKNOWN,
    UNKNOWN,
    latinize,
    parse_command,
)

# (phrase, intent, amount, category) — complete records.
RECORDS = [
    # Russian, the seed's phrases first
    ("Потратил 50000 на продукты", EXPENSE, "50000", "food"),
    ("Получил зарплату 2000000", INCOME, "2000000", "salary"),
    ("Хочу накопить на телефон 5000000", GOAL, "5000000", None),
    ("Потратил 50 000 на продукты", EXPENSE, "50000", "food"),
    ("Потратила 15 000 сум на лекарства в аптеке", EXPENSE, "15000", "health"),
    ("Купил хлеб за 5 тыс", EXPENSE, "5000", "food"),
    ("купил хлеб за 5 тыс.", EXPENSE, "5000", "food"),
    ("Заплатил за такси 25к", EXPENSE, "25000", "transport"),
    ("Получил 1,5 млн премия", INCOME, "1500000", "bonus"),
    ("получил премию 300k", INCOME, "300000", "bonus"),
    ("Заплатил за интернет 99 000", EXPENSE, "99000", "communication"),
    ("оплатил квартиру 2 млн", EXPENSE, "2000000", "housing"),
    ("Потратил 12,50 на кофе", EXPENSE, "12.50", "cafe"),
    ("Потратил 1.500.000 на ремонт", EXPENSE, "1500000", "other_expense"),
    ("Потратил 1,500,000 на куртку", EXPENSE, "1500000", "clothes"),
    ("купил 2 кг мяса за 120000", EXPENSE, "120000", "food"),
    ("Купил одну булку за 3000", EXPENSE, "3000", "food"),
    ("потратил 100 долларов на одежду", EXPENSE, "100", "clothes"),
    ("заработал на фрилансе 500$", INCOME, "500", "business"),
    ("продал велосипед за 1,2 млн", INCOME, "1200000", "business"),
    ("Вчера потратил 40 тыс в кафе", EXPENSE, "40000", "cafe"),
    ("Получил 2 млн 500 тыс зарплата", INCOME, "2500000", "salary"),
    ("Купил подарок маме 350 000", EXPENSE, "350000", "gifts"),
    ("заплатил за бензин 150 тысяч", EXPENSE, "150000", "transport"),
    ("Потратил на кино 80 тыс", EXPENSE, "80000", "entertainment"),
    ("оплатил курсы английского 1 млн", EXPENSE, "1000000", "education"),
    ("поступила зарплата 7 000 000 сум", INCOME, "7000000", "salary"),
    ("Коплю на отпуск 10 млн", GOAL, "10000000", None),
    ("Цель: машина 120 млн", GOAL, "120000000", None),
    # number words (what speech recognition writes)
    ("Потратил пятьдесят тысяч на продукты", EXPENSE, "50000", "food"),
    ("получил два миллиона пятьсот тысяч", INCOME, "2500000", "other_income"),
    ("потратил триста двадцать тысяч на такси", EXPENSE, "320000", "transport"),
    ("Потратил полтора миллиона на ремонт", EXPENSE, "1500000", "other_expense"),
    ("получил зарплату сто тысяч", INCOME, "100000", "salary"),
    # Russian with typos
    ("Потротил 30000 на прдукты", EXPENSE, "30000", "food"),
    ("Зарплатту получил 3 млн", INCOME, "3000000", "salary"),
    ("палучил зарплату 4 млн", INCOME, "4000000", "salary"),
    ("заплотил за таксм 20000", EXPENSE, "20000", "transport"),
    ("Хочу накапить на ноутбук 8 млн", GOAL, "8000000", None),
    # Uzbek, Latin
    ("Oylik oldim 2 mln", INCOME, "2000000", "salary"),
    ("50 ming so'm sarfladim oziq-ovqatga", EXPENSE, "50000", "food"),
    ("50 ming soʻm sarfladim oziq-ovqatga", EXPENSE, "50000", "food"),
    ("Taksiga 20 ming to'ladim", EXPENSE, "20000", "transport"),
    ("Taksiga 20 ming toladim", EXPENSE, "20000", "transport"),
    ("ish haqi oldim 4,5 mln", INCOME, "4500000", "salary"),
    ("Maosh oldim 3 mln so'm", INCOME, "3000000", "salary"),
    ("Sotib oldim krossovka 800 ming", EXPENSE, "800000", "clothes"),
    ("Kecha 30 ming sarfladim kafeda", EXPENSE, "30000", "cafe"),
    ("dorixonaga 45 000 sarfladim", EXPENSE, "45000", "health"),
    ("internet uchun 100 ming to'ladim", EXPENSE, "100000", "communication"),
    ("pul tushdi 1 200 000", INCOME, "1200000", "other_income"),
    ("Hisobimga 2 mln tushdi", INCOME, "2000000", "other_income"),
    ("mukofot oldim 500 ming", INCOME, "500000", "bonus"),
    ("Yangi telefon uchun 5 mln yig'moqchiman", GOAL, "5000000", None),
    ("Mashina maqsad 100 mln", GOAL, "100000000", None),
    ("ellik ming so'm sarfladim taksiga", EXPENSE, "50000", "transport"),
    ("ikki yuz ellik ming so'm tushdi", INCOME, "250000", "other_income"),
    ("sarfladim 2 mln kvartira ijara", EXPENSE, "2000000", "housing"),
    ("non uchun 8 ming sarfladim", EXPENSE, "8000", "food"),
    ("oylk oldim 3 mln", INCOME, "3000000", "salary"),
    # Uzbek, Cyrillic
    ("Маош олдим 3 млн", INCOME, "3000000", "salary"),
    ("Озиқ-овқатга 100 минг сўм сарфладим", EXPENSE, "100000", "food"),
    ("Ойлик тушди 5 млн", INCOME, "5000000", "salary"),
    ("Бензинга 200 минг сарфладим", EXPENSE, "200000", "transport"),
    ("бир ярим миллион сарфладим", EXPENSE, "1500000", "other_expense"),
    ("Такси учун 30 минг тўладим", EXPENSE, "30000", "transport"),
    ("Янги уй учун 300 млн йиғмоқчиман", GOAL, "300000000", None),
    ("дорихонага эллик минг сўм сарфладим", EXPENSE, "50000", "health"),
    # no verb: a recognised category decides (an expense one when a word could be either)
    ("кофе 15000", EXPENSE, "15000", "cafe"),
    ("такси 25 тыс", EXPENSE, "25000", "transport"),
    ("5000 на обед", EXPENSE, "5000", "cafe"),
    ("Бензинга 200 минг сум", EXPENSE, "200000", "transport"),
    ("taksi 30 ming", EXPENSE, "30000", "transport"),
    ("заказ пиццы 80000", EXPENSE, "80000", "cafe"),  # a cafe word and a business one: expense
    ("фриланс 500$", INCOME, "500", "business"),  # an income category, no verb
    ("бонус 200000", INCOME, "200000", "bonus"),
    # income vocabulary: transfers, cashback, bonuses, salary words (ru, uz Latin and Cyrillic)
    ("перевели 500000", INCOME, "500000", "transfer"),
    ("перевод от брата 300 тыс", INCOME, "300000", "transfer"),
    ("o'tkazma 100 ming", INCOME, "100000", "transfer"),
    ("oʻtkazma 100 ming", INCOME, "100000", "transfer"),
    ("ўтказма 100 минг", INCOME, "100000", "transfer"),
    ("кэшбэк 12000", INCOME, "12000", "cashback"),
    ("пришёл кешбек 3 тыс", INCOME, "3000", "cashback"),
    ("keshbek 5000", INCOME, "5000", "cashback"),
    ("премия 1 млн", INCOME, "1000000", "bonus"),
    ("bonus 300 ming", INCOME, "300000", "bonus"),
    ("mukofot 400 ming", INCOME, "400000", "bonus"),
    ("зарплата 5 млн", INCOME, "5000000", "salary"),
    ("зп 4 млн", INCOME, "4000000", "salary"),
    ("оклад 3 000 000", INCOME, "3000000", "salary"),
    ("maosh 2 mln", INCOME, "2000000", "salary"),
    ("ish haqi 3 mln", INCOME, "3000000", "salary"),
]


@pytest.mark.parametrize(("phrase", "intent", "amount", "category"), RECORDS, ids=[r[0] for r in RECORDS])
def test_phrase_becomes_a_record(phrase, intent, amount, category):
    result = parse_command(phrase)
    assert result.question is None, result
    assert result.complete
    assert result.intent == intent
    assert result.amount == Decimal(amount)
    assert result.category == category


def test_the_table_is_big_enough_and_covers_every_script():
    assert len(RECORDS) >= 60
    languages = {parse_command(p).language for p, *_ in RECORDS}
    assert languages == {"ru", "uz"}
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in p) and parse_command(p).language == "uz" for p, *_ in RECORDS)


# (phrase, intent, question) — nothing that could be saved as it stands.
QUESTIONS = [
    ("Привет как дела", UNKNOWN, Q_UNKNOWN),
    ("Hello world", UNKNOWN, Q_UNKNOWN),
    ("", UNKNOWN, Q_UNKNOWN),
    ("   ", UNKNOWN, Q_UNKNOWN),
    ("Non oldim", UNKNOWN, Q_UNKNOWN),
    ("Какая погода 25 градусов", UNKNOWN, Q_UNKNOWN),
    ("Позвони маме в 5", UNKNOWN, Q_UNKNOWN),
    ("Я пришлю тебе файл", UNKNOWN, Q_UNKNOWN),
    ("bugun 3 soat ishladim", UNKNOWN, Q_UNKNOWN),
    ("Мне 25 лет", UNKNOWN, Q_UNKNOWN),
    ("20 долларов", UNKNOWN, Q_INTENT),
    ("200 тысяч", UNKNOWN, Q_INTENT),
    ("Купил продукты", EXPENSE, Q_AMOUNT),
    ("получил 0 сум", INCOME, Q_AMOUNT),
    ("Получил 500 и потратил 300", UNKNOWN, Q_CONFLICT),
    ("Потратил 50000 на продукты и 20000 на такси", EXPENSE, Q_MULTIPLE),
    ("должен 500 тыс", DEBT, Q_DIRECTION),
    ("дал в долг 100 тыс", DEBT, Q_COUNTERPARTY),
    ("Хочу накопить 5000000", GOAL, Q_TITLE),
    ("Вернул долг Ахмеду 100000", UNKNOWN, Q_SETTLE),
    ("Купил одну булку", EXPENSE, Q_AMOUNT),
    ("цель накопить, а занял 100 у брата", UNKNOWN, Q_CONFLICT),
]


@pytest.mark.parametrize(("phrase", "intent", "question"), QUESTIONS, ids=[q[0] or "empty" for q in QUESTIONS])
def test_ambiguous_phrase_gets_a_question_not_a_guess(phrase, intent, question):
    result = parse_command(phrase)
    assert result.intent == intent
    assert result.question == question
    assert not result.complete


def test_unknown_intent_keeps_the_amount_to_ask_about():
    result = parse_command("200 минг сум")
    assert (result.intent, result.question, result.amount) == (UNKNOWN, Q_INTENT, Decimal("200000"))


@pytest.mark.parametrize(
    ("phrase", "direction", "counterparty"),
    [
        ("Ахмед должен мне 500000", "owed_to_me", "Ахмед"),
        ("Сардор мне должен 2 млн", "owed_to_me", "Сардор"),
        ("Дал в долг Ахмеду 300 тыс", "owed_to_me", "Ахмеду"),
        ("дал брату 100000 в долг", "owed_to_me", "брату"),
        ("Занял у брата 1 млн", "i_owe", "брата"),
        ("одолжил у соседа 300 тыс", "i_owe", "соседа"),
        ("Я должен Сардору 50$", "i_owe", "Сардору"),
        ("Azizga 200 ming qarz berdim", "owed_to_me", "Aziz"),
        ("Azizdan 1 mln qarz oldim", "i_owe", "Aziz"),
        ("Азиздан 1 млн қарз олдим", "i_owe", "Азиз"),
    ],
)
def test_debts_know_who_owes_whom(phrase, direction, counterparty):
    result = parse_command(phrase)
    assert result.complete, result
    assert (result.intent, result.direction, result.counterparty) == (DEBT, direction, counterparty)


def test_description_keeps_the_words_and_drops_the_command():
    assert parse_command("Потратил 50000 на продукты").description == "продукты"
    assert parse_command("Хочу накопить на телефон 5000000").description == "телефон"
    assert parse_command("Потратила 15 000 сум на лекарства в аптеке").description == "лекарства в аптеке"
    assert parse_command("купил 2 кг мяса за 120000").description == "2 кг мяса"


def test_currency_words_and_default_currency():
    assert parse_command("потратил 100 долларов на одежду").currency == "USD"
    assert parse_command("Потратил 20$ на кафе").currency == "USD"
    assert parse_command("потратил 500 рублей на такси").currency == "RUB"
    assert parse_command("Maosh oldim 3 mln so'm").currency == "UZS"
    assert parse_command("Потратил 5000 на кофе", default_currency="KZT").currency == "KZT"


def test_yesterday_moves_the_date_back():
    assert parse_command("Вчера потратил 40 тыс в кафе").days_ago == 1
    assert parse_command("Kecha 30 ming sarfladim kafeda").days_ago == 1
    assert parse_command("Потратил 40 тыс в кафе").days_ago == 0


def test_amounts_are_exact_decimals():
    assert parse_command("Получил 1,5 млн").amount == Decimal("1500000.00")
    assert parse_command("Потратил 0,1 млн").amount == Decimal("100000.00")
    assert parse_command("Потратил 33.33 на кофе").amount == Decimal("33.33")
    assert str(parse_command("Потратил 50000").amount) == "50000.00"


def test_absurd_amounts_are_refused():
    assert parse_command("Потратил 99999999999999999999 на кофе").question == Q_AMOUNT


def test_latinize_uzbek_cyrillic():
    assert latinize("ўзбекча") == "o'zbekcha"
    assert latinize("ғишт") == "g'isht"
    assert latinize("етти") == "yetti"
    assert latinize("қарз") == "qarz"


@pytest.mark.parametrize(
    "junk",
    ["💰💰💰", "1" * 5000, "'''---", "10 10 10 10", "тысяча тысяч миллионов", "$", "к к к 50к", "\x00\x01", "ё" * 300],
)
def test_any_string_is_answered_without_an_exception(junk):
    result = parse_command(junk)
    assert result.intent in (EXPENSE, INCOME, GOAL, DEBT, UNKNOWN)
    assert result.complete is False or result.amount is not None


def test_answering_the_intent_question_completes_the_record():
    from webapp.finance.services.parser import with_intent

    asked = parse_command("5000 сум")
    assert asked.question == Q_INTENT
    answered = with_intent(asked, EXPENSE)
    assert answered.complete and (answered.category, answered.amount) == ("other_expense", Decimal("5000.00"))
    assert with_intent(asked, INCOME).category == "other_income"
    with pytest.raises(ValueError):
        with_intent(asked, GOAL)
