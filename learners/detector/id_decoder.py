"""Read the 11-character billet ID from the detections, with the ID schema as a prior.

The detector reads characters one by one; the ID they form obeys a schema
(:mod:`twin.billet_line.billet_id`): position 0 is the caster's letter,
1-9 are digits (year, 5-digit heat, strand 1..N, a sequence 01-99), 10 is
an ISO/IEC 7064 MOD 37,36 check character over positions 0-9, and the
previous billet of the same strand predicts most of the next ID. The study
(section 4) reports that such "prior knowledge on the systematics of billet
IDs combined with the DL output raises the rate of correctly read billet
IDs significantly". :class:`BilletIdDecoder` does it in three steps:

1. **Order** — :func:`~learners.detector.layout.fit_layout` puts the
   confident detections (score >= ``layout_score``) on the 6 + 5 grid of the
   stamp; weaker ones fill a free position they sit on. ``raw`` is the
   top-scoring character per position, ``?`` where nothing was found —
   the reading *without* the decoder.
2. **Schema and check** — per position, the candidates are the top
   ``top_k`` characters of its detection group that the position allows
   (a letter / a digit / a strand 1..N / the caster letters and year
   digits given in :class:`IdSchema`; a position fixed to one character
   holds it); a combination's score is the sum of the log scores. The best
   combination whose check character matches is found exactly by dynamic
   programming over the check's running value (MOD 37,36 has 37 states, so
   the search is 11 x 37 x k steps, not k^11 combinations).

   Taking anything but a position's top candidate is a *correction*; at
   most ``max_corrections`` (default 1) are made, and only when every other
   character was read with a score >= ``confident_score`` — the check can
   vouch for one doubtful character, not for a doubtful reading. It
   detects every single substitution, but a second change can re-balance
   it: with k = 3 candidates at 11 positions there are hundreds of
   two-change variants and about one in 36 passes by chance, so allowing
   two corrections turns refusals into wrong IDs. A position with no
   detection may be *filled* (at most ``max_filled``, default 1; a fill is
   a correction): with one unknown character the check determines it.
   When no combination passes, the decoder **refuses** (``text`` None):
   the billet goes to a person, which is better than a wrong ID in the
   tracking system.
3. **Previous billet** (optional) — given the last ID read on the same
   strand and how many billets of that strand ago (``gap``; the tracking
   counts billets it could not read), the expected IDs (same heat,
   sequence + gap; or the next heat, sequence 1..gap) are scored like a
   reading (a character the detector did not propose costs
   ``log(miss_score)``) plus ``previous_bonus``; one that differs from the
   reading in at most ``max_previous_fixes`` positions wins when it scores
   higher than the best reading.

The check arithmetic (:func:`check_step`, :func:`check_accepts`) is the
ISO/IEC 7064 hybrid system of :func:`twin.billet_line.billet_id.check_character`
written as a state machine; every decoded ID is re-verified with
:func:`twin.billet_line.billet_id.is_valid`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from learners.detector.detections import Detections
from learners.detector.layout import Layout, fit_layout
from twin.billet_line.billet_id import ALPHABET, ID_LENGTH, char_value, is_valid, parse_billet_id

__all__ = ["IdSchema", "DecodedId", "BilletIdDecoder", "check_step", "check_accepts", "expected_next_ids"]

_M = 36  # ISO/IEC 7064 MOD 37,36: M = 36, M + 1 = 37
_LETTERS = ALPHABET[10:]
_DIGITS = ALPHABET[:10]


def check_step(p: int, value: int) -> int:
    """One step of ISO/IEC 7064 MOD 37,36: running value ``p`` (1..36, starts at 36) after a character of ``value``."""
    s = (p + value) % _M or _M
    return (2 * s) % (_M + 1)


def check_accepts(p: int, value: int) -> bool:
    """True when a check character of ``value`` closes running value ``p`` (the hybrid system's ``s == 1``)."""
    return ((p + value) % _M or _M) == 1


@dataclass(frozen=True)
class IdSchema:
    """What each position of an ID may hold (a plant's known values narrow it).

    ``caster_codes``: letters the caster codes may be (None: A-Z);
    ``year_digits``: digits the year digit may be (None: 0-9); ``strands``:
    the caster's strand count N (position 7 is 1..N); ``row_counts``: the
    stamp's rows, top first.
    """

    caster_codes: str | None = None
    year_digits: str | None = None
    strands: int = 9
    row_counts: tuple[int, ...] = (6, 5)

    def __post_init__(self) -> None:
        if sum(self.row_counts) != ID_LENGTH:
            raise ValueError(f"row_counts {self.row_counts} must hold {ID_LENGTH} characters")
        if not 1 <= int(self.strands) <= 9:
            raise ValueError(f"strands must be 1-9, got {self.strands}")
        codes = self.caster_codes
        if codes is not None and (not codes or any(c not in _LETTERS for c in codes)):
            raise ValueError(f"caster_codes must be letters A-Z, got {self.caster_codes!r}")
        if self.year_digits is not None and (not self.year_digits or any(c not in _DIGITS for c in self.year_digits)):
            raise ValueError(f"year_digits must be digits, got {self.year_digits!r}")

    def allowed(self, position: int) -> str:
        """Characters position ``position`` (0-10) may hold."""
        if position == 0:
            return self.caster_codes or _LETTERS
        if position == 1:
            return self.year_digits or _DIGITS
        if 2 <= position <= 6 or position in (8, 9):
            return _DIGITS
        if position == 7:
            return "".join(str(s) for s in range(1, int(self.strands) + 1))
        if position == 10:
            return ALPHABET
        raise ValueError(f"position must be 0-{ID_LENGTH - 1}, got {position}")


@dataclass(frozen=True)
class DecodedId:
    """The decoder's answer for one billet.

    ``text``: the decoded ID (it passes the check) or None (refused);
    ``raw``: the reading without the decoder (top character per position,
    ``?`` where none); ``score``: log-score of ``text``; ``corrected``:
    positions where ``text`` differs from ``raw``; ``how``: ``"reading"``
    (the candidates passed the check), ``"filled"`` (a missing character
    was completed from the check), ``"previous"`` (the previous billet's
    expected ID won) or ``"refused"``.
    """

    text: str | None
    raw: str
    score: float
    corrected: tuple[int, ...]
    how: str

    @property
    def accepted(self) -> bool:
        return self.text is not None


def expected_next_ids(previous: str, gap: int = 1) -> list[str]:
    """IDs that may be ``gap`` billets after ``previous`` on its strand.

    Same heat, sequence + gap; or the next heat, sequence 1..gap (the heat
    changed somewhere in between). ``gap`` > 1 when billets in between were
    not read (the tracking still counts them).
    """
    prev = parse_billet_id(previous)
    if prev is None or gap < 1:
        return []
    from twin.billet_line.billet_id import BilletId

    out = []
    if prev.sequence + gap <= 99:
        out.append(BilletId(prev.caster_code, prev.year_digit, prev.heat, prev.strand, prev.sequence + gap).text())
    if prev.heat < 99999:
        out += [BilletId(prev.caster_code, prev.year_digit, prev.heat + 1, prev.strand, k).text()
                for k in range(1, min(gap, 99) + 1)]
    return out


class BilletIdDecoder:
    """Detections -> billet ID with schema, check character and previous-billet prior (module docstring).

    Settings: ``schema`` (:class:`IdSchema`), ``top_k`` candidates per
    position, ``layout_score`` (detections used to fit the grid),
    ``min_score`` (weaker detections are ignored), ``use_check`` (False:
    schema alphabet only, no check, no filling), ``max_filled`` (positions
    without a detection the check may complete), ``max_corrections``
    (positions where a lower candidate or a fill may replace the reading),
    ``confident_score`` (a correction is only made when every other
    character was read at least this sure), ``miss_score`` (score of a
    character the detector did not propose, for the previous-billet prior),
    ``previous_bonus`` (log-odds of the prior), ``max_previous_fixes``.
    """

    def __init__(self, schema: IdSchema | None = None, *, top_k: int = 3, layout_score: float = 0.3,
                 min_score: float = 0.05, use_check: bool = True, max_filled: int = 1, max_corrections: int = 1,
                 confident_score: float = 0.5, miss_score: float = 1e-3, previous_bonus: float = 6.0,
                 max_previous_fixes: int = 2):
        self.schema = schema if schema is not None else IdSchema()
        self.top_k = top_k
        self.layout_score = layout_score
        self.min_score = min_score
        self.use_check = use_check
        self.max_filled = max_filled
        self.max_corrections = max_corrections
        self.confident_score = confident_score
        self.miss_score = miss_score
        self.previous_bonus = previous_bonus
        self.max_previous_fixes = max_previous_fixes

    # -- step 1: positions --------------------------------------------------
    def slots(self, detections: Detections) -> list[tuple[tuple[str, float], ...]]:
        """Per ID position, the candidates ``(char, score)`` of the detection put there (empty: none)."""
        det = detections.above(self.min_score)
        strong = [i for i in range(len(det)) if det.scores[i] >= self.layout_score]
        layout: Layout = fit_layout(det.boxes_px[strong], det.scores[strong], self.schema.row_counts)
        out: list[tuple[tuple[str, float], ...]] = [() for _ in range(ID_LENGTH)]
        for i, pos in zip(strong, layout.positions):
            if pos is not None:
                out[pos] = det.candidates[i]
        for i in range(len(det)):
            if det.scores[i] >= self.layout_score:
                continue
            pos = layout.position_at(det.boxes_px[i])
            if pos is not None and not out[pos]:
                out[pos] = det.candidates[i]
        return out

    def read_raw(self, detections: Detections) -> str:
        """The reading without the decoder: the top character per position, ``?`` where none."""
        return "".join(c[0][0] if c else "?" for c in self.slots(detections))

    # -- steps 2 and 3 ------------------------------------------------------------
    def decode(self, detections: Detections, previous: str | None = None, gap: int = 1) -> DecodedId:
        """Decode one billet's detections.

        ``previous``: the last ID read on the same strand (optional), ``gap``
        billets of that strand ago (1: the billet just before).
        """
        slots = self.slots(detections)
        raw = "".join(c[0][0] if c else "?" for c in slots)
        best = self._best_reading(slots)
        if previous is not None:
            for e in expected_next_ids(previous, gap):
                fixes = sum(1 for a, b in zip(e, raw) if a != b)
                if fixes > self.max_previous_fixes or not self._allowed_id(e):
                    continue
                score = self._score_of(e, slots) + float(self.previous_bonus)
                if best is None or score > best[1]:
                    best = (e, score, "previous")
        if best is None or (self.use_check and not is_valid(best[0])):
            return DecodedId(None, raw, -math.inf, (), "refused")
        text, score, how = best
        return DecodedId(text, raw, float(score), tuple(i for i, (a, b) in enumerate(zip(text, raw)) if a != b), how)

    def _allowed_id(self, text: str) -> bool:
        return len(text) == ID_LENGTH and all(c in self.schema.allowed(i) for i, c in enumerate(text))

    def _score_of(self, text: str, slots) -> float:
        miss = math.log(self.miss_score)
        total = 0.0
        for c, cands in zip(text, slots):
            s = dict(cands).get(c)
            total += math.log(max(s, self.miss_score)) if s is not None else miss
        return total

    def _candidates(self, pos: int, cands) -> list[tuple[str, float, int, int, int]]:
        """``(char, log score, filled, corrected, weak)`` allowed at ``pos``, best ``top_k`` first (flags 0/1).

        Taking the detector's top candidate is the reading; any other
        character — a lower candidate, the best one the position's alphabet
        allows when the top one is not allowed, or a fill — is a
        *correction*. A position the schema fixes to one character (the
        plant's caster letter, this year's digit) holds it whatever was
        read there, at no correction. A position without an allowed
        candidate is treated as unread: it may be filled. ``weak``: an
        uncorrected reading below ``confident_score``.
        """
        allowed = self.schema.allowed(pos)
        if len(allowed) == 1:
            s = dict(cands).get(allowed)
            return [(allowed, math.log(max(s, self.miss_score)) if s else math.log(self.miss_score), 0, 0, 0)]
        top = cands[0][0] if cands else None
        ok = [(c, s) for c, s in cands if c in allowed][: int(self.top_k)]
        out = [(c, math.log(max(s, 1e-12)), 0, int(c != top), int(c == top and s < self.confident_score))
               for c, s in ok]
        if not out and self.use_check and self.max_filled > 0:
            out = [(c, math.log(self.miss_score), 1, 1, 0) for c in allowed]
        return out

    def _best_reading(self, slots) -> tuple[str, float, str] | None:
        if not self.use_check:
            chars = []
            for pos, cands in enumerate(slots):
                c = [x for x in self._candidates(pos, cands) if not x[2]]
                if not c:
                    return None
                chars.append(c[0])
            text = "".join(x[0] for x in chars)
            return (text, sum(x[1] for x in chars), "reading") if parse_billet_id(text, check=False) else None
        # Viterbi over states (check value p, filled, corrected, weak, position 8 was '0'): exact and small.
        states: dict[tuple, tuple[float, tuple]] = {(_M, 0, 0, 0, False): (0.0, ())}
        for pos in range(ID_LENGTH - 1):
            cands = self._candidates(pos, slots[pos])
            nxt: dict[tuple, tuple[float, tuple]] = {}
            for (p, filled, corr, weak, zero8), (score, path) in states.items():
                for c, ls, f, k, w in cands:
                    if (filled + f > self.max_filled or corr + k > self.max_corrections
                            or (pos == 9 and zero8 and c == "0")):
                        continue
                    key = (check_step(p, char_value(c)), filled + f, corr + k, weak | w, pos == 8 and c == "0")
                    cand = (score + ls, path + (c,))
                    if key not in nxt or cand[0] > nxt[key][0]:
                        nxt[key] = cand
            states = nxt
        best = None
        for c, ls, f, k, w in self._candidates(ID_LENGTH - 1, slots[ID_LENGTH - 1]):
            for (p, filled, corr, weak, _), (score, path) in states.items():
                if (filled + f > self.max_filled or corr + k > self.max_corrections
                        or not check_accepts(p, char_value(c))):
                    continue
                if corr + k > 0 and (weak | w):
                    continue  # a correction needs every other character read with confidence
                total = score + ls
                if best is None or total > best[1]:
                    best = ("".join(path) + c, total, "filled" if filled + f else "reading")
        return best
