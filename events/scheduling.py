"""The meeting schedule of a B2B event: which accepted request meets in which time slot, at which table,
with which interpreter. Plain Python and OR-Tools, no Django: the event's rows come in as dataclasses.

Hard rules: a meeting takes one slot and one table; no firm is in two meetings in one slot; both firms
are available in that slot; at most ``tables`` meetings per slot; a meeting whose firms share no business
language gets an interpreter of its language pair, and no interpreter has two meetings in one slot;
pinned meetings keep their slot and table. Within those, the schedule places as many meetings as it can,
weighted by match score.

``build_schedule`` fills a first schedule (best-scored request first, into the slot that takes least from
the requests still waiting), then models the event exactly (CP-SAT, a binary choice per request and slot)
and lets the solver improve on it for ``time_limit`` seconds; ``greedy_schedule`` (best-scored request
first, into the first slot that fits) is the baseline it is measured against.

Why a request has no place, and what makes the event's data unusable, come back as ``Reason``s: a code and its
values (keys of requests, firms and interpreters, slot indices, a language pair). The caller words them for its
reader (events.schedule, events.selectors), with names for the keys.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

LANGUAGE_PAIRS = ("ru-vi", "en-vi", "en-ru")  # the pairs interpreters work in, each sorted

# Why a request has no place. Values: ``pair`` for the two about interpreters.
NO_COMMON_SLOT = "no_common_slot"  # the two firms have no time slot in common
NO_INTERPRETER = "no_interpreter"  # no interpreter of the event works in the pair
FIRM_BUSY = "firm_busy"  # in every slot both can meet, one of them has a better-scored meeting
TABLES_FULL = "tables_full"  # every table is taken in the slots both can meet
INTERPRETERS_BUSY = "interpreters_busy"  # every interpreter for the pair is taken in those slots

# What makes the event's data unusable (check_problem). Values: ``request``, ``meeting`` and ``other`` are
# request keys (``meeting`` and ``other`` pinned ones), ``firm`` and ``interpreter`` keys, ``slot`` a slot index
# (from 0; readers count from 1), ``slots`` a list of them, ``table`` a table number, ``pair`` a language pair.
NO_SLOTS = "no_slots"
NO_TABLES = "no_tables"
REQUEST_TWICE = "request_twice"  # request
NOT_A_PARTICIPANT = "not_a_participant"  # request, firm
MEETS_ITSELF = "meets_itself"  # request
UNKNOWN_PAIR = "unknown_pair"  # request, pair
SLOTS_OUTSIDE = "slots_outside"  # firm, slots
PIN_NOT_ACCEPTED = "pin_not_accepted"  # request
PIN_OUTSIDE = "pin_outside"  # meeting, slot, table
PINS_SHARE_TABLE = "pins_share_table"  # meeting, other, table, slot
PIN_FIRM_AWAY = "pin_firm_away"  # meeting, slot, firm
FIRM_PINNED_TWICE = "firm_pinned_twice"  # firm, slot, meeting, other
PIN_WRONG_INTERPRETER = "pin_wrong_interpreter"  # meeting, interpreter
INTERPRETER_TWICE = "interpreter_twice"  # interpreter, slot, meeting, other


@dataclass(frozen=True)
class Reason:
    """A code of this module and its values (see the codes above)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


def interpreter_pair(languages_a: Collection[str], languages_b: Collection[str]) -> str | None:
    """The language pair an interpreter must cover for two firms, or None when they share a language.
    Each side speaks its first language listed (its own); English is the fallback of a side without one."""
    if set(languages_a) & set(languages_b):
        return None
    first_a = next(iter(languages_a), "en")
    first_b = next(iter(languages_b), "en")
    return "-".join(sorted((first_a, first_b)))


@dataclass(frozen=True)
class Request:
    key: Hashable
    firm_a: Hashable
    firm_b: Hashable
    weight: float  # the pair's match score: a better match counts more
    pair: str | None = None  # the language pair it needs an interpreter for, if any


@dataclass(frozen=True)
class Interpreter:
    key: Hashable
    pairs: frozenset[str]


@dataclass(frozen=True)
class Pin:
    """A meeting staff placed by hand: it keeps its slot and table; ``interpreter`` may be given too."""

    request: Hashable
    slot: int
    table: int
    interpreter: Hashable | None = None


@dataclass
class Problem:
    slots: int
    tables: int
    availability: dict[Hashable, frozenset[int]]  # firm → slots it can meet in (0-based)
    requests: Sequence[Request]
    interpreters: Sequence[Interpreter] = ()
    pins: Sequence[Pin] = ()


@dataclass(frozen=True)
class Placement:
    request: Hashable
    slot: int
    table: int  # 1-based, as printed on the agenda
    interpreter: Hashable | None = None


