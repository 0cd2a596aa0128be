"""Lexical similarity of needs and offers: TF-IDF over character n-grams.

Character n-grams match inflected forms ("тест", "тестов", "тест-системы") and technical terms and
names shared across languages (PCR, HACCP, CKD), which the embedding model sometimes misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

NGRAM_RANGE = (3, 5)
# One random odd 64-bit multiplier per (n-gram length, position): an n-gram's id is the wrapped sum of
# its code points times these, so equal n-grams get equal ids and distinct ones collide with odds of
# about (vocabulary size)² / 2⁶⁴, far below one in a million for any corpus this service sees.
_MULTIPLIERS = {
    n: np.random.default_rng(20261204 + n).integers(1, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1)
}


def char_wb_ngrams(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(text index, n-gram id) of every character n-gram of every text, as scikit-learn's
    ``analyzer="char_wb", ngram_range=(3, 5)`` would list them: lower-cased, words split on white space
    and padded with one space each side, every 3- to 5-gram inside a padded word (a padded word shorter
    than 5 counts once whole). Computed on arrays of code points instead of one Python string per n-gram."""
    words = [text.lower().split() for text in texts]
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), [len(w) for w in words])
    flat = [word for text in words for word in text]
    if not flat:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    padded = "".join(f" {word} " for word in flat)
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(word) + 2 for word in flat), dtype=np.int64, count=len(flat))
    ends = np.cumsum(lengths)
    word_of = np.repeat(np.arange(len(flat)), lengths)
    positions = np.arange(len(codes))
    text_ids, gram_ids = [], []
    for n, multipliers in _MULTIPLIERS.items():
        starts = positions[positions + n <= ends[word_of]]
        gram = np.full(len(starts), np.uint64(n))
        for k in range(n):
            gram += codes[starts + k] * multipliers[k]
        text_ids.append(owner[word_of[starts]])
        gram_ids.append(gram)
    return np.concatenate(text_ids), np.concatenate(gram_ids)


@dataclass(frozen=True)
class TfidfModel:
    """What a fit learnt: the n-gram ids (sorted, one column each), their IDF, and the number of texts."""

    features: np.ndarray
    idf: np.ndarray
    documents: int


def _weighted_rows(text_of: np.ndarray, column: np.ndarray, texts: int, columns: int) -> sparse.csr_matrix:
    """Raw n-gram counts per (text, column) as a CSR matrix."""
    cells, tf = np.unique(text_of * columns + column, return_counts=True)
    return sparse.csr_matrix(
        (tf.astype(np.float32), (cells // columns, cells % columns)),
        shape=(texts, columns),
        dtype=np.float32,
    )


def tfidf_rows(need_texts: Sequence[str], offer_texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """L2-normalised TF-IDF rows for needs and offers, fitted on both so they share one vocabulary.

    The same weights as ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
    dtype=np.float32).fit_transform(needs + offers)``, with the columns in another order (which no dot
    product sees). Each distinct text is analysed once: document frequencies weight each distinct text
    by how often it occurs, and rows are then gathered back for every text.
    """
    need_rows, offer_rows, _ = fit_tfidf(need_texts, offer_texts)
    return need_rows, offer_rows


def fit_tfidf(
    need_texts: Sequence[str], offer_texts: Sequence[str]
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, TfidfModel]:
    """``tfidf_rows`` and the fitted model, so texts written later can be weighted the same way."""
    corpus = list(need_texts) + list(offer_texts)
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(text, len(first)) for text in corpus), dtype=np.int64, count=len(corpus))
    distinct = list(first)
    text_of, gram = char_wb_ngrams(distinct)
    if not len(gram):  # no text with a single n-gram: nothing lexical to compare
        matrix = sparse.csr_matrix((len(corpus), 1), dtype=np.float32)
        empty = TfidfModel(np.zeros(0, np.uint64), np.zeros(0, np.float32), len(corpus))
        return matrix[: len(need_texts)], matrix[len(need_texts) :], empty
    features, column = np.unique(gram, return_inverse=True)
    counts = _weighted_rows(text_of, column.ravel(), len(distinct), len(features))
    multiplicity = np.bincount(inverse, minlength=len(distinct))
    # sklearn's TfidfTransformer(smooth_idf=True, sublinear_tf=True), in float32 like it, with the
    # document frequency of the full corpus: idf = ln((1 + n) / (1 + df)) + 1.
    owner = np.repeat(np.arange(len(distinct)), np.diff(counts.indptr))
    df = np.bincount(counts.indices, weights=multiplicity[owner], minlength=counts.shape[1]).astype(np.float32)
    df += 1.0
    idf = np.full_like(df, fill_value=len(corpus) + 1, dtype=np.float32)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    np.log(counts.data, out=counts.data)
    counts.data += 1.0
    counts.data *= idf[counts.indices]
    weighted = _normalize_rows(counts)
    matrix = sparse.csr_matrix(weighted)[inverse]
    matrix.sort_indices()
    return matrix[: len(need_texts)], matrix[len(need_texts) :], TfidfModel(features, idf, len(corpus))


def _normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each row scaled to unit length, in place: sklearn.preprocessing.normalize(norm="l2") to the bit (float32
    squares summed in double, row by row, in order), without importing scikit-learn, which cost every command
    that ranks about a second of start-up."""
    row = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    squares = (matrix.data * matrix.data).astype(np.float64)
    norms = np.sqrt(np.bincount(row, weights=squares, minlength=matrix.shape[0]))
    norms[norms == 0.0] = 1.0  # an empty row stays as it is
    matrix.data = (matrix.data.astype(np.float64) / norms[row]).astype(matrix.data.dtype)
    return matrix


def transform_tfidf(model: TfidfModel, texts: Sequence[str]) -> sparse.csr_matrix:
    """Rows for texts written after the fit, in its columns. An n-gram the fit never saw can match nothing
    it saw, so it gets no column; it still weighs in the row's length, with the IDF of an n-gram in no
    text, as a fit that included the new text would nearly give it."""
    text_of, gram = char_wb_ngrams(texts)
    columns = len(model.features)
    if not len(gram) or not columns:
        return sparse.csr_matrix((len(texts), max(columns, 1)), dtype=np.float32)
    position = np.minimum(np.searchsorted(model.features, gram), columns - 1)
    known = model.features[position] == gram
    unseen_idf = np.float32(np.log((model.documents + 1) / 1.0) + 1.0)
    # Unseen n-grams, each in a column of its own past the known ones, only for the row lengths.
    _, unseen = np.unique(gram[~known], return_inverse=True)
    column = np.where(known, position, 0)
    column[~known] = columns + unseen.ravel()
    counts = _weighted_rows(text_of, column, len(texts), columns + int(unseen.max(initial=-1)) + 1)
    idf = np.concatenate([model.idf, np.full(counts.shape[1] - columns, unseen_idf, dtype=np.float32)])
    np.log(counts.data, out=counts.data)
    counts.data += 1.0
    counts.data *= idf[counts.indices]
    weighted = sparse.csr_matrix(_normalize_rows(counts))[:, :columns]
    weighted = sparse.csr_matrix(weighted, dtype=np.float32)
    weighted.sort_indices()
    return weighted
