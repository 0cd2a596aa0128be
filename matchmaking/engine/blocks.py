"""A full ranking cut into pieces that separate processes (or machines) can run, every pair scored once.

``rank_counterparts`` scans the firms of the first country (the first code in sorted order, the "row
country") a block at a time against every firm of the other: the rows of each block's scores are its
firms' complete candidate lists, and its columns extend each other firm's running list. Here that scan is
cut into pieces of the row country's firms: ``rank_block`` runs one piece and returns both its firms'
complete lists and, for every firm of the other country, its best among the piece; ``merge_top`` merges
those partial lists piece after piece (in the row country's order, so that ties fall as in one scan, to the
earlier firm); ``rank_chosen`` then builds the suggestions from the lists as the full ranking does. Through
the same kernels on the same corpus, each pair gets the score it gets in ``rank_counterparts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import rank
from .corpus import Corpus
from .embedding import Embedder
from .rank import (
    ENGINE_VERSION,
    NO_EMBEDDER_NOTE,
    build_suggestions,
    candidates,
    one_ranking_at_a_time,
    rerank,
    scan_scores,
)
from .types import DEFAULT_WEIGHTS, Profile, Ranking, Weights


@dataclass
class BlockTop:
    """One piece of the row country's firms ranked against every firm of the other country. Firms are
    corpus indices; lists are best first, ``-1`` (score -inf) where a list has fewer than k entries."""

    firms: np.ndarray  # [n] the piece's firms, in corpus order
    firm_top: np.ndarray  # [n, k] each one's candidates among ``others``: complete, every other firm was seen
    others: np.ndarray  # [m] every firm of the other country, in corpus order
    other_values: np.ndarray  # [m, k] float32 scores of each other firm's best among the piece
    other_top: np.ndarray  # [m, k] and those firms


def build_corpus(profiles: Sequence[Profile], embedder: Embedder | None, weights: Weights = DEFAULT_WEIGHTS) -> Corpus:
    """The corpus ``rank_counterparts`` would build from ``profiles``, for ``rank_block`` and ``rank_chosen``."""
    with one_ranking_at_a_time():
        return Corpus(profiles, embedder, weights)


def row_country(countries: Sequence[str]) -> str | None:
    """The country whose firms are scanned as rows (as ``rank_counterparts`` does): the first in sorted order."""
    return min(countries, default=None)


def piece_size(firms: int) -> int:
    """``firms`` rounded up to whole blocks of the scan. Pieces that start and end where the full ranking's
    blocks do hold the same blocks, so their products (BLAS sums in an order that depends on the shapes)
    give the same scores to the last bit; cut elsewhere, a score may differ in its last bit, enough to
    swap two candidates of equal score."""
    return max(1, -(-firms // rank.BLOCK)) * rank.BLOCK


def sides(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """(firms of the row country, firms of the other countries), corpus indices in corpus order."""
    countries = sorted(set(corpus.country.tolist()))
    if len(countries) > 2:
        # The columns would meet only the row country's firms, not each other: no full ranking by pieces.
        raise ValueError(f"ranking by blocks needs at most two countries, not {countries}")
    rows = corpus.country == row_country(countries) if countries else np.zeros(0, bool)
    return np.flatnonzero(rows), np.flatnonzero(~rows)


def rank_block(corpus: Corpus, firms: np.ndarray, *, top_k: int = 10) -> BlockTop:
    """Rank ``firms`` (corpus indices of the row country, in corpus order) against every firm of the other
    country: their candidate lists, and each other firm's best among them, by the kernels of a full ranking.
    Pieces of consecutive firms cut every ``piece_size`` firms of the row country give its scores exactly."""
    rows, others = sides(corpus)
    firms = np.asarray(firms, dtype=np.int64)
    if not np.isin(firms, rows).all() or (np.diff(firms) <= 0).any():
        raise ValueError("rank_block takes firms of the row country, in corpus order")
    k = min(candidates(corpus, top_k), len(others))
    if not len(others) or not len(firms):
        return BlockTop(
            firms=firms,
            firm_top=np.zeros((len(firms), 0 if not len(others) else k), np.int64),
            others=others,
            other_values=np.full((len(others), k), -np.inf, np.float32),
            other_top=np.full((len(others), k), -1, np.int64),
        )
    with one_ranking_at_a_time():
        row_top, column_values, column_top = scan_scores(corpus, firms, others, k, columns=True)
    return BlockTop(
        firms=firms,
        firm_top=others[row_top],
        others=others,
        other_values=column_values,
        other_top=np.where(column_top >= 0, firms[np.maximum(column_top, 0)], -1),
    )


def merge_top(
    values: np.ndarray, top: np.ndarray, more_values: np.ndarray, more_top: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row by row, the best ``values.shape[1]`` of two lists (each best first), ties to the first list: merging
    the pieces' lists in the rows' order gives what one scan of every row gives (equal scores, earlier row)."""
    k = values.shape[1]
    both_values = np.concatenate([values, more_values], axis=1)
    both_top = np.concatenate([top, more_top], axis=1)
    order = np.argsort(-both_values, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(both_values, order, axis=1), np.take_along_axis(both_top, order, axis=1)


def rank_chosen(corpus: Corpus, chosen: dict[int, list[int]], *, top_k: int = 10) -> Ranking:
    """The ranking of the firms in ``chosen`` (corpus index → candidates, best by score first), as
    ``rank_counterparts`` finishes it: reordered by confidence, cut to ``top_k``, with reasons."""
    notes = [] if corpus.means else [NO_EMBEDDER_NOTE]  # the means are taken when an embedder gave vectors
    with one_ranking_at_a_time():
        suggestions = build_suggestions(corpus, rerank(corpus, chosen, top_k))
    return Ranking(suggestions=suggestions, engine_version=ENGINE_VERSION, notes=notes)
