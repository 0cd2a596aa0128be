"""The database a benchmark works in: a database of its own beside the configured one, kept between runs."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from companies.models import Company, Listing
from matchmaking.embedding_cache import DatabaseEmbeddingStore
from matchmaking.engine import default_embedder
from matchmaking.engine.embedding import PASSAGE, QUERY, text_key
from matchmaking.models import Match, TextEmbedding
from matchmaking.selectors import texts_to_embed

DIMENSIONS = 384  # the model's
SEED = "11"  # the generator's seed: the same market in every benchmark that ranks


def use_database(name: str, *, copy_from: str | None = None) -> str:
    """Point Django at the database ``name`` (created, and migrated, if missing; with ``copy_from``, first
    copied from that database when it exists: faster than filling it again) and return its name."""
    if copy_from:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)", [name, copy_from])
            present = {row[0] for row in cursor.fetchall()}
            if name not in present and copy_from in present:
                print(f"copying {copy_from} into {name}…", file=sys.stderr, flush=True)
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{copy_from}"')
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def stand_in(role: str, text: str) -> np.ndarray:
    """A deterministic unit vector of the model's size for a text: "embeddings cached", without the model."""
    seed = int.from_bytes(hashlib.blake2b(f"{role}\0{text}".encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
    return vector / np.linalg.norm(vector)


def fill_market(firms: int, *, model_name: str) -> None:
    """At least ``firms`` generated published firms in the current database, every text of theirs in the
    embedding cache (stand-in vectors under ``model_name``'s keys), and the planner's statistics fresh."""
    if Company.objects.published().count() < firms:
        call_command("load_seeds", verbosity=0)
        call_command("generate_companies", firms, "--seed", SEED, verbosity=1)
    store = DatabaseEmbeddingStore()
    for direction, role in ((Listing.Direction.NEED, QUERY), (Listing.Direction.OFFER, PASSAGE)):
        texts = set(Listing.objects.filter(direction=direction).values_list("text", flat=True))
        keys = {text_key(model_name, role, text): text for text in texts}
        missing = set(keys) - set(store.get_many(list(keys)))
        store.put_many({key: stand_in(role, keys[key]) for key in missing})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def empty_matches() -> None:
    """No match at all (and nothing that refers to one): the state of a first save."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Match._meta.db_table} CASCADE")
        cursor.execute("CHECKPOINT")  # the truncation's writes are not charged to the timed run


def hashed_stand_in_vectors() -> int:
    """Hashed unit vectors, under the real model's keys, for the published texts the embedding cache lacks: the
    directory search's index is then built from the cache instead of embedding 58,000 texts with the model (about
    22 minutes). Same shapes, same work. Returns how many were written."""
    model = default_embedder()
    if model is None:
        return 0
    store, written = DatabaseEmbeddingStore(), 0
    for role, texts in texts_to_embed().items():
        keys = [text_key(model.name, role, text) for text in texts]
        have = set()
        for start in range(0, len(keys), 5000):
            have |= set(TextEmbedding.objects.filter(key__in=keys[start : start + 5000]).values_list("key", flat=True))
        vectors = {}
        for key in keys:
            if key not in have:
                vector = np.random.default_rng(int(key[:16], 16)).standard_normal(384).astype(np.float32)
                vectors[key] = vector / np.linalg.norm(vector)
        store.put_many(vectors)
        written += len(vectors)
    return written
