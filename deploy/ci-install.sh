#!/usr/bin/env bash
# Installs the Debian packages that the deploy tests (test/deploy/) need and that npm
# cannot provide:
#   - promtool  (Debian package `prometheus`): `promtool check/test rules`, `check metrics`
#   - kubectl   (its built-in kustomize renders the overlays). Most machines already have
#               a current kubectl; Debian's own `kubernetes-client` is far older (1.20,
#               kustomize v2) and is NOT installed here, because rendering these overlays
#               with it would fail for reasons unrelated to the manifests. Without kubectl
#               the render tests skip with a message instead.
#
# Idempotent and quiet: exits 0 at once when everything is present, and prints one
# line per package it had to install. Needs root (CI runs as root). Safe to call from
# .ci/run on every run.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/ci-install.sh: not root, cannot install: ${missing[*]} (the tests that need them will skip)" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Installing `prometheus` must not start a Prometheus server on this machine: where no
# policy-rc.d forbids service starts already, add one for the length of the install.
added_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  added_policy=1
fi
cleanup() { if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

apt-get update -qq >/dev/null
# --no-install-recommends: only promtool is wanted, not node-exporter.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do echo "deploy/ci-install.sh: installed $pkg"; done
command -v promtool >/dev/null 2>&1
