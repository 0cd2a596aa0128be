"""Rank, for every firm, the firms of the other country it should meet.

For a pair (A, B):
  forward(A, B)  = how well B's best offer meets A's best-met need
  backward(A, B) = forward(B, A): how well A's offers meet B's needs
  score          = mean of both directions (so a pair good for both ranks first, while a strong
                   one-way fit still ranks), plus cooperation forms and sectors (given, and the
                   registration code's division) in common, plus a common business language.
The score is symmetric, so a pair has one score whichever side looks at it.

How it is computed: a block of firms of one country at a time against every firm of the other, the
dense part as one BLAS product and the rest in compiled loops (``kernels``); no Python loop runs over
pairs. Because the score is symmetric, each (need, offer) product is computed once: the blocks of the
first country give its firms' top k, and a running top k per firm of the second country is merged from
the same block scores. The winners' reasons are then worked out pair by pair.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Collection, Hashable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from . import kernels
from .confidence import order, pair_features, rival_reasons
from .corpus import Corpus
from .embedding import Embedder
from .types import DEFAULT_WEIGHTS, Profile, Ranking, Reason, Suggestion, Weights

ENGINE_VERSION = "1.0"
BLOCK = 512  # firms per block: bounds memory at about BLOCK × listings of the other country
COLUMN_CHUNK = 64  # other firms per thread when merging a block into their running top k
PAIR_CHUNK = 100_000  # pairs whose reasons are built at a time
NO_EMBEDDER_NOTE = (
    "No embedding model: ranked on lexical, cooperation and sector signals only, so matches across languages are weak."
)


def _jaccard_pairs(matrix: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = (matrix[a] * matrix[b]).sum(1)
    union = matrix[a].sum(1) + matrix[b].sum(1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _common(matrix: np.ndarray, names: list[str], set_of: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[list[str]]:
    """For each pair (a[p], b[p]): the sorted items both firms have (``names`` is sorted, like the columns).
    ``set_of`` numbers each firm's set, so each distinct pair of sets is intersected once."""
    pair_key = set_of[a] * (set_of.max(initial=0) + 1) + set_of[b]
    keys, first, slot = np.unique(pair_key, return_index=True, return_inverse=True)
    pairs, columns = np.nonzero(matrix[a[first]] * matrix[b[first]])
    bounds = np.searchsorted(pairs, np.arange(len(keys) + 1)).tolist()
    labels = [names[c] for c in columns.tolist()]
    distinct = [labels[bounds[k] : bounds[k + 1]] for k in range(len(keys))]
    return [distinct[k] for k in slot.ravel().tolist()]


