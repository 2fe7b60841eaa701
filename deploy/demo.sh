#!/usr/bin/env bash
# The demo behind `make run`: a local broker, the five channel simulators, their
# connector configs registered in Kafka, the daemon, and the simulated district
# federations and city desk acting on their cases through the case API, on a fast
# loop clock; the federations' actions scroll in the foreground.
#
#   make run                                   # this script, after `make install`
#   . var/demo/demo.env                        # in a second terminal: this demo's settings,
#   .venv/bin/unionhub stats                   # then the figures, the cases, what arrives
#
# Ctrl-C stops the federations, the daemon and the simulators; the broker keeps running
# (stop it with `.venv/bin/unionhub kafka down`). Knobs (environment):
#   DEMO_SEED (1), DEMO_SPEED (10: the simulators' live hour lasts 6 minutes),
#   DEMO_LOOP_SPEED (1440: a working day of the case loop passes in a minute),
#   DEMO_SIM_PORT (8900), DEMO_DIR (var/demo), DEMO_EXTERNAL_KAFKA=1 (use the broker
#   at UNIONHUB_KAFKA_BOOTSTRAP as it is, do not start one), and every UNIONHUB_* setting.
#
# The loop clock (caseloop/loopclock.py) is chosen on the first run with a broker (a new
# cluster id) and kept in DEMO_DIR/loop-clock-<port>.env: loop time starts at the coming
# Monday 00:00 CST and runs DEMO_LOOP_SPEED times faster. It must not change while the
# broker keeps the cases (loop time would jump); to start the loop afresh, stop the broker
# and delete its data (~/.local/share/unionhub/kafka-<port>): the next run sees a new
# cluster, picks a new clock and drops the daemon's case store of the old one.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
UNIONHUB=("$PY" -m unionhub)
DEMO_SEED=${DEMO_SEED:-1}
DEMO_SPEED=${DEMO_SPEED:-10}
DEMO_LOOP_SPEED=${DEMO_LOOP_SPEED:-1440}
DEMO_SIM_PORT=${DEMO_SIM_PORT:-8900}
DEMO_DIR=${DEMO_DIR:-var/demo}
export UNIONHUB_KAFKA_BOOTSTRAP=${UNIONHUB_KAFKA_BOOTSTRAP:-127.0.0.1:9092}
HTTP_PORT=${UNIONHUB_HTTP_PORT:-8083}
# The admin API refuses every call without a token; the demo makes one up.
export UNIONHUB_ADMIN_TOKEN=${UNIONHUB_ADMIN_TOKEN:-demo-$(date +%s)-$RANDOM}
mkdir -p "${DEMO_DIR}"
# The case API's tokens (one per district and the city desk) are files here.
export UNIONHUB_SECRETS_DIR=${UNIONHUB_SECRETS_DIR:-$(cd "${DEMO_DIR}" && pwd)/secrets}

step() { printf '\n==> %s\n' "$*"; }

if [[ "${DEMO_EXTERNAL_KAFKA:-0}" != 1 ]]; then
  step "starting the local Kafka broker (${UNIONHUB_KAFKA_BOOTSTRAP})"
  "${UNIONHUB[@]}" kafka up
fi
step "creating the topics"
"${UNIONHUB[@]}" topics ensure

