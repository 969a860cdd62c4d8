"""统一社会信用代码 (unified social credit identifier, GB 32100-2015): normalise, check, generate.

Layout of the 18 characters::

    1      登记管理部门码   (9 = 工商, 5 = 民政, 1 = 机构编制, Y = 其他 …)
    2      机构类别码       (for 工商: 1 企业, 2 个体工商户, 3 农民专业合作社)
    3-8    登记管理机关行政区划码 (GB/T 2260, 6 digits)
    9-17   主体标识码 = 组织机构代码 (GB 11714: 8 characters + its own check character)
    18     校验码 (weighted sum mod 31 over the first 17 characters)

Only the 18th character decides validity. The check character is never "fixed": a code whose
check character is wrong is reported as wrong, with the character it should have been.
Problems that do not make a code invalid (an unknown 登记管理部门码, a 主体标识码 whose GB 11714
check character disagrees) are returned as warnings: they hint at a typo or an unusual issuer,
but the registry, not this check, decides whether such a code exists.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from operator import getitem

__all__ = [
    "EXCLUDED_LETTERS",
    "ORG_CATEGORIES",
    "REGISTRATION_AUTHORITIES",
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "UsccResult",
    "is_valid_uscc",
    "make_uscc",
    "normalize_uscc",
    "org_code_check_char",
    "uscc_check_char",
    "validate_uscc",
]

#: The 31 characters a 统一社会信用代码 may use (no I, O, Z, S, V), in value order 0..30.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weights of positions 1..17 (3**i mod 31).
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: Letters the standard leaves out, because they are easily confused with digits.
EXCLUDED_LETTERS = "IOZSV"

_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_CHARS = frozenset(USCC_ALPHABET)
_BASE36 = {ch: int(ch, 36) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
#: GB 11714 check character for 11 - (weighted sum mod 11), 1..11: 10 is X, 11 is 0.
_ORG_CHECK = ("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_LENGTH = 18
_REGION_CODE = re.compile(r"[0-9]{6}")
#: Per position, character → its value times the position's weight: a check sum is then one
#: `sum(map(getitem, …))` in C (a KeyError still names a character outside the alphabet).
_USCC_WEIGHED = tuple({ch: v * w for ch, v in _USCC_VALUE.items()} for w in USCC_WEIGHTS)
_ORG_WEIGHED = tuple({ch: v * w for ch, v in _BASE36.items()} for w in _ORG_WEIGHTS)

#: 登记管理部门码 (position 1): those of GB 32100-2015 and those assigned since.
REGISTRATION_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
#: 机构类别码 (position 2) allowed under the authorities whose categories the standard lists.
ORG_CATEGORIES: dict[str, frozenset[str]] = {
    "1": frozenset("1239"),  # 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
    "5": frozenset("1239"),  # 社会团体, 民办非企业单位, 基金会, 其他
    "9": frozenset("123"),  # 企业, 个体工商户, 农民专业合作社
}

# Whitespace and invisible characters that spreadsheets and web forms leave around codes.
_INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


@dataclass(frozen=True, slots=True)
class UsccResult:
    """Outcome of checking one 统一社会信用代码.

    ``code`` is the normalised text that was checked; ``reason`` (Chinese, for users) is set
    exactly when ``ok`` is false; ``warnings`` lists problems that do not invalidate the code.
    """

    ok: bool
    code: str
    reason: str | None = None
    warnings: tuple[str, ...] = ()


def normalize_uscc(text: str) -> str:
    """Return ``text`` without whitespace, in half-width upper case.

    Whitespace includes the full-width space and the zero-width characters and byte-order mark
    that spreadsheets leave behind. Only those changes are made: look-alike characters such as ``O`` for ``0`` are left as they
    are, so that :func:`validate_uscc` can report them.
    """
    text = _INVISIBLE.sub("", text)
    if not text.isascii():  # full-width forms are not ASCII: only then map them
        text = "".join(_to_half_width(ch) for ch in text)
    return text.upper()


def _to_half_width(ch: str) -> str:
    code = ord(ch)
    return chr(code - 0xFEE0) if 0xFF01 <= code <= 0xFF5E else ch


def uscc_check_char(first17: str) -> str:
    """Return the 18th (check) character for the first 17 characters of a code.

    Raises ``ValueError`` if ``first17`` is not 17 characters of :data:`USCC_ALPHABET`.
    """
    if len(first17) != _LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    try:
        total = sum(map(getitem, _USCC_WEIGHED, first17))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from exc
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """Return the GB 11714 组织机构代码 check character for its first 8 characters.

    Digits count 0-9 and letters A-Z 10-35; the check is 11 - (weighted sum mod 11),
    written ``X`` for 10 and ``0`` for 11.
    """
    if len(first8) != len(_ORG_WEIGHTS):
        raise ValueError(f"expected 8 characters, got {len(first8)}")
    if not (first8.isascii() and first8.isalnum() and first8 == first8.upper()):
        raise ValueError(f"{first8!r} is not 8 digits or upper-case letters")
    total = sum(map(getitem, _ORG_WEIGHED, first8))
    return _ORG_CHECK[11 - total % 11]


def validate_uscc(text: str) -> UsccResult:
    """Check a 统一社会信用代码 after :func:`normalize_uscc`; explain failures in Chinese."""
    code = normalize_uscc(text)
    if len(code) != _LENGTH:
        return UsccResult(False, code, f"长度应为18位，实际为{len(code)}位")
    if not _USCC_CHARS.issuperset(code):
        bad = next(ch for ch in code if ch not in _USCC_CHARS)
        return UsccResult(False, code, _illegal_char_reason(bad))
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return UsccResult(False, code, f"校验码错误：应为“{expected}”，实际为“{code[17]}”")
    return UsccResult(True, code, None, _structure_warnings(code))


def _illegal_char_reason(ch: str) -> str:
    if ch in EXCLUDED_LETTERS:
        return f"含非法字符“{ch}”（不使用I、O、Z、S、V）"
    return f"含非法字符“{ch}”"


def _structure_warnings(code: str) -> tuple[str, ...]:
    warnings: list[str] = []
    if code[0] not in REGISTRATION_AUTHORITIES:
        warnings.append(f"登记管理部门码“{code[0]}”未定义")
    elif code[0] in ORG_CATEGORIES and code[1] not in ORG_CATEGORIES[code[0]]:
        authority = REGISTRATION_AUTHORITIES[code[0]]
        warnings.append(f"机构类别码“{code[1]}”不属于登记管理部门“{authority}”")
    region = code[2:8]
    if not (region.isascii() and region.isdigit()):
        warnings.append(f"行政区划码“{region}”应为6位数字")
    org_expected = org_code_check_char(code[8:16])
    if code[16] != org_expected:
        warnings.append(f"主体标识码校验位应为“{org_expected}”，实际为“{code[16]}”")
    return tuple(warnings)


def is_valid_uscc(text: str) -> bool:
    """Return True if ``text`` normalises to a code whose check character is right."""
    return validate_uscc(text).ok


def make_uscc(
    rng: random.Random,
    region_code: str,
    *,
    registration_authority: str = "9",
    org_category: str = "1",
) -> str:
    """Generate a valid 统一社会信用代码 (by default 9 工商 / 1 企业) in ``region_code``.

    The 主体标识码 is either eight digits (the pre-2015 组织机构代码 style) or ``MA`` followed by
    six characters (the style issued since 2015), plus its GB 11714 check character; the 18th
    character is computed. Deterministic for a seeded ``rng``.
    """
    if not _REGION_CODE.fullmatch(region_code):
        raise ValueError(f"region_code must be 6 digits, got {region_code!r}")
    for name, value in (
        ("registration_authority", registration_authority),
        ("org_category", org_category),
    ):
        if len(value) != 1 or value not in _USCC_VALUE:
            raise ValueError(f"{name} must be one USCC character, got {value!r}")
    org_code = _random_org_body(rng)
    org_code += org_code_check_char(org_code)
    first17 = registration_authority + org_category + region_code + org_code
    return first17 + uscc_check_char(first17)


def _random_org_body(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice("0123456789") for _ in range(8))
    return "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
