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
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from companies.languages import detect_language
from matchmaking.engine import kernels
from matchmaking.engine.confidence import ConfidenceModel, default_model, order, pair_features, rival_reasons
from matchmaking.engine.embedding import PASSAGE, QUERY, Embedder
from matchmaking.engine.lexical import fit_tfidf
from matchmaking.engine.types import NEED, OFFER, Profile, Ranking, Reason, Suggestion

ENGINE_VERSION = "1.0"
BLOCK = 512  # firms per block: bounds memory at about BLOCK × listings of the other country
COLUMN_CHUNK = 64  # other firms per thread when merging a block into their running top k
PAIR_CHUNK = 100_000  # pairs whose reasons are built at a time
LANGUAGE_CODES = ("vi", "ru", "en")


@dataclass(frozen=True)
class Weights:
    embedding: float = 1.0
    lexical: float = 0.2
    cooperation: float = 0.1
    sectors: float = 0.05
    language: float = 0.005  # nearly every pair shares English, so it only breaks ties
    # A direction counts as a reason worth telling when its similarity reaches this.
    reason_threshold: float = 0.25
    # Rank by the learned confidence (engine/confidence.py) when the model embedded the texts; off, the
    # engine ranks by ``score`` alone, as it did before the confidence came.
    confidence: bool = True
    # Candidates per firm that the confidence reorders: the top ``top_k + rerank_extra`` by score.
    rerank_extra: int = 10
    # A pair that looks like rivals (confidence.ConfidenceModel.rivals) is never first and says why.
    rivals: bool = True


DEFAULT_WEIGHTS = Weights()


@dataclass
class _Side:
    """Listings of one direction, rows sorted by firm, with their vectors."""

    owner: np.ndarray  # firm index of each row
    texts: list[str]
    language: np.ndarray  # index into LANGUAGE_CODES of each row's text
    refs: list
    dense: np.ndarray | None  # centred embeddings (needs already times the embedding weight), or None
    lexical: sparse.csr_matrix
    text_id: np.ndarray  # the same number for rows with the same text in the same language
    ids: dict  # (text, language) → its text_id
    start: np.ndarray  # first row of each firm of the corpus
    count: np.ndarray  # number of rows of each firm


