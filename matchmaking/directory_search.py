"""The directory's search by meaning, in any of the service's languages, with the lexical match still counting.

A Russian reader searching «кофе» should find the Vietnamese coffee exporters that wrote «cà phê» or "coffee".
Each worker process keeps an index of what the directory shows (Company.objects.shown_to_others()): the vector
of every offer and need (the engine's, read from the embedding cache that matching filled: offers in the
model's "passage" role, needs in its "query" role, keyed as the engine keys them, so no text is embedded
twice) and, for the lexical part, the lowercased name, city and texts. A search embeds its words once (role
"query"), scores every distinct text against them, takes each firm's best text, adds a bonus when every word
of the search is found in the firm, and returns the firms above the cut-off (and every lexical hit) ranked.

Calibration (``directory_search_calibration.json``, written by ``bench/directory_search.py --calibrate``):
raw e5 cosines sit in a narrow band (0.78–0.88 for almost any pair) and a text scores higher against a search
written in its own language than a better text in another, so «кофе» would rank Russian flour mills above
Vietnamese coffee. Each text's vector is therefore centred by the mean vector of its role and language, the
search's by the mean of all texts, both measured on the 180 hand-written profiles of the matching evaluation
sets; the cosine of the centred vectors is about 0.2–0.45 for a text about the searched thing and mostly
below 0.16 for the rest. The cut-off, 0.16, is the best F1 over 24 topic searches (8 topics × vi/ru/en) against
the firms whose texts name the topic in any language (precision 0.51, recall 0.43; «кофе»: 11 of 11).
Fixed means rather than the corpus's own keep the scores (and the cut-off) the same in a directory of ten
firms and of 100,000.

The index is brought up to date at each search with the firms saved since it last looked (by ``updated_at``,
with an overlap for late commits); after ``MAX_AGE_SECONDS`` it is rebuilt in a thread while searches use
the old one. What the directory shows is decided by the caller's queryset, never by the index, so a firm
that stopped being shown is never returned, even before the index hears of it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.db import connection
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal

from companies import directory_cache
from companies.models import Company, Listing
from matchmaking.embedding_cache import DatabaseEmbeddingStore
from matchmaking.engine.embedding import PASSAGE, QUERY, CachedEmbedder, Embedder, default_embedder

CALIBRATION_FILE = Path(__file__).with_name("directory_search_calibration.json")
logger = logging.getLogger(__name__)
# Added to the score of a firm in which every word of the search is found: a lexical hit ranks above a firm
# found only by meaning at a similar score, and is always returned whatever its score.
LEXICAL_BONUS = 0.15
# Firms a search returns, at most, best first: fifty pages of twenty are more than anyone reads, and the
# ranked ids travel to PostgreSQL with every page's query (4,000 of them cost the page 200 ms more at 100,000
# firms, bench/directory_search.py). A lexical hit outranks a firm found by meaning at a similar score, so
# it is cut only when a thousand better ones come first.
MAX_RESULTS = 1000
MAX_AGE_SECONDS = 3600  # then rebuilt in the background, dropping what sync() cannot see (deleted texts)
# An edit saved before the last look but committed after it carries an older updated_at: look back this far.
SYNC_OVERLAP = timedelta(minutes=5)
QUERY_CACHE_SIZE = 1000  # searches whose vector this process keeps (the model takes tens of ms per search)
FIRM_CHUNK = 2000
# Firms holding a search's longest word up to which its other words are checked firm by firm (see lexical_firms).
CHECK_IN_PLACE_MAX = 5000

_lock = threading.Lock()
_state: dict = {}  # "index", "embedder", "calibration"


def normalise(text: str) -> str:
    """The form both sides of the lexical match take: NFC (Vietnamese has two encodings of its marks),
    case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def search_terms(text: str) -> list[str]:
    """The words of a search as DRF's SearchFilter splits them (whitespace and commas; quoted phrases kept)."""
    terms = []
    for term in smart_split(text):
        term = term.strip(",")
        if term[:1] in ('"', "'") and term[0] == term[-1] and len(term) > 1:
            terms.append(unescape_string_literal(term))
        else:
            terms += [part for part in term.split(",") if part]
    return [normalise(term) for term in terms if term.strip()]


