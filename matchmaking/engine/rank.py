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
        self.cooperation, _ = _multi_hot(cooperation)
        self.language_sets = [set(p.languages) for p in profiles]
        self.languages, _ = _multi_hot(self.language_sets)

    @staticmethod
    def _side(rows: list) -> _Side:
        rows.sort(key=lambda item: item[0])
        return _Side(
            owner=np.array([i for i, _ in rows], dtype=np.int64),
            texts=[x.text for _, x in rows],
            language=np.array([LANGUAGE_CODES.index(detect_language(x.text)) for _, x in rows], dtype=np.int64),
            refs=[x.ref for _, x in rows],
            dense=None,
            lexical=sparse.csr_matrix((0, 1)),
        )

    @staticmethod
    def _embed(embedder: Embedder, side: _Side, role: str) -> np.ndarray:
        vectors = embedder.embed(side.texts, role)
        return _centre_by_language(vectors, list(side.language)) if len(side.texts) else vectors

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

    def similarity(self, left: _Side, left_rows: np.ndarray, right: _Side, right_rows: np.ndarray, weights: Weights) -> np.ndarray:
        lexical = (left.lexical[left_rows] @ right.lexical[right_rows].T).toarray().astype(np.float32)
        if left is self.needs:
            lexical -= self.lexical_bias[np.ix_(left.language[left_rows], right.language[right_rows])]
        sim = weights.lexical * lexical
        if left.dense is not None:
            sim += weights.embedding * (left.dense[left_rows] @ right.dense[right_rows].T)
        return sim

    def directional(self, firms: np.ndarray, others: np.ndarray, weights: Weights) -> "_Directional":
        """How well the offers of ``others`` meet the needs of ``firms``, pair by pair."""
        need_rows, need_starts, need_counts = self.groups(self.needs, firms)
        offer_rows, offer_starts, offer_counts = self.groups(self.offers, others)
        sim = self.similarity(self.needs, need_rows, self.offers, offer_rows, weights)
        per_firm = _segment_max(sim, offer_starts, offer_counts, axis=1)
        best = _segment_max(per_firm, need_starts, need_counts, axis=0)
        return _Directional(
            score=np.where(np.isfinite(best), best, 0.0).astype(np.float32),
            sim=sim, need_rows=need_rows, need_starts=need_starts, need_counts=need_counts,
            offer_rows=offer_rows, offer_starts=offer_starts, offer_counts=offer_counts,
        )


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


def _reasons(corpus: _Corpus, a: int, b: int, pairs: list, weights: Weights) -> list[Reason]:
    reasons = []
    for kind, best in zip(("need_met", "offer_wanted"), pairs):
        if best and best[2] >= weights.reason_threshold:
            need, offer, similarity = best
            reasons.append(Reason(kind, {
                "need": corpus.needs.texts[need], "need_ref": corpus.needs.refs[need],
                "offer": corpus.offers.texts[offer], "offer_ref": corpus.offers.refs[offer],
                "similarity": round(similarity, 3),
            }))
    for kind, sets in (("cooperation", corpus.cooperation_sets), ("sectors", corpus.sector_sets), ("language", corpus.language_sets)):
        common = sorted(sets[a] & sets[b])
        if common:
            reasons.append(Reason(kind, {"common": common}))
    return reasons


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
    for country in sorted(set(corpus.country)):
        firms_all = np.flatnonzero(corpus.country == country)
        if wanted is not None:
            firms_all = np.array([i for i in firms_all if keys[i] in wanted], dtype=np.int64)
        others = np.flatnonzero(corpus.country != country)
        for start in range(0, len(firms_all), BLOCK):
            firms = firms_all[start : start + BLOCK]
            if not len(others):
                suggestions.update({keys[i]: [] for i in firms})
                continue
            forward_block = corpus.directional(firms, others, weights)
            backward_block = corpus.directional(others, firms, weights)
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
            for row, firm in enumerate(firms):
                order = top[row][np.argsort(-score[row, top[row]], kind="stable")]
                if not corpus.profiles[firm].listings:
                    suggestions[keys[firm]] = []
                    continue
                suggestions[keys[firm]] = [
                    Suggestion(
                        counterpart=keys[others[col]],
                        score=float(score[row, col]),
                        score_forward=float(forward[row, col]),
                        score_backward=float(backward[row, col]),
                        parts={name: float(values[row, col]) for name, values in parts.items()},
                        reasons=_reasons(
                            corpus, int(firm), int(others[col]),
                            [forward_block.best_pair(row, col), backward_block.best_pair(col, row)], weights,
                        ),
                    )
                    for col in order
                ]
    return Ranking(suggestions=suggestions, engine_version=ENGINE_VERSION, notes=notes)
