"""Which frame of a stack is the service's: sites.pick and sites.pick_owner."""

from __future__ import annotations

from godiag.analysis import sites

# the stack of an unlock deferred in commit (leaf first), as a mutex profile records it
_UNLOCK_AT_RETURN = [
    ("sync.(*Mutex).Unlock", "/go/src/sync/mutex.go", 229),
    ("main.(*store).commit.deferwrap1", "/src/app/store.go", 136),
    ("main.(*store).commit", "/src/app/store.go", 150),
    ("main.(*api).put", "/src/app/api.go", 40),
]


def test_a_deferred_call_is_the_function_that_deferred_it() -> None:
    """`defer mu.Unlock()` runs in the compiler's wrapper F.deferwrap1 at F's return: the
    critical section, and the site, are F's (the wrapper's line is the defer statement)."""
    assert sites.pick(_UNLOCK_AT_RETURN, None) == ("main.(*store).commit", "/src/app/store.go", 150)
    assert sites.pick_owner(_UNLOCK_AT_RETURN, None)[0] == "main.(*store).commit"  # type: ignore[index]


def test_a_function_named_like_a_wrapper_is_kept() -> None:
    """Only a wrapper called by its own function hands over: a closure or method whose
    caller is something else stays the site."""
    frames = [("main.deferwrapper", "/src/app/x.go", 3), ("main.main", "/src/app/x.go", 9)]
    assert sites.pick(frames, None) == frames[0]
    lone = [("main.run.deferwrap2", "/src/app/x.go", 5), ("runtime.goexit", "", 0)]
    assert sites.pick(lone, None) == lone[0]
