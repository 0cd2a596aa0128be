"""The matching engine: plain Python and NumPy, no Django. Takes profiles, returns ranked counterparts."""

from matchmaking.engine.embedding import CachedEmbedder, Embedder, EmbeddingStore, MemoryStore, default_embedder
from matchmaking.engine.rank import DEFAULT_WEIGHTS, ENGINE_VERSION, Weights, rank_counterparts
from matchmaking.engine.types import NEED, OFFER, Listing, Profile, Ranking, Reason, Suggestion

__all__ = [
    "CachedEmbedder",
    "DEFAULT_WEIGHTS",
    "ENGINE_VERSION",
    "Embedder",
    "EmbeddingStore",
    "Listing",
    "MemoryStore",
    "NEED",
    "OFFER",
    "Profile",
    "Ranking",
    "Reason",
    "Suggestion",
    "Weights",
    "default_embedder",
    "rank_counterparts",
]
