"""Lexical similarity of needs and offers: TF-IDF over character n-grams.

Character n-grams match inflected forms ("тест", "тестов", "тест-системы") and technical terms and
names shared across languages (PCR, HACCP, CKD), which the embedding model sometimes misses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize


def tfidf_rows(need_texts: Sequence[str], offer_texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """L2-normalised TF-IDF rows for needs and offers, fitted on both so they share one vocabulary.

    The same as ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
    dtype=np.float32).fit_transform(needs + offers)``, but each distinct text is analysed once:
    n-gram counts are taken on the distinct texts (in order of first appearance, so the vocabulary
    and each row's layout are those of the full run), document frequencies weight each distinct
    text by how often it occurs, and rows are then gathered back for every text.
    """
    corpus = list(need_texts) + list(offer_texts)
    first = {}
    inverse = np.fromiter((first.setdefault(text, len(first)) for text in corpus), dtype=np.int64, count=len(corpus))
    distinct = list(first)
    try:
        counts = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), dtype=np.float32).fit_transform(distinct)
    except ValueError:  # no text with a single n-gram: nothing lexical to compare
        matrix = sparse.csr_matrix((len(corpus), 1), dtype=np.float32)
        return matrix[: len(need_texts)], matrix[len(need_texts) :]
    counts = sparse.csr_matrix(counts)
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
    weighted = normalize(counts, norm="l2", copy=False)
    matrix = sparse.csr_matrix(weighted)[inverse]
    return matrix[: len(need_texts)], matrix[len(need_texts) :]
