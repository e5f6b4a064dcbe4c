#!/usr/bin/env bash
# A real kube-apiserver and etcd for the Kubernetes integration tests, built from source through
# the Go module proxy into .cache/k8s/bin/ (never committed). Each binary is cached by version:
# a second run with the same versions does nothing. Fails soft: on any error it prints a warning
# and exits 0, and the tests that need the binaries skip with the reason.
#
# kube-apiserver cold build: about 15 minutes on 2 cores (119 MB binary); etcd: about 2 minutes.
set -uo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/k8s
bin=$cache/bin
mkdir -p "$bin" "$cache/src"

export GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0

warn() { echo "warning: $*" >&2; }

# kube-apiserver: k8s.io/kubernetes is not meant to be required as a module; its staging
# modules (k8s.io/api, k8s.io/apiserver, ...) are required at v0.0.0 and replaced by
# directories of its repository, which are not part of the module zip. A scratch module
# replaces each of them by its published v0.MINOR.PATCH tag instead.
build_apiserver() {
  local out=$bin/kube-apiserver-$KUBE_VERSION
  [ -x "$out" ] && { echo "kube-apiserver $KUBE_VERSION cached"; return 0; }
  local src=$cache/src/kube-apiserver-$KUBE_VERSION
  local staging=v0.${KUBE_VERSION#v1.}
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  rm -rf "$src" && mkdir -p "$src" || return 1
  # (set -e does not hold in a subshell tested by ||: each step that can fail exits itself)
  (
    cd "$src" || exit 1
    local modfile
    modfile=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [ -f "$modfile" ] || { echo "no go.mod for k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
    {
      echo "module godiag.test/kube-apiserver"
      echo
      echo "go $(sed -n 's/^go \([0-9.]*\).*/\1/p' "$modfile" | head -1)"
      echo
      echo "require k8s.io/kubernetes $KUBE_VERSION"
      echo
      echo "replace ("
      # the staging modules: `k8s.io/X => ./staging/src/k8s.io/X` in kubernetes' go.mod
      sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$modfile" \
        | sort -u | while read -r m; do echo "	$m => $m $staging"; done
      echo ")"
    } >go.mod
    grep -q "=> k8s.io/api $staging" go.mod || { echo "no staging modules found in $modfile" >&2; exit 1; }
    go build -trimpath -o "$out.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
      k8s.io/kubernetes/cmd/kube-apiserver || exit 1
    mv "$out.tmp" "$out"
  ) || { warn "could not build kube-apiserver $KUBE_VERSION (Kubernetes tests will skip)"; return 1; }
  ln -sf "$(basename "$out")" "$bin/kube-apiserver"
  echo "kube-apiserver $KUBE_VERSION built"
}

# etcd: its server module's etcdmain behind a scratch main package.
build_etcd() {
  local out=$bin/etcd-$ETCD_VERSION
  [ -x "$out" ] && { echo "etcd $ETCD_VERSION cached"; return 0; }
  local src=$cache/src/etcd-$ETCD_VERSION
  rm -rf "$src" && mkdir -p "$src" || return 1
  (
    cd "$src" || exit 1
    cat >go.mod <<EOF
module godiag.test/etcd

go $(go env GOVERSION | sed "s/^go//")

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
    cat >main.go <<'EOF'
// etcd's own entry point, built as a module dependency.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
    go build -trimpath -ldflags "-s -w" -o "$out.tmp" . || exit 1
    mv "$out.tmp" "$out"
  ) || { warn "could not build etcd $ETCD_VERSION (Kubernetes tests will skip)"; return 1; }
  ln -sf "$(basename "$out")" "$bin/etcd"
  echo "etcd $ETCD_VERSION built"
}

build_etcd
build_apiserver
exit 0
