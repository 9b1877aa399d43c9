"""QR codes for printouts: a data: URI that both browsers and xhtml2pdf embed.

PNG rather than inline <svg> (xhtml2pdf drops inline SVG); no network, no files.
"""
from __future__ import annotations

from functools import lru_cache

import segno


@lru_cache(maxsize=512)
def qr_data_uri(text: str, scale: int = 4) -> str:
    """A PNG data: URI of a QR code for `text` (error correction M, quiet zone of 2 modules)."""
    return segno.make(text, error="m", micro=False).png_data_uri(scale=scale, border=2)
