"""The listings of a ranking's firms as arrays, built once and then read by every block of a ranking
(``rank``) and kept between rankings by the warm index (``incremental``).

Each direction's listings are rows sorted by firm, with their n-gram weights and their embeddings centred
by language; each firm's sets (cooperation forms, sectors, business languages) are multi-hot rows and
64-bit words for the compiled intersections.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import kernels
from .confidence import ConfidenceModel, default_model
from .embedding import PASSAGE, QUERY, Embedder
from .lexical import fit_tfidf
from .types import LANGUAGE_CODES, NEED, OFFER, Profile, Weights


@dataclass
class Side:
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


def centre_by_language(vectors: np.ndarray, languages: list, means: dict | None = None) -> tuple[np.ndarray, dict]:
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


def bit_rows(matrix: np.ndarray) -> np.ndarray:
    """A multi-hot matrix as rows of 64-bit words, for the compiled set intersections."""
    words = np.zeros((matrix.shape[0], (matrix.shape[1] + 63) // 64), dtype=np.uint64)
    rows, columns = np.nonzero(matrix)
    np.bitwise_or.at(words, (rows, columns // 64), np.left_shift(np.uint64(1), (columns % 64).astype(np.uint64)))
    return words


@dataclass
class Rows:
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


class Corpus:
    """Every listing of the firms as rows of vectors, and every firm's sets, for the whole ranking."""

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
        self.bits = (bit_rows(self.cooperation), bit_rows(self.sectors), bit_rows(self.languages))

    @staticmethod
    def _side(rows: list, firms: int) -> Side:
        rows.sort(key=lambda item: item[0])
        texts = [x.text for _, x in rows]
        ids: dict[tuple[str, int], int] = {}
        codes = [LANGUAGE_CODES.index(x.language) for _, x in rows]
        text_id = np.fromiter(
            (ids.setdefault(pair, len(ids)) for pair in zip(texts, codes, strict=True)),
            dtype=np.int64,
            count=len(texts),
        )
        owner = np.array([i for i, _ in rows], dtype=np.int64)
        count = np.bincount(owner, minlength=firms).astype(np.int64)
        return Side(
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
    def _embed(embedder: Embedder, side: Side, role: str) -> tuple[np.ndarray, dict]:
        # Each distinct text is embedded once; its vector is then repeated for every listing that has it,
        # so the language means (and thus the centred vectors) are those of all listings.
        distinct, inverse = _distinct(side.texts)
        vectors = np.asarray(embedder.embed(distinct, role), dtype=np.float32)
        if not len(side.texts):
            return vectors, {}
        return centre_by_language(vectors[inverse], list(side.language))

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

    def rows(self, side: Side, firms: np.ndarray, postings: bool = False) -> Rows:
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
        return Rows(
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

    def directional(self, left: Rows, right: Rows, bias: np.ndarray) -> np.ndarray:
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

    def alike(self, side: Side, firms: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