def _distinct(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts in order of first appearance, and the index of each text among them."""
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(text, len(first)) for text in texts), dtype=np.int64, count=len(texts))
    return list(first), inverse


def _centre_by_language(vectors: np.ndarray, languages: list, means: dict | None = None) -> tuple[np.ndarray, dict]:
    """Raw multilingual embeddings cluster by language; removing each language's mean lets topics meet.
    Returns the centred unit vectors and the means taken (or pass ``means`` to centre new vectors with
    those of an earlier corpus)."""
    centred = vectors.astype(np.float32, copy=True)
    codes = np.array(languages)
    if means is None:
        means = {}
        for language in set(languages):
            rows = codes == language
            if rows.sum() > 1:
                means[language] = centred[rows].mean(axis=0)
    for language, mean in means.items():
        centred[codes == language] -= mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.maximum(norms, 1e-9), means


def _multi_hot(sets: Sequence[Collection[str]]) -> tuple[np.ndarray, list[str]]:
    vocabulary = sorted({item for items in sets for item in items})
    index = {item: i for i, item in enumerate(vocabulary)}
    matrix = np.zeros((len(sets), max(len(vocabulary), 1)), dtype=np.float32)
    for row, items in enumerate(sets):
        for item in items:
            matrix[row, index[item]] = 1.0
    return matrix, vocabulary


def _set_ids(sets: Sequence[Collection[str]], ids: dict[frozenset, int]) -> np.ndarray:
    """A number per distinct set (``ids`` keeps them, so sets seen later get numbers of their own)."""
    return np.fromiter((ids.setdefault(frozenset(items), len(ids)) for items in sets), dtype=np.int64, count=len(sets))


def _bits(matrix: np.ndarray) -> np.ndarray:
    """A multi-hot matrix as rows of 64-bit words, for the compiled set intersections."""
    words = np.zeros((matrix.shape[0], (matrix.shape[1] + 63) // 64), dtype=np.uint64)
    rows, columns = np.nonzero(matrix)
    np.bitwise_or.at(words, (rows, columns // 64), np.left_shift(np.uint64(1), (columns % 64).astype(np.uint64)))
    return words


def _jaccard_pairs(matrix: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = (matrix[a] * matrix[b]).sum(1)
    union = matrix[a].sum(1) + matrix[b].sum(1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass
class _Rows:
    """Some firms' listings of one direction: each firm's start and count among them, and the vectors of
    their distinct texts (firms copy listings: a text shared by many is compared once), which ``slot``
    points each listing to."""

    starts: np.ndarray
    counts: np.ndarray
    slot: np.ndarray  # listing → distinct text
    first: np.ndarray  # each firm's first listing's slot (the number of distinct texts if it has none)
    extra_group: np.ndarray  # further listings: their firm
    extra_slot: np.ndarray  # and their slot
    language: np.ndarray  # of each distinct text
    lexical: sparse.csr_matrix  # by distinct text, the left operand of a product
    postings: sparse.csc_matrix | None  # by feature, the right operand (built only where it is one)
    dense: np.ndarray | None


class _Corpus:
    def __init__(self, profiles: Sequence[Profile], embedder: Embedder | None, weights: Weights):
        self.weights = weights
        self.keys = [p.key for p in profiles]
        self.country = np.array([p.country for p in profiles])
        self.listed = np.array([bool(p.listings) for p in profiles], dtype=bool)
        self.active = np.ones(len(profiles), dtype=bool)  # False for firms taken out since (incremental)
        listings = [(i, x) for i, p in enumerate(profiles) for x in p.listings if x.text.strip()]
        self.needs = self._side([(i, x) for i, x in listings if x.direction == NEED], len(profiles))
        self.offers = self._side([(i, x) for i, x in listings if x.direction == OFFER], len(profiles))
        need_lex, offer_lex, self.tfidf = fit_tfidf(self.needs.texts, self.offers.texts)
        need_lex.sort_indices()
        offer_lex.sort_indices()
        self.needs.lexical, self.offers.lexical = need_lex, offer_lex
        self.lexical_bias = self._lexical_bias()
        self.means: dict[str, dict] = {}
        if embedder is not None:
            # The embedding weight is folded into the needs' vectors once, so every product carries it.
            dense, self.means[NEED] = self._embed(embedder, self.needs, QUERY)
            self.needs.dense = dense * np.float32(weights.embedding)
            self.offers.dense, self.means[OFFER] = self._embed(embedder, self.offers, PASSAGE)
        # The registration code's division always counts; it is all there is for firms that named no sector.
        sectors = [set(p.sectors) | ({p.activity_division} if p.activity_division else set()) for p in profiles]
        self.sectors, self.sector_names = _multi_hot(sectors)
        cooperation = [{form for x in p.listings for form in x.cooperation} for p in profiles]
        self.cooperation, self.cooperation_names = _multi_hot(cooperation)
        languages = [set(p.languages) for p in profiles]
        self.languages, self.language_names = _multi_hot(languages)
        # Firms share few distinct sets: a number per distinct set lets each pair of sets be compared once.
        self.set_numbers: dict[str, dict[frozenset, int]] = {"cooperation": {}, "sectors": {}, "language": {}}
        self.set_ids = {
            kind: _set_ids(sets, self.set_numbers[kind])
            for kind, sets in (("cooperation", cooperation), ("sectors", sectors), ("language", languages))
        }
        self.bits = (_bits(self.cooperation), _bits(self.sectors), _bits(self.languages))

    @staticmethod
    def _side(rows: list, firms: int) -> _Side:
        rows.sort(key=lambda item: item[0])
        texts = [x.text for _, x in rows]
        detected: dict[str, str] = {}
        languages = [
            x.language or detected.get(x.text) or detected.setdefault(x.text, detect_language(x.text)) for _, x in rows
        ]
        ids: dict[tuple[str, int], int] = {}
        codes = [LANGUAGE_CODES.index(code) for code in languages]
        text_id = np.fromiter(
            (ids.setdefault(pair, len(ids)) for pair in zip(texts, codes)), dtype=np.int64, count=len(texts)
        )
        owner = np.array([i for i, _ in rows], dtype=np.int64)
        count = np.bincount(owner, minlength=firms).astype(np.int64)
        return _Side(
            owner=owner,
            texts=texts,
            language=np.array(codes, dtype=np.int64),
            refs=[x.ref for _, x in rows],
            text_id=text_id,
            ids=ids,
            dense=None,
            lexical=sparse.csr_matrix((0, 1)),
            start=np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64) if firms else count,
            count=count,
        )

    @staticmethod
    def _embed(embedder: Embedder, side: _Side, role: str) -> tuple[np.ndarray, dict]:
        # Each distinct text is embedded once; its vector is then repeated for every listing that has it,
        # so the language means (and thus the centred vectors) are those of all listings.
        distinct, inverse = _distinct(side.texts)
        vectors = np.asarray(embedder.embed(distinct, role), dtype=np.float32)
        if not len(side.texts):
            return vectors, {}
        return _centre_by_language(vectors[inverse], list(side.language))

    def _lexical_bias(self, sample: int = 2000) -> np.ndarray:
        """Mean need–offer lexical similarity per pair of languages. Texts in one language share function
        words and endings, which would favour same-language pairs; subtracting this mean keeps only
        what a pair shares beyond its language."""
        bias = np.zeros((len(LANGUAGE_CODES), len(LANGUAGE_CODES)), dtype=np.float32)
        rng = np.random.default_rng(0)
        for i in range(len(LANGUAGE_CODES)):
            for j in range(len(LANGUAGE_CODES)):
                need_rows = np.flatnonzero(self.needs.language == i)
                offer_rows = np.flatnonzero(self.offers.language == j)
                if len(need_rows) and len(offer_rows):
                    need_rows = rng.choice(need_rows, min(sample, len(need_rows)), replace=False)
                    offer_rows = rng.choice(offer_rows, min(sample, len(offer_rows)), replace=False)
                    # The mean of every product of two sets of rows is the product of their mean rows.
                    need_mean = np.asarray(self.needs.lexical[need_rows].mean(axis=0), dtype=np.float64).ravel()
                    offer_mean = np.asarray(self.offers.lexical[offer_rows].mean(axis=0), dtype=np.float64).ravel()
                    bias[i, j] = need_mean @ offer_mean
        return bias

    def rows(self, side: _Side, firms: np.ndarray, postings: bool = False) -> _Rows:
        """The listings of ``side`` owned by ``firms`` (sorted), sliced once so every block can reuse them."""
        counts = side.count[firms]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(firms) else counts
        rows = (
            np.concatenate([np.arange(side.start[f], side.start[f] + side.count[f]) for f in firms])
            if len(firms)
            else np.zeros(0, np.int64)
        ).astype(np.int64)
        _, first, slot = np.unique(side.text_id[rows], return_index=True, return_inverse=True)
        distinct = rows[first]
        slot = slot.ravel().astype(np.int64)
        lexical = side.lexical[distinct]
        group = np.repeat(np.arange(len(firms)), counts)
        is_first = np.ones(len(rows), dtype=bool)
        is_first[1:] = group[1:] != group[:-1]
        first_slot = np.full(len(firms), len(distinct), dtype=np.int64)
        first_slot[group[is_first]] = slot[is_first]
        return _Rows(
            starts=starts,
            counts=counts,
            slot=slot,
            first=first_slot,
            extra_group=group[~is_first].astype(np.int64),
            extra_slot=slot[~is_first],
            language=side.language[distinct],
            lexical=lexical,
            postings=sparse.csc_matrix(lexical) if postings else None,
            dense=side.dense[distinct] if side.dense is not None else None,
        )

    def directional(self, left: _Rows, right: _Rows, bias: np.ndarray) -> np.ndarray:
        """[left firm, right firm]: the best similarity between any listing of the one and of the other
        (-inf where either has none). ``left``/``right`` are offers and needs, in either order: the
        similarity of a need and an offer does not depend on which one is the row; ``bias`` is indexed
        [left language, right language]."""
        shape = (left.language.size, right.language.size)
        if left.dense is not None:
            sim = np.matmul(left.dense, right.dense.T)
        else:
            sim = np.zeros(shape, dtype=np.float32)
        if shape[0] and shape[1]:
            postings = right.postings
            kernels.add_sparse_product(
                sim,
                np.float32(self.weights.lexical),
                left.lexical.indptr,
                left.lexical.indices,
                left.lexical.data,
                postings.indptr,
                postings.indices,
                postings.data,
            )
        return kernels.group_max(
            sim,
            left.starts,
            left.counts,
            left.slot,
            left.language,
            right.first,
            right.extra_group,
            right.extra_slot,
            right.language,
            (bias * np.float32(self.weights.lexical)).astype(np.float32),
            True,
        )

    def best_listing_pairs(self, firms: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each pair: (similarity, need row, offer row) of firms[p]'s best-met need by others[p]'s offers."""
        needs, offers = self.needs, self.offers
        has_dense = needs.dense is not None
        empty = np.zeros((1, 1), dtype=np.float32)
        return kernels.best_listing_pairs(
            firms,
            others,
            needs.start,
            needs.count,
            offers.start,
            offers.count,
            needs.dense if has_dense else empty,
            offers.dense if has_dense else empty,
            has_dense,
            needs.lexical.indptr,
            needs.lexical.indices,
            needs.lexical.data,
            offers.lexical.indptr,
            offers.lexical.indices,
            offers.lexical.data,
            needs.lexical.shape[1],
            needs.language,
            offers.language,
            self.lexical_bias,
            np.float32(self.weights.lexical),
        )

    def alike(self, side: _Side, firms: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each pair: (similarity, row of firms[p], row of others[p]) of their most alike listings of
        ``side`` (two offers, or two needs), by their embeddings; 0 and -1 where either has none."""
        no_text = np.zeros(len(side.texts) + 1, dtype=np.int64)  # no lexical part: empty n-gram rows
        nothing = np.zeros(0, dtype=np.int32)
        value, left, right = kernels.best_listing_pairs(
            firms,
            others,
            side.start,
            side.count,
            side.start,
            side.count,
            side.dense,
            side.dense,
            True,
            no_text,
            nothing,
            nothing.astype(np.float32),
            no_text,
            nothing,
            nothing.astype(np.float32),
            1,
            side.language,
            side.language,
            np.zeros((len(LANGUAGE_CODES),) * 2, dtype=np.float32),
            np.float32(0.0),
        )
        return np.where(np.isfinite(value), value, 0.0).astype(np.float32), left, right

    @property
    def model(self) -> ConfidenceModel | None:
        """The confidence model, when it is on and the texts were embedded (its features need the vectors)."""
        if not self.weights.confidence or self.needs.dense is None or self.offers.dense is None:
            return None
        return default_model()


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
    corpus: _Corpus, firms: np.ndarray, others: np.ndarray, k: int, columns: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Top ``k`` of ``others`` for each of ``firms`` (indices into ``others``, best first), and with
    ``columns`` also the top ``k`` of ``firms`` for each of ``others`` (indices into ``firms``).

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
    return row_top, column_top if columns else None


def _pair_details(corpus: _Corpus, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
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
    corpus: _Corpus,
    x: np.ndarray,
    y: np.ndarray,
    for_x: np.ndarray,
    for_y: np.ndarray,
    keys: list,
) -> tuple[list[Suggestion | None], list[Suggestion | None]]:
    """The suggestion of y[p] to x[p] (where ``for_x[p]``) and of x[p] to y[p] (where ``for_y[p]``)."""
    threshold = corpus.weights.reason_threshold
    d = _pair_details(corpus, x, y)
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
            for t, n, o, v in zip(told, need.tolist(), offer.tolist(), value.tolist())
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
    notes = []
    if embedder is None:
        notes.append(
            "No embedding model: ranked on lexical, cooperation and sector signals only, so matches across languages are weak."
        )
    corpus = _Corpus(profiles, embedder, weights)
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
        chosen.update(zip(firms.tolist(), others[row_top].tolist()))
        if both:
            chosen.update(zip(others.tolist(), firms[column_top].tolist()))
    return Ranking(
        suggestions=_build(corpus, rerank(corpus, chosen, top_k)), engine_version=ENGINE_VERSION, notes=notes
    )


def candidates(corpus: _Corpus, top_k: int) -> int:
    """How many counterparts by score each firm's list is chosen from: a few more than ``top_k`` when the
    confidence reorders them (a rival high by score makes room for a partner just below)."""
    return top_k + corpus.weights.rerank_extra if corpus.model is not None else top_k


def _pairs_of(corpus: _Corpus, chosen: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def rerank(corpus: _Corpus, chosen: dict[int, list[int]], top_k: int) -> dict[int, list[int]]:
    """Each firm's candidates (best by score first) cut to ``top_k``; with the confidence model, first put
    in order of confidence, a pair that looks like rivals never first (confidence.order)."""
    if corpus.model is None:
        return {firm: counterparts[:top_k] for firm, counterparts in chosen.items()}
    pairs, slot, _ = _pairs_of(corpus, chosen)
    confidence = np.zeros(len(pairs), dtype=np.float32)
    rivals = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), PAIR_CHUNK):
        d = _pair_details(corpus, pairs[start : start + PAIR_CHUNK, 0], pairs[start : start + PAIR_CHUNK, 1])
        confidence[start : start + PAIR_CHUNK], rivals[start : start + PAIR_CHUNK] = d["confidence"], d["rivals"]
    reranked, q = {}, 0
    values, flags = confidence[slot].tolist(), rivals[slot].tolist()
    for firm, counterparts in chosen.items():
        n = len(counterparts)
        kept = order(values[q : q + n], flags[q : q + n])[:top_k]
        reranked[firm] = [counterparts[i] for i in kept]
        q += n
    return reranked


def _build(corpus: _Corpus, chosen: dict[int, list[int]]) -> dict[Hashable, list[Suggestion]]:
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
