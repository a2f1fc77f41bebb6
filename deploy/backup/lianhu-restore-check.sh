#!/usr/bin/env bash
# Restore drill (lianhu-restore-check.timer, weekly; CI runs it too): restore the latest dump in BACKUP_DIR
# (or the file given) into a scratch database, print its counts, then run `manage.py check`,
# `migrate --check` and a compliance sweep against it. Exit status non-zero if any step fails.
#
#   deploy/backup/lianhu-restore-check.sh [FILE.dump]
#
# DATABASE_URL names the live database only to find the server and the account; nothing is written to it.
# RESTORE_CHECK_DB (default lianhu_restore_check) is dropped and created again: the account needs CREATEDB.
# The sweep runs in-process with no broker, no shared cache and no outgoing mail, so a drill never reaches
# the live queue, the live sessions or the clerks' mailboxes. KEEP_SCRATCH=1 keeps the scratch database.
set -euo pipefail

APP_DIR="${APP_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
PY="${PY:-$APP_DIR/.venv/bin/python}"
BACKUP_DIR="${BACKUP_DIR:-/srv/backup/lianhu}"
SCRATCH="${RESTORE_CHECK_DB:-lianhu_restore_check}"
: "${DATABASE_URL:?DATABASE_URL is not set (source /etc/lianhu/lianhu.env)}"

log() { printf '%s lianhu-restore-check %s\n' "$(date '+%F %T')" "$*"; }

dump="${1:-}"
if [ -z "$dump" ]; then
    dump="$(ls -1 "$BACKUP_DIR"/lianhu-*.dump 2>/dev/null | sort | tail -n 1 || true)"
    [ -n "$dump" ] || { log "no lianhu-*.dump in $BACKUP_DIR"; exit 1; }
fi
[ -f "$dump" ] || { log "no such file: $dump"; exit 1; }
if [ -f "$dump.sha256" ]; then
    (cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$dump").sha256")
    log "checksum ok"
fi

# The same server and account, another database name: the maintenance database and the scratch one.
url_with_db() {
    "$PY" - "$DATABASE_URL" "$1" <<'PYEOF'
import sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
# urlunsplit would drop the "//" of an empty host (postgres:///lianhu: the local socket).
print(f"postgresql://{url.netloc}/{sys.argv[2]}" + (f"?{url.query}" if url.query else ""))
PYEOF
}
MAINT_URL="$(url_with_db postgres)"
SCRATCH_URL="$(url_with_db "$SCRATCH")"

log "restoring $dump into $SCRATCH"
psql -v ON_ERROR_STOP=1 -q "$MAINT_URL" \
    -c "DROP DATABASE IF EXISTS \"$SCRATCH\" WITH (FORCE)" -c "CREATE DATABASE \"$SCRATCH\""
pg_restore --no-owner --no-acl --exit-on-error --dbname="$SCRATCH_URL" "$dump"

counts="$(psql -At -F ' ' -v ON_ERROR_STOP=1 "$SCRATCH_URL" -c "
    SELECT (SELECT count(*) FROM communities_community), (SELECT count(*) FROM staffing_person),
           (SELECT count(*) FROM compliance_finding)")"
read -r communities persons findings <<<"$counts"
# One line a script can read (CI compares it with the source database's counts).
echo "restored counts: communities=$communities persons=$persons findings=$findings"

scratch_env=(env -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u DJANGO_CACHE_URL -u SENTRY_DSN
             DATABASE_URL="$SCRATCH_URL" DJANGO_EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend)
cd "$APP_DIR"
log "manage.py check"
"${scratch_env[@]}" "$PY" manage.py check
log "manage.py migrate --check (the dump matches this code's migrations)"
"${scratch_env[@]}" "$PY" manage.py migrate --check >/dev/null
log "manage.py compliance_sweep"
"${scratch_env[@]}" "$PY" manage.py compliance_sweep | tail -n 3

if [ "${KEEP_SCRATCH:-0}" != "1" ]; then
    psql -q "$MAINT_URL" -c "DROP DATABASE IF EXISTS \"$SCRATCH\" WITH (FORCE)"
fi
log "ok: $dump restores, passes check and sweeps"
