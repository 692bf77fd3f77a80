"""The billet ID schema: layout, check character, parsing."""
import pytest

from twin.billet_line.billet_id import ALPHABET, BilletId, check_character, is_valid, parse_billet_id


def test_layout_and_round_trip():
    b = BilletId("K", 4, 41237, 2, 7)
    text = b.text()
    assert len(text) == 11 and text.startswith("K441237207")
    assert parse_billet_id(text) == b
    assert is_valid(text)


@pytest.mark.parametrize("heat,strand,seq", [(0, 1, 1), (99999, 9, 99), (41237, 3, 42)])
def test_every_single_substitution_and_adjacent_swap_is_detected(heat, strand, seq):
    text = BilletId("C", 0, heat, strand, seq).text()
    for i in range(11):
        for c in ALPHABET:
            if c != text[i]:
                bad = text[:i] + c + text[i + 1:]
                assert check_character(bad[:10]) != bad[10], bad
    for i in range(10):
        if text[i] != text[i + 1]:
            bad = text[:i] + text[i + 1] + text[i] + text[i + 2:]
            assert check_character(bad[:10]) != bad[10], bad


def test_parse_rejects_what_the_schema_cannot_be():
    good = BilletId("K", 4, 41237, 2, 7).text()
    assert parse_billet_id(good[:10]) is None                 # too short
    assert parse_billet_id("1" + good[1:]) is None             # caster code must be a letter
    assert parse_billet_id(good[:7] + "0" + good[8:], check=False) is None   # strand 0
    assert parse_billet_id(good[:8] + "00" + good[10:], check=False) is None  # sequence 00
    wrong_check = good[:10] + ("0" if good[10] != "0" else "1")
    assert parse_billet_id(wrong_check) is None and not is_valid(wrong_check)


@pytest.mark.parametrize("kwargs", [dict(caster_code="k"), dict(caster_code="KK"), dict(year_digit=10),
                                    dict(heat=100000), dict(strand=0), dict(sequence=100)])
def test_out_of_range_parts_are_errors(kwargs):
    base = dict(caster_code="K", year_digit=4, heat=41237, strand=2, sequence=7)
    with pytest.raises(ValueError):
        BilletId(**{**base, **kwargs})


def test_unknown_character_is_an_error():
    with pytest.raises(ValueError, match="stamp character"):
        check_character("K4412372a7")
