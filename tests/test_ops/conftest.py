"""The dispatcher of 'auto' starts each test as in a new process, with
neither environment variable set."""
import pytest

from mmrep.ops import DISPATCHER, ENV_CACHE, ENV_IMPL


@pytest.fixture(autouse=True)
def new_dispatcher(monkeypatch):
    monkeypatch.delenv(ENV_IMPL, raising=False)
    monkeypatch.delenv(ENV_CACHE, raising=False)
    DISPATCHER.reset()
    yield DISPATCHER
    DISPATCHER.reset()
