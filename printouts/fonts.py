"""The CJK TrueType font every PDF embeds: found on the machine (or named in config), registered once.

xhtml2pdf reports success even when it has no font for Chinese and draws every character as a box,
so a PDF is only made when a TrueType CJK font is registered here; otherwise `font_status()` says
what to install. Noto CJK / Source Han are CFF (PostScript outlines), which ReportLab cannot embed.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Fonts registered for PDFs: a main one and one that fills characters it lacks (Zen Hei covers
# CJK Ext-A, which Micro Hei does not).
MAX_FONTS = 2
CONFIG_KEY = "PDF_FONT_PATH"


def _windows_font_dirs() -> list[Path]:
    dirs = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    if os.environ.get("LOCALAPPDATA"):  # fonts installed for one user only
        dirs.append(Path(os.environ["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts")
    return dirs


def _default_search_paths() -> list[Path]:
    """TrueType CJK fonts known to embed well, best first."""
    if sys.platform.startswith("win"):
        names = ("simsun.ttc", "msyh.ttc", "msyh.ttf", "simhei.ttf", "simkai.ttf", "simfang.ttf")
        return [d / n for d in _windows_font_dirs() for n in names]
    if sys.platform == "darwin":
        return [Path("/Library/Fonts/Arial Unicode.ttf"),
                Path("/System/Library/Fonts/Supplemental/Arial Unicode.ttf")]
    return [Path(p) for p in (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",        # Debian/Ubuntu fonts-wqy-microhei
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",          # Debian/Ubuntu fonts-wqy-zenhei
        "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",        # Fedora
        "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",  # Arch
        "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",            # Debian fonts-arphic-uming
        "/usr/share/fonts/truetype/arphic/ukai.ttc",
    )]


# Tests monkeypatch this list to simulate a machine without fonts.
SEARCH_PATHS: list[Path] = _default_search_paths()

MISSING_MESSAGE = (
    "未找到可嵌入 PDF 的中文 TrueType 字体，无法生成 PDF（浏览器打印页仍可使用）。"
    "请安装文泉驿微米黑字体（Debian/Ubuntu：sudo apt install fonts-wqy-microhei），"
    "Windows 系统自带的宋体（simsun.ttc）或微软雅黑（msyh.ttc）也可使用；"
    "或在配置 PDF_FONT_PATH 中写明一个 TrueType 中文字体文件的路径"
    "（如 C:\\Windows\\Fonts\\simsun.ttc，.ttc 文件可用“路径#序号”选择其中一款字体）。"
    "注意：Noto CJK／思源字体为 CFF 格式，不能嵌入。"
)


class FontMissing(RuntimeError):
    """No CJK TrueType font: a PDF would show boxes, so none is made."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int = 0  # face number inside a .ttc collection

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else str(self.path)

    @property
    def family(self) -> str:
        """The name print CSS uses. One per file and face: ReportLab ignores a second font
        registered under a name it already knows, so a name is never reused for another file."""
        digest = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:6]
        stem = re.sub(r"[^A-Za-z0-9]+", "", self.path.stem)[:24]
        return f"CJK-{stem}-{self.index}-{digest}"


def parse_spec(spec: str) -> FontFile:
    """'path' or 'path#N' (face N of a .ttc)."""
    path, _, index = spec.strip().partition("#")
    return FontFile(Path(path).expanduser(), int(index) if index.strip().isdigit() else 0)


def outline_problem(font: FontFile) -> str | None:
    """Why this file cannot be embedded (None when it is a TrueType-outline font): reads only headers."""
    try:
        with open(font.path, "rb") as fh:
            head = fh.read(12)
            if head[:4] == b"ttcf":
                count = struct.unpack(">I", head[8:12])[0]
                if font.index >= count:
                    return f"字体集只有 {count} 款字体，没有第 {font.index} 款"
                fh.seek(12 + 4 * font.index)
                fh.seek(struct.unpack(">I", fh.read(4))[0])
                head = fh.read(12)
            if head[:4] == b"OTTO":
                return "该字体为 CFF（PostScript 轮廓）格式，不能嵌入 PDF"
            if head[:4] not in (b"\x00\x01\x00\x00", b"true"):
                return "不是 TrueType 字体文件"
            tables = struct.unpack(">H", head[4:6])[0]
            directory = fh.read(16 * tables)
    except OSError as exc:
        return f"无法读取（{exc.strerror or exc}）"
    except struct.error:
        return "文件不完整，不是可用的字体文件"
    tags = {directory[i:i + 4] for i in range(0, len(directory), 16)}
    if b"glyf" not in tags:
        return "该字体没有 TrueType 轮廓（glyf 表），不能嵌入 PDF"
    return None