@dataclass
class Schedule:
    placements: list[Placement]
    unplaced: dict[Hashable, Reason]  # request → why it has no place
    weight: float
    optimal: bool = False  # the solver proved no schedule weighs more
    notes: list[str] = field(default_factory=list)
    # The solver's objective (each meeting counts its score in thousandths, plus one) and the bound it
    # proved no schedule can beat: their ratio is how far from the optimum this schedule can at most be.
    objective: int | None = None
    bound: float | None = None


class ScheduleError(ValueError):
    """The event's data cannot make a schedule; ``errors`` says what to fix, each a Reason."""

    def __init__(self, errors: list[Reason]) -> None:
        super().__init__("; ".join(f"{error.code} {error.params}" for error in errors))
        self.errors = errors


def check_problem(problem: Problem) -> list[Reason]:
    """What makes the data unusable (nothing is scheduled while any is left)."""
    errors = []
    if problem.slots < 1:
        errors.append(Reason(NO_SLOTS))
    if problem.tables < 1:
        errors.append(Reason(NO_TABLES))
    keys = Counter(r.key for r in problem.requests)
    errors += [Reason(REQUEST_TWICE, {"request": key}) for key, n in keys.items() if n > 1]
    by_key = {r.key: r for r in problem.requests}
    for r in problem.requests:
        for firm in (r.firm_a, r.firm_b):
            if firm not in problem.availability:
                errors.append(Reason(NOT_A_PARTICIPANT, {"request": r.key, "firm": firm}))
        if r.firm_a == r.firm_b:
            errors.append(Reason(MEETS_ITSELF, {"request": r.key}))
        if r.pair is not None and r.pair not in LANGUAGE_PAIRS:
            errors.append(Reason(UNKNOWN_PAIR, {"request": r.key, "pair": r.pair}))
    for firm, slots in problem.availability.items():
        outside = sorted(s for s in slots if not 0 <= s < problem.slots)
        if outside:
            errors.append(Reason(SLOTS_OUTSIDE, {"firm": firm, "slots": outside}))
    seen_places, seen_interpreters, seen_firms = {}, {}, {}
    interpreters = {i.key: i for i in problem.interpreters}
    for pin in problem.pins:
        request = by_key.get(pin.request)
        if request is None:
            errors.append(Reason(PIN_NOT_ACCEPTED, {"request": pin.request}))
            continue
        if not 0 <= pin.slot < problem.slots or not 1 <= pin.table <= problem.tables:
            errors.append(Reason(PIN_OUTSIDE, {"meeting": pin.request, "slot": pin.slot, "table": pin.table}))
            continue
        place = (pin.slot, pin.table)
        if place in seen_places:
            errors.append(
                Reason(
                    PINS_SHARE_TABLE,
                    {"meeting": seen_places[place], "other": pin.request, "table": pin.table, "slot": pin.slot},
                )
            )
        seen_places[place] = pin.request
        for firm in (request.firm_a, request.firm_b):
            if pin.slot not in problem.availability.get(firm, frozenset()):
                errors.append(Reason(PIN_FIRM_AWAY, {"meeting": pin.request, "slot": pin.slot, "firm": firm}))
            if (firm, pin.slot) in seen_firms:
                errors.append(
                    Reason(
                        FIRM_PINNED_TWICE,
                        {"firm": firm, "slot": pin.slot, "meeting": seen_firms[firm, pin.slot], "other": pin.request},
                    )
                )
            seen_firms[firm, pin.slot] = pin.request
        if pin.interpreter is not None:
            interpreter = interpreters.get(pin.interpreter)
            if interpreter is None or request.pair not in interpreter.pairs:
                errors.append(Reason(PIN_WRONG_INTERPRETER, {"meeting": pin.request, "interpreter": pin.interpreter}))
            if (pin.interpreter, pin.slot) in seen_interpreters:
                errors.append(
                    Reason(
                        INTERPRETER_TWICE,
                        {
                            "interpreter": pin.interpreter,
                            "slot": pin.slot,
                            "meeting": seen_interpreters[pin.interpreter, pin.slot],
                            "other": pin.request,
                        },
                    )
                )
            seen_interpreters[pin.interpreter, pin.slot] = pin.request
    return errors