def _scan(
    corpus: Corpus, firms: np.ndarray, others: np.ndarray, k: int, columns: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Top ``k`` of ``others`` for each of ``firms`` (indices into ``others``, best first), and with
    ``columns`` also the top ``k`` of ``firms`` for each of ``others`` (indices into ``firms``)."""
    row_top, column_values, column_top = scan_scores(corpus, firms, others, k, columns)
    return row_top, column_top if columns else None


def scan_scores(
    corpus: Corpus, firms: np.ndarray, others: np.ndarray, k: int, columns: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_scan`` with the columns' scores: (rows' top, columns' top scores, columns' top); the columns' lists
    are -inf and -1 beyond what was found (and all of it without ``columns``).

    Each block's scores are a matrix [block firm, other firm]: its rows give the block firms' lists and
    its columns extend the others' running lists."""
    weights = corpus.weights
    row_values = np.full((len(firms), k), -np.inf, dtype=np.float32)
    row_top = np.full((len(firms), k), -1, dtype=np.int64)
    column_values = np.full((len(others), k), -np.inf, dtype=np.float32)
    column_top = np.full((len(others), k), -1, dtype=np.int64)
    # The other country's listings are the same for every block: slice them once.
    other_offers = corpus.rows(corpus.offers, others, postings=True)
    other_needs = corpus.rows(corpus.needs, others, postings=True)
    mix = np.array([weights.cooperation, weights.sectors, weights.language], dtype=np.float64)
    cooperation, sectors, languages = corpus.bits
    other_sets = (cooperation[others], sectors[others], languages[others])
    for start in range(0, len(firms), BLOCK):
        block = firms[start : start + BLOCK]
        forward = corpus.directional(corpus.rows(corpus.needs, block), other_offers, corpus.lexical_bias)
        backward = corpus.directional(corpus.rows(corpus.offers, block), other_needs, corpus.lexical_bias.T)
        scores = np.empty((len(block), len(others)), dtype=np.float32)
        kernels.score_block(
            forward,
            backward,
            block,
            cooperation,
            sectors,
            languages,
            *other_sets,
            mix,
            scores,
            row_values[start : start + len(block)],
            row_top[start : start + len(block)],
        )
        if columns:
            kernels.column_top(scores, start, column_values, column_top, COLUMN_CHUNK)
    return row_top, column_values, column_top


def pair_details(corpus: Corpus, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Everything a suggestion reports about the pairs (x[p], y[p]), computed once per pair."""
    weights = corpus.weights
    forward, f_need, f_offer = corpus.best_listing_pairs(x, y)  # x's needs, y's offers
    backward, b_need, b_offer = corpus.best_listing_pairs(y, x)  # y's needs, x's offers
    forward_score = np.where(np.isfinite(forward), forward, 0.0).astype(np.float32)
    backward_score = np.where(np.isfinite(backward), backward, 0.0).astype(np.float32)
    cooperation = _jaccard_pairs(corpus.cooperation, x, y)
    sectors = _jaccard_pairs(corpus.sectors, x, y)
    language = ((corpus.languages[x] * corpus.languages[y]).sum(1) > 0).astype(np.float32)
    score = (
        (forward_score + backward_score) / 2
        + weights.cooperation * cooperation
        + weights.sectors * sectors
        + weights.language * language
    )
    details = {
        "score": score,
        "forward": forward_score,
        "backward": backward_score,
        "cooperation": cooperation,
        "sectors": sectors,
        "language": language,
        "f_found": np.isfinite(forward),
        "f_need": f_need,
        "f_offer": f_offer,
        "f_value": forward,
        "b_found": np.isfinite(backward),
        "b_need": b_need,
        "b_offer": b_offer,
        "b_value": backward,
    }
    model = corpus.model
    if model is not None:
        offers_alike, x_offer, y_offer = corpus.alike(corpus.offers, x, y)
        needs_alike, x_need, y_need = corpus.alike(corpus.needs, x, y)
        features = pair_features(
            forward=forward_score,
            backward=backward_score,
            offers_alike=offers_alike,
            needs_alike=needs_alike,
            cooperation=cooperation,
            sectors=sectors,
            language=language,
        )
        rivals = model.rivals(offers_alike=offers_alike, fit_high=np.maximum(forward_score, backward_score))
        rivals &= corpus.weights.rivals
        details.update(
            confidence=model.confidence(features, rivals).astype(np.float32),
            rivals=rivals,
            offers_alike=offers_alike,
            x_offer=x_offer,
            y_offer=y_offer,
            needs_alike=needs_alike,
            x_need=x_need,
            y_need=y_need,
        )
    return details


def _suggestions(
    corpus: Corpus,
    x: np.ndarray,
    y: np.ndarray,
    for_x: np.ndarray,
    for_y: np.ndarray,
    keys: list,
) -> tuple[list[Suggestion | None], list[Suggestion | None]]:
    """The suggestion of y[p] to x[p] (where ``for_x[p]``) and of x[p] to y[p] (where ``for_y[p]``)."""
    threshold = corpus.weights.reason_threshold
    d = pair_details(corpus, x, y)
    common = [
        (kind, _common(matrix, names, corpus.set_ids[kind], x, y))
        for kind, matrix, names in (
            ("cooperation", corpus.cooperation, corpus.cooperation_names),
            ("sectors", corpus.sectors, corpus.sector_names),
            ("language", corpus.languages, corpus.language_names),
        )
    ]
    need_texts, need_refs = corpus.needs.texts, corpus.needs.refs
    offer_texts, offer_refs = corpus.offers.texts, corpus.offers.refs

    def quoted(found: np.ndarray, value: np.ndarray, need: np.ndarray, offer: np.ndarray) -> list[dict | None]:
        told = (found & (value >= threshold)).tolist()
        return [
            {
                "need": need_texts[n],
                "need_ref": need_refs[n],
                "offer": offer_texts[o],
                "offer_ref": offer_refs[o],
                "similarity": round(v, 3),
            }
            if t
            else None
            for t, n, o, v in zip(told, need.tolist(), offer.tolist(), value.tolist(), strict=True)
        ]

    met_x = quoted(d["f_found"], d["f_value"], d["f_need"], d["f_offer"])  # x's need met by y's offer
    met_y = quoted(d["b_found"], d["b_value"], d["b_need"], d["b_offer"])  # y's need met by x's offer
    confidence = d["confidence"].tolist() if "confidence" in d else [None] * len(x)
    rivals = d["rivals"].tolist() if "rivals" in d else [False] * len(x)
    rival_x, rival_y = (
        rival_reasons(d, offers=corpus.offers.texts, needs=corpus.needs.texts)
        if "rivals" in d
        else ([None] * len(x), [None] * len(x))
    )
    score, forward, backward = d["score"].tolist(), d["forward"].tolist(), d["backward"].tolist()
    cooperation, sectors, language = d["cooperation"].tolist(), d["sectors"].tolist(), d["language"].tolist()
    x_keys, y_keys = [keys[i] for i in x.tolist()], [keys[i] for i in y.tolist()]
    out_x: list[Suggestion | None] = [None] * len(x)
    out_y: list[Suggestion | None] = [None] * len(x)
    wanted_x, wanted_y = for_x.tolist(), for_y.tolist()
    for p in range(len(x)):
        shared = [Reason(kind, {"common": list(items[p])}) for kind, items in common if items[p]]
        a, b = met_x[p], met_y[p]
        sure = {} if confidence[p] is None else {"confidence": confidence[p]}
        if wanted_x[p]:
            warning = [Reason("rivals", rival_x[p])] if rivals[p] else []
            out_x[p] = Suggestion(
                counterpart=y_keys[p],
                score=score[p],
                score_forward=forward[p],
                score_backward=backward[p],
                parts={
                    "forward": forward[p],
                    "backward": backward[p],
                    "cooperation": cooperation[p],
                    "sectors": sectors[p],
                    "language": language[p],
                    **sure,
                },
                reasons=warning
                + ([Reason("need_met", a)] if a else [])
                + ([Reason("offer_wanted", b)] if b else [])
                + shared,
                confidence=confidence[p],
                rivals=rivals[p],
            )
        if wanted_y[p]:
            warning = [Reason("rivals", rival_y[p])] if rivals[p] else []
            out_y[p] = Suggestion(
                counterpart=x_keys[p],
                score=score[p],
                score_forward=backward[p],
                score_backward=forward[p],
                parts={
                    "forward": backward[p],
                    "backward": forward[p],
                    "cooperation": cooperation[p],
                    "sectors": sectors[p],
                    "language": language[p],
                    **sure,
                },
                reasons=warning
                + ([Reason("need_met", b)] if b else [])
                + ([Reason("offer_wanted", a)] if a else [])
                + list(shared),
                confidence=confidence[p],
                rivals=rivals[p],
            )
    return out_x, out_y


# Numba's default thread pool aborts the process if two threads start parallel kernels at once (a
# threaded web server running tasks in-process can): one ranking at a time per process.
_one_at_a_time = threading.RLock()


@contextmanager
def one_ranking_at_a_time() -> Iterator[None]:
    """Run one ranking at a time in this process, with Python's cycle collector paused: a ranking makes
    millions of objects that live on (suggestions, reasons) and no cycles; each full collection would walk
    them all again, seconds each time."""
    with _one_at_a_time:
        collecting = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if collecting:
                gc.enable()


def rank_counterparts(
    profiles: Sequence[Profile],
    *,
    top_k: int = 10,
    embedder: Embedder | None = None,
    only: Collection[Hashable] | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> Ranking:
    """Top ``top_k`` counterparts of every firm (or of the firms in ``only``), best first, with reasons."""
    with one_ranking_at_a_time():
        return _rank(profiles, top_k, embedder, only, weights)


def _rank(
    profiles: Sequence[Profile],
    top_k: int,
    embedder: Embedder | None,
    only: Collection[Hashable] | None,
    weights: Weights,
) -> Ranking:
    notes = [] if embedder is not None else [NO_EMBEDDER_NOTE]
    corpus = Corpus(profiles, embedder, weights)
    keys = corpus.keys
    wanted = set(only) if only is not None else None
    countries = sorted(set(corpus.country))
    # The counterparts chosen for each firm, best first; found by scanning country by country.
    chosen: dict[int, list[int]] = {}
    for n, country in enumerate(countries):
        firms = np.flatnonzero(corpus.country == country)
        if wanted is not None:
            firms = np.array([i for i in firms if keys[i] in wanted], dtype=np.int64)
        others = np.flatnonzero(corpus.country != country)
        if not len(others):
            chosen.update({int(i): [] for i in firms})
            continue
        # With two countries and every firm wanted, the first country's scan also yields the second's lists.
        both = wanted is None and len(countries) == 2
        if both and n == 1:
            continue
        k = min(candidates(corpus, top_k), len(others))
        row_top, column_top = _scan(corpus, firms, others, k, columns=both)
        chosen.update(zip(firms.tolist(), others[row_top].tolist(), strict=True))
        if both:
            chosen.update(zip(others.tolist(), firms[column_top].tolist(), strict=True))
    return Ranking(
        suggestions=build_suggestions(corpus, rerank(corpus, chosen, top_k)), engine_version=ENGINE_VERSION, notes=notes
    )


def candidates(corpus: Corpus, top_k: int) -> int:
    """How many counterparts by score each firm's list is chosen from: a few more than ``top_k`` when the
    confidence reorders them (a rival high by score makes room for a partner just below)."""
    return top_k + corpus.weights.rerank_extra if corpus.model is not None else top_k


def _pairs_of(corpus: Corpus, chosen: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each chosen pair once, whichever side (or both) chose it, with the first country's firm as x: the
    distinct pairs [pair, (x, y)], the pair of each chosen counterpart (in ``chosen``'s order) and whether
    that firm is the pair's y."""
    countries = sorted(set(corpus.country))
    rank_of = {c: i for i, c in enumerate(countries)}
    order_of = (
        np.array([rank_of[c] for c in corpus.country], dtype=np.int64) if len(corpus.keys) else np.zeros(0, np.int64)
    )
    firm = np.fromiter((f for f, counterparts in chosen.items() for _ in counterparts), dtype=np.int64)
    other = np.fromiter((c for counterparts in chosen.values() for c in counterparts), dtype=np.int64)
    swap = order_of[firm] > order_of[other] if len(firm) else np.zeros(0, bool)
    x, y = np.where(swap, other, firm), np.where(swap, firm, other)
    pairs, slot = np.unique(np.stack([x, y], axis=1).reshape(-1, 2), axis=0, return_inverse=True)
    return pairs, slot.ravel(), swap


def rerank(corpus: Corpus, chosen: dict[int, list[int]], top_k: int) -> dict[int, list[int]]:
    """Each firm's candidates (best by score first) cut to ``top_k``; with the confidence model, first put
    in order of confidence, a pair that looks like rivals never first (confidence.order)."""
    if corpus.model is None:
        return {firm: counterparts[:top_k] for firm, counterparts in chosen.items()}
    pairs, slot, _ = _pairs_of(corpus, chosen)
    confidence = np.zeros(len(pairs), dtype=np.float32)
    rivals = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), PAIR_CHUNK):
        d = pair_details(corpus, pairs[start : start + PAIR_CHUNK, 0], pairs[start : start + PAIR_CHUNK, 1])
        confidence[start : start + PAIR_CHUNK], rivals[start : start + PAIR_CHUNK] = d["confidence"], d["rivals"]
    reranked, q = {}, 0
    values, flags = confidence[slot].tolist(), rivals[slot].tolist()
    for firm, counterparts in chosen.items():
        n = len(counterparts)
        kept = order(values[q : q + n], flags[q : q + n])[:top_k]
        reranked[firm] = [counterparts[i] for i in kept]
        q += n
    return reranked


