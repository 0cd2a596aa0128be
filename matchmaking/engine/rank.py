"""Rank, for every firm, the firms of the other country it should meet.

Scores are computed a block of firms at a time against every firm of the other country, as matrix
products and segment maxima (NumPy/SciPy); no Python loop runs over pairs.

For a pair (A, B):
  forward(A, B)  = how well B's best offer meets A's best-met need
  backward(A, B) = forward(B, A): how well A's offers meet B's needs
  score          = mean of both directions (so a pair good for both ranks first, while a strong
                   one-way fit still ranks), plus cooperation forms and sectors (given, and the
                   registration code's division) in common, plus a common business language.
The score is symmetric, so a pair has one score whichever side looks at it.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from companies.languages import detect_language
from matchmaking.engine.embedding import PASSAGE, QUERY, Embedder
from matchmaking.engine.lexical import tfidf_rows
from matchmaking.engine.types import NEED, OFFER, Profile, Ranking, Reason, Suggestion

ENGINE_VERSION = "1.0"
BLOCK = 512  # firms per block: bounds memory at about BLOCK × listings of the other country
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


DEFAULT_WEIGHTS = Weights()


@dataclass
class _Side:
    """Listings of one direction, rows sorted by firm, with their vectors."""

    owner: np.ndarray  # firm index of each row
    texts: list[str]
    language: np.ndarray  # index into LANGUAGE_CODES of each row's text
    refs: list
    dense: np.ndarray | None  # centred embeddings, or None without a model
    lexical: sparse.csr_matrix


def _distinct(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts in order of first appearance, and the index of each text among them."""
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(text, len(first)) for text in texts), dtype=np.int64, count=len(texts))
    return list(first), inverse


def _centre_by_language(vectors: np.ndarray, languages: list[str]) -> np.ndarray:
    """Raw multilingual embeddings cluster by language; removing each language's mean lets topics meet."""
    centred = vectors.astype(np.float32, copy=True)
    codes = np.array(languages)
    for language in set(languages):
        rows = codes == language
        if rows.sum() > 1:
            centred[rows] -= centred[rows].mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.maximum(norms, 1e-9)


def _segment_max(matrix: np.ndarray, starts: np.ndarray, counts: np.ndarray, axis: int) -> np.ndarray:
    """Maximum over consecutive groups of rows (axis 0) or columns (axis 1); empty groups give -inf."""
    size = matrix.shape[axis]
    if size == 0:
        shape = list(matrix.shape)
        shape[axis] = len(starts)
        return np.full(shape, -np.inf, dtype=np.float32)
    reduced = np.maximum.reduceat(matrix, np.minimum(starts, size - 1), axis=axis)
    empty = counts == 0
    if empty.any():
        if axis == 0:
            reduced[empty, :] = -np.inf
        else:
            reduced[:, empty] = -np.inf
    return reduced


