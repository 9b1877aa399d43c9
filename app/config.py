"""Configuration from the environment, with safe defaults for a single office PC."""
from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    path = Path(os.environ.get("HALL_INSTANCE", ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


EPHEMERAL_KEY_MESSAGE = (
    "实例文件夹 {folder} 无法写入或读取会话密钥（{reason}）：本次运行使用临时密钥，"
    "重新启动后所有人需要重新登录。请检查该文件夹的权限，或设置环境变量 SECRET_KEY。"
)


def secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    return _secret_key(folder)[0]


def _secret_key(folder: Path) -> tuple[str, str | None]:
    """The key, and a Chinese sentence when it could not be kept (read-only instance folder): then a
    key for this run only, so the server still starts and sessions end at restart."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"], None
    key_file = folder / "secret_key"
    try:
        return _kept_key(key_file), None
    except OSError as exc:
        problem = EPHEMERAL_KEY_MESSAGE.format(folder=folder, reason=exc.strerror or exc)
        print(f"警告：{problem}\nWARNING: cannot keep {key_file} ({exc}); using a key for this run only, "
              f"sessions end at restart. Check the folder's permissions or set SECRET_KEY.", file=sys.stderr)
        return secrets.token_hex(32), problem


KEY_WAIT_SECONDS = 5  # how long a worker waits for the key another worker is writing


def _kept_key(key_file: Path) -> str:
    """The key in key_file, made there first if it does not exist. Several web workers start at once:
    the file is created with O_EXCL, so exactly one of them writes a key and all of them read that one
    (a worker that lost the race waits for the winner's write instead of reading an empty file)."""
    try:
        os.close(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    else:  # this process created the file: it alone writes the key into it
        key = secrets.token_hex(32)
        try:
            key_file.write_text(key)
        except OSError:
            key_file.unlink(missing_ok=True)  # no empty key file left behind
            raise
        return key
    deadline = time.monotonic() + KEY_WAIT_SECONDS
    while True:
        key = key_file.read_text().strip()
        if key or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # created a moment ago by another process, which is writing it
    if not key:
        raise OSError(f"{key_file} is empty; delete it to have a new key made (everyone logs in again)")
    return key


def database_url(folder: Path) -> str:
    return normalise_url(os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'hall.sqlite3'}")


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean the psycopg 3 driver."""
    if url.startswith("postgres://"):  # the old Heroku-style scheme
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def from_environment() -> dict:
    folder = instance_dir()
    key, key_problem = _secret_key(folder)
    return {
        "SECRET_KEY": key,
        "SECRET_KEY_PROBLEM": key_problem,  # set when the key could not be kept: sessions end at restart
        "SQLALCHEMY_DATABASE_URI": database_url(folder),
        "INSTANCE_DIR": str(folder),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Office LANs serve plain http; set SESSION_COOKIE_SECURE=1 behind https.
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # The 8 hours run from the last page seen, renewed at most every SESSION_RENEW_SECONDS (app/auth.py),
        # not by signing a new cookie on every response.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_RENEW_SECONDS": 300,
        # No form of this office is larger; a bigger body is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "PDF_FONT_PATH": os.environ.get("PDF_FONT_PATH", ""),
        # Where citizens' phones reach this system (http://192.168.1.20:5000): every printed link and QR code
        # uses it. Unset: `serve` sets the office-network address it prints; else the address a request came to.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
        "PAGE_SIZE": 25,
        # Daily backups go here (a USB disk or a network share works); `flask backup --to` overrides it.
        "BACKUP_DIR": os.environ.get("BACKUP_DIR") or str(folder / "backups"),
        # Days the audit trail is kept; unset = forever. Never below 183 days (jobs.housekeeping clamps it).
        "AUDIT_KEEP_DAYS": os.environ.get("AUDIT_KEEP_DAYS", "").strip() or None,
        # The hall's own shared kiosk(s) (addresses or networks, comma-separated): the public case lookup
        # gets a much higher per-address limit than other addresses; the per-receipt limit applies to all.
        "KIOSK_ADDRESSES": [a.strip() for a in os.environ.get("KIOSK_ADDRESSES", "").split(",") if a.strip()],
    }
