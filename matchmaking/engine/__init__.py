"""The matching engine: plain Python and NumPy, no Django. Takes profiles, returns ranked counterparts."""

from .embedding import CachedEmbedder, Embedder, EmbeddingStore, MemoryStore, default_embedder
from .rank import ENGINE_VERSION, rank_counterparts
from .types import DEFAULT_WEIGHTS, LANGUAGE_CODES, NEED, OFFER, Listing, Profile, Ranking, Reason, Suggestion, Weights

__all__ = [
    "CachedEmbedder",
    "DEFAULT_WEIGHTS",
    "ENGINE_VERSION",
    "Embedder",
    "EmbeddingStore",
    "LANGUAGE_CODES",
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