class _Board:
    """Who is where, slot by slot, while a schedule is being filled."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.busy: set[tuple[Hashable, int]] = set()  # (firm or interpreter, slot)
        self.used = Counter()  # meetings per slot
        self.tables: dict[int, set[int]] = defaultdict(set)
        self.placements: dict[Hashable, Placement] = {}

    def free_interpreter(self, request: Request, slot: int) -> Hashable | None:
        for interpreter in self.problem.interpreters:
            if request.pair in interpreter.pairs and (("interpreter", interpreter.key), slot) not in self.busy:
                return interpreter.key
        return None

    def fits(self, request: Request, slot: int) -> bool:
        availability = self.problem.availability
        return (
            slot in availability[request.firm_a]
            and slot in availability[request.firm_b]
            and (request.firm_a, slot) not in self.busy
            and (request.firm_b, slot) not in self.busy
            and self.used[slot] < self.problem.tables
            and (request.pair is None or self.free_interpreter(request, slot) is not None)
        )

    def place(self, request: Request, slot: int, table: int | None = None, interpreter: Hashable | None = None) -> None:
        if request.pair is not None and interpreter is None:
            interpreter = self.free_interpreter(request, slot)
        if table is None:
            table = min(set(range(1, self.problem.tables + 1)) - self.tables[slot])
        self.busy |= {(request.firm_a, slot), (request.firm_b, slot)}
        if interpreter is not None:
            self.busy.add((("interpreter", interpreter), slot))
        self.used[slot] += 1
        self.tables[slot].add(table)
        self.placements[request.key] = Placement(request.key, slot, table, interpreter)

    def why_not(self, request: Request) -> Reason:
        """The most common reason among the slots both firms could meet in."""
        availability = self.problem.availability
        common = sorted(availability[request.firm_a] & availability[request.firm_b])
        if not common:
            return Reason(NO_COMMON_SLOT)
        if request.pair is not None and not any(request.pair in i.pairs for i in self.problem.interpreters):
            return Reason(NO_INTERPRETER, {"pair": request.pair})
        reasons = Counter()
        for slot in common:
            if (request.firm_a, slot) in self.busy or (request.firm_b, slot) in self.busy:
                reasons[FIRM_BUSY] += 1
            elif self.used[slot] >= self.problem.tables:
                reasons[TABLES_FULL] += 1
            else:
                reasons[INTERPRETERS_BUSY] += 1
        code = reasons.most_common(1)[0][0]
        return Reason(code, {"pair": request.pair} if code == INTERPRETERS_BUSY else {})


def _start(problem: Problem) -> tuple[_Board, dict[Hashable, Request]]:
    errors = check_problem(problem)
    if errors:
        raise ScheduleError(errors)
    board = _Board(problem)
    by_key = {r.key: r for r in problem.requests}
    for pin in problem.pins:
        board.place(by_key[pin.request], pin.slot, pin.table, pin.interpreter)
    return board, by_key


def _finish(
    board: _Board, by_key: dict[Hashable, Request], optimal: bool = False, notes: list[str] | None = None
) -> Schedule:
    placements = sorted(board.placements.values(), key=lambda p: (p.slot, p.table))
    unplaced = {key: board.why_not(r) for key, r in by_key.items() if key not in board.placements}
    weight = sum(by_key[p.request].weight for p in placements)
    return Schedule(placements, unplaced, weight, optimal, notes or [])


def greedy_schedule(problem: Problem) -> Schedule:
    """First fit: requests best-scored first, each into the earliest slot where it fits."""
    board, by_key = _start(problem)
    for request in sorted(problem.requests, key=lambda r: -r.weight):
        if request.key in board.placements:
            continue
        for slot in range(problem.slots):
            if board.fits(request, slot):
                board.place(request, slot)
                break
    return _finish(board, by_key)


def _least_constraining_schedule(problem: Problem) -> Schedule:
    """Best-scored request first, into the slot that takes the least from the requests still waiting:
    the summed scores of the two firms' other requests that could also meet in that slot."""
    board, by_key = _start(problem)
    order = sorted(problem.requests, key=lambda r: -r.weight)
    waiting: dict[Hashable, set[Hashable]] = defaultdict(set)
    for request in order:
        if request.key not in board.placements:
            waiting[request.firm_a].add(request.key)
            waiting[request.firm_b].add(request.key)
    availability = problem.availability
    for request in order:
        if request.key in board.placements:
            continue
        waiting[request.firm_a].discard(request.key)
        waiting[request.firm_b].discard(request.key)
        best = None
        for slot in range(problem.slots):
            if not board.fits(request, slot):
                continue
            cost = 0.001 * board.used[slot]  # between equals, the emptier slot
            for firm in (request.firm_a, request.firm_b):
                for key in waiting[firm]:
                    other = by_key[key]
                    if slot in availability[other.firm_a] and slot in availability[other.firm_b]:
                        cost += other.weight
            if best is None or cost < best[0]:
                best = (cost, slot)
        if best is not None:
            board.place(request, best[1])
    return _finish(board, by_key)


def _assign_interpreters(meetings: list[Request], free: list[Interpreter]) -> dict[Hashable, Hashable] | None:
    """Interpreters for one slot's meetings (a bipartite matching, by augmenting paths), or None."""
    holder: dict[Hashable, Hashable] = {}  # interpreter → request
    by_key = {r.key: r for r in meetings}

    def seat(request: Request, seen: set) -> bool:
        for interpreter in free:
            if request.pair in interpreter.pairs and interpreter.key not in seen:
                seen.add(interpreter.key)
                if interpreter.key not in holder or seat(by_key[holder[interpreter.key]], seen):
                    holder[interpreter.key] = request.key
                    return True
        return False

    for request in meetings:
        if not seat(request, set()):
            return None
    return {request: interpreter for interpreter, request in holder.items()}


