"""Brand and short names found in the enterprises of a region (`ingestion.brands`), no database."""

import pytest

from ingestion.brands import BrandHit, BrandIndex, brand_key, is_brand_like
from ingestion.normalize import normalize_company_name

HANGZHOU, NINGBO, ZHEJIANG = "330106", "330212", "330000"


def _index(*firms: tuple[int, str, str | None, str]) -> BrandIndex:
    index = BrandIndex()
    index.extend(
        (ent_id, name, normalize_company_name(name), short, region)
        for ent_id, name, short, region in firms
    )
    return index


@pytest.mark.parametrize(
    ("name", "brand_like"),
    [
        ("和雷实业", True),
        ("场地汇", True),
        ("杭州和雷实业股份有限公司", False),
        ("和雷实业（有限合伙）", False),
        ("杭州某某机械厂", False),
        ("浙江省某某研究院", False),
        ("  ", False),
    ],
)
def test_a_name_without_a_legal_form_is_a_brand(name: str, brand_like: bool) -> None:
    assert is_brand_like(name) is brand_like


def test_brand_key_drops_the_legal_form_word_a_short_name_keeps() -> None:
    assert brand_key("氟聚股份") == "氟聚"
    assert brand_key("Ｓｍａｒｔ 智鼎") == "smart智鼎"
    assert brand_key("杭州和雷实业") == "和雷实业"  # the region prefix goes, as in a core name


def test_a_brand_inside_the_core_name_finds_the_enterprise_of_its_region() -> None:
    index = _index(
        (1, "杭州和雷实业股份有限公司", None, HANGZHOU),
        (2, "宁波和雷实业有限公司", None, NINGBO),
    )
    assert index.lookup("和雷实业", HANGZHOU) == BrandHit(1)
    assert index.lookup("和雷实业", NINGBO) == BrandHit(2)
    # A province-level code is evidence for any of its cities: both are candidates.
    assert index.lookup("和雷实业", ZHEJIANG) == BrandHit(candidates=[1, 2])
    assert index.lookup("和雷实业", "440305") == BrandHit()  # nothing in Guangdong
    assert index.lookup("和", HANGZHOU) == BrandHit()  # one character is no evidence


def test_a_short_name_is_searched_too() -> None:
    index = _index((7, "杭州西铁供应链管理有限公司", "铁大大", HANGZHOU))
    assert index.lookup("铁大大", HANGZHOU) == BrandHit(7)


def test_an_exact_name_wins_over_names_that_contain_it() -> None:
    index = _index(
        (1, "杭州星星科技有限公司", None, HANGZHOU),
        (2, "杭州星星科技发展有限公司", None, HANGZHOU),
    )
    assert index.lookup("星星科技", HANGZHOU) == BrandHit(1)
    assert index.lookup("星星", HANGZHOU) == BrandHit(candidates=[1, 2])


def test_a_brand_only_in_the_middle_of_a_name_is_left_to_a_person() -> None:
    index = _index((3, "北京雷铂犀牛科技有限公司", None, "110105"))
    assert index.lookup("犀牛科技", "110100") == BrandHit(candidates=[3])


def test_a_place_before_the_brand_still_counts_as_its_start() -> None:
    # '孝感市' is not in the reference data: the core name keeps it.
    index = _index((4, "孝感市易生新材料有限公司", None, "420902"))
    assert index.lookup("易生新材", "420900") == BrandHit(4)


def test_name_and_trade_find_a_longer_name_of_the_same_trade_only() -> None:
    index = _index(
        (5, "武汉元生创新科技有限公司", None, "420106"),
        (6, "武汉元生生物医药有限公司", None, "420106"),
    )
    assert index.lookup("元生科技", "420100") == BrandHit(5)
    # With the firm absent a look-alike that holds the brand mid-name is not taken alone.
    index = _index(
        (8, "北京犀牛瀚海科技有限责任公司", None, "110118"),
        (3, "北京雷铂犀牛科技有限公司", None, "110105"),
    )
    assert index.lookup("犀牛科技", "110200") == BrandHit(candidates=[3, 8])


def test_a_municipality_is_one_city_and_other_cities_are_apart() -> None:
    index = _index((9, "北京深感科技有限公司", None, "110228"))  # a former county code
    assert index.lookup("深感科技", "110108") == BrandHit(9)
    assert index.elsewhere(9, "310104") and not index.elsewhere(9, "110000")
    assert not index.elsewhere(404, "310104")  # unknown enterprises are nowhere in particular


def test_enterprises_without_a_region_code_are_not_indexed() -> None:
    index = _index((1, "杭州和雷实业股份有限公司", None, ""), (2, "和雷实业有限公司", None, "杭州"))
    assert index.lookup("和雷实业", HANGZHOU) == BrandHit()