class Calibration:
    def __init__(self, model: str, means: dict[str, np.ndarray], query_mean: np.ndarray, cut_off: float) -> None:
        self.model, self.means, self.query_mean, self.cut_off = model, means, query_mean, cut_off

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        means = {group: np.asarray(vector, dtype=np.float32) for group, vector in data["means"].items()}
        return cls(data["model"], means, np.asarray(data["query_mean"], dtype=np.float32), float(data["cut_off"]))

    def centre(self, vectors: np.ndarray, groups: list[str]) -> np.ndarray:
        centred = np.asarray(vectors, dtype=np.float32).copy()
        for group in set(groups):
            rows = np.fromiter((g == group for g in groups), dtype=bool, count=len(groups))
            centred[rows] -= self.means.get(group, self.query_mean)
        return _unit(centred)

    def centre_query(self, vector: np.ndarray) -> np.ndarray:
        return _unit((np.asarray(vector, dtype=np.float32) - self.query_mean)[None, :])[0]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def _role(direction: str) -> str:
    # As the engine embeds them (engine/rank.py): needs in the query role, offers as passages.
    return QUERY if direction == Listing.Direction.NEED else PASSAGE


class DirectoryIndex:
    """The shown firms' texts as centred unit vectors (one per distinct role and text), which firm has which,
    and their words for the lexical match. Firms are replaced in place: a changed firm's old rows are marked
    dead and its new ones appended, so an edit costs its own texts, not a rebuild."""

    def __init__(self, embedder: Embedder, calibration: Calibration) -> None:
        self.embedder, self.calibration = embedder, calibration
        self.slot_of: dict[tuple[str, str], int] = {}  # (role, text) → row of ``vectors``
        self.vectors = np.zeros((0, 384), dtype=np.float32)
        self.slot_words: list[str] = []  # normalised text of each slot
        self.slots = 0
        self.row_slot = np.zeros(0, dtype=np.int64)  # one row per listing
        self.row_firm = np.zeros(0, dtype=np.int64)  # position of its firm
        self.row_alive = np.zeros(0, dtype=bool)
        self.rows = 0
        self.position: dict[int, int] = {}  # firm id → position
        self.firm_ids: list[int] = []
        self.firm_alive: list[bool] = []
        self.firm_rows: list[list[int]] = []
        self.firm_words: list[str] = []  # normalised name and city
        self.seen: dict[int, datetime] = {}  # firm id → latest updated_at of the firm and its listings read
        self.synced_at: datetime | None = None
        self.built = time.monotonic()
        self._compiled: tuple | None = None  # lexical haystacks, built on first use after a change

    # --- building and updating ---

    def load(self, firm_ids: Iterable[int] | None = None) -> int:
        """Read the shown firms (all, or those of ``firm_ids``) and put them in the index; firms of
        ``firm_ids`` that are no longer shown leave it. Returns the number of firms read."""
        started = timezone.now()
        firms = Company.objects.shown_to_others().order_by("pk")
        if firm_ids is not None:
            firm_ids = set(firm_ids)
            firms = firms.filter(pk__in=firm_ids)
        firms = firms.only("pk", "name", "city", "updated_at").annotate(listed_at=Max("listings__updated_at"))
        firms = firms.prefetch_related(
            Prefetch(
                "listings", queryset=Listing.objects.order_by("pk").only("company_id", "direction", "text", "language")
            )
        )
        read = set()
        batch: list[Company] = []
        for firm in firms.iterator(chunk_size=FIRM_CHUNK):
            batch.append(firm)
            if len(batch) == FIRM_CHUNK:
                self._put(batch)
                read |= {f.pk for f in batch}
                batch = []
        self._put(batch)
        read |= {f.pk for f in batch}
        for firm_id in (firm_ids or set()) - read:
            self._drop(firm_id)
        if firm_ids is None:
            self.synced_at = started
        return len(read)

    def sync(self) -> int:
        """Bring in the firms saved since the last look; returns how many were read again."""
        started = timezone.now()
        since = self.synced_at - SYNC_OVERLAP
        latest: dict[int, datetime] = {}
        for firm_id, moment in [
            *Company.objects.filter(updated_at__gte=since).values_list("pk", "updated_at"),
            *Listing.objects.filter(updated_at__gte=since).values_list("company_id", "updated_at"),
        ]:
            latest[firm_id] = max(moment, latest.get(firm_id, moment))
        changed = {firm_id for firm_id, moment in latest.items() if self.seen.get(firm_id) != moment}
        if changed:
            self.load(changed)
            # Firms read that are not shown are remembered too, so they are not read again at every search.
            self.seen.update((firm_id, latest[firm_id]) for firm_id in changed)
        self.synced_at = started
        return len(changed)

    def _put(self, firms: list[Company]) -> None:
        if not firms:
            return
        texts = [
            (_role(x.direction), x.text, x.language) for firm in firms for x in firm.listings.all() if x.text.strip()
        ]
        new = list(
            dict.fromkeys((role, text, language) for role, text, language in texts if (role, text) not in self.slot_of)
        )
        if new:
            vectors = np.zeros((len(new), 384), dtype=np.float32)
            for role in (QUERY, PASSAGE):
                picked = [i for i, item in enumerate(new) if item[0] == role]
                if picked:
                    vectors[picked] = self.embedder.embed([new[i][1] for i in picked], role)
            vectors = self.calibration.centre(vectors, [f"{role}/{language}" for role, _, language in new])
            self._grow_slots(len(new))
            self.vectors[self.slots : self.slots + len(new)] = vectors
            for role, text, _ in new:
                self.slot_of.setdefault((role, text), len(self.slot_words))
                self.slot_words.append(normalise(text))
            self.slots += len(new)
        for firm in firms:
            self._drop(firm.pk)
            position = self.position.get(firm.pk)
            if position is None:
                position = self.position[firm.pk] = len(self.firm_ids)
                self.firm_ids.append(firm.pk)
                self.firm_alive.append(True)
                self.firm_rows.append([])
                self.firm_words.append("")
            slots = [self.slot_of[(_role(x.direction), x.text)] for x in firm.listings.all() if x.text.strip()]
            self._grow_rows(len(slots))
            rows = list(range(self.rows, self.rows + len(slots)))
            self.row_slot[rows] = slots
            self.row_firm[rows] = position
            self.row_alive[rows] = True
            self.rows += len(slots)
            self.firm_rows[position] = rows
            self.firm_alive[position] = True
            self.firm_words[position] = normalise(f"{firm.name}\n{firm.city}")
            self.seen[firm.pk] = max(filter(None, [firm.updated_at, firm.listed_at]))
        self._compiled = None

    def _drop(self, firm_id: int) -> None:
        position = self.position.get(firm_id)
        if position is not None:
            self.row_alive[self.firm_rows[position]] = False
            self.firm_rows[position] = []
            self.firm_alive[position] = False
            self.seen.pop(firm_id, None)
            self._compiled = None

    def _grow_slots(self, more: int) -> None:
        if self.slots + more > len(self.vectors):
            grown = np.zeros((max(2 * len(self.vectors), self.slots + more, 1024), 384), dtype=np.float32)
            grown[: self.slots] = self.vectors[: self.slots]
            self.vectors = grown

    def _grow_rows(self, more: int) -> None:
        if self.rows + more > len(self.row_slot):
            size = max(2 * len(self.row_slot), self.rows + more, 1024)
            self.row_slot = np.resize(self.row_slot, size)
            self.row_firm = np.resize(self.row_firm, size)
            self.row_alive = np.concatenate([self.row_alive[: self.rows], np.zeros(size - self.rows, dtype=bool)])

    # --- searching ---

    def _haystacks(self) -> tuple:
        """The slots' texts and the firms' names and cities, each as one string with the start of every
        entry, so a word is looked for with one ``str.find`` pass instead of a Python loop per firm."""
        if self._compiled is None:
            texts = "\x00".join(self.slot_words)
            text_starts = np.cumsum([0] + [len(t) + 1 for t in self.slot_words])[:-1]
            names = "\x00".join(self.firm_words)
            name_starts = np.cumsum([0] + [len(t) + 1 for t in self.firm_words])[:-1]
            self._compiled = (texts, text_starts, names, name_starts)
        return self._compiled

    def lexical_firms(self, terms: list[str]) -> np.ndarray:
        """Boolean per firm position: every term is found in its name, city or one of its texts."""
        # Scanning every text costs 10-30 ms a word at 100,000 firms: only the first (longest, so usually
        # rarest) word is looked for everywhere; the others only in the firms that have it, while they are few.
        terms = sorted(dict.fromkeys(terms), key=len, reverse=True)
        found = self._firms_with(terms[0])
        for term in terms[1:]:
            candidates = np.flatnonzero(found)
            if len(candidates) > CHECK_IN_PLACE_MAX:
                found &= self._firms_with(term)
                continue
            for position in candidates:
                if term not in self.firm_words[position] and not any(
                    term in self.slot_words[slot] for slot in self.row_slot[self.firm_rows[position]]
                ):
                    found[position] = False
        return found & np.asarray(self.firm_alive, dtype=bool)

    def _firms_with(self, term: str) -> np.ndarray:
        texts, text_starts, names, name_starts = self._haystacks()
        in_slot = np.zeros(self.slots, dtype=bool)
        in_slot[np.searchsorted(text_starts, _occurrences(texts, term), side="right") - 1] = True
        in_firm = np.zeros(len(self.firm_ids), dtype=bool)
        in_firm[np.searchsorted(name_starts, _occurrences(names, term), side="right") - 1] = True
        rows = np.flatnonzero(self.row_alive[: self.rows] & in_slot[self.row_slot[: self.rows]])
        in_firm[self.row_firm[rows]] = True
        return in_firm

    def search(self, query: np.ndarray, terms: list[str]) -> list[int]:
        """Firm ids, best first: found by meaning (centred cosine of their best text at least the cut-off)
        or lexically (every term found), scored by meaning plus the lexical bonus."""
        if not self.firm_ids:
            return []
        slot_scores = self.vectors[: self.slots] @ self.calibration.centre_query(query)
        lexical = self.lexical_firms(terms) if terms else np.zeros(len(self.firm_ids), dtype=bool)
        live = self.row_alive[: self.rows]
        row_scores = slot_scores[self.row_slot[: self.rows]]
        wanted = live & ((row_scores >= self.calibration.cut_off) | lexical[self.row_firm[: self.rows]])
        best = np.full(len(self.firm_ids), -np.inf, dtype=np.float32)
        np.maximum.at(best, self.row_firm[: self.rows][wanted], row_scores[wanted])
        # A lexical hit with no text (found by name) still counts.
        best[lexical & np.isinf(best)] = 0.0
        found = np.flatnonzero(lexical | (best >= self.calibration.cut_off))
        score = best[found] + LEXICAL_BONUS * lexical[found]
        if len(found) > MAX_RESULTS:
            kept = np.argpartition(-score, MAX_RESULTS)[:MAX_RESULTS]
            found, score = found[kept], score[kept]
        ids = np.asarray(self.firm_ids, dtype=np.int64)[found]
        order = np.lexsort((ids, -score))
        return ids[order].tolist()


