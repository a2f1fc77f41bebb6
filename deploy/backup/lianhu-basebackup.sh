#!/usr/bin/env bash
# Weekly base backup for point-in-time recovery (lianhu-basebackup.timer), run as the postgres user.
# A base backup plus the archived WAL since (archive-wal.sh) restores the cluster to any moment after it.
# Keeps BASEBACKUP_KEEP (default 5) base backups, drops the WAL older than the oldest kept one, and copies
# the new base backup to BASEBACKUP_COPY_TO (the second location).
set -euo pipefail
[ -f /etc/lianhu/backup.env ] && . /etc/lianhu/backup.env
BASEBACKUP_DIR="${BASEBACKUP_DIR:-/srv/backup/base}"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/srv/backup/wal}"
KEEP="${BASEBACKUP_KEEP:-5}"

stamp="$(date +%Y-%m-%dT%H%M%S)"
target="$BASEBACKUP_DIR/$stamp"
pg_basebackup --pgdata="$target.part" --format=tar --gzip --wal-method=stream --checkpoint=fast --label="lianhu-$stamp"
mv "$target.part" "$target"
echo "base backup: $target ($(du -sh "$target" | cut -f1))"
[ -z "${BASEBACKUP_COPY_TO:-}" ] || rsync -a "$target" "$BASEBACKUP_COPY_TO/"

# Old base backups, and the WAL only they needed.
ls -1d "$BASEBACKUP_DIR"/20* | sort | head -n -"$KEEP" | xargs -r rm -rf
oldest="$(ls -1d "$BASEBACKUP_DIR"/20* | sort | head -n 1)"
first_wal="$(tar -xzOf "$oldest/base.tar.gz" backup_label 2>/dev/null | sed -n 's/^START WAL LOCATION: .* (file \(.*\))$/\1/p')"
if [ -n "$first_wal" ]; then
    pg_archivecleanup "$WAL_ARCHIVE_DIR" "$first_wal"
fi
