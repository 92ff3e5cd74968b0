"""The passage-store contract (rag.testing.passage_store) over every implementation here.

A new store adds one subclass of ``PassageStoreContract`` with its
``make_store`` fixture and must pass every check unchanged.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from rag.index.embedded.store import IndexStore
from rag.testing.passage_store import PassageStoreContract

QDRANT_URL = os.environ.get("RAG_TEST_QDRANT_URL")


class TestEmbeddedStore(PassageStoreContract):
    @pytest.fixture
    def make_store(self):
        return lambda folder: IndexStore(folder / "index")


class TestQdrantLocalMode(PassageStoreContract):
    @pytest.fixture
    def make_store(self):
        pytest.importorskip("qdrant_client", reason="the qdrant store needs qdrant-client: pip install '.[qdrant]'")
        from rag.index.qdrant.store import QdrantStore

        return lambda folder: QdrantStore(folder / "index", collection="contract")


class TestQdrantServer(PassageStoreContract):
    """Only with RAG_TEST_QDRANT_URL; each store has a prefix of its own and its collections are deleted after."""

    @pytest.fixture
    def make_store(self):
        pytest.importorskip("qdrant_client", reason="the qdrant store needs qdrant-client: pip install '.[qdrant]'")
        if not QDRANT_URL:
            pytest.skip("no Qdrant server: set RAG_TEST_QDRANT_URL (and RAG_TEST_QDRANT_API_KEY if it needs one) "
                        "to run the contract against a server or cluster")
        from qdrant_client import models

        from rag.index.qdrant.store import QdrantStore

        made: list[QdrantStore] = []

        def server_store(folder: Path) -> QdrantStore:
            key_env = "RAG_TEST_QDRANT_API_KEY" if os.environ.get("RAG_TEST_QDRANT_API_KEY") else None
            store = QdrantStore(folder / "index", url=QDRANT_URL, api_key_env=key_env,
                                collection=f"ragtest-{uuid.uuid4().hex[:12]}")
            made.append(store)
            return store

        yield server_store
        for store in made:
            if store.exists():
                store.client.update_collection_aliases([models.DeleteAliasOperation(
                    delete_alias=models.DeleteAlias(alias_name=store.alias))])
            store.clean(keep=set())