def _occurrences(haystack: str, needle: str) -> np.ndarray:
    if not needle:
        return np.zeros(0, dtype=np.int64)
    return np.fromiter((m.start() for m in re.finditer(re.escape(needle), haystack)), dtype=np.int64)


# --- the process's index ---------------------------------------------------------------------------------------


def forget() -> None:
    """Drop this process's index (tests, or after a bulk change that bypassed ``updated_at``)."""
    with _lock:
        _state.pop("index", None)
        _state.pop("queries", None)


def _embedder() -> Embedder | None:
    if "embedder" not in _state:
        model = default_embedder()
        _state["embedder"] = CachedEmbedder(model, DatabaseEmbeddingStore()) if model else None
        _state["calibration"] = Calibration.load()
        if _state["calibration"] is not None and model is not None and _state["calibration"].model != model.name:
            _state["calibration"] = None  # means of another model would not centre this one's vectors
    return _state["embedder"] if _state["calibration"] is not None else None


def ready_index() -> DirectoryIndex | None:
    """This process's index, built or brought up to date; None without the embedding model."""
    with _lock:
        embedder = _embedder()
        if embedder is None:
            return None
        index = _state.get("index")
        if index is None:
            index = DirectoryIndex(embedder, _state["calibration"])
            index.load()
            _state["index"] = index
            return index
        if time.monotonic() - index.built > MAX_AGE_SECONDS and not _state.get("rebuilding"):
            _rebuild_in_background(embedder, _state["calibration"])
        index.sync()
        return index


