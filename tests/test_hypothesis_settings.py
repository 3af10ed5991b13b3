"""The suite's hypothesis set-up (tests/conftest.py) keeps parametrized ``@given`` tests linear.

Hypothesis's pytest plugin wraps the settings of a parametrized ``@given`` test in a new
child object for every item and stores it on the function all the items share, so without
the reset in tests/conftest.py each item's settings had one more parent than the last one's.
With ``database=None`` (the CI profile) ``settings.database`` walks that whole chain, several
times per item: 900 items of one sweep cost O(n^2).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ITEMS = 30


def _depth(current: settings | None) -> int:
    # ``_fallback`` is the parent link hypothesis follows for unset values (no public name).
    depth = 0
    while current is not None:
        depth, current = depth + 1, current._fallback  # type: ignore[attr-defined]
    return depth


@pytest.mark.parametrize("item", range(ITEMS))
@settings(max_examples=1)
@given(st.none())
def test_each_item_runs_under_a_chain_of_constant_length(item: int, nothing: None) -> None:
    # The item's own wrap, then the declared @settings, then the active profile and its
    # parents (one more where hypothesis registered its own "ci" profile first, as it does
    # when CI is set). Without the reset, the k-th item a worker runs sits k - 1 levels
    # deeper, and a worker runs at least half of these items.
    profile = settings.get_profile(settings.get_current_profile_name())
    assert _depth(settings.default) == _depth(profile) + 2, (item, _depth(settings.default), _depth(profile))
