"""The B2B event scheduler alone: every hard rule on random events, a known optimum, and bad input."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import scheduling
from events.scheduling import (
    Interpreter,
    Pin,
    Problem,
    Reason,
    Request,
    ScheduleError,
    build_schedule,
    greedy_schedule,
    interpreter_pair,
)


def broken_rules(problem: Problem, schedule) -> list[str]:
    """Every hard rule a schedule must keep, checked from scratch."""
    found = []
    requests = {r.key: r for r in problem.requests}
    interpreters = {i.key: i for i in problem.interpreters}
    seen, places, voices = set(), set(), set()
    per_slot = {}
    for p in schedule.placements:
        r = requests[p.request]
        if p.request in seen:
            found.append(f"{p.request} placed twice")
        seen.add(p.request)
        for firm in (r.firm_a, r.firm_b):
            if p.slot not in problem.availability[firm]:
                found.append(f"{firm} not available in slot {p.slot}")
            if (firm, p.slot) in places:
                found.append(f"{firm} in two meetings in slot {p.slot}")
            places.add((firm, p.slot))
        if not 1 <= p.table <= problem.tables or ("table", p.slot, p.table) in places:
            found.append(f"table {p.table} in slot {p.slot} wrong or shared")
        places.add(("table", p.slot, p.table))
        per_slot[p.slot] = per_slot.get(p.slot, 0) + 1
        if r.pair is not None:
            if p.interpreter is None or r.pair not in interpreters[p.interpreter].pairs:
                found.append(f"{p.request} needs an interpreter for {r.pair}")
            if (p.interpreter, p.slot) in voices:
                found.append(f"interpreter {p.interpreter} twice in slot {p.slot}")
            voices.add((p.interpreter, p.slot))
    if any(n > problem.tables for n in per_slot.values()):
        found.append("more meetings than tables")
    placed = {p.request: p for p in schedule.placements}
    for pin in problem.pins:
        p = placed.get(pin.request)
        if (
            p is None
            or (p.slot, p.table) != (pin.slot, pin.table)
            or (pin.interpreter and p.interpreter != pin.interpreter)
        ):
            found.append(f"pin {pin.request} moved")
    if set(placed) | set(schedule.unplaced) != set(requests) or set(placed) & set(schedule.unplaced):
        found.append("placed and unplaced do not split the requests")
    if abs(schedule.weight - sum(requests[k].weight for k in placed)) > 1e-9:
        found.append("weight is not the sum of the placed requests")
    return found


@st.composite
def events(draw):
    slots = draw(st.integers(1, 5))
    tables = draw(st.integers(1, 3))
    firms = [f"f{i}" for i in range(draw(st.integers(2, 8)))]
    availability = {f: frozenset(draw(st.sets(st.integers(0, slots - 1), max_size=slots))) for f in firms}
    interpreters = [
        Interpreter(f"i{n}", frozenset(draw(st.sets(st.sampled_from(["ru-vi", "en-vi", "en-ru"]), min_size=1))))
        for n in range(draw(st.integers(0, 2)))
    ]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(firms), st.sampled_from(firms)).filter(lambda p: p[0] != p[1]),
            max_size=14,
            unique=True,
        )
    )
    requests = [
        Request(f"r{n}", a, b, draw(st.floats(0, 1)), draw(st.sampled_from([None, None, "ru-vi", "en-vi"])))
        for n, (a, b) in enumerate(pairs)
    ]
    problem = Problem(slots, tables, availability, requests, interpreters)
    if requests and draw(st.booleans()):
        # Pin one meeting where the greedy schedule put it, as staff would after a first build.
        placed = greedy_schedule(problem).placements
        if placed:
            p = draw(st.sampled_from(placed))
            problem.pins = [Pin(p.request, p.slot, p.table, p.interpreter)]
    return problem


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_every_schedule_keeps_every_hard_rule_and_is_at_least_the_greedy_one(problem):
    greedy = greedy_schedule(problem)
    solved = build_schedule(problem, time_limit=2)
    assert broken_rules(problem, greedy) == []
    assert broken_rules(problem, solved) == []
    # The solver maximises its own integer objective (weights in thousandths, plus one per meeting), for
    # which the greedy schedule is a feasible answer: on that measure it is never worse (on the raw weights,
    # rounding and the meeting bonus may leave it a few thousandths behind).
    weight = {request.key: request.weight for request in problem.requests}

    def objective(schedule) -> int:
        return sum(round(weight[placement.request] * 1000) + 1 for placement in schedule.placements)

    assert objective(solved) >= objective(greedy)


def test_a_small_event_gets_its_known_optimum_where_first_fit_falls_short():
    """One table, two slots: first fit seats the better pair in slot 1 and leaves no room for the pair
    that can only meet then; the best schedule moves the first to slot 2."""
    problem = Problem(
        slots=2,
        tables=1,
        availability={"a": frozenset({0, 1}), "b": frozenset({0, 1}), "c": frozenset({0}), "d": frozenset({0})},
        requests=[Request("ab", "a", "b", 0.9), Request("cd", "c", "d", 0.8)],
    )
    assert greedy_schedule(problem).weight == pytest.approx(0.9)
    best = build_schedule(problem)
    assert best.weight == pytest.approx(1.7) and best.optimal
    assert {(p.request, p.slot) for p in best.placements} == {("ab", 1), ("cd", 0)}


def test_each_request_left_out_says_why():
    problem = Problem(
        slots=2,
        tables=1,
        availability={
            "a": frozenset({0}),
            "b": frozenset({1}),
            "c": frozenset({0}),
            "d": frozenset({0}),
            "e": frozenset({0}),
            "f": frozenset({0}),
        },
        requests=[
            Request("ab", "a", "b", 0.9),
            Request("cd", "c", "d", 0.8),
            Request("ef", "e", "f", 0.5),
            Request("ce", "c", "e", 0.4, pair="ru-vi"),
        ],
    )
    schedule = build_schedule(problem)
    assert schedule.unplaced["ab"] == Reason(scheduling.NO_COMMON_SLOT)
    assert schedule.unplaced["ef"] == Reason(scheduling.TABLES_FULL)
    assert schedule.unplaced["ce"] == Reason(scheduling.NO_INTERPRETER, {"pair": "ru-vi"})


def test_a_rebuild_keeps_pinned_meetings_where_staff_put_them():
    availability = {f: frozenset({0, 1, 2}) for f in "abcd"}
    requests = [Request("ab", "a", "b", 0.9), Request("cd", "c", "d", 0.8), Request("ac", "a", "c", 0.7, pair="ru-vi")]
    problem = Problem(
        3,
        2,
        availability,
        requests,
        [Interpreter("anna", frozenset({"ru-vi"}))],
        pins=[Pin("ab", slot=2, table=2), Pin("ac", slot=0, table=1, interpreter="anna")],
    )
    schedule = build_schedule(problem)
    placed = {p.request: p for p in schedule.placements}
    assert (placed["ab"].slot, placed["ab"].table) == (2, 2)
    assert (placed["ac"].slot, placed["ac"].table, placed["ac"].interpreter) == (0, 1, "anna")
    assert broken_rules(problem, schedule) == []


@pytest.mark.parametrize(
    "change, message",
    [
        ({"tables": 0}, Reason(scheduling.NO_TABLES)),
        (
            {"requests": [Request("ax", "a", "x", 0.5)]},
            Reason(scheduling.NOT_A_PARTICIPANT, {"request": "ax", "firm": "x"}),
        ),
        (
            {"pins": [Pin("ab", 0, 1, "anna"), Pin("cd", 0, 2, "anna")]},
            Reason(scheduling.INTERPRETER_TWICE, {"interpreter": "anna", "slot": 0, "meeting": "ab", "other": "cd"}),
        ),
        (
            {"pins": [Pin("ab", 0, 1), Pin("cd", 0, 1)]},
            Reason(scheduling.PINS_SHARE_TABLE, {"meeting": "ab", "other": "cd", "table": 1, "slot": 0}),
        ),
        ({"pins": [Pin("ab", 1, 1)]}, Reason(scheduling.PIN_FIRM_AWAY, {"meeting": "ab", "slot": 1, "firm": "a"})),
    ],
)
def test_bad_event_data_is_refused_with_a_clear_message(change, message):
    fields = dict(
        slots=2,
        tables=2,
        availability={"a": frozenset({0}), "b": frozenset({0, 1}), "c": frozenset({0}), "d": frozenset({0})},
        requests=[Request("ab", "a", "b", 0.9, pair="ru-vi"), Request("cd", "c", "d", 0.8, pair="ru-vi")],
        interpreters=[Interpreter("anna", frozenset({"ru-vi"}))],
    )
    fields.update(change)
    with pytest.raises(ScheduleError) as error:
        build_schedule(Problem(**fields))
    assert message in error.value.errors


def test_an_interpreter_is_needed_only_without_a_common_language():
    assert interpreter_pair(["vi", "en"], ["ru", "en"]) is None
    assert interpreter_pair(["vi"], ["ru"]) == "ru-vi"
    assert interpreter_pair(["ru"], ["en"]) == "en-ru"
