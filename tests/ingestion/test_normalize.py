"""The name key de-duplication compares, and the verdicts drawn from it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingestion.dedupe import same_enterprise
from ingestion.normalize import half_width, normalize_company_name

VARIANTS = [
    "深圳市华芯科技有限公司",
    "华芯科技（深圳）有限公司",
    "华芯科技(深圳)有限公司",
    "深圳 华芯科技 有限公司",
    "广东省深圳市华芯科技有限公司",
    "深圳华芯科技股份有限公司",
    "深圳市华芯科技有限责任公司",
    "华芯科技",
    "深圳市ＨＵＡ华芯科技有限公司".replace("ＨＵＡ", ""),
]


@pytest.mark.parametrize("name", VARIANTS)
def test_variants_share_one_key(name: str) -> None:
    assert normalize_company_name(name) == "华芯科技"


def test_similar_but_distinct_names_stay_apart() -> None:
    assert same_enterprise("深圳市华芯科技有限公司", "深圳市华信科技有限公司") == "different"
    assert same_enterprise("深圳市华芯科技有限公司", "深圳市华芯电子有限公司") == "review"
    assert same_enterprise("深圳市华芯科技有限公司", "华芯技术（深圳）有限公司") == "same"
    assert same_enterprise("深圳蜂巢互联科技有限公司", "北京蜂巢互联科技有限公司") == "review"
    assert same_enterprise("郑州银行股份有限公司", "哈尔滨银行股份有限公司") == "review"


_NAME_CHARS = st.sampled_from(list("华芯信达科技创新电子智能数据云天星辰微光锐"))
_CORE = st.text(_NAME_CHARS, min_size=2, max_size=6)
_PREFIX = st.sampled_from(["", "深圳市", "广东省深圳市", "北京", "上海市浦东新区"])
_SUFFIX = st.sampled_from(["", "有限公司", "股份有限公司", "有限责任公司"])


@given(_CORE)
def test_normalising_is_idempotent(core: str) -> None:
    once = normalize_company_name(core)
    assert normalize_company_name(once) == once


@given(_PREFIX, _CORE, _SUFFIX)
def test_region_prefix_and_legal_form_do_not_matter(prefix: str, core: str, suffix: str) -> None:
    assert normalize_company_name(prefix + core + suffix) == normalize_company_name(core + suffix)
    assert normalize_company_name(core + suffix) == normalize_company_name(core + "有限公司")


@given(_CORE, st.sampled_from(["", " ", "　"]))
def test_width_and_spaces_do_not_matter(core: str, space: str) -> None:
    name = f"深圳市{space}{core}有限公司"
    assert normalize_company_name(name) == normalize_company_name(half_width(name).replace(" ", ""))
    assert normalize_company_name(f"{core}（深圳）有限公司") == normalize_company_name(
        f"{core}(深圳)有限公司"
    )


@given(_CORE)
def test_key_is_never_empty(core: str) -> None:
    assert len(normalize_company_name(core + "有限公司")) >= 2
