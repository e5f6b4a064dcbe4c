"""What the goroutine-leak and deadlock locators choose from (locate.blocked_groups): an HTTP
client's connection loops are a connection leak's evidence, never a deadlock's waiters."""

from __future__ import annotations

from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import derive
from godiag.analysis.rootcause.kinds import deadlock
from godiag.formats.goroutines import parse
from godiag.model.observation import Observation

LOOP = (
    "goroutine {id} [select]:\nnet/http.(*persistConn).writeLoop(0xc0001)\n"
    "\t/usr/local/go/src/net/http/transport.go:2600 +0xe7\n"
    "created by net/http.(*Transport).dialConn in goroutine 9\n"
    "\t/usr/local/go/src/net/http/transport.go:1995 +0x1a5\n\n"
)
WORKER = (
    "goroutine {id} [chan receive]:\nmain.(*pool).work(0xc0002)\n\t/src/app/pool.go:31 +0x45\n"
    "created by main.newPool in goroutine 1\n\t/src/app/pool.go:20 +0x1d\n\n"
)


def _dump(loops: int, workers: int) -> str:
    head = "goroutine 1 [select (no cases)]:\nmain.main()\n\t/src/app/main.go:40 +0x1d\n\n"
    body = "".join(LOOP.format(id=100 + i) for i in range(loops))
    return head + body + "".join(WORKER.format(id=900 + i) for i in range(workers))


def test_connection_loops_are_not_blocked_groups_for_the_locators() -> None:
    obs = Observation("http://svc", duration=5.0,
                      dumps=[parse(_dump(185, 2).encode(), "start"),
                             parse(_dump(216, 2).encode(), "end")])  # fmt: skip
    derived = derive(obs)
    fns = {g.frames[0].function for g in locate.blocked_groups(derived)}
    assert fns == {"main.(*pool).work", "main.main"}, fns
    loc, ev = deadlock.locator(obs, derived)
    assert "persistConn" not in " ".join(ev) + str(loc), ev