def build_schedule(problem: Problem, time_limit: float = 8.0, workers: int = 8) -> Schedule:
    """The heaviest schedule the solver finds in ``time_limit`` seconds, starting from the greedy one.

    One binary choice per (request, slot both firms can meet in). Interpreters enter as capacities: in
    each slot, for every set of language pairs, the meetings needing one of them are at most the free
    interpreters working in any of them. By Hall's theorem that is exactly when interpreters can be
    given out, which is done after the solve; it keeps the model small and its bound tight."""
    greedy = _least_constraining_schedule(problem)  # also checks the problem; the solver starts from it
    by_key = {r.key: r for r in problem.requests}
    pinned = {pin.request: pin for pin in problem.pins}
    # An interpreter pinned to a meeting is not free in that slot for anyone else.
    taken = {(pin.interpreter, pin.slot) for pin in problem.pins if pin.interpreter is not None}
    # OR-Tools loads here, not with the module: events.models imports the reason codes, and every process
    # (web, worker) would otherwise pay half a second to load a solver only schedule builds use.
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    choice: dict[tuple[Hashable, int], cp_model.IntVar] = {}
    for request in problem.requests:
        pin = pinned.get(request.key)
        slots = {pin.slot} if pin else problem.availability[request.firm_a] & problem.availability[request.firm_b]
        if request.pair and not pin and not any(request.pair in i.pairs for i in problem.interpreters):
            continue
        xs = []
        for slot in sorted(slots):
            xs.append(choice.setdefault((request.key, slot), model.NewBoolVar("")))
        if pin:
            model.Add(xs[0] == 1)
        elif xs:
            model.AddAtMostOne(xs)
    by_firm_slot, by_slot, needing = defaultdict(list), defaultdict(list), defaultdict(list)
    for (key, slot), x in choice.items():
        request = by_key[key]
        by_firm_slot[request.firm_a, slot].append(x)
        by_firm_slot[request.firm_b, slot].append(x)
        by_slot[slot].append(x)
        if request.pair and not (key in pinned and pinned[key].interpreter is not None):
            needing[slot].append((request.pair, x))
    for group in by_firm_slot.values():
        if len(group) > 1:
            model.AddAtMostOne(group)
    for group in by_slot.values():
        model.Add(sum(group) <= problem.tables)
    pair_sets = [
        frozenset(p for n, p in enumerate(LANGUAGE_PAIRS) if mask >> n & 1)
        for mask in range(1, 2 ** len(LANGUAGE_PAIRS))
    ]
    for slot, meetings in needing.items():
        free = [i for i in problem.interpreters if (i.key, slot) not in taken]
        for pairs in pair_sets:
            xs = [x for pair, x in meetings if pair in pairs]
            capacity = sum(1 for i in free if i.pairs & pairs)
            if len(xs) > capacity:
                model.Add(sum(xs) <= capacity)
    # Integer weights: scores to a thousandth, plus one so that a zero-scored meeting still counts.
    model.Maximize(sum((round(by_key[key].weight * 1000) + 1) * x for (key, _), x in choice.items()))
    for placement in greedy.placements:
        x = choice.get((placement.request, placement.slot))
        if x is not None:
            model.AddHint(x, 1)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy

    chosen = defaultdict(list)
    for (key, slot), x in choice.items():
        if solver.Value(x):
            chosen[slot].append(by_key[key])
    board = _Board(problem)
    for slot, meetings in sorted(chosen.items()):
        free = [i for i in problem.interpreters if (i.key, slot) not in taken]
        spoken = _assign_interpreters(
            [r for r in meetings if r.pair and not (r.key in pinned and pinned[r.key].interpreter is not None)], free
        )
        if spoken is None:  # Hall's condition holds for the model's solution, so this is a bug, not bad data
            raise AssertionError(f"no interpreters for slot {slot} of a feasible schedule")
        for request in sorted(meetings, key=lambda r: r.key not in pinned):  # pins first: their tables are theirs
            pin = pinned.get(request.key)
            interpreter = pin.interpreter if pin and pin.interpreter is not None else spoken.get(request.key)
            board.place(request, slot, pin.table if pin else None, interpreter)
    schedule = _finish(board, by_key, optimal=status == cp_model.OPTIMAL)
    schedule.objective, schedule.bound = round(solver.ObjectiveValue()), solver.BestObjectiveBound()
    if schedule.weight < greedy.weight:  # cannot happen with the hint, but never hand back a worse schedule
        return greedy
    return schedule
