"""Fixtures of the learner tests.

The statistical tests fit hundreds of tiny models. With several BLAS /
OpenMP threads per process, tiny problems gain nothing and, on a shared
machine, threads waiting for a busy core can slow them down tenfold; so
these tests run single-threaded (results do not depend on it).
"""
from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    with threadpool_limits(limits=1):
        yield
