#!/usr/bin/env bash
# The demo behind `make run`: a local broker, the five channel simulators, their
# connector configs registered in Kafka, and the daemon in the foreground.
#
#   make run                                   # this script, after `make install`
#   .venv/bin/unionhub tail nanshan --follow   # in a second terminal: cases arriving
#
# Ctrl-C stops the daemon and the simulators; the broker keeps running
# (stop it with `.venv/bin/unionhub kafka down`). Knobs (environment):
#   DEMO_SEED (1), DEMO_SPEED (60: the simulators' live hour lasts a minute),
#   DEMO_SIM_PORT (8900), DEMO_DIR (var/demo), DEMO_EXTERNAL_KAFKA=1 (use the broker
#   at UNIONHUB_KAFKA_BOOTSTRAP as it is, do not start one), and every UNIONHUB_* setting.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
UNIONHUB=("$PY" -m unionhub)
DEMO_SEED=${DEMO_SEED:-1}
DEMO_SPEED=${DEMO_SPEED:-60}
DEMO_SIM_PORT=${DEMO_SIM_PORT:-8900}
DEMO_DIR=${DEMO_DIR:-var/demo}
# The admin API refuses every call without a token; the demo makes one up.
export UNIONHUB_ADMIN_TOKEN=${UNIONHUB_ADMIN_TOKEN:-demo-$(date +%s)-$RANDOM}

step() { printf '\n==> %s\n' "$*"; }

if [[ "${DEMO_EXTERNAL_KAFKA:-0}" != 1 ]]; then
  step "starting the local Kafka broker (${UNIONHUB_KAFKA_BOOTSTRAP:-127.0.0.1:9092})"
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
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "${DAEMON_PID}" ]] && kill -0 "${DAEMON_PID}" 2>/dev/null; then
    kill -TERM "${DAEMON_PID}" 2>/dev/null || true
    wait "${DAEMON_PID}" 2>/dev/null || true
  fi
  kill -TERM "${SIM_PID}" 2>/dev/null || true
  wait "${SIM_PID}" 2>/dev/null || true
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

step "running the daemon: connectors + router; admin API and metrics on :${UNIONHUB_HTTP_PORT:-8083}"
cat <<HINT
   In a second terminal, watch Nanshan's federation receive its cases:
       .venv/bin/unionhub tail nanshan --follow
   and the whole system:      .venv/bin/unionhub status
   metrics:                   curl -s localhost:${UNIONHUB_HTTP_PORT:-8083}/metrics
   Ctrl-C here stops the daemon and the simulators.
HINT
"${UNIONHUB[@]}" run &
DAEMON_PID=$!
wait "${DAEMON_PID}"
