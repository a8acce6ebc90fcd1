"""The English catalogue (docs/decisions/0002-vietnamese-msgids.md): msgids are Vietnamese, English is the
translation in src/soskdt/locale/en/LC_MESSAGES/django.po, compiled into the committed django.mo.

The "everything is translated" checks read the .po, which only ``scripts/messages`` regenerates, so strings
added to the code since the last refresh do not fail here; run ``scripts/messages`` and translate what it
reports.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"
REFRESH = "run scripts/messages, translate the entries it reports and remove their fuzzy flags"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[k] for k in sorted(self.msgstr)]


def parse_po(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """A small .po reader (no polib): the header fields and the active (non-obsolete) entries."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # which string a continuation line "..." extends
    flags: set[str] = set()

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):  # obsolete entry
            continue
        if line.startswith("#,"):
            finish()
            flags = {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        keyword, _sep, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        text = ast.literal_eval(rest) if rest else ""
        assert isinstance(text, str), (path, number, raw)
        if keyword == "msgid":
            finish()
            current = Entry(msgid=text, flags=flags, line=number)
            flags = set()
            target = ("msgid", 0)
        elif current is None:
            raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
        elif keyword == "msgid_plural":
            current.msgid_plural = text
            target = ("msgid_plural", 0)
        elif keyword == "msgstr":
            current.msgstr[0] = text
            target = ("msgstr", 0)
        elif (m := re.fullmatch(r"msgstr\[(\d+)\]", keyword)) is not None:
            current.msgstr[int(m.group(1))] = text
            target = ("msgstr", int(m.group(1)))
        elif keyword == "" and target is not None:
            kind, index = target
            if kind == "msgid":
                current.msgid += text
            elif kind == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + text
            else:
                current.msgstr[index] += text
        else:
            raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
    finish()
    header_entries = [e for e in entries if e.msgid == ""]
    assert len(header_entries) == 1, "the .po has no header entry"
    rows = (row.partition(":") for row in header_entries[0].msgstr[0].splitlines() if row.strip())
    header = {key.strip(): value.strip() for key, _sep, value in rows}
    return header, [e for e in entries if e.msgid != ""]


@pytest.fixture(autouse=True)
def _restore_the_default_language():
    # LocaleMiddleware leaves the request's language active in the thread; later tests expect Vietnamese.
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def catalogue() -> tuple[dict[str, str], list[Entry]]:
    assert PO_FILE.is_file(), f"{PO_FILE} is missing: {REFRESH}"
    return parse_po(PO_FILE)


def test_the_catalogue_header_declares_english_utf8_and_two_plural_forms(catalogue):
    header, entries = catalogue
    assert header["Language"] == "en"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert len(entries) > 1000  # every app's strings land in the one project catalogue


def test_every_msgid_in_the_po_has_an_english_translation(catalogue):
    _header, entries = catalogue
    missing = [
        f"line {e.line}: {e.msgid!r}"
        for e in entries
        if not e.translations or not all(t.strip() for t in e.translations)
    ]
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]
    assert not missing, f"{len(missing)} untranslated entries ({REFRESH}):\n" + "\n".join(missing[:30])
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries ({REFRESH}):\n" + "\n".join(fuzzy[:30])
    plural = [e for e in entries if e.msgid_plural is not None]
    assert plural and all(sorted(e.msgstr) == [0, 1] for e in plural)


PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sdif]|%%|</?[a-z]+\b[^>]*>")


def test_translations_keep_the_placeholders_and_html_tags(catalogue):
    _header, entries = catalogue
    wrong = []
    for e in entries:
        expected = set(PLACEHOLDER.findall(e.msgid))
        for text in e.translations:
            if text and set(PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"line {e.line}: {e.msgid!r} → {text!r}")
    assert not wrong, "\n".join(wrong)


def test_the_compiled_catalogue_exists_and_matches_the_po(catalogue):
    _header, entries = catalogue
    assert MO_FILE.is_file(), f"{MO_FILE} is missing: {REFRESH}"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in entries:
        if "fuzzy" in e.flags or not all(e.translations):
            continue
        if e.msgid_plural is None:
            got = [compiled.gettext(e.msgid)]
        else:
            got = [compiled.ngettext(e.msgid, e.msgid_plural, n) for n in (1, 2)]
        if got != e.translations:
            stale.append(f"line {e.line}: {e.msgid!r}")
    assert not stale, "django.mo is older than django.po (run scripts/messages):\n" + "\n".join(stale[:30])


KNOWN = {
    "Đăng nhập": "Log in",
    "Cập nhật dữ liệu": "Update data",
    "Xét nghiệm": "Lab tests",
    "Sổ sức khỏe điện tử": "Electronic health book",
    "Chi tiết đợt khám": "Visit details",
    "Ví giấy tờ": "Document wallet",
    "Đồng ý sử dụng": "I agree",
}


def test_known_strings_are_english_under_en_and_vietnamese_under_vi():
    with translation.override("en"):
        assert {vi: translation.gettext(vi) for vi in KNOWN} == KNOWN
        assert translation.ngettext("%(n)s đợt khám", "%(n)s đợt khám", 1) % {"n": 1} == "1 visit"
        assert translation.ngettext("%(n)s đợt khám", "%(n)s đợt khám", 3) % {"n": 3} == "3 visits"
    with translation.override("vi"):
        assert {vi: translation.gettext(vi) for vi in KNOWN} == {vi: vi for vi in KNOWN}


LOGIN_ENGLISH = [
    "Log in",
    "Personal ID number",
    "Password",
    "Are you a health worker? Log in here",
    "Electronic health book",
    "Web app version",
]
LOGIN_VIETNAMESE = [
    "Đăng nhập",
    "Số định danh cá nhân",
    "Mật khẩu",
    "Bạn là cán bộ y tế?",
    "Sổ sức khỏe điện tử",
    "Phiên bản ứng dụng web",
]


def _login_page(client, **headers) -> str:
    response = client.get(reverse("identity:login"), **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "accept-language"])
def test_the_citizen_login_page_is_english_when_english_is_chosen(client, how):
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        html = _login_page(client)
    else:
        html = _login_page(client, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert '<html lang="en">' in html
    for label in LOGIN_ENGLISH:
        assert label in html, label
    for label in LOGIN_VIETNAMESE:
        assert label not in html, label


@pytest.mark.django_db
def test_the_citizen_login_page_is_vietnamese_under_vi(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    html = _login_page(client, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="vi">' in html
    for label in LOGIN_VIETNAMESE:
        assert label in html, label
    for label in ("Log in", "Personal ID number", "Are you a health worker?", "Web app version"):
        assert label not in html, label


@pytest.mark.django_db
def test_the_en_vi_switch_changes_the_language_of_the_next_page(client):
    login = reverse("identity:login")
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302
    assert "Are you a health worker? Log in here" in _login_page(client)
    client.post(reverse("set_language"), {"language": "vi", "next": login})
    assert "Bạn là cán bộ y tế? Đăng nhập tại đây" in _login_page(client)


def test_the_citizen_home_is_english_for_a_signed_in_citizen(client, citizen):
    client.force_login(citizen)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("identity:citizen_home")).content.decode()
    for label in ("Hello,", "ID level 2", "Document wallet", "Health record", "Personal", "Log out"):
        assert label in html, label
    for label in ("Xin chào", "Định danh mức 2", "Ví giấy tờ", "Hồ sơ sức khỏe", "Đăng xuất"):
        assert label not in html, label
