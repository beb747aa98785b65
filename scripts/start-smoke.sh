#!/usr/bin/env bash
# The README's first command as a new user runs it, on whatever Node is first on PATH (in CI, the
# machine's own): `npm install && npm start`, until the service is ready, then Ctrl+C (SIGINT to
# the whole process group, as a terminal sends it). Fails when it does not get ready or does not
# stop cleanly. The embedded database lives in a temporary DATA_DIR, removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ready_within_s=90
stopped_within_s=30

echo "# start smoke: npm install && npm start on Node.js $(node --version) ($(command -v node))"
npm install --no-audit --no-fund

work="$(mktemp -d)"
# Run as root, the embedded PostgreSQL runs as the postgres user, which must enter DATA_DIR.
chmod 755 "$work"
log="${work}/start.log"
port="$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })")"
group=''
finish () {
  if [ -n "${group}" ] && kill -0 -- "-${group}" 2>/dev/null; then kill -KILL -- "-${group}" 2>/dev/null || true; fi
  rm -rf "${work}"
}
trap finish EXIT
fail () {
  echo "start smoke: $1; its output:" >&2
  cat "${log}" >&2
  exit 1
}

started=$SECONDS
DATA_DIR="${work}/data" PORT="${port}" setsid npm start >"${log}" 2>&1 &
group=$!
until node -e "fetch('http://127.0.0.1:${port}/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; do
  kill -0 "${group}" 2>/dev/null || fail "npm start exited before it was ready"
  [ $((SECONDS - started)) -lt "${ready_within_s}" ] || fail "not ready within ${ready_within_s} s"
  sleep 0.5
done
echo "# ready after $((SECONDS - started)) s on port ${port}; Ctrl+C"

kill -INT -- "-${group}"
status=0
wait "${group}" || status=$?
# npm itself ends on the SIGINT (130); the service and its PostgreSQL finish closing after it.
[ "${status}" -eq 0 ] || [ "${status}" -eq 130 ] || fail "npm start exited with ${status} on SIGINT"
stopping=$SECONDS
while kill -0 -- "-${group}" 2>/dev/null; do
  [ $((SECONDS - stopping)) -lt "${stopped_within_s}" ] || fail "still running ${stopped_within_s} s after SIGINT"
  sleep 0.2
done
group=''
grep -q '"msg":"stopped"' "${log}" || fail "the service did not report a clean stop"
echo "# stopped cleanly $((SECONDS - stopping)) s after SIGINT"
