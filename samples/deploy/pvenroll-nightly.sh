#!/bin/sh
# Nightly pvenroll import: one report directory per night, a state file
# across nights, JSON logs, and an action per exit code. Used by the crontab
# line, the systemd service and the Kubernetes CronJob beside this file.
#
#   PVENROLL_EXPORT   the membership system's CSV export (required)
#   PVENROLL_HOME     where the state file and the reports live (/var/lib/pvenroll)
#   PERKVILLE_BUSINESS, and PERKVILLE_TOKEN or PVENROLL_TOKEN_FILE
set -u
home=${PVENROLL_HOME:-/var/lib/pvenroll}
out="$home/reports/$(date +%F)"
token_args=""
[ -n "${PVENROLL_TOKEN_FILE:-}" ] && token_args="--token-file $PVENROLL_TOKEN_FILE"
mkdir -p "$home/reports"

# A rerun the same night (after exit 1, 4 or 130) gets its own folder.
n=1
while [ -e "$out" ]; do n=$((n + 1)); out="$home/reports/$(date +%F)-$n"; done

# shellcheck disable=SC2086 # token_args is one flag and a path, or nothing
pvenroll enroll $token_args \
  --state "$home/state.db" \
  --out "$out" \
  --log-format json --quiet \
  --max-duration "${PVENROLL_MAX_DURATION:-3h}" \
  ${PVENROLL_FLAGS:-} \
  "$PVENROLL_EXPORT"
code=$?

case $code in
  0) echo "pvenroll: done; report in $out" ;;
  1) echo "pvenroll: some rows failed; they are retried next night ($out/followup/failed.csv)"; code=0 ;;
  4) echo "pvenroll: --max-duration reached; the state file resumes the rest next night"; code=0 ;;
  130) echo "pvenroll: interrupted; the state file resumes next run" ;;
  2) echo "pvenroll: the command or the export is wrong; nothing was sent. Fix it: $out may not exist" >&2 ;;
  3) echo "pvenroll: the API refused the token or its rights; nothing more was sent. A person must look ($out/summary.md)" >&2 ;;
  5) echo "pvenroll: another run holds $home/state.db; nothing was done" >&2 ;;
  *) echo "pvenroll: unexpected exit code $code" >&2 ;;
esac
exit $code
