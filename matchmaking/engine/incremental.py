"""A ranking's corpus kept between runs, so that a few edited firms are ranked again in milliseconds.

A full ranking builds every listing's vectors (n-gram weights, embeddings), which takes seconds at tens of
thousands of firms. ``MatchingIndex`` keeps them: ``replace`` swaps in the new profiles of edited firms
(their texts weighted with the vocabulary and IDF of the full fit, their embeddings centred with its
language means; only new texts are embedded), and ``rank`` ranks some firms against every firm of the
other countries, exactly as a full ranking scores a pair, through the same kernels. Rows a firm no longer
has stay in the arrays, unreferenced, until the next full build; so do the fit's statistics, which a
few edits barely move.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence

import numpy as np
from scipy import sparse

from . import kernels
from .corpus import Corpus, Rows, Side, bit_rows, centre_by_language
from .embedding import PASSAGE, QUERY, Embedder
from .lexical import transform_tfidf
from .rank import (
    BLOCK,
    ENGINE_VERSION,
    NO_EMBEDDER_NOTE,
    build_suggestions,
    candidates,
    one_ranking_at_a_time,
    rerank,
)
from .types import DEFAULT_WEIGHTS, LANGUAGE_CODES, NEED, OFFER, Profile, Ranking, Weights

_NO_BIAS = np.zeros((len(LANGUAGE_CODES), len(LANGUAGE_CODES)), dtype=np.float32)  # ``sim`` already shifted


class StaleIndex(Exception):
    """The edit names something the full fit never saw (a new sector code, form or language): build anew."""


class _Buffer:
    """A 1- or 2-D array with room to grow at its end, so an append copies only what it adds."""

    def __init__(self, array: np.ndarray) -> None:
        self.size = len(array)
        self.data = np.empty((max(len(array) * 5 // 4, 16), *array.shape[1:]), dtype=array.dtype)
        self.data[: self.size] = array

    def append(self, rows: np.ndarray) -> None:
        if self.size + len(rows) > len(self.data):
            grown = np.empty(((self.size + len(rows)) * 3 // 2, *self.data.shape[1:]), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : self.size + len(rows)] = rows
        self.size += len(rows)

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _GrowingSide:
    """A side's row arrays, growable; writes the current views back into the ``Side`` after each append."""

    def __init__(self, side: Side) -> None:
        self.side = side
        lexical = side.lexical
        self.dense = _Buffer(side.dense) if side.dense is not None else None
        self.data = _Buffer(lexical.data.astype(np.float32))
        self.indices = _Buffer(lexical.indices.astype(np.int32))
        self.indptr = _Buffer(lexical.indptr.astype(np.int64))
        self.features = lexical.shape[1]

    def append(
        self,
        owner: np.ndarray,
        language: np.ndarray,
        text_id: np.ndarray,
        texts: list,
        refs: list,
        dense: np.ndarray | None,
        lexical: sparse.csr_matrix,
    ) -> int:
        side = self.side
        first = len(side.owner)
        side.owner = np.concatenate([side.owner, owner])
        side.language = np.concatenate([side.language, language])
        side.text_id = np.concatenate([side.text_id, text_id])
        side.texts.extend(texts)
        side.refs.extend(refs)
        if self.dense is not None:
            self.dense.append(dense)
            side.dense = self.dense.view
        nnz = self.indptr.view[-1]
        self.data.append(lexical.data.astype(np.float32))
        self.indices.append(lexical.indices.astype(np.int32))
        self.indptr.append(lexical.indptr[1:].astype(np.int64) + nnz)
        side.lexical = sparse.csr_matrix(
            (self.data.view, self.indices.view, self.indptr.view),
            shape=(len(side.owner), self.features),
            copy=False,
        )
        return first


