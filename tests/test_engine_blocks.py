"""A full ranking cut into pieces of the row country's firms (engine/blocks.py), merged: the full ranking's."""

from dataclasses import replace

import numpy as np
import pytest

from matchmaking.engine import DEFAULT_WEIGHTS, rank, rank_counterparts
from matchmaking.engine.blocks import (
    build_corpus,
    merge_top,
    piece_size,
    rank_block,
    rank_chosen,
    row_country,
    sides,
)
from tests.test_matching_engine import HashedVectors, _market


def ranked_in_pieces(profiles, vectors, piece: int, *, top_k: int, weights=DEFAULT_WEIGHTS):
    """What the fan-out does, in one process: pieces of the row country ranked one by one, the other country's
    lists merged piece after piece, then the suggestions built from every list."""
    corpus = build_corpus(profiles, vectors, weights)
    rows, others = sides(corpus)
    chosen, values, top = {}, None, None
    for start in range(0, len(rows), piece):
        block = rank_block(corpus, rows[start : start + piece], top_k=top_k)
        chosen.update(zip(block.firms.tolist(), block.firm_top.tolist(), strict=True))
        if values is None:
            values, top = np.full_like(block.other_values, -np.inf), np.full_like(block.other_top, -1)
        values, top = merge_top(values, top, block.other_values, block.other_top)
    chosen.update((o, [f for f in t if f >= 0]) for o, t in zip(others.tolist(), top.tolist(), strict=True))
    return rank_chosen(corpus, chosen, top_k=top_k)


@pytest.mark.parametrize("vectors", [HashedVectors(), None], ids=["embeddings", "lexical only"])
@pytest.mark.parametrize("piece", [5, 15, 60])
def test_pieces_merged_give_the_full_ranking_bit_for_bit(monkeypatch, vectors, piece):
    """Pieces cut on the scan's blocks: every firm's suggestions, in order, with the same scores, parts and
    reasons, float for float."""
    monkeypatch.setattr(rank, "BLOCK", 5)
    profiles = _market(120, seed=7)
    full = rank_counterparts(profiles, top_k=5, embedder=vectors)
    pieces = ranked_in_pieces(profiles, vectors, piece, top_k=5)
    assert list(pieces.suggestions) == list(full.suggestions)
    assert pieces.suggestions == full.suggestions
    assert (pieces.engine_version, pieces.notes) == (full.engine_version, full.notes)


def test_pieces_cut_anywhere_score_alike(monkeypatch):
    """Cut inside the scan's blocks, a score may differ in its last bit (the products' shapes differ), which may
    swap candidates of equal score, never more: each firm's list has the same scores."""
    monkeypatch.setattr(rank, "BLOCK", 5)
    profiles = _market(120, seed=7)
    by_score = replace(DEFAULT_WEIGHTS, confidence=False)
    full = rank_counterparts(profiles, top_k=5, embedder=HashedVectors(), weights=by_score)
    for piece in (1, 7):
        pieces = ranked_in_pieces(profiles, HashedVectors(), piece, top_k=5, weights=by_score)
        for key, suggestions in full.suggestions.items():
            np.testing.assert_allclose(
                [s.score for s in pieces.suggestions[key]], [s.score for s in suggestions], rtol=0, atol=1e-6
            )


def test_pieces_are_whole_blocks(monkeypatch):
    monkeypatch.setattr(rank, "BLOCK", 512)
    assert [piece_size(n) for n in (1, 512, 513, 2000, 0)] == [512, 512, 1024, 2048, 512]


def test_by_score_alone_too(monkeypatch):
    """Without the learned confidence, the lists are the top by score: the merge's tie rule decides them."""
    monkeypatch.setattr(rank, "BLOCK", 4)
    profiles = _market(90, seed=3)
    by_score = replace(DEFAULT_WEIGHTS, confidence=False)
    full = rank_counterparts(profiles, top_k=8, embedder=HashedVectors(), weights=by_score)
    assert ranked_in_pieces(profiles, HashedVectors(), 8, top_k=8, weights=by_score).suggestions == full.suggestions


def test_the_merge_keeps_the_best_and_on_ties_the_earlier_list():
    values = np.array([[0.9, 0.5, -np.inf]], dtype=np.float32)
    top = np.array([[10, 11, -1]])
    more_values = np.array([[0.5, 0.4, 0.3]], dtype=np.float32)
    more_top = np.array([[20, 21, 22]])
    merged_values, merged_top = merge_top(values, top, more_values, more_top)
    assert merged_top.tolist() == [[10, 11, 20]]
    np.testing.assert_array_equal(merged_values, np.array([[0.9, 0.5, 0.5]], dtype=np.float32))


def test_the_row_country_is_the_one_a_full_ranking_scans():
    profiles = _market(20, seed=1)
    corpus = build_corpus(profiles, None)
    rows, others = sides(corpus)
    assert row_country(["VN", "RU"]) == "RU"
    assert {profiles[i].country for i in rows} == {"RU"} and {profiles[i].country for i in others} == {"VN"}
    with pytest.raises(ValueError):
        rank_block(corpus, others[:3])  # the other country's firms are columns, never a piece


def test_one_country_alone_gets_empty_lists():
    profiles = [p for p in _market(30, seed=2) if p.country == "VN"]
    corpus = build_corpus(profiles, None)
    rows, others = sides(corpus)
    block = rank_block(corpus, rows)
    assert len(others) == 0 and block.firm_top.shape == (len(rows), 0)
    ranking = rank_chosen(corpus, dict(zip(block.firms.tolist(), block.firm_top.tolist(), strict=True)))
    assert ranking.suggestions == rank_counterparts(profiles).suggestions