def _rebuild_in_background(embedder: Embedder, calibration: Calibration) -> None:
    # A rebuild reads every shown firm (25 s at 100,000): searches meanwhile use the old index, kept up to date
    # by sync(), instead of one reader an hour waiting for it. Called with _lock held.
    def build() -> None:
        try:
            fresh = DirectoryIndex(embedder, calibration)
            fresh.load()
            with _lock:
                _state["index"] = fresh
            # It sees what the old index could not (a bulk write that sent no signal): the directory's kept
            # pages, searched with the old one, go.
            directory_cache.renew()
        except Exception:
            logger.exception("rebuilding the directory's search index failed; the old one stays")
        finally:
            _state.pop("rebuilding", None)
            connection.close()  # this thread's own connection

    _state["rebuilding"] = True
    threading.Thread(target=build, name="directory-index-rebuild", daemon=True).start()


def _query_vector(index: DirectoryIndex, text: str) -> np.ndarray:
    # Kept per process, not in the shared embedding cache: searches are what readers typed, not firms' texts.
    queries: OrderedDict = _state.setdefault("queries", OrderedDict())
    vector = queries.get(text)
    if vector is None:
        vector = index.embedder.inner.embed([text], QUERY)[0]
        queries[text] = vector
        if len(queries) > QUERY_CACHE_SIZE:
            queries.popitem(last=False)
    else:
        queries.move_to_end(text)
    return vector


def search_directory(text: str) -> list[int] | None:
    """Ids of the shown firms that ``text`` finds, best first (see the module's docstring), or None when the
    embedding model cannot run here (the caller then searches lexically). The caller applies its filters and
    what it may show to these ids."""
    text = " ".join(text.split())
    if not text:
        return None
    index = ready_index()
    if index is None:
        return None
    with _lock:
        return index.search(_query_vector(index, text), search_terms(text))
