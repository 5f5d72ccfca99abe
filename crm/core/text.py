"""Text folding for matching names typed without accents ("sao paulo" finds São Paulo)."""

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter plus accents.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "ı": "i",
        "’": "'",
        "‘": "'",
    }
)
_SPACES = re.compile(r"\s+")


def fold(value):
    """Lower-case ASCII form of ``value``: accents dropped, spaces collapsed."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKD", str(value).translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip().lower()
