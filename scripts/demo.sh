#!/usr/bin/env bash
# PACE's main job, offline: a six-node site forms (roles assigned by the policy), then a
# manager's hardware fails and a new node arrives; the same policy heals the control plane.
set -euo pipefail
cd "$(dirname "$0")/.."
pace() { node bin/pace.js "$@"; }
echo "== 1. policy check"
pace policy check policies/*.yaml
echo
echo "== 2. a six-node site forms: every node evaluates the same policy over the same view"
pace policy plan policies/site-ha.yaml --members policies/examples/site-ha.members.json
echo
echo "== 3. edge-01 (a manager) fails: the best-ranked worker is promoted, nothing else moves"
pace policy plan policies/site-ha.yaml --members policies/examples/site-ha.after-failure.members.json
echo
echo "== 4. why edge-04 was promoted"
pace policy explain policies/site-ha.yaml --members policies/examples/site-ha.after-failure.members.json --node edge-04
