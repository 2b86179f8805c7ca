"""Identity of names (docs/counting-rules.md, section 5): normalize(s) = Unicode NFC, trimmed, casefolded."""

import unicodedata


def normalize_name(name: str | None) -> str | None:
    if name is None:
        return None
    return unicodedata.normalize("NFC", name).strip().casefold()