def _multi_hot(sets: Sequence[Collection[str]]) -> tuple[np.ndarray, list[str]]:
    vocabulary = sorted({item for items in sets for item in items})
    index = {item: i for i, item in enumerate(vocabulary)}
    matrix = np.zeros((len(sets), max(len(vocabulary), 1)), dtype=np.float32)
    for row, items in enumerate(sets):
        for item in items:
            matrix[row, index[item]] = 1.0
    return matrix, vocabulary


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class _Corpus:
    def __init__(self, profiles: Sequence[Profile], embedder: Embedder | None):
        self.profiles = profiles
        self.country = np.array([p.country for p in profiles])
        listings = [(i, x) for i, p in enumerate(profiles) for x in p.listings if x.text.strip()]
        self.needs = self._side([(i, x) for i, x in listings if x.direction == NEED])
        self.offers = self._side([(i, x) for i, x in listings if x.direction == OFFER])
        need_lex, offer_lex = tfidf_rows(self.needs.texts, self.offers.texts)
        self.needs.lexical, self.offers.lexical = need_lex, offer_lex
        self.lexical_bias = self._lexical_bias()
        if embedder is not None:
            self.needs.dense = self._embed(embedder, self.needs, QUERY)
            self.offers.dense = self._embed(embedder, self.offers, PASSAGE)
        # The registration code's division always counts; it is all there is for firms that named no sector.
        sectors = [set(p.sectors) | ({p.activity_division} if p.activity_division else set()) for p in profiles]
        self.sector_sets = sectors
        self.sectors, self.sector_names = _multi_hot(sectors)
        cooperation = [{form for x in p.listings for form in x.cooperation} for p in profiles]
        self.cooperation_sets = cooperation
        self.cooperation, self.cooperation_names = _multi_hot(cooperation)
        self.language_sets = [set(p.languages) for p in profiles]
        self.languages, self.language_names = _multi_hot(self.language_sets)

    @staticmethod
    def _side(rows: list) -> _Side:
        rows.sort(key=lambda item: item[0])
        texts = [x.text for _, x in rows]
        distinct, inverse = _distinct(texts)
        codes = np.array([LANGUAGE_CODES.index(detect_language(text)) for text in distinct], dtype=np.int64)
        return _Side(
            owner=np.array([i for i, _ in rows], dtype=np.int64),
            texts=texts,
            language=codes[inverse] if len(texts) else np.zeros(0, np.int64),
            refs=[x.ref for _, x in rows],
            dense=None,
            lexical=sparse.csr_matrix((0, 1)),
        )

    @staticmethod
    def _embed(embedder: Embedder, side: _Side, role: str) -> np.ndarray:
        # Each distinct text is embedded once; its vector is then repeated for every listing that has it,
        # so the language means (and thus the centred vectors) are those of all listings.
        distinct, inverse = _distinct(side.texts)
        vectors = np.asarray(embedder.embed(distinct, role))
        if not len(side.texts):
            return vectors
        return _centre_by_language(vectors[inverse], list(side.language))

    def groups(self, side: _Side, firms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of ``side`` owned by ``firms`` (sorted), with each firm's start and count within them."""
        lo = np.searchsorted(side.owner, firms, side="left")
        hi = np.searchsorted(side.owner, firms, side="right")
        counts = hi - lo
        rows = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]) if len(firms) else np.zeros(0, np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(firms) else np.zeros(0, np.int64)
        return rows.astype(np.int64), starts.astype(np.int64), counts

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
                    bias[i, j] = (self.needs.lexical[need_rows] @ self.offers.lexical[offer_rows].T).mean()
        return bias

    def rows(self, side: _Side, firms: np.ndarray) -> "_Rows":
        """The listings of ``side`` owned by ``firms``, sliced once so every block can reuse them."""
        rows, starts, counts = self.groups(side, firms)
        lexical = side.lexical[rows]
        return _Rows(
            rows=rows, starts=starts, counts=counts, language=side.language[rows],
            lexical=lexical, lexical_t=sparse.csr_matrix(lexical.T),
            dense=side.dense[rows] if side.dense is not None else None,
        )

    def similarity(self, needs: "_Rows", offers: "_Rows", weights: Weights, scratch: "_Scratch | None" = None) -> np.ndarray:
        """Need-by-offer similarity of the given rows. With ``scratch``, the result and its temporaries
        reuse that memory (block after block the shapes repeat, and fresh pages cost more than the sums)."""
        scratch = scratch or _Scratch()
        shape = (needs.rows.size, offers.rows.size)
        sim = scratch.get("sim", shape)
        sim.fill(0)
        (needs.lexical @ offers.lexical_t).toarray(out=sim)
        bias = scratch.get("bias", shape)
        np.take(self.lexical_bias[:, offers.language], needs.language, axis=0, out=bias)
        sim -= bias
        sim *= weights.lexical
        if needs.dense is not None:
            dense = np.matmul(needs.dense, offers.dense.T, out=bias)
            dense *= weights.embedding
            sim += dense
        return sim

    def directional(self, needs: "_Rows", offers: "_Rows", weights: Weights, scratch: "_Scratch | None" = None) -> "_Directional":
        """How well the offers of one group of firms meet the needs of another, pair by pair:
        ``needs`` are the listings of the firms, ``offers`` those of the others (from ``rows``)."""
        sim = self.similarity(needs, offers, weights, scratch)
        per_firm = _segment_max(sim, offers.starts, offers.counts, axis=1)
        best = _segment_max(per_firm, needs.starts, needs.counts, axis=0)
        return _Directional(
            score=np.where(np.isfinite(best), best, 0.0).astype(np.float32),
            sim=sim, need_rows=needs.rows, need_starts=needs.starts, need_counts=needs.counts,
            offer_rows=offers.rows, offer_starts=offers.starts, offer_counts=offers.counts,
        )


class _Scratch:
    """Float32 work arrays kept from block to block; ``get`` hands out a view of the wanted shape."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        size = shape[0] * shape[1]
        array = self._arrays.get(name)
        if array is None or array.size < size:
            array = self._arrays[name] = np.empty(size, dtype=np.float32)
        return array[:size].reshape(shape)


@dataclass
class _Rows:
    """Some firms' listings of one direction: rows of the side, each firm's start and count, and their vectors."""

    rows: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    language: np.ndarray
    lexical: sparse.csr_matrix
    lexical_t: sparse.csr_matrix  # the transpose, as the right operand of a product
    dense: np.ndarray | None


@dataclass
class _Directional:
    """A block's need-by-offer similarities, kept so the best pair behind a score can be quoted."""

    score: np.ndarray  # [firm, other]
    sim: np.ndarray  # [need row, offer row] within the block
    need_rows: np.ndarray
    need_starts: np.ndarray
    need_counts: np.ndarray
    offer_rows: np.ndarray
    offer_starts: np.ndarray
    offer_counts: np.ndarray

    def best_pair(self, firm: int, other: int) -> tuple[int, int, float] | None:
        """(need row, offer row, similarity) of the best-met need of block firm ``firm`` by ``other``."""
        n0, nc = self.need_starts[firm], self.need_counts[firm]
        o0, oc = self.offer_starts[other], self.offer_counts[other]
        if not nc or not oc:
            return None
        sub = self.sim[n0 : n0 + nc, o0 : o0 + oc]
        i, j = np.unravel_index(int(np.argmax(sub)), sub.shape)
        return int(self.need_rows[n0 + i]), int(self.offer_rows[o0 + j]), float(sub[i, j])

    def best_pairs(self, firms: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``best_pair`` for many (block firm, other) pairs at once: (found, need row, offer row, similarity).

        Every pair's need-by-offer sub-matrix is laid out flat in row-major order, so the first maximum
        of each segment is the cell ``np.argmax`` would pick."""
        nc, oc = self.need_counts[firms], self.offer_counts[others]
        n0, o0 = self.need_starts[firms], self.offer_starts[others]
        size = (nc * oc).astype(np.int64)
        found = size > 0
        need = np.zeros(len(firms), np.int64)
        offer = np.zeros(len(firms), np.int64)
        value = np.zeros(len(firms), np.float32)
        if not found.any():
            return found, need, offer, value
        ends = np.cumsum(size)
        starts = ends - size
        pair = np.repeat(np.arange(len(firms)), size)
        within = np.arange(ends[-1]) - starts[pair]
        width = oc[pair]
        i, j = within // width, within % width
        values = self.sim[n0[pair] + i, o0[pair] + j]
        maxima = np.maximum.reduceat(values, starts[found])
        best = np.empty(len(firms), values.dtype)
        best[found] = maxima
        hit = np.flatnonzero((values == best[pair]) | np.isnan(values))  # argmax stops at the first NaN
        owners, first = np.unique(pair[hit], return_index=True)
        cell = hit[first]
        need[owners] = self.need_rows[n0[owners] + i[cell]]
        offer[owners] = self.offer_rows[o0[owners] + j[cell]]
        value[owners] = values[cell]
        return found, need, offer, value


def _common(matrix: np.ndarray, names: list[str], a: np.ndarray, b: np.ndarray) -> list[list[str]]:
    """For each pair (a[p], b[p]): the sorted items both firms have (``names`` is sorted, like the columns)."""
    pairs, columns = np.nonzero(matrix[a] * matrix[b])
    bounds = np.searchsorted(pairs, np.arange(len(a) + 1)).tolist()
    labels = [names[c] for c in columns.tolist()]
    return [labels[bounds[p] : bounds[p + 1]] for p in range(len(a))]


def _block_reasons(
    corpus: _Corpus, a: np.ndarray, b: np.ndarray, need_met: tuple, offer_wanted: tuple, weights: Weights,
) -> list[list[Reason]]:
    """The reasons of each pair (a[p], b[p]); ``need_met`` and ``offer_wanted`` come from ``best_pairs``."""
    directions = []
    for kind, (found, need, offer, similarity) in (("need_met", need_met), ("offer_wanted", offer_wanted)):
        directions.append((kind, (found & (similarity >= weights.reason_threshold)).tolist(), need.tolist(), offer.tolist(), similarity.tolist()))
    common = [
        (kind, _common(matrix, names, a, b))
        for kind, matrix, names in (
            ("cooperation", corpus.cooperation, corpus.cooperation_names),
            ("sectors", corpus.sectors, corpus.sector_names),
            ("language", corpus.languages, corpus.language_names),
        )
    ]
    needs, offers = corpus.needs, corpus.offers
    out = []
    for p in range(len(a)):
        reasons = []
        for kind, told, need, offer, similarity in directions:
            if told[p]:
                n, o = need[p], offer[p]
                reasons.append(Reason(kind, {
                    "need": needs.texts[n], "need_ref": needs.refs[n],
                    "offer": offers.texts[o], "offer_ref": offers.refs[o],
                    "similarity": round(similarity[p], 3),
                }))
        for kind, items in common:
            if items[p]:
                reasons.append(Reason(kind, {"common": items[p]}))
        out.append(reasons)
    return out


def rank_counterparts(
    profiles: Sequence[Profile],
    *,
    top_k: int = 10,
    embedder: Embedder | None = None,
    only: Collection[Hashable] | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> Ranking:
    """Top ``top_k`` counterparts of every firm (or of the firms in ``only``), best first, with reasons."""
    notes = []
    if embedder is None:
        notes.append("No embedding model: ranked on lexical, cooperation and sector signals only, so matches across languages are weak.")
    corpus = _Corpus(profiles, embedder)
    keys = [p.key for p in profiles]
    wanted = set(only) if only is not None else None
    suggestions: dict[Hashable, list[Suggestion]] = {}
    scratch = (_Scratch(), _Scratch())  # forward, backward
    for country in sorted(set(corpus.country)):
        firms_all = np.flatnonzero(corpus.country == country)
        if wanted is not None:
            firms_all = np.array([i for i in firms_all if keys[i] in wanted], dtype=np.int64)
        others = np.flatnonzero(corpus.country != country)
        # The other country's listings are the same for every block: slice them once.
        other_needs, other_offers = (corpus.rows(corpus.needs, others), corpus.rows(corpus.offers, others)) if len(others) else (None, None)
        for start in range(0, len(firms_all), BLOCK):
            firms = firms_all[start : start + BLOCK]
            if not len(others):
                suggestions.update({keys[i]: [] for i in firms})
                continue
            # Each block's similarities overwrite the previous block's, which are no longer needed.
            forward_block = corpus.directional(corpus.rows(corpus.needs, firms), other_offers, weights, scratch[0])
            backward_block = corpus.directional(other_needs, corpus.rows(corpus.offers, firms), weights, scratch[1])
            forward, backward = forward_block.score, backward_block.score.T
            parts = {
                "forward": forward,
                "backward": backward,
                "cooperation": _jaccard(corpus.cooperation[firms], corpus.cooperation[others]),
                "sectors": _jaccard(corpus.sectors[firms], corpus.sectors[others]),
                "language": (corpus.languages[firms] @ corpus.languages[others].T > 0).astype(np.float32),
            }
            score = (
                (forward + backward) / 2
                + weights.cooperation * parts["cooperation"]
                + weights.sectors * parts["sectors"]
                + weights.language * parts["language"]
            )
            k = min(top_k, len(others))
            top = np.argpartition(-score, k - 1, axis=1)[:, :k]
            rows = np.arange(len(firms))[:, None]
            order = np.take_along_axis(top, np.argsort(-score[rows, top], axis=1, kind="stable"), axis=1)
            listed = np.array([bool(corpus.profiles[firm].listings) for firm in firms.tolist()], dtype=bool)
            pair_rows = np.repeat(np.flatnonzero(listed), k)  # block row of each pair, k pairs per listed firm
            pair_cols = order[listed].ravel()  # column in ``others`` of each pair
            reasons = _block_reasons(
                corpus, firms[pair_rows], others[pair_cols],
                forward_block.best_pairs(pair_rows, pair_cols), backward_block.best_pairs(pair_cols, pair_rows), weights,
            )
            values = {name: matrix[pair_rows, pair_cols].tolist() for name, matrix in parts.items()}
            scores = score[pair_rows, pair_cols].tolist()
            counterparts = [keys[i] for i in others[pair_cols].tolist()]
            names = list(parts)
            p = 0
            for row, firm in enumerate(firms.tolist()):
                if not listed[row]:
                    suggestions[keys[firm]] = []
                    continue
                suggestions[keys[firm]] = [
                    Suggestion(
                        counterpart=counterparts[q],
                        score=scores[q],
                        score_forward=values["forward"][q],
                        score_backward=values["backward"][q],
                        parts={name: values[name][q] for name in names},
                        reasons=reasons[q],
                    )
                    for q in range(p, p + k)
                ]
                p += k
    return Ranking(suggestions=suggestions, engine_version=ENGINE_VERSION, notes=notes)
