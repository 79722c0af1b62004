#!/usr/bin/env bash
# Deploys one NimbusPay environment to the cluster of the current kubectl context,
# migration first:
#
#   deploy/scripts/deploy.sh dev|staging|production IMAGE
#   deploy/scripts/deploy.sh --render dev|staging|production IMAGE   # print manifests only
#
# IMAGE is the full reference built by CI, e.g.
# 111122223333.dkr.ecr.eu-west-1.amazonaws.com/nimbuspay:<git sha> (or @sha256:...).
#
# Steps (deploy/README.md#deploying):
#   1. render deploy/k8s/overlays/ENV with the image filled in;
#   2. check that the Secret nimbus-secrets exists (it is never part of the manifests);
#   3. delete the previous migration Job (Jobs are immutable), apply the objects labelled
#      nimbuspay.io/deploy-phase=pre-rollout (namespace, ServiceAccount, ConfigMap,
#      NetworkPolicies, migration Job) and wait for `nimbus migrate` to complete;
#   4. apply everything, and wait for the API and worker rollouts.
# Any failure stops the deploy before the Deployments change, with the Job's logs.
set -euo pipefail

usage() { echo "usage: $0 [--render] dev|staging|production IMAGE" >&2; exit 2; }

render_only=""
if [ "${1:-}" = "--render" ]; then render_only=1; shift; fi
[ $# -eq 2 ] || usage
env="$1"
image="$2"
case "$env" in
  dev | staging | production) ;;
  *) usage ;;
esac
case "$image" in
  "" | *set-by-deploy-script* | *[[:space:]]*) echo "deploy.sh: not an image reference: '$image'" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
overlay="$root/deploy/k8s/overlays/$env"
namespace="nimbus-$env"
# Long enough for the Job's own activeDeadlineSeconds (600 s) to decide first.
migrate_timeout_s="${MIGRATE_TIMEOUT_S:-660}"
rollout_timeout="${ROLLOUT_TIMEOUT:-10m}"

manifests="$(mktemp)"
trap 'rm -f "$manifests"' EXIT

# The overlays name the image `<ECR repository>/nimbuspay:set-by-deploy-script`; the
# placeholder (and the repository, in case the cluster pulls from another registry) is
# replaced by the image that CI built.
kubectl kustomize "$overlay" \
  | sed -E "s#^([[:space:]]*(- )?image:[[:space:]]*).*nimbuspay:set-by-deploy-script[[:space:]]*\$#\\1${image}#" \
  > "$manifests"
if grep -q 'set-by-deploy-script' "$manifests"; then
  echo "deploy.sh: an image placeholder was left in the manifests of $env" >&2
  exit 1
fi

if [ -n "$render_only" ]; then
  cat "$manifests"
  exit 0
fi

log() { echo "deploy.sh [$env]: $*"; }

if ! kubectl get namespace "$namespace" >/dev/null 2>&1 \
  || ! kubectl -n "$namespace" get secret nimbus-secrets >/dev/null 2>&1; then
  echo "deploy.sh: Secret nimbus-secrets not found in namespace $namespace." >&2
  echo "Create it first: deploy/README.md#secrets" >&2
  exit 1
fi

log "migrating the database with $image"
kubectl -n "$namespace" delete job nimbus-migrate --ignore-not-found --wait=true
kubectl apply -f "$manifests" --selector nimbuspay.io/deploy-phase=pre-rollout

waited=0
while :; do
  succeeded="$(kubectl -n "$namespace" get job nimbus-migrate -o jsonpath='{.status.succeeded}')"
  failed="$(kubectl -n "$namespace" get job nimbus-migrate -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}')"
  if [ "${succeeded:-0}" -ge 1 ]; then
    break
  fi
  if [ "$failed" = "True" ] || [ "$waited" -ge "$migrate_timeout_s" ]; then
    echo "deploy.sh: the migration Job did not complete; nothing was rolled out. Its logs:" >&2
    kubectl -n "$namespace" logs job/nimbus-migrate --all-containers --tail=200 >&2 || true
    exit 1
  fi
  sleep 5
  waited=$((waited + 5))
done
log "migrations applied"

log "rolling out"
kubectl apply -f "$manifests"
kubectl -n "$namespace" rollout status deployment/nimbus-api --timeout="$rollout_timeout"
kubectl -n "$namespace" rollout status deployment/nimbus-worker --timeout="$rollout_timeout"
log "done: $image"
