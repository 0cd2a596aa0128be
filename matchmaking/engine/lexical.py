"""Lexical similarity of needs and offers: TF-IDF over character n-grams.

Character n-grams match inflected forms ("тест", "тестов", "тест-системы") and technical terms and
names shared across languages (PCR, HACCP, CKD), which the embedding model sometimes misses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


def tfidf_rows(need_texts: Sequence[str], offer_texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """L2-normalised TF-IDF rows for needs and offers, fitted on both so they share one vocabulary."""
    corpus = list(need_texts) + list(offer_texts)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(corpus).tocsr()
    except ValueError:  # no text with a single n-gram: nothing lexical to compare
        matrix = sparse.csr_matrix((len(corpus), 1), dtype=np.float32)
    return matrix[: len(need_texts)], matrix[len(need_texts) :]
