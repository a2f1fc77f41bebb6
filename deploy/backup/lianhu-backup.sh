#!/usr/bin/env bash
# Daily backup (lianhu-backup.timer, 03:00): a pg_dump in custom format of DATABASE_URL's database and a
# tar of DJANGO_MEDIA_ROOT into BACKUP_DIR, each with a .sha256, then copied to BACKUP_COPY_TO, the second
# location (异地备份: an rsync target "host:/path" or a mounted path). Files older than BACKUP_KEEP_DAYS go.
# Point-in-time recovery comes from the WAL archive (archive-wal.sh, lianhu-basebackup.sh); this dump is
# the simple, portable copy that lianhu-restore-check.sh restores every week.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL is not set (source /etc/lianhu/lianhu.env)}"
BACKUP_DIR="${BACKUP_DIR:-/srv/backup/lianhu}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-30}"
MEDIA_ROOT="${DJANGO_MEDIA_ROOT:-}"
# libpq takes postgres:// and postgresql:// URIs as they are; django-environ's other spellings are mapped.
PG_URL="$(printf '%s' "$DATABASE_URL" | sed -E 's#^(pgsql|psql|postgis)://#postgresql://#')"

log() { printf '%s lianhu-backup %s\n' "$(date '+%F %T')" "$*"; }

mkdir -p "$BACKUP_DIR"
stamp="$(date +%Y-%m-%dT%H%M%S)"
dump="$BACKUP_DIR/lianhu-$stamp.dump"

# Written under a temporary name: a dump cut short never looks like the latest backup.
pg_dump --format=custom --no-owner --no-acl --file="$dump.part" "$PG_URL"
mv "$dump.part" "$dump"
(cd "$BACKUP_DIR" && sha256sum "$(basename "$dump")" > "$(basename "$dump").sha256")
files=("$dump" "$dump.sha256")
log "database: $dump ($(du -h "$dump" | cut -f1))"

if [ -n "$MEDIA_ROOT" ] && [ -d "$MEDIA_ROOT" ]; then
    media="$BACKUP_DIR/media-$stamp.tgz"
    # Background exports (media/exports) are left out: copies of the database's rows, possibly with full ID
    # numbers, that the retention purge deletes after export_days; a backup must not keep them for years.
    tar czf "$media.part" --exclude="$(basename "$MEDIA_ROOT")/exports" -C "$(dirname "$MEDIA_ROOT")" "$(basename "$MEDIA_ROOT")"
    mv "$media.part" "$media"
    (cd "$BACKUP_DIR" && sha256sum "$(basename "$media")" > "$(basename "$media").sha256")
    files+=("$media" "$media.sha256")
    log "media: $media ($(du -h "$media" | cut -f1))"
fi

if [ -n "${BACKUP_COPY_TO:-}" ]; then
    rsync -a --partial "${files[@]}" "$BACKUP_COPY_TO/"
    log "copied to $BACKUP_COPY_TO"
else
    log "WARNING: BACKUP_COPY_TO is not set: no copy off this machine"
fi

find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'lianhu-*.dump*' -o -name 'media-*.tgz*' \) \
    -mtime +"$BACKUP_KEEP_DAYS" -print -delete | sed 's/^/removed /'
log "done"
