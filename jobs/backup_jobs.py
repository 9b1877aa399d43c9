"""The daily backup: a checked copy in BACKUP_DIR, then retention (30 daily, 12 monthly)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import current_app

from app.backup import make_backup, prune


def daily_backup(at: datetime) -> str:
    app = current_app._get_current_object()
    folder = Path(app.config["BACKUP_DIR"])
    path = make_backup(app, folder, at=at)  # a failure (disk full, share gone) is recorded as a failed run
    deleted = prune(folder, at)
    return f"{path.name} written to {folder} and checked; {len(deleted)} old backups deleted"