class MatchingIndex:
    """The corpus of a full ranking, kept to rank a few firms again after their profiles change."""

    def __init__(
        self, profiles: Sequence[Profile], embedder: Embedder | None, weights: Weights = DEFAULT_WEIGHTS
    ) -> None:
        with one_ranking_at_a_time():
            self.corpus = Corpus(profiles, embedder, weights)
        self.embedder = embedder
        self.index_of = {key: i for i, key in enumerate(self.corpus.keys)}
        self._sides = {NEED: _GrowingSide(self.corpus.needs), OFFER: _GrowingSide(self.corpus.offers)}
        # Posting lists of the rows the full fit made: a few firms' n-grams then visit only the rows that
        # share them. Rows added later are few and are scanned instead.
        self._postings = {id(side): sparse.csc_matrix(side.lexical) for side in (self.corpus.needs, self.corpus.offers)}

    def __contains__(self, key: Hashable) -> bool:
        i = self.index_of.get(key)
        return i is not None and bool(self.corpus.active[i])

    def __len__(self) -> int:
        return int(self.corpus.active.sum())

    def countries(self, keys: Collection[Hashable]) -> dict[Hashable, str]:
        return {key: str(self.corpus.country[self.index_of[key]]) for key in keys}

    def remove(self, keys: Collection[Hashable]) -> None:
        """Take firms out (no longer published): no one is ranked against them any more."""
        with one_ranking_at_a_time():  # not while another thread ranks on these arrays
            self._remove(keys)

    def _remove(self, keys: Collection[Hashable]) -> None:
        corpus = self.corpus
        for key in keys:
            i = self.index_of.get(key)
            if i is not None:
                corpus.active[i] = False
                corpus.listed[i] = False
                corpus.needs.count[i] = corpus.offers.count[i] = 0

    def replace(self, profiles: Sequence[Profile]) -> None:
        """Put in the current profiles of these firms, added or edited."""
        with one_ranking_at_a_time():  # not while another thread ranks on these arrays
            self._replace(profiles)

    def _replace(self, profiles: Sequence[Profile]) -> None:
        corpus = self.corpus
        profiles = list({p.key: p for p in profiles}.values())
        for profile in profiles:
            if profile.key not in self.index_of:
                self._add_firm(profile)
        firms = np.array([self.index_of[p.key] for p in profiles], dtype=np.int64)
        for direction, role in ((NEED, QUERY), (OFFER, PASSAGE)):
            self._replace_rows(direction, role, profiles, firms)
        for profile, i in zip(profiles, firms.tolist(), strict=True):
            self._set_firm(profile, i)
        bits = list(corpus.bits)
        for n, matrix in enumerate((corpus.cooperation, corpus.sectors, corpus.languages)):
            if len(bits[n]) < len(matrix):  # firms were added
                bits[n] = np.vstack([bits[n], np.zeros((len(matrix) - len(bits[n]), bits[n].shape[1]), np.uint64)])
            bits[n][firms] = bit_rows(matrix[firms])
        corpus.bits = tuple(bits)

    def rank(self, keys: Collection[Hashable], top_k: int = 10) -> Ranking:
        """Each firm's top ``top_k`` among the active firms of the other countries, with reasons."""
        corpus = self.corpus
        notes = [] if self.embedder is not None else [NO_EMBEDDER_NOTE]
        chosen: dict[int, list[int]] = {}
        wanted = np.array(sorted(self.index_of[key] for key in keys if key in self), dtype=np.int64)
        with one_ranking_at_a_time():
            # A block of firms, whatever their countries, against every row of each side: each side is read
            # once per block (it is the memory traffic, not the arithmetic, that costs here).
            pool = candidates(corpus, top_k)
            for start in range(0, len(wanted), BLOCK):
                chosen.update(self._top(wanted[start : start + BLOCK], pool))
            suggestions = build_suggestions(corpus, rerank(corpus, chosen, top_k))
        return Ranking(suggestions=suggestions, engine_version=ENGINE_VERSION, notes=notes)

    # --- inside ------------------------------------------------------------------------------------------

    def _add_firm(self, profile: Profile) -> None:
        corpus = self.corpus
        self.index_of[profile.key] = len(corpus.keys)
        corpus.keys.append(profile.key)
        corpus.country = np.append(corpus.country, profile.country)
        corpus.listed = np.append(corpus.listed, False)
        corpus.active = np.append(corpus.active, False)
        for side in (corpus.needs, corpus.offers):
            side.start = np.append(side.start, 0)
            side.count = np.append(side.count, 0)
        corpus.sectors = np.vstack([corpus.sectors, np.zeros((1, corpus.sectors.shape[1]), np.float32)])
        corpus.cooperation = np.vstack([corpus.cooperation, np.zeros((1, corpus.cooperation.shape[1]), np.float32)])
        corpus.languages = np.vstack([corpus.languages, np.zeros((1, corpus.languages.shape[1]), np.float32)])
        for kind in corpus.set_ids:
            corpus.set_ids[kind] = np.append(corpus.set_ids[kind], 0)

    def _set_firm(self, profile: Profile, i: int) -> None:
        corpus = self.corpus
        sectors = set(profile.sectors) | ({profile.activity_division} if profile.activity_division else set())
        cooperation = {form for x in profile.listings for form in x.cooperation}
        languages = set(profile.languages)
        for kind, items, matrix, names in (
            ("sectors", sectors, corpus.sectors, corpus.sector_names),
            ("cooperation", cooperation, corpus.cooperation, corpus.cooperation_names),
            ("language", languages, corpus.languages, corpus.language_names),
        ):
            unknown = items - set(names)
            if unknown:
                raise StaleIndex(f"{kind} not in the index: {sorted(unknown)}")
            matrix[i] = 0.0
            for item in items:
                matrix[i, names.index(item)] = 1.0
            numbers = corpus.set_numbers[kind]
            corpus.set_ids[kind][i] = numbers.setdefault(frozenset(items), len(numbers))
        corpus.country[i] = profile.country
        corpus.listed[i] = bool(profile.listings)
        corpus.active[i] = True

    def _replace_rows(self, direction: str, role: str, profiles: Sequence[Profile], firms: np.ndarray) -> None:
        corpus = self.corpus
        side = corpus.needs if direction == NEED else corpus.offers
        rows = [
            (i, x)
            for p, i in zip(profiles, firms.tolist(), strict=True)
            for x in p.listings
            if x.direction == direction and x.text.strip()
        ]
        texts = [x.text for _, x in rows]
        codes = [LANGUAGE_CODES.index(x.language) for _, x in rows]
        owner = np.array([i for i, _ in rows], dtype=np.int64)
        text_id = np.array(
            [side.ids.setdefault(pair, len(side.ids)) for pair in zip(texts, codes, strict=True)], dtype=np.int64
        )
        dense = None
        if side.dense is not None and not texts:
            dense = np.zeros((0, side.dense.shape[1]), dtype=np.float32)
        elif side.dense is not None:
            distinct = sorted(set(texts))
            vectors = np.asarray(self.embedder.embed(distinct, role), dtype=np.float32).reshape(len(distinct), -1)
            where = {text: n for n, text in enumerate(distinct)}
            raw = vectors[[where[t] for t in texts]]
            dense, _ = centre_by_language(raw, codes, corpus.means.get(direction, {}))
            if direction == NEED:
                dense *= np.float32(corpus.weights.embedding)
        lexical = (
            transform_tfidf(corpus.tfidf, texts)
            if texts
            else sparse.csr_matrix((0, side.lexical.shape[1]), dtype=np.float32)
        )
        if lexical.shape[1] != side.lexical.shape[1]:  # a fit with no n-gram at all
            lexical = sparse.csr_matrix((len(texts), side.lexical.shape[1]), dtype=np.float32)
        first = self._sides[direction].append(
            owner, np.array(codes, dtype=np.int64), text_id, texts, [x.ref for _, x in rows], dense, lexical
        )
        # Rows were listed profile by profile, so each firm's new rows are consecutive.
        counts = np.array(
            [sum(1 for x in p.listings if x.direction == direction and x.text.strip()) for p in profiles],
            dtype=np.int64,
        )
        side.start[firms] = first + np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        side.count[firms] = counts

    def _all_rows(self, side: Side, others: np.ndarray) -> Rows:
        """Every row of a side as the right operand (its own slot each), grouped by the ``others``' firms."""
        start, count = side.start[others], side.count[others]
        first = np.where(count > 0, start, len(side.owner)).astype(np.int64)
        more = np.maximum(count - 1, 0)
        extra_group = np.repeat(np.arange(len(others), dtype=np.int64), more)
        within = np.arange(len(extra_group)) - np.repeat(np.cumsum(more) - more, more)
        return Rows(
            starts=start,
            counts=count,
            slot=np.zeros(0, np.int64),
            first=first,
            extra_group=extra_group,
            extra_slot=(start[extra_group] + 1 + within).astype(np.int64),
            language=side.language,
            lexical=side.lexical,
            postings=None,
            dense=side.dense,
        )

    def _similarity(self, left: Rows, side: Side, bias: np.ndarray) -> np.ndarray:
        """[distinct left text, row of ``side``]: the pair similarity less the language-pair bias."""
        corpus = self.corpus
        if left.dense is not None:
            sim = np.matmul(left.dense, side.dense.T)
        else:
            sim = np.zeros((left.language.size, len(side.owner)), dtype=np.float32)
        if sim.size:
            weight = np.float32(corpus.weights.lexical)
            base = self._postings[id(side)]
            kernels.add_sparse_product(
                sim,
                weight,
                left.lexical.indptr,
                left.lexical.indices,
                left.lexical.data,
                base.indptr,
                base.indices,
                base.data,
            )
            added = side.lexical[base.shape[0] :]
            if added.shape[0]:
                postings = sparse.csc_matrix(left.lexical)
                kernels.add_sparse_columns(
                    sim[:, base.shape[0] :],
                    weight,
                    added.indptr,
                    added.indices,
                    added.data,
                    postings.indptr,
                    postings.indices,
                    postings.data,
                )
        none = np.zeros(0, np.int64)  # no groups: this call only shifts ``sim`` by the bias, once
        kernels.group_max(
            sim,
            none,
            none,
            left.slot,
            left.language,
            none,
            none,
            none,
            side.language,
            (bias * np.float32(corpus.weights.lexical)).astype(np.float32),
            True,
        )
        return sim

    def _top(self, block: np.ndarray, top_k: int) -> dict[int, list[int]]:
        """Each block firm's top ``top_k`` among the active firms of the other countries."""
        corpus = self.corpus
        weights = corpus.weights
        needs, offers = corpus.rows(corpus.needs, block), corpus.rows(corpus.offers, block)
        forward_sim = self._similarity(needs, corpus.offers, corpus.lexical_bias)
        backward_sim = self._similarity(offers, corpus.needs, corpus.lexical_bias.T)
        cooperation, sectors, languages = corpus.bits
        mix = np.array([weights.cooperation, weights.sectors, weights.language])
        chosen: dict[int, list[int]] = {}
        for country in sorted(set(corpus.country[block])):
            mine = np.flatnonzero(corpus.country[block] == country)
            firms = block[mine]
            others = np.flatnonzero(corpus.active & (corpus.country != country))
            if not len(others):
                chosen.update({int(i): [] for i in firms})
                continue
            k = min(top_k, len(others))
            directions = []
            for rows, sim, side in ((needs, forward_sim, corpus.offers), (offers, backward_sim, corpus.needs)):
                right = self._all_rows(side, others)
                directions.append(
                    kernels.group_max(
                        sim,
                        rows.starts[mine],
                        rows.counts[mine],
                        rows.slot,
                        rows.language,
                        right.first,
                        right.extra_group,
                        right.extra_slot,
                        side.language,
                        _NO_BIAS,
                        False,
                    )
                )
            scores = np.empty((len(firms), len(others)), dtype=np.float32)
            values = np.full((len(firms), k), -np.inf, dtype=np.float32)
            top = np.full((len(firms), k), -1, dtype=np.int64)
            kernels.score_block(
                directions[0],
                directions[1],
                firms,
                cooperation,
                sectors,
                languages,
                cooperation[others],
                sectors[others],
                languages[others],
                mix,
                scores,
                values,
                top,
            )
            chosen.update(zip(firms.tolist(), others[top].tolist(), strict=True))
        return chosen
