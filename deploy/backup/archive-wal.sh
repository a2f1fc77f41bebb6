#!/usr/bin/env bash
# PostgreSQL archive_command (deploy/postgresql/lianhu-wal.conf), run as the postgres user:
#   archive_command = '/srv/lianhu/app/deploy/backup/archive-wal.sh "%p" "%f"'
# Copies one finished WAL segment to WAL_ARCHIVE_DIR and to WAL_COPY_TO (the second location). A non-zero
# exit makes PostgreSQL keep the segment and try again, so nothing is lost while the copy target is down.
set -euo pipefail
src="$1"; name="$2"
WAL_ARCHIVE_DIR="${WAL_ARCHIVE_DIR:-/srv/backup/wal}"
[ -f /etc/lianhu/backup.env ] && . /etc/lianhu/backup.env

# Never overwrite a segment already archived (a second cluster pointed here by mistake must fail loudly).
if [ -f "$WAL_ARCHIVE_DIR/$name" ]; then
    cmp -s "$src" "$WAL_ARCHIVE_DIR/$name" || { echo "archive-wal: $name differs from the archived copy" >&2; exit 1; }
else
    cp "$src" "$WAL_ARCHIVE_DIR/$name.part"
    mv "$WAL_ARCHIVE_DIR/$name.part" "$WAL_ARCHIVE_DIR/$name"
fi
if [ -n "${WAL_COPY_TO:-}" ]; then
    rsync -a --partial "$WAL_ARCHIVE_DIR/$name" "$WAL_COPY_TO/"
fi