step "starting the channel simulators on port ${DEMO_SIM_PORT} (seed ${DEMO_SEED})"
mkdir -p "${DEMO_DIR}/simulators"
rm -f "${DEMO_DIR}"/simulators/*.yaml
"${UNIONHUB[@]}" simulate --seed "${DEMO_SEED}" --port "${DEMO_SIM_PORT}" \
  --speed "${DEMO_SPEED}" --out "${DEMO_DIR}/simulators" >"${DEMO_DIR}/simulators.log" 2>&1 &
SIM_PID=$!
DAEMON_PID=
FED_PID=
stop_pid() {
  if [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  trap - EXIT INT TERM
  stop_pid "${FED_PID}"
  stop_pid "${DAEMON_PID}"
  stop_pid "${SIM_PID}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The simulators write one connector config per channel once they serve.
for _ in $(seq 1 300); do
  grep -q '^ready' "${DEMO_DIR}/simulators.log" 2>/dev/null && break
  kill -0 "${SIM_PID}" 2>/dev/null || { cat "${DEMO_DIR}/simulators.log"; exit 1; }
  sleep 0.2
done
grep -q '^ready' "${DEMO_DIR}/simulators.log" || { echo "simulators did not start" >&2; exit 1; }

step "registering the connector configs (kept in Kafka, secrets masked on display)"
"${UNIONHUB[@]}" connectors add --replace "${DEMO_DIR}"/simulators/*.yaml
"${UNIONHUB[@]}" connectors list

step "case API tokens: one per district and the city desk (files in ${UNIONHUB_SECRETS_DIR}/access)"
ACTORS=$("$PY" -c 'from schemas.shenzhen import DISTRICTS; print(*(d.slug for d in DISTRICTS), "city")')
mkdir -p "${UNIONHUB_SECRETS_DIR}/access"
chmod 700 "${UNIONHUB_SECRETS_DIR}"
registered=$("${UNIONHUB[@]}" access list 2>/dev/null | awk '{print $1}' || true)
pids=()
for actor in ${ACTORS}; do
  file="${UNIONHUB_SECRETS_DIR}/access/${actor}.token"
  if [[ ! -s "${file}" ]]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"${file}")
  fi
  if ! grep -qx "${actor}" <<<"${registered}"; then
    # A reference, not the token: the daemon reads the file when a call needs it.
    "${UNIONHUB[@]}" access set "${actor}" "\${file:access/${actor}.token}" >/dev/null 2>&1 &
    pids+=($!)
  fi
done
for pid in ${pids[@]+"${pids[@]}"}; do wait "${pid}"; done
echo "   ${ACTORS}"

# The loop clock belongs to the broker's life: chosen when the demo first meets a broker (by
# its cluster id), then reused (see the header). Chosen here, just before the daemon starts,
# so that a new loop starts on Monday 00:00 CST.
LOOP_CLOCK="${DEMO_DIR}/loop-clock-${UNIONHUB_KAFKA_BOOTSTRAP##*:}.env"
read -r CLUSTER_ID CASE_STORE < <("$PY" -c 'import asyncio, os
from core.kafka.clients import admin_client, configure_clients
from core.settings import Settings
from review.store import case_store_path
async def main(settings):
    configure_clients(settings, os.environ)
    async with admin_client(settings.kafka_bootstrap) as admin:
        print((await admin.describe_cluster())["cluster_id"], case_store_path(settings))
asyncio.run(main(Settings()))')
[[ -n "${CLUSTER_ID:-}" ]] || { echo "the broker did not say its cluster id" >&2; exit 1; }
if ! grep -qsx "DEMO_CLUSTER_ID=${CLUSTER_ID}" "${LOOP_CLOCK}"; then
  anchor=$("$PY" -c 'import sys; from simulators.federations import monday_anchor
print(monday_anchor(float(sys.argv[1])).isoformat())' "${DEMO_LOOP_SPEED}")
  printf 'DEMO_CLUSTER_ID=%s\nexport UNIONHUB_LOOP_SPEED=%s\nexport UNIONHUB_LOOP_ANCHOR=%s\n' \
    "${CLUSTER_ID}" "${DEMO_LOOP_SPEED}" "${anchor}" >"${LOOP_CLOCK}"
  # The daemon's case store is a view of the topics, rebuilt from them; one left by an older
  # broker would serve that broker's cases and resume at its offsets.
  rm -f "${CASE_STORE}" "${CASE_STORE}-wal" "${CASE_STORE}-shm"
  echo "   broker cluster ${CLUSTER_ID}: a new loop clock (${LOOP_CLOCK}), a new case store"
fi
# shellcheck source=/dev/null
. "${LOOP_CLOCK}"
if [[ "${UNIONHUB_LOOP_SPEED}" != "${DEMO_LOOP_SPEED}" ]]; then
  echo "note: keeping loop speed ${UNIONHUB_LOOP_SPEED} of ${LOOP_CLOCK} (see deploy/demo.sh)"
fi
# What a second terminal needs to see this demo as it is (the CLI reads loop time too).
cat >"${DEMO_DIR}/demo.env" <<ENV
export UNIONHUB_KAFKA_BOOTSTRAP=${UNIONHUB_KAFKA_BOOTSTRAP}
export UNIONHUB_LOOP_SPEED=${UNIONHUB_LOOP_SPEED}
export UNIONHUB_LOOP_ANCHOR=${UNIONHUB_LOOP_ANCHOR}
export UNIONHUB_SECRETS_DIR=${UNIONHUB_SECRETS_DIR}
export UNIONHUB_NAMESPACE=${UNIONHUB_NAMESPACE:-}
ENV

step "running the daemon (connectors + router + case loop; logs in ${DEMO_DIR}/daemon.log)"
echo "   loop clock: ${UNIONHUB_LOOP_SPEED}x from ${UNIONHUB_LOOP_ANCHOR} (${LOOP_CLOCK})"
"${UNIONHUB[@]}" run >"${DEMO_DIR}/daemon.log" 2>&1 &
DAEMON_PID=$!
daemon_ready() {
  "$PY" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:${HTTP_PORT}/readyz" 2>/dev/null
}
for _ in $(seq 1 300); do
  daemon_ready && break
  kill -0 "${DAEMON_PID}" 2>/dev/null || { tail -n 30 "${DEMO_DIR}/daemon.log"; exit 1; }
  sleep 0.2
done
daemon_ready || { echo "the daemon did not get ready" >&2; exit 1; }

step "the district federations and the city desk at work (simulated; ledger ${DEMO_DIR}/federations.jsonl)"
cat <<HINT
   Each line below is one action through the case API, at its loop time (a working day
   passes in $(awk "BEGIN { printf \"%g\", 86400 / ${UNIONHUB_LOOP_SPEED} }") s; weekends and holidays still come).
   In a second terminal, after \`. ${DEMO_DIR}/demo.env\` (this demo's broker and loop clock):
       .venv/bin/unionhub stats                         # the figures of this (loop) week
       .venv/bin/unionhub stats --period month          # ... and of the month
       .venv/bin/unionhub cases list --district nanshan # Nanshan's cases, latest first
       .venv/bin/unionhub tail nanshan --follow         # what Nanshan's federation receives
       .venv/bin/unionhub status                        # the whole system
   metrics:   curl -s localhost:${HTTP_PORT}/metrics
   daemon:    tail -f ${DEMO_DIR}/daemon.log
   Ctrl-C here stops the federations, the daemon and the simulators.
HINT
"${UNIONHUB[@]}" simulate federations --daemon "http://127.0.0.1:${HTTP_PORT}" \
  --tokens "${UNIONHUB_SECRETS_DIR}/access" --seed "${DEMO_SEED}" \
  --ledger "${DEMO_DIR}/federations.jsonl" &
FED_PID=$!
# Whichever stops first (the daemon failing, or the federations) ends the demo.
wait -n "${DAEMON_PID}" "${FED_PID}" || true
kill -0 "${DAEMON_PID}" 2>/dev/null || { echo "the daemon stopped:"; tail -n 30 "${DEMO_DIR}/daemon.log"; }
