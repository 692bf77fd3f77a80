"""The 11-character billet ID stamped into every billet face, and its systematics.

Layout (positions 0-10)::

    K 4 41237 2 07 X
    | |   |   |  |  `-- check character, ISO/IEC 7064 MOD 37,36 over positions 0-9
    | |   |   |  `----- sequence of the billet within its heat on this strand, 01-99
    | |   |   `-------- strand number, 1-9
    | |   `------------ heat number, 5 digits, +1 from one heat to the next
    | `---------------- last digit of the casting year
    `------------------ caster code, one letter (a plant's caster)

Systematics a reader can use as a prior (``learners`` decode IDs with them):

* position 0 is one letter, fixed for a caster; position 1 a digit fixed for
  a year (it changes at most once, at New Year);
* positions 2-6 are digits; consecutive billets of one strand share them
  within a heat, and the number grows by 1 at a heat change;
* position 7 is a digit in 1..N for an N-strand caster;
* positions 8-9 are digits counting up by 1 along a strand within a heat
  (so the previous billet of the same strand predicts them);
* position 10 is the check character: any single wrong character, and any
  swap of two adjacent different characters, makes the check fail (a
  property of the ISO/IEC 7064 hybrid systems), so a reader can test its
  candidates and correct one uncertain character.

Alphabet: ``0-9`` then ``A-Z`` (values 0-35), as on the stamp dies.
"""
from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
ID_LENGTH = 11
_M = 36  # ISO/IEC 7064 MOD 37,36: modulus M = 36, M + 1 = 37


def char_value(c: str) -> int:
    try:
        return _VALUE[c]
    except KeyError:
        raise ValueError(f"{c!r} is not a stamp character (0-9, A-Z)") from None


def check_character(body: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character of ``body`` (the hybrid system for 0-9A-Z)."""
    p = _M
    for c in body:
        s = (p + char_value(c)) % _M or _M
        p = (2 * s) % (_M + 1)
    return ALPHABET[(_M + 1 - p) % _M]


def is_valid(billet_id: str) -> bool:
    """True when ``billet_id`` has the schema's form and its check character matches."""
    if len(billet_id) != ID_LENGTH or any(c not in _VALUE for c in billet_id):
        return False
    return parse_billet_id(billet_id, check=False) is not None and check_character(billet_id[:-1]) == billet_id[-1]


@dataclass(frozen=True)
class BilletId:
    """The parts of a billet ID."""

    caster_code: str    # one letter A-Z
    year_digit: int     # 0-9
    heat: int           # 0-99999
    strand: int         # 1-9
    sequence: int       # 1-99, within the heat on this strand

    def __post_init__(self) -> None:
        if len(self.caster_code) != 1 or not self.caster_code.isalpha() or not self.caster_code.isupper():
            raise ValueError(f"caster_code must be one letter A-Z, got {self.caster_code!r}")
        for name, lo, hi in (("year_digit", 0, 9), ("heat", 0, 99999), ("strand", 1, 9), ("sequence", 1, 99)):
            v = getattr(self, name)
            if not (lo <= v <= hi):
                raise ValueError(f"{name} must be in [{lo}, {hi}], got {v}")

    @property
    def body(self) -> str:
        return f"{self.caster_code}{self.year_digit}{self.heat:05d}{self.strand}{self.sequence:02d}"

    def text(self) -> str:
        """The 11 stamped characters, check character included."""
        return self.body + check_character(self.body)


def parse_billet_id(billet_id: str, *, check: bool = True) -> BilletId | None:
    """The parts of an 11-character ID, or None when it does not follow the schema (or fails the check)."""
    s = billet_id
    if len(s) != ID_LENGTH or not (s[0].isalpha() and s[0].isupper()) or not s[1:10].isdigit():
        return None
    if s[7] == "0" or s[8:10] == "00":
        return None
    if check and (s[10] not in _VALUE or check_character(s[:10]) != s[10]):
        return None
    return BilletId(s[0], int(s[1]), int(s[2:7]), int(s[7]), int(s[8:10]))
