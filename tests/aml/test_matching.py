"""The matching's quality on the labelled name pairs, through the index as a registration check runs it:
the goal of issue 16 (recall >= 0.9 in every script at precision >= 0.95) is held here on the tuning set,
so a change that loses it fails, and the held-out set's measured floor beside it. `python -m bench.screening`
prints the same figures beside the baseline's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from services.aml.compare import compare
from services.aml.lists import Entity, ScreeningList, load
from services.aml.match import Index, Person, Rules
from services.aml.names import form
from tests.aml.pairs import PairSet, labelled_pairs


def _tally(which: PairSet) -> dict[str, tuple[float, float]]:
    """Precision and recall per script of the matching on one labelled set, through the index."""
    pairs = labelled_pairs(which)
    assert len(pairs) >= 500
    assert {p.script for p in pairs} == {"latin", "cyrillic", "arabic", "chinese", "greek"}
    listed = sorted({p.listed for p in pairs})
    index = Index.build(
        ScreeningList(
            "pairs", "pairs", tuple(Entity(f"n{i}", "Person", n, (n,), (), (), (), ()) for i, n in enumerate(listed))
        ),
        Rules.load(),
    )
    number = {shaped.original: i for i, shaped in enumerate(index.names)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for pair in pairs:
        found = number[pair.listed] in index.candidates(form(pair.given))
        hit = found and compare(form(pair.listed), form(pair.given)).score >= index.rules.threshold
        if hit or pair.same:  # a true positive, a false positive or a miss
            counts[pair.script][0 if hit and pair.same else 1 if hit else 2] += 1
    return {script: (tp / (tp + fp), tp / (tp + fn)) for script, (tp, fp, fn) in counts.items()}


def test_recall_and_precision_hold_in_every_script() -> None:
    for script, (precision, recall) in _tally("tuning").items():
        assert recall >= 0.9, (script, precision, recall)
        assert precision >= 0.95, (script, precision, recall)


# The first held-out set (tests/aml/data/heldout): measured three times (the last on 2026-12-07, Latin
# precision 0.945), so it is tuning material now: its false pairs were looked at for the stem-and-suffix,
# gender, contradicting-part and Polish nasal rules of 2026-12-07 (services/aml/suffixes.py, distinct.py,
# compare.py, spellings.py). Its figures after them, rounded down, stay a floor so a change that loses
# ground fails; the measure of unseen spellings is a second blind set ("heldout2"), written separately and
# measured once after these rules.
HELDOUT_FLOOR = {  # script: (precision, recall)
    "arabic": (0.97, 0.97),
    "chinese": (1.0, 0.92),
    "cyrillic": (1.0, 0.94),
    "greek": (1.0, 1.0),
    "latin": (1.0, 1.0),
}


def test_held_out_pairs_keep_their_measured_floor() -> None:
    measured = _tally("heldout")
    assert measured.keys() == HELDOUT_FLOOR.keys()
    for script, (precision, recall) in measured.items():
        floor_precision, floor_recall = HELDOUT_FLOOR[script]
        assert precision >= floor_precision, (script, precision, recall)
        assert recall >= floor_recall, (script, precision, recall)


# The second held-out set (tests/aml/data/heldout2), written blind and measured once, on 2026-12-07 after the
# rules above: overall precision 0.946, recall 0.918; below the goal on unseen spellings in Chinese recall
# (0.753), Arabic precision (0.938) and Latin precision (0.885). A floor, rounded down, so nothing loses more
# ground; not to be tuned on while it is the measure (docs/aml.md, "Quality").
HELDOUT2_FLOOR = {  # script: (precision, recall)
    "arabic": (0.93, 0.93),
    "chinese": (1.0, 0.75),
    "cyrillic": (0.95, 0.93),
    "greek": (0.97, 0.96),
    "latin": (0.88, 0.98),
}


def test_second_held_out_pairs_keep_their_measured_floor() -> None:
    measured = _tally("heldout2")
    assert measured.keys() == HELDOUT2_FLOOR.keys()
    for script, (precision, recall) in measured.items():
        floor_precision, floor_recall = HELDOUT2_FLOOR[script]
        assert precision >= floor_precision, (script, precision, recall)
        assert recall >= floor_recall, (script, precision, recall)


# One pair per rule added for issue 16's unseen spellings (all in the tuning set): true, then false pairs.
RULE_EXAMPLES = [
    ("Всеволод Шишкин", "Wsewolod Schischkin", True),  # German (Duden) transliteration of Russian
    ("Фёдор Семёнович Кущенко", "Fiodor Semionovitch Kouchtchenko", True),  # French
    ("Георгий Хохлов", "Georgiy Khokhloff", True),  # the émigrés' -off
    ("Елизавета Зуева", "Yelizaveta Zuyeva", True),  # BGN/PCGN's ye
    ("黄伟强", "Wong Wai Keung", True),  # Cantonese, in Hong Kong's romanisation
    ("曾国荣", "Zeng Guorong", True),  # 曾 read as the family name it is
    ("吴家豪", "Jiahao Wu", True),  # found by its given name's pinyin
    ("رجب فرج حجازي", "Ragab Farag Hegazy", True),  # Egyptian g for ج
    ("جميلة بن علي", "Djamila Benali", True),  # Maghrebi dj for ج
    ("Zoran Babić", "Zoran Babich", True),  # one sound, two spellings
    ("سعد منير العتيبي", "Saeed Munir Al-Otaibi", False),  # a long vowel the Arabic does not write
    ("كريم عادل الشريف", "Karam Adel Al-Sharif", False),  # the Arabic's long vowel not written
    ("Zoran Babić", "Zoran Bakić", False),  # unrelated consonants
    ("Ярослава Мещерякова", "Yaroslav Meshcheryakov", False),  # the other gender's form
    ("Matteo Galli", "Matteo Gallo", False),  # Italian -i/-o
    ("Елизавета Зуева", "Elizaveta Zubova", False),  # two changes in a short name
    ("曾国荣", "Tsang Kwok Keung", False),  # Cantonese, another given name
    ("Tomasz Dąbrowski", "Tomasz Dombrowski", True),  # Polish ą transcribed "om"
    ("Goran Jovanović", "Goran Jovanovitch", True),  # one suffix in two spellings
    ("Francisco Javier Martínez Soto", "Francisco Javier Martínez Sosa", False),  # a part both give, as two names
    ("Κωνσταντίνος Ιωαννίδης", "Konstantinos Ioannakis", False),  # one stem, two suffixes
    ("Goran Jovanović", "Goran Jovanov", False),  # one stem, two suffixes
    ("Мария Петровна Иванова", "Maria Petrova", False),  # a patronymic is not a family name
    ("Magnus Eriksson", "Magnus Henriksson", False),  # one suffix, two stems
    ("Κωνσταντίνος Ιωαννίδης", "Konstantinos Ioannidou", False),  # Greek other-gender forms
    ("Κωνσταντίνος Παππάς", "Konstantinos Pappa", False),  # Greek other-gender forms
    ("Marta Esposito", "Maria Esposito", False),  # a vowel for a consonant in a short name
]


def test_each_rule_decides_its_own_examples() -> None:
    listed = sorted({name for name, _, _ in RULE_EXAMPLES})
    entities = tuple(Entity(f"n{i}", "Person", n, (n,), (), (), (), ()) for i, n in enumerate(listed))
    index = Index.build(ScreeningList("rules", "rules", entities), Rules.load())
    for name, given, same in RULE_EXAMPLES:
        found = [m.entity.caption for m in index.screen(Person(given))]
        assert (name in found) is same, (name, given, found)


def test_the_sample_list_is_versioned_and_screens_across_scripts() -> None:
    sample = load(None)
    assert len(sample.version) == 16
    assert all("fictional" in e.datasets[0] for e in sample.entities)
    index = Index.build(sample, Rules.load())
    cases = {
        "Dmitriy Sarychev": "croupier-fictional-0001",  # Дмитрий Олегович Сарычев, no Latin alias
        "Khaled Yusuf Alzahrani": "croupier-fictional-0006",  # خالد يوسف الزهراني
        "Zhiqiang Chen": "croupier-fictional-0010",  # 陈志强
        "Haralambos Psaras": "croupier-fictional-0013",  # Χαράλαμπος Ψαρράς
    }
    for name, entity_id in cases.items():
        assert [m.entity.id for m in index.screen(Person(name))] == [entity_id], name
    # The date of birth confirms or weakens: the same name born decades apart is not a match.
    assert index.screen(Person("Dmitriy Sarychev", date(1968, 4, 12)))[0].why["birth_date"] == "same_day"
    assert index.screen(Person("Dmitriy Sarychev", date(2001, 1, 1))) == []
    assert index.screen(Person("Ada Lovelace", date(1985, 12, 10))) == []
