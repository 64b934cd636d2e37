"""The province's naming rule on real-world Vietnamese name shapes."""

from __future__ import annotations

import unicodedata

import pytest

from egov_probe.core.errors import InputError
from egov_probe.mailboxes.config import load_config
from egov_probe.mailboxes.naming import (base_local_part, clean_text, fold, normalise_name,
                                         propose_local_part)


@pytest.fixture(scope="module")
def rule():
    return load_config().naming


@pytest.mark.parametrize("name, expected", [
    ("Nguyễn Thị Thu Hà", "hantt"),              # the example of the issue
    ("Nguyễn Thị Minh Khai", "khaintm"),         # compound given name: the last word is the tên
    ("Đặng Đình Đức", "ducdd"),                  # đ/Đ → d, not dropped
    ("Đỗ Hùng", "hungd"),                        # two words
    ("Lò Văn Giàng", "gianglv"),         # Thái name
    ("Tôn Nữ Thị Ngọc Ánh", "anhtntn"),          # five words
    ("Trần Thị Ngọc Bích", "bichttn"),           # four words
    ("Hà", "ha"),                                # a single word
    ("Phạm Ngọc Ánh-Dương", "anhduongpn"),       # a hyphen is not a letter
    ("Nguyễn Thị Hường", "huongnt"),             # ư, ờ
    ("Ông Ích Khiêm", "khiemoi"),                # initials that are vowels with marks
])
def test_rule_gives_the_expected_local_part(rule, name, expected):
    assert base_local_part(rule, name) == expected


def test_decomposed_input_and_extra_spaces_give_the_same_address(rule):
    nfd = unicodedata.normalize("NFD", "Nguyễn  Thị Thu   Hà ")
    assert nfd != "Nguyễn Thị Thu Hà"
    assert normalise_name(nfd) == "Nguyễn Thị Thu Hà"
    assert base_local_part(rule, " " + nfd) == "hantt"


@pytest.mark.parametrize("raw, expected, local, changed", [
    ("\u00d0inh Văn Toàn", "Đinh Văn Toàn", "toandv", ["U+00D0 LATIN CAPITAL LETTER ETH → Đ"]),
    ("\u00d0\u00f0", "Đđ", "dd", ["U+00D0", "U+00F0"]),            # cp1252's eth, both cases
    ("Nguyễn Thị Thu Hà\u200b", "Nguyễn Thị Thu Hà", "hantt", ["U+200B ZERO WIDTH SPACE"]),
    ("\ufeffLê Văn\u00ad Hùng", "Lê Văn Hùng", "hunglv", ["U+00AD SOFT HYPHEN", "U+FEFF"]),
    ("Ng\u200cuy\u200dễn Văn A\u2060n", "Nguyễn Văn An", "annv", ["U+200C", "U+200D", "U+2060"]),
    ("Тrần Văn Bình", "Trần Văn Bình", "binhtv", ["U+0422 CYRILLIC CAPITAL LETTER TE → T"]),
    ("Nguyễn Thị Thu Hà", "Nguyễn Thị Thu Hà", "hantt", []),
])
def test_invisible_and_look_alike_characters_are_cleaned_and_each_change_noted(rule, raw, expected,
                                                                              local, changed):
    cleaned, notes = clean_text(raw)
    assert cleaned == expected and normalise_name(raw) == expected
    assert base_local_part(rule, raw) == local
    assert len(notes) == len(changed)
    for note, part in zip(notes, changed):
        assert part in note


def test_fold_removes_every_vietnamese_mark():
    assert fold("ĐẶNG ĐÌNH ĐỨC ằẳẵặ ưừứửữự ơờớởỡợ") == "dangdinhducaaaauuuuuuoooooo"


def test_collisions_are_numbered_against_what_is_taken(rule):
    taken = {"hantt", "hantt2"}
    assert propose_local_part(rule, "Ngô Thị Thúy Hà", taken.__contains__) == "hantt3"
    assert propose_local_part(rule, "Nguyễn Thị Minh Khai", taken.__contains__) == "khaintm"


def test_duplicate_names_in_one_unit_get_distinct_addresses(rule):
    taken: set[str] = set()
    got = []
    for _ in range(3):
        local = propose_local_part(rule, "Nguyễn Văn An", taken.__contains__)
        taken.add(local)
        got.append(local)
    assert got == ["annv", "annv2", "annv3"]


def test_the_rule_is_data(tmp_path):
    text = load_config().path
    edited = open(text, encoding="utf-8").read().replace(
        'template: "{given}{initials}"', 'template: "{given}.{family}"')
    path = tmp_path / "naming.yml"
    path.write_text(edited, encoding="utf-8")
    assert base_local_part(load_config(path).naming, "Đặng Đình Đức") == "duc.dang"


def test_a_template_with_an_unknown_field_is_refused_with_its_line(tmp_path):
    text = open(load_config().path, encoding="utf-8").read()
    path = tmp_path / "naming.yml"
    path.write_text(text.replace('template: "{given}{initials}"', 'template: "{ten}{initials}"'),
                    encoding="utf-8")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith("template:"))
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert caught.value.line == line and caught.value.field == "naming.template"
    assert "ten" in str(caught.value)


def test_an_unknown_disabled_marker_kind_is_refused(tmp_path):
    text = open(load_config().path, encoding="utf-8").read()
    path = tmp_path / "naming.yml"
    path.write_text(text.replace("when: days_since_epoch_past", "when: yesterday"), "utf-8")
    with pytest.raises(InputError, match="disabled_markers.3.when"):
        load_config(path)
