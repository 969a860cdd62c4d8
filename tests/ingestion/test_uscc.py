"""统一社会信用代码 (GB 32100-2015) normalisation, validation and generation."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingestion.uscc import (
    USCC_ALPHABET,
    is_valid_uscc,
    make_uscc,
    normalize_uscc,
    org_code_check_char,
    uscc_check_char,
    validate_uscc,
)
from models.reference import DISTRICTS

REGISTRY_SAMPLE = (
    Path(__file__).resolve().parents[2].parent / "shared/data/cn_registry/registry_sample.csv"
)

# Codes published for well-known companies (the same code and name appear in several
# independent public sources), plus two from the shared registry sample.
KNOWN_GOOD = [
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 腾讯科技（深圳）有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "91330100716105852F",  # 阿里巴巴（中国）网络技术有限公司
    "91110108MA001HJG0K",  # 北京深感科技有限公司 (registry sample; MA-style 主体标识码)
    "9144030008460541XW",  # 深圳彦泽科技有限公司 (registry sample; 主体标识码 check X)
]


@pytest.mark.parametrize("code", KNOWN_GOOD)
def test_known_real_codes_validate(code: str) -> None:
    result = validate_uscc(code)
    assert result.ok, result.reason
    assert result.reason is None
    assert result.warnings == ()
    assert is_valid_uscc(code)


def test_check_char_of_known_code() -> None:
    assert uscc_check_char("91440300192203821") == "6"
    assert uscc_check_char("9144030071526726X") == "G"


def test_wrong_check_char_is_reported_not_fixed() -> None:
    result = validate_uscc("914403001922038217")
    assert not result.ok
    assert result.code == "914403001922038217"
    assert result.reason == "校验码错误：应为“6”，实际为“7”"


@pytest.mark.parametrize(
    "messy",
    [
        " 9144030071526726xg ",
        "9144 0300 7152 6726 XG",
        "9144030071526726XG\t",
        "\ufeff9144030071526726XG",
        "\u30009144030071526726XG\u3000",
        "９１４４０３００７１５２６７２６ＸＧ",
        "９１４４０３００７１５２６７２６ｘｇ",
    ],
)
def test_case_spaces_and_full_width_are_normalised(messy: str) -> None:
    assert normalize_uscc(messy) == "9144030071526726XG"
    assert validate_uscc(messy).ok


def test_normalise_leaves_look_alikes_alone() -> None:
    assert normalize_uscc("91440300l922O38216") == "91440300L922O38216"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_excluded_letters_are_illegal(letter: str) -> None:
    code = "91440300" + letter + "922038216"
    result = validate_uscc(code)
    assert not result.ok
    assert result.reason == f"含非法字符“{letter}”（不使用I、O、Z、S、V）"


def test_lowercase_excluded_letter_is_still_illegal() -> None:
    assert validate_uscc("91440300o922038216").reason == "含非法字符“O”（不使用I、O、Z、S、V）"


@pytest.mark.parametrize("char", ["-", "中", "*"])
def test_other_illegal_characters(char: str) -> None:
    assert validate_uscc("91440300" + char + "922038216").reason == f"含非法字符“{char}”"


@pytest.mark.parametrize(
    ("text", "length"), [("91440300192203821", 17), ("9144030019220382160", 19), ("", 0)]
)
def test_wrong_length(text: str, length: int) -> None:
    result = validate_uscc(text)
    assert not result.ok
    assert result.reason == f"长度应为18位，实际为{length}位"


def test_check_char_function_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9144030019220382")
    with pytest.raises(ValueError):
        uscc_check_char("9144030019220382I")


def test_org_code_check_char() -> None:
    assert org_code_check_char("19220382") == "1"
    assert org_code_check_char("71526726") == "X"
    assert org_code_check_char("MA001HJG") == "0"
    with pytest.raises(ValueError):
        org_code_check_char("1922038")


def test_wrong_org_code_check_is_a_warning_only() -> None:
    first17 = "91440300" + "19220382" + "2"  # the 主体标识码 check should be 1
    result = validate_uscc(first17 + uscc_check_char(first17))
    assert result.ok
    assert result.warnings == ("主体标识码校验位应为“1”，实际为“2”",)


def test_make_uscc_shape_and_determinism() -> None:
    code = make_uscc(random.Random(7), "440305")
    assert code.startswith("91440305")
    assert code == make_uscc(random.Random(7), "440305")
    assert validate_uscc(code).warnings == ()
    assert make_uscc(random.Random(7), "440305", org_category="3")[:2] == "93"


@pytest.mark.parametrize("region", ["44030", "4403051", "44030A", "", "44030\u0660"])
def test_make_uscc_rejects_bad_region(region: str) -> None:
    with pytest.raises(ValueError):
        make_uscc(random.Random(0), region)


regions = st.one_of(
    st.sampled_from(sorted(DISTRICTS)), st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
)


@given(seed=st.integers(), region=regions)
def test_every_generated_code_validates(seed: int, region: str) -> None:
    code = make_uscc(random.Random(seed), region)
    result = validate_uscc(code)
    assert result.ok, result.reason
    assert result.warnings == ()
    assert code[2:8] == region


@given(seed=st.integers(), position=st.integers(0, 17), replacement=st.characters())
def test_any_single_character_change_is_detected(
    seed: int, position: int, replacement: str
) -> None:
    code = make_uscc(random.Random(seed), "440305")
    altered = code[:position] + replacement + code[position + 1 :]
    if normalize_uscc(altered) == code:  # e.g. 'a' for 'A': the same code after normalising
        return
    assert not validate_uscc(altered).ok


@given(seed=st.integers(), position=st.integers(0, 15))
def test_adjacent_transpositions_are_detected(seed: int, position: int) -> None:
    code = make_uscc(random.Random(seed), "440305")
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2 :]
    assert not validate_uscc(swapped).ok


@given(first17=st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_appending_the_check_char_always_validates(first17: str) -> None:
    assert validate_uscc(first17 + uscc_check_char(first17)).ok


@pytest.mark.skipif(not REGISTRY_SAMPLE.exists(), reason="shared registry sample not present")
def test_real_registry_codes_mostly_validate() -> None:
    with REGISTRY_SAMPLE.open(encoding="utf-8", newline="") as fh:
        codes = [row["统一信用代码"] for row in csv.DictReader(fh)]
    present = [c for c in codes if c.strip()]
    results = [validate_uscc(c) for c in present]
    failures = [r for r in results if not r.ok]
    assert len(present) > 1000
    assert len(failures) / len(present) < 0.01
    # The real codes are well-formed: the few that fail do so on the check character alone.
    assert all(r.reason and r.reason.startswith("校验码错误") for r in failures)


@pytest.mark.parametrize(
    ("prefix", "warning"),
    [
        ("B1", "登记管理部门码“B”未定义"),
        ("94", "机构类别码“4”不属于登记管理部门“工商”"),
    ],
)
def test_unusual_structure_is_a_warning_only(prefix: str, warning: str) -> None:
    first17 = prefix + "440300" + "192203821"
    result = validate_uscc(first17 + uscc_check_char(first17))
    assert result.ok
    assert result.warnings == (warning,)
