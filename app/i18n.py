"""Simplified Chinese by default; English for maintainers. The catalogue compiles itself when stale."""
from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import flask_babel
from flask import request, session
from flask.globals import _cv_app  # the app context without a proxy lookup
from flask_babel import Domain, get_translations
from flask_login import current_user

from app.extensions import babel

LOCALES = ("zh_CN", "en")
log = logging.getLogger(__name__)


def select_locale() -> str:
    chosen = session.get("locale") if request else None
    if chosen in LOCALES:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    return "zh_CN"


def compile_catalogues(folder: Path) -> None:
    """Compile each .po to .mo when the .mo is missing or older (no build step on a Windows PC)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in folder.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        try:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
        except OSError as exc:  # read-only install: use what is there
            log.warning("cannot compile %s: %s", po_path, exc)


def label_in(context: str, message: str):
    """A label translated for one record type (its key as the context): a type whose word needs another
    Chinese than elsewhere ("Note" on a handover: 交接备注) gets its own without changing the others'.
    Without a translation in that context, the word's usual translation."""
    from flask_babel import LazyString, gettext, pgettext

    def translate() -> str:
        own = pgettext(context, message)
        return own if own != message else gettext(message)
    return LazyString(translate)


def _babel_context() -> SimpleNamespace | None:
    """The app context's Babel context (where Flask-Babel keeps the locale and the domain), as Flask-Babel's
    own `_get_current_context` finds it, but from the context variable instead of three lookups through the
    `g` proxy: each word translated in Python asks for it twice (a list page: about 70 words)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    found = app_ctx.g.__dict__.get("_flask_babel")
    if found is None:
        found = app_ctx.g.__dict__["_flask_babel"] = SimpleNamespace()
    return found


class RequestDomain(Domain):
    """Flask-Babel's message domain, holding the request's translations in the request's Babel context: a page
    translates a hundred or more words, and each paid the locale lookup, its name and the cache key again."""

    def get_translations(self):
        ctx = _babel_context()
        if ctx is None:
            return super().get_translations()
        held = _held(ctx)
        if held is not None:
            return held
        translations = super().get_translations()
        ctx.hall_translations = (ctx.babel_locale, translations)
        return translations


def init_app(app) -> None:
    compile_catalogues(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    flask_babel._get_current_context = _babel_context  # get_domain() and get_translations() look it up by name
    babel.init_app(app, locale_selector=select_locale)
    babel.domain_instance = RequestDomain(domain=app.extensions["babel"].default_domain)
    # Templates' _() and friends: the held translations first (Flask-Babel's own callables look up the
    # domain, the context and the locale through Flask's proxies for each of a page's hundred words).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n))


def _translations():
    """The request's translations as RequestDomain holds them, else Flask-Babel's lookup (which holds them)."""
    return _held(_babel_context()) or get_translations()


def _held(babel_ctx):
    """The translations a request's Babel context holds, while its locale is still theirs (force_locale
    changes it), else None."""
    held = getattr(babel_ctx, "hall_translations", None)
    return held[1] if held is not None and held[0] is getattr(babel_ctx, "babel_locale", None) else None
