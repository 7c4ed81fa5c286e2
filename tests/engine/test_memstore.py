from engine.memstore import MemoryStore
from engine.store import StateStore
from tests.engine.store_contract import StoreContract


class TestMemoryStore(StoreContract):
    def make_store(self) -> StateStore:
        return MemoryStore()
