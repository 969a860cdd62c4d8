"""Unique 统一社会信用代码 for generated enterprises, at any count, with no draw ever retried.

The 主体标识码 comes from a serial number put through a seeded affine bijection of its space:
distinct serials give distinct codes, which still look drawn at random.
"""

import math
import random
from dataclasses import dataclass, field

from ingestion.uscc import USCC_ALPHABET, org_code_check_char, uscc_check_char

_DIGIT_SPACE = 10**8  # the pre-2015 style: eight digits
_MA_SPACE = len(USCC_ALPHABET) ** 6  # the style since 2015: 'MA' and six characters


@dataclass(frozen=True, slots=True)
class _Bijection:
    """x ↦ (a·x + b) mod size, a permutation of range(size) since gcd(a, size) = 1."""

    size: int
    a: int
    b: int

    @classmethod
    def draw(cls, rng: random.Random, size: int) -> "_Bijection":
        a = rng.randrange(size // 3, size)
        while math.gcd(a, size) != 1:
            a += 1
        return cls(size, a, rng.randrange(size))

    def __call__(self, x: int) -> int:
        if x >= self.size:
            raise RuntimeError("统一社会信用代码 space exhausted")
        return (self.a * x + self.b) % self.size


@dataclass
class UsccIssuer:
    """Issues valid, never repeated codes (9 工商 / 1 企业) in a region; half in each style."""

    rng: random.Random
    _digits: _Bijection = field(init=False)
    _ma: _Bijection = field(init=False)
    _issued: list[int] = field(default_factory=lambda: [0, 0])

    def __post_init__(self) -> None:
        self._digits = _Bijection.draw(self.rng, _DIGIT_SPACE)
        self._ma = _Bijection.draw(self.rng, _MA_SPACE)

    def issue(self, region_code: str) -> str:
        """The next code, e.g. 91440300MA5F1K2X3Y for a 深圳 enterprise."""
        style = 0 if self.rng.random() < 0.5 else 1
        serial = self._issued[style]
        self._issued[style] += 1
        body = f"{self._digits(serial):08d}" if style == 0 else "MA" + _base31(self._ma(serial))
        first17 = "91" + region_code + body + org_code_check_char(body)
        return first17 + uscc_check_char(first17)


def _base31(value: int) -> str:
    chars = []
    for _ in range(6):
        value, digit = divmod(value, len(USCC_ALPHABET))
        chars.append(USCC_ALPHABET[digit])
    return "".join(reversed(chars))