def build_suggestions(corpus: Corpus, chosen: dict[int, list[int]]) -> dict[Hashable, list[Suggestion]]:
    """The suggestions of each firm's chosen counterparts (firm indices, any order), best first."""
    keys = corpus.keys
    for firm in chosen:
        if not corpus.listed[firm]:
            chosen[firm] = []
    # Each pair's details once, whichever side (or both) chose it.
    pairs, slot, swap = _pairs_of(corpus, chosen)
    for_x = np.zeros(len(pairs), bool)
    for_y = np.zeros(len(pairs), bool)
    for_x[slot[~swap]] = True
    for_y[slot[swap]] = True
    built_x: list[Suggestion | None] = []
    built_y: list[Suggestion | None] = []
    for start in range(0, len(pairs), PAIR_CHUNK):
        end = start + PAIR_CHUNK
        sx, sy = _suggestions(
            corpus, pairs[start:end, 0], pairs[start:end, 1], for_x[start:end], for_y[start:end], keys
        )
        built_x += sx
        built_y += sy
    suggestions = {}
    q = 0
    slots, swaps = slot.tolist(), swap.tolist()
    for f, counterparts in chosen.items():
        ranked = [(built_y if swaps[q + i] else built_x)[slots[q + i]] for i in range(len(counterparts))]
        q += len(counterparts)
        if ranked and ranked[0].confidence is not None:
            ranked = [ranked[i] for i in order([s.confidence for s in ranked], [s.rivals for s in ranked])]
        else:
            # The blocks' sums and the pair-by-pair sums may differ in the last bit: order by the reported score.
            ranked.sort(key=lambda s: -s.score)
        suggestions[keys[f]] = ranked
    return suggestions
