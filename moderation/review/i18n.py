"""UI language: Simplified Chinese by default, English as a choice (Babel message catalogues).

The catalogues are gettext ``.po`` files in ``moderation/review/locale/<lang>/LC_MESSAGES/``,
read with Babel and compiled in memory at first use, so there is no build step and no binary
``.mo`` file to keep in sync. Message ids are the English text, so English needs no catalogue.
Jinja templates use the standard ``jinja2.ext.i18n`` extension (``{{ _("...") }}``); which
catalogue a render uses is a context variable set per request, so concurrent requests in
different languages never share one.
"""

from __future__ import annotations

import contextvars
import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Request

LOCALE_DIR = Path(__file__).parent / "locale"
#: Languages the UI offers: code -> its own name (shown in the switcher).
LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}
#: ``lang`` attribute of the page per UI language.
HTML_LANG: dict[str, str] = {"zh": "zh-Hans", "en": "en"}
LANG_COOKIE = "mod_lang"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("review_lang", default="zh")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English and unknown languages: identity)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def request_lang(request: Request) -> str:
    """The language chosen by cookie, else the configured default."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    default: str = request.app.state.settings.default_lang
    return default if default in LANGUAGES else "zh"


def use(lang: str) -> None:
    """Make ``lang`` the language of what this request renders next."""
    _current.set(lang if lang in LANGUAGES else "zh")


def current() -> str:
    return _current.get()


def _(message: str, **params: Any) -> str:
    """Translate ``message`` into the current language, then fill ``%(name)s`` placeholders."""
    text = translations(_current.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def install(env: Any) -> None:
    """Give a Jinja environment the i18n extension, bound to the current request's language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(
        lambda s: translations(_current.get()).gettext(s),
        lambda s, p, n: translations(_current.get()).ngettext(s, p, n),
        newstyle=True,
    )