def configured_font() -> str:
    """app.config['PDF_FONT_PATH'] of the current app ('' outside an app or when unset)."""
    from flask import current_app, has_app_context

    return (current_app.config.get(CONFIG_KEY) or "") if has_app_context() else ""


def find_fonts(config_spec: str = "") -> tuple[list[FontFile], list[str]]:
    """Usable font files (configured one first, at most MAX_FONTS) and problems worth logging."""
    found: list[FontFile] = []
    problems: list[str] = []
    candidates = []
    if config_spec:
        candidates.append(parse_spec(config_spec))
    candidates += [FontFile(p) for p in SEARCH_PATHS]
    for position, font in enumerate(candidates):
        configured = bool(config_spec) and position == 0
        if len(found) == MAX_FONTS:
            break
        if font in found:
            continue
        if not font.path.is_file():
            if configured:
                problems.append(f"配置 {CONFIG_KEY}={config_spec} 指向的字体文件不存在")
            continue
        problem = outline_problem(font)
        if problem:
            if configured:
                problems.append(f"配置 {CONFIG_KEY}={config_spec} 的字体不可用：{problem}")
            else:
                log.debug("Skipping font %s: %s", font, problem)
            continue
        found.append(font)
    return found, problems


# ---------------------------------------------------------------- once-per-process registration

_lock = threading.Lock()
_registered: dict[str, list[str] | str] = {}  # config spec -> family names, or the error message


def _register(fonts: list[FontFile], problems: list[str] | None = None) -> list[str]:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from xhtml2pdf import default as x2p_default

    families = []
    for font in fonts:
        family = font.family
        try:
            ttf = TTFont(family, str(font.path), subfontIndex=font.index)
        except Exception as exc:  # noqa: BLE001 - a damaged file fails anywhere in the parser (struct.error …)
            log.error("CJK font %s cannot be embedded: %s", font, exc)
            if problems is not None:
                problems.append(f"字体文件 {font} 已损坏或不是完整的字体，无法读取")
            continue
        if ord("中") not in ttf.face.charToGlyph:
            log.error("Font %s has no Chinese characters; not used for PDFs", font)
            continue
        pdfmetrics.registerFont(ttf)
        # Bold and italic are drawn with the regular face (CJK fonts here have one weight).
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(family, bold, italic, family)
        x2p_default.DEFAULT_FONT[family.lower()] = family
        families.append(family)
        log.info("PDF font %s registered from %s", family, font)
    return families


def ensure_registered() -> list[str]:
    """Register the CJK font(s) with ReportLab/xhtml2pdf once; their family names, primary first.

    Raises FontMissing with the message for the user when no font can be used.
    """
    spec = configured_font()
    state = _registered.get(spec)
    if state is None:
        with _lock:
            state = _registered.get(spec)
            if state is None:
                fonts, problems = find_fonts(spec)
                for problem in problems:
                    log.error("%s", problem)
                families = _register(fonts, problems) if fonts else []
                state = families or " ".join([*problems, MISSING_MESSAGE])
                _registered[spec] = state
    if isinstance(state, str):
        raise FontMissing(state)
    return list(state)


def font_status() -> str | None:
    """None when a CJK TrueType font is ready for PDFs, else a Chinese message on what to install or set.

    Cheap: reads font file headers only (the font is parsed at the first PDF).
    """
    spec = configured_font()
    state = _registered.get(spec)
    if state is not None:
        return state if isinstance(state, str) else None
    fonts, problems = find_fonts(spec)
    if fonts:
        return None
    return " ".join([*problems, MISSING_MESSAGE])


def config_problems() -> list[str]:
    """What is wrong with a configured PDF_FONT_PATH (empty when unset or fine)."""
    return find_fonts(configured_font())[1]


def uncovered_characters(text: str) -> set[str]:
    """Characters of `text` no registered PDF font can draw (they would print blank)."""
    from reportlab.pdfbase import pdfmetrics

    try:
        families = ensure_registered()
    except FontMissing:
        return set()
    maps = [pdfmetrics.getFont(f).face.charToGlyph for f in families]
    return {c for c in set(text)
            if ord(c) > 0x7F and not c.isspace() and not any(ord(c) in m for m in maps)}


def reset() -> None:
    """Forget what was found (tests; a font installed while the app runs is picked up at restart)."""
    with _lock:
        _registered.clear()
