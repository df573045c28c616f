"""Screening quality and speed: `python -m bench.screening`.

Quality: the labelled name pairs of tests/aml (true: a list name and a spelling of the same made-up
person; false: another person), the tuning set and the held-out one (`--set`), scored by our comparison
(services/aml/compare.py) and by the baseline common open screeners use, Jaro-Winkler on the whole name
(here even given the same ASCII transliteration, ICU's, as `normality` does), each at its
threshold. Precision and recall per script and overall.

Speed: a synthetic list of `--entities` people (names drawn from per-script pools, in their scripts) is
indexed, `--players` synthetic Latin names are screened against it in this process (one core), and the
rate is extrapolated to 1,000,000 players; a registration check's p95 is measured over single checks.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import time
import uuid
from collections import defaultdict
from datetime import date

from normality import ascii_text
from rapidfuzz.distance import JaroWinkler

from services.aml.compare import compare
from services.aml.lists import Entity, ScreeningList
from services.aml.match import Index, Person, Rules
from services.aml.names import form
from services.aml.rescreen import match_all, workers_for
from services.aml.screening import PlayerDetails
from tests.aml.pairs import SETS, PairSet, labelled_pairs

BASELINE_THRESHOLD = 0.90


def _baseline(listed: str, given: str) -> float:
    return float(JaroWinkler.normalized_similarity((ascii_text(listed) or "").lower(), given.lower()))


def quality(threshold: float, which: PairSet) -> None:
    pairs = labelled_pairs(which)
    # Ours goes through the index as a registration check does: a pair counts only if blocking finds it.
    listed = sorted({p.listed for p in pairs})
    entities = tuple(Entity(f"n{i}", "Person", n, (n,), (), (), (), ()) for i, n in enumerate(listed))
    index = Index.build(ScreeningList("pairs", "pairs", entities), Rules.load())
    number = {shaped.original: i for i, shaped in enumerate(index.names)}
    tally: dict[str, dict[str, list[int]]] = {
        "ours": defaultdict(lambda: [0, 0, 0]),
        "baseline": defaultdict(lambda: [0, 0, 0]),
    }
    for pair in pairs:
        verdicts = {
            "ours": number[pair.listed] in index.candidates(form(pair.given))
            and compare(form(pair.listed), form(pair.given)).score >= threshold,
            "baseline": _baseline(pair.listed, pair.given) >= BASELINE_THRESHOLD,
        }
        for who, hit in verdicts.items():
            for script in (pair.script, "overall"):
                counts = tally[who][script]  # true positives, false positives, false negatives
                if hit and pair.same:
                    counts[0] += 1
                elif hit:
                    counts[1] += 1
                elif pair.same:
                    counts[2] += 1
    same = sum(p.same for p in pairs)
    print(f"{which} set, labelled pairs: {len(pairs)} ({same} true, {len(pairs) - same} false)")
    print(f"ours at {threshold}, baseline (whole-name Jaro-Winkler) at {BASELINE_THRESHOLD}")
    print(f"{'script':<10} {'ours P':>7} {'ours R':>7} {'base P':>7} {'base R':>7}")
    for script in [*sorted(k for k in tally["ours"] if k != "overall"), "overall"]:
        row = []
        for who in ("ours", "baseline"):
            tp, fp, fn = tally[who][script]
            row += [tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0]
        print(f"{script:<10} " + " ".join(f"{v:7.3f}" for v in row))


POOLS = {
    "cyrillic": (
        ["Дмитрий", "Алексей", "Ольга", "Наталья", "Игорь", "Сергей", "Ирина", "Павел", "Юрий", "Анна"],
        ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков"],
    ),
    "arabic": (
        ["محمد", "أحمد", "علي", "عمر", "خالد", "يوسف", "فاطمة", "مريم", "حسن", "سعيد"],
        ["الحربي", "الزهراني", "الشمري", "القحطاني", "الكعبي", "الخطيب", "الحداد", "الدوسري", "المنصوري", "النعيمي"],
    ),
    "greek": (
        ["Γεώργιος", "Νικόλαος", "Ελένη", "Σοφία", "Δημήτριος", "Ιωάννης", "Μαρία", "Κωνσταντίνος"],
        ["Παπαδόπουλος", "Βλάχος", "Νικολάου", "Γεωργίου", "Οικονόμου", "Μακρής", "Αντωνίου", "Ζαχαρίου"],
    ),
    "latin": (
        ["James", "Maria", "Jose", "Anna", "Peter", "Laura", "Thomas", "Sofia", "Lukas", "Emma"],
        ["Smith", "Garcia", "Muller", "Rossi", "Novak", "Jensen", "Kowalski", "Dubois", "Silva", "Horvat"],
    ),
}
HAN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
HAN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志"
LATIN_FIRST = ["John", "Mary", "David", "Elena", "Marco", "Ivan", "Ahmed", "Wei", "Nikos", "Olga", "Sara", "Omar"]
LATIN_LAST = ["Brown", "Taylor", "Ivanov", "Hassan", "Wang", "Papas", "Martin", "Bernard", "Costa", "Keller", "Nowak"]


def synthetic_list(size: int, rng: random.Random) -> ScreeningList:
    entities = []
    for n in range(size):
        script = rng.choice(["cyrillic", "arabic", "greek", "latin", "han"])
        if script == "han":
            name = rng.choice(HAN_SURNAMES) + "".join(rng.choice(HAN_GIVEN) for _ in range(rng.choice([1, 2])))
        else:
            given, family = POOLS[script]
            name = f"{rng.choice(given)} {rng.choice(given)} {rng.choice(family)}{rng.randrange(100)}"
            name = name.rstrip("0123456789") if rng.random() < 0.3 else name  # some exact pool names
        entities.append(
            Entity(f"e{n}", "Person", name, (name,), (f"{rng.randrange(1940, 2000)}",), ("xx",), ("sanction",), ())
        )
    return ScreeningList(version="synthetic", source="synthetic", entities=tuple(entities))


def speed(entities: int, players: int, rng: random.Random) -> None:
    started = time.process_time()
    index = Index.build(synthetic_list(entities, rng), Rules.load())
    print(f"index of {entities:,} entities: {time.process_time() - started:.1f} s CPU, {len(index.postings):,} keys")
    people = [
        Person(
            f"{rng.choice(LATIN_FIRST)} {rng.choice(LATIN_LAST)}{rng.choice(['', 'a', 'ov', 'i'])}",
            date(1980, 1, 1),
            "MT",
        )
        for _ in range(players)
    ]
    started = time.process_time()
    found = sum(len(index.screen(p)) for p in people)
    spent = time.process_time() - started
    rate = players / spent
    print(
        f"bulk: {players:,} players in {spent:.1f} s CPU = {rate:,.0f}/s on one core, {found} matches;"
        f" 1,000,000 players: {1_000_000 / rate / 60:.1f} min on one core, {1_000_000 / rate / 120:.1f} min on two"
    )
    details = [
        PlayerDetails(uuid.UUID(int=n + 1), uuid.UUID(int=0), p.name, p.birth_date, p.country)
        for n, p in enumerate(people)
    ]
    # The machine is shared: CPU time, not wall time, is the figure (the workers' CPU once they have ended).
    executor = workers_for(index, 2)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.process_time()
    asyncio.run(match_all(index, details, executor, 2))
    if executor is not None:
        executor.shutdown()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + time.process_time() - started
    print(
        f"bulk on two processes (rescreen's path): {cpu:.1f} s CPU for {players:,} players;"
        f" 1,000,000 players: {1_000_000 / players * cpu / 120:.1f} min on two idle cores"
    )
    singles = []
    for person in people[:2000]:
        t = time.process_time()
        index.screen(Person(person.name + "x", person.birth_date, person.country))  # not cached
        singles.append((time.process_time() - t) * 1000)
    p95 = statistics.quantiles(singles, n=20)[-1]
    print(f"registration check: p50 {statistics.median(singles):.2f} ms, p95 {p95:.2f} ms (CPU, matching only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=Rules.load().threshold)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--players", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--set", choices=[*SETS, "both"], default="both", help="which labelled pairs to score")
    parser.add_argument("--quality-only", action="store_true", help="skip the speed part")
    args = parser.parse_args()
    for which in SETS if args.set == "both" else [args.set]:
        quality(args.threshold, which)
    if not args.quality_only:
        speed(args.entities, args.players, random.Random(args.seed))


if __name__ == "__main__":
    main()
