"""How long a text is, in words, for every script.

Chinese, Japanese and Thai put no spaces between words: counting spaces
dropped their articles as "too short" (7 to 21 words for pages of a thousand
characters). Their characters count instead, ``CHARS_PER_WORD`` to a word.
"""

from __future__ import annotations

import re

# scripts written without spaces between words: Thai, Lao, Tibetan, Myanmar, Khmer, kana, Han
_UNSPACED = (
    "\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_SPACED_WORD = re.compile(f"[^\\W{_UNSPACED}]+")
CHARS_PER_WORD = 2  # a Chinese or Japanese word is 1.5 to 2 characters on average


def text_size(text: str) -> int:
    """Words of the scripts that space them, plus characters of the others / ``CHARS_PER_WORD``."""
    if not _UNSPACED_CHAR.search(text):  # most text: words are what spaces separate (a third of the time)
        return len(text.split())
    return len(_SPACED_WORD.findall(text)) + len(_UNSPACED_CHAR.findall(text)) // CHARS_PER_WORD
