"""The engine's embedding cache, kept in PostgreSQL so every process and every run shares it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matchmaking.models import TextEmbedding

# Keys per query: keeps each `IN (...)` list and the rows it returns to a few MB.
CHUNK_SIZE = 5000
VECTOR_DTYPE = np.dtype("<f4")  # float32, little-endian, as documented on TextEmbedding.vector


class DatabaseEmbeddingStore:
    """Implements ``matchmaking.engine.EmbeddingStore`` over the TextEmbedding table."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        keys = list(keys)
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), CHUNK_SIZE):
            rows = TextEmbedding.objects.only("key", "vector").in_bulk(keys[start : start + CHUNK_SIZE])
            found.update((key, np.frombuffer(row.vector, dtype=VECTOR_DTYPE)) for key, row in rows.items())
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        # ignore_conflicts: another process may have cached the same text meanwhile; its vector is the same.
        TextEmbedding.objects.bulk_create(
            (
                TextEmbedding(key=key, vector=np.asarray(vector, dtype=VECTOR_DTYPE).tobytes())
                for key, vector in vectors.items()
            ),
            batch_size=1000,
            ignore_conflicts=True,
        )
