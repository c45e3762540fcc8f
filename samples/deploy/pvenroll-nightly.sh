#!/bin/sh
# Nightly pvenroll import: one report directory per night, a state file
# across nights, JSON logs (with a progress line every 30 s), and an action
# per exit code. Used by the crontab line, the systemd service and the
# Kubernetes CronJob beside this file.
#
# It prints to standard output ONLY when a person must act (exit 2, 3, 5, 6
# or an unexpected code): cron mails that output, systemd keeps it in the
# journal for its OnFailure= unit. Everything else, pvenroll's full output
# included, goes to the log file.
#
#   PVENROLL_EXPORT   the membership system's CSV export (required)
#   PVENROLL_HOME     where the state file, the reports and the log live (/var/lib/pvenroll)
#   PVENROLL_LOG      the log file ($PVENROLL_HOME/pvenroll.log; - for standard error)
#   PVENROLL_FLAGS    more enroll flags, e.g. "--preset abc-ignite --create-missing"
#   PERKVILLE_BUSINESS, and PERKVILLE_TOKEN or PVENROLL_TOKEN_FILE
set -u
: "${PVENROLL_EXPORT:?set PVENROLL_EXPORT to the export to read}"
home=${PVENROLL_HOME:-/var/lib/pvenroll}
log=${PVENROLL_LOG:-$home/pvenroll.log}
out="$home/reports/$(date +%F)"
token_args=""
[ -n "${PVENROLL_TOKEN_FILE:-}" ] && token_args="--token-file $PVENROLL_TOKEN_FILE"
mkdir -p "$home/reports" || exit 2
[ "$log" = - ] && log=/dev/stderr

# A rerun the same night (after exit 1, 4 or 130) gets its own folder.
n=1
while [ -e "$out" ]; do n=$((n + 1)); out="$home/reports/$(date +%F)-$n"; done

# This run's output, kept apart to quote its error lines in an alert.
last="$home/last-run.log"
# shellcheck disable=SC2086 # token_args is one flag and a path, or nothing
pvenroll enroll $token_args \
  --state "$home/state.db" \
  --out "$out" \
  --log-format json \
  --max-duration "${PVENROLL_MAX_DURATION:-3h}" \
  ${PVENROLL_FLAGS:-} \
  "$PVENROLL_EXPORT" >"$last" 2>&1
code=$?
cat "$last" >>"$log"

# note: for the log only. alert: for a person (standard output), and the log.
note() { echo "$(date -u +%FT%TZ) pvenroll-nightly: $*" >>"$log"; }
alert() {
  note "$*"
  echo "pvenroll nightly import on $(uname -n) needs a person: $*"
  echo
  echo "What pvenroll said:"
  grep -E '^(pvenroll|error|hint):' "$last" | sed 's/^/  /'
  echo
  echo "Full log: $log"
}

case $code in
  0) note "done; report in $out" ;;
  1) note "some rows failed; they are retried next night ($out/followup/failed.csv)"; code=0 ;;
  4) note "--max-duration reached; the state file resumes the rest next night"; code=0 ;;
  130) note "interrupted; the state file resumes the rest next run" ;;
  2) alert "exit 2: the command or the export is wrong; nothing was sent. Fix it, then run $0 again." ;;
  3) alert "exit 3: the API refused or could not be reached (token, rights, business, network); the rest were not attempted. Report: $out (if it exists)." ;;
  5) alert "exit 5: another run holds $home/state.db; nothing was done. If no pvenroll runs, look for a hung process." ;;
  6) alert "exit 6: a record of the run (the report in $out, or $home/state.db) could not be written (disk full?); the run stopped. Free space; the next run resumes from the state file." ;;
  *) alert "unexpected exit code $code." ;;
esac
exit $code
