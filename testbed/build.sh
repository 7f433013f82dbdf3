#!/usr/bin/env bash
# Builds the test bed's servers once into a cache keyed by version and reuses them:
#   kube-apiserver, kube-controller-manager, kubectl, etcd  (testbed/go: Kubernetes v1.36.3, etcd v3.6.8)
#   versitygw                                      (S3-compatible server, go install @v1.7.0)
# Prints the cache directory on stdout. Any failure is loud (non-zero exit), never a skip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION=v1.36.3
VERSITYGW_VERSION=v1.7.0
command -v go >/dev/null || { echo "testbed: Go >= 1.26 is required to build the test bed (go not found on PATH)" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# The key is the module graph's content (go.mod + go.sum), not where the checkout lives: every
# clone on a machine shares the binaries, and a change to the graph rebuilds.
sum="$(cat "$here/go/go.mod" "$here/go/go.sum" | sha256sum | cut -c1-12)"
cache="${KUBE_AUTOSAVE_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-autosave/testbed}/k8s-$K8S_VERSION-$sum"
mkdir -p "$cache"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
build() { # name package
  if [ -x "$cache/$1" ]; then return; fi
  echo "testbed: building $1 ($2) into $cache" >&2
  (cd "$here/go" && go build -trimpath -ldflags "$ldflags" -o "$cache/$1.tmp" "$2")
  mv "$cache/$1.tmp" "$cache/$1"
}
build etcd ./cmd/etcd
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
# kubectl: test fixtures (apply, server-side dry run) and the old autosave baseline in the benchmark.
build kubectl k8s.io/kubernetes/cmd/kubectl
if [ ! -x "$cache/versitygw" ]; then
  echo "testbed: installing versitygw $VERSITYGW_VERSION into $cache" >&2
  GOBIN="$cache/.gobin" go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  mv "$cache/.gobin/versitygw" "$cache/versitygw"
fi
echo "$cache"
