"""What a go command line asks for: subcommand, -x, -o, packages; and the -x echo filter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Subcommands whose fetches and tool runs -x makes visible.
X_COMMANDS = {"build", "install", "test", "run", "get", "mod download"}
# The go command catches SIGQUIT in these modes and does not forward it.
CATCHES_SIGQUIT = {"run", "test", "tool", "doc"}
# Flags of build-like commands that take a separate value (so the value is no package).
VALUE_FLAGS = {
    "-o",
    "-p",
    "-C",
    "-asmflags",
    "-buildmode",
    "-compiler",
    "-gccgoflags",
    "-gcflags",
    "-installsuffix",
    "-ldflags",
    "-mod",
    "-modfile",
    "-overlay",
    "-pkgdir",
    "-tags",
    "-toolexec",
    "-exec",
    "-pgo",
    "-covermode",
    "-coverpkg",
    "-coverprofile",
    "-run",
    "-bench",
    "-count",
    "-timeout",
    "-cpu",
    "-parallel",
    "-skip",
    "-reuse",
    "-vet",
}
# -json is boolean for go test/build/vet (go list spells its fields -json=A,B): it takes
# no separate value, or `go test -json ./...` would lose its packages.


@dataclass
class GoArgs:
    argv: list[str]
    sub: str = ""
    user_x: bool = False
    output: str | None = None
    packages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def patterns(self) -> list[str]:
        """The package arguments alone: go test also takes flags after its packages
        (`go test ./... -run X -count 1`), which are neither packages nor patterns."""
        out: list[str] = []
        skip = False
        for w in self.packages:
            if skip:
                skip = False
            elif w.startswith("-"):
                skip = "=" not in w and w.replace("--", "-", 1) in VALUE_FLAGS
            else:
                out.append(w)
        return out

    def with_x(self) -> list[str]:
        """argv with -x right after the subcommand (flags must precede packages)."""
        words = len(self.sub.split())
        return [*self.argv[: 1 + words], "-x", *self.argv[1 + words :]]


def parse(argv: list[str], goflags: str = "") -> GoArgs:
    """Split `go SUB [flags] [packages]` (best effort: go's own parser is the authority)."""
    ga = GoArgs(argv=list(argv))
    rest = argv[1:]
    if rest[:2] == ["mod", "download"]:
        ga.sub, rest = "mod download", rest[2:]
    elif rest:
        ga.sub, rest = rest[0], rest[1:]
    ga.user_x = "-x" in rest or any(f in ("-x", "-x=true") for f in goflags.split())
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            ga.packages.extend(rest[i + 1 :])
            break
        if arg.startswith("-") and ga.packages == []:
            name = arg.split("=", 1)[0].replace("--", "-", 1)
            ga.flags.append(arg)
            value: str | None = arg.split("=", 1)[1] if "=" in arg else None
            if value is None and name in VALUE_FLAGS and i + 1 < len(rest):
                value = rest[i + 1]
                i += 1
            if name == "-o":
                ga.output = value
            if name == "-x":
                ga.user_x = True
        else:
            ga.packages.append(arg)
            # go run / go test pass the rest to the program.
            if ga.sub == "run":
                break
        i += 1
    return ga


GET_START = re.compile(r"^# get (\S+)$")
GET_DONE = re.compile(r"^# get (\S+): (.*)$")
# Lines -x prints: shell-like commands, their timings and the heredocs of config files.
X_LINE = re.compile(
    r"^(WORK=|# get |mkdir -p |cd |cat >|cp |mv |rm -r|rm -f|rm \$|echo |touch |ln -s|chmod |"
    r"TERM=|CGO_|GOROOT=|GOOS=|GOARCH=|\d+\.\d+s # |git |ssh |\S*/pkg/tool/\S+/\S+)"
)


class XFilter:
    """Drops the lines -x added, keeps everything else byte for byte."""

    def __init__(self) -> None:
        self.in_heredoc = False
        self.work: str | None = None

    def is_x(self, line: str) -> bool:
        if self.in_heredoc:
            if line.rstrip("\n") == "EOF":
                self.in_heredoc = False
            return True
        text = line.rstrip("\n")
        if text.startswith("WORK="):
            self.work = text[5:]
        if "<< 'EOF'" in text and text.startswith("cat >"):
            self.in_heredoc = True
            return True
        if X_LINE.match(text) or "$WORK" in text or text.endswith(" # internal"):
            return True
        return bool(self.work and text.startswith(self.work))
