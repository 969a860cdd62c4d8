"""A template workbook per import kind: the headers the importer reads, an example row, notes.

The '数据' sheet has one column per field of the kind (the first Chinese synonym the importer
knows, with its unit), required columns first, and one example row that imports as it is; the
'填写说明' sheet says per column whether it is required, what it holds and how to write it.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ingestion.headers import SYNONYMS
from ingestion.safe_cells import append_row
from ingestion.validate import REQUIRED
from models.reference import (
    Board,
    Collateral,
    Confidentiality,
    ImportKind,
    InstitutionKind,
    ListingTier,
    Qualification,
    Stage,
)

#: Per field: the unit put in its header, an example value, how to fill it in.
_WAN = "（万元）"
FIELDS: dict[str, tuple[str, object, str]] = {
    "legal_name": ("", "杭州示例智能科技有限公司", "企业全称，与营业执照一致"),
    "uscc": ("", "9133010626018159XA", "18位统一社会信用代码（GB 32100-2015，含校验码）"),
    "short_name": ("", "示例智能", "简称或品牌名"),
    "region": ("", "杭州市西湖区", "所在区县名称或6位行政区划代码"),
    "address": ("", "杭州市西湖区文三路 1 号", "注册或经营地址"),
    "industry": (
        "",
        "人工智能",
        "国民经济行业分类（GB/T 4754-2017）代码、名称或常用行业词（如 人工智能、医疗器械）",
    ),
    "stage": ("", "成长期", "、".join(Stage.labels().values())),
    "founded_on": ("", "2019-05-20", "日期，如 2019-05-20、2019年5月"),
    "registered_capital": (_WAN, 1000, "数字，单位见表头"),
    "employees": ("", 85, "整数"),
    "rd_staff": ("", 30, "整数"),
    "revenue": (_WAN, 5200, "最近一年营业收入，单位见表头"),
    "net_profit": (_WAN, 600, "可为负数"),
    "rd_expense": (_WAN, 800, "最近一年研发投入"),
    "patents": ("", 12, "有效专利数"),
    "qualifications": (
        "",
        "高新技术企业、专精特新",
        "多项用顿号分隔：" + "、".join(q.label for q in Qualification),
    ),
    "business_scope": ("", "人工智能软件开发；技术服务", "经营范围或主营业务"),
    "contact_name": ("", "张三", "联系人姓名（个人信息：经企业授权后方可向机构披露）"),
    "contact_title": ("", "财务总监", "联系人职务"),
    "contact_phone": ("", "13800138000", "手机或固定电话"),
    "contact_email": ("", "zhangsan@example.com", "电子邮箱"),
    "financing_type": ("", "信用贷款", "贷款、股权或投贷联动（可写具体方式，如 知识产权质押贷款）"),
    "amount": (_WAN, "500-1000", "单个金额或区间；不写单位时按表头单位（一般为万元）"),
    "round_stage": ("", "A轮", "融资轮次或发展阶段"),
    "purpose": ("", "研发投入与产能扩张", "资金用途"),
    "collateral": (
        "",
        "知识产权质押、信用",
        "多项用顿号分隔：" + "、".join(c.label for c in Collateral),
    ),
    "term_months": ("（月）", 12, "月数，也可写 1年、6-12个月"),
    "deadline": ("", "2027-06-30", "期望资金到位日期"),
    "confidentiality": ("", "脱敏", "、".join(c.label for c in Confidentiality) + "（默认 脱敏）"),
    "source_ref": ("", "XQ-2026-001", "来源表内的需求编号（再次导入时据此更新）"),
    "target_board": ("", "科创板", "、".join(b.label for b in Board)),
    "tier": ("", "培育层", "、".join(t.label for t in ListingTier)),
    "coaching_started_on": ("", "2026-01-15", "纳入培育日期"),
    "listed_board": ("", "", "已上市或挂牌的板块（未上市留空）"),
    "listed_on": ("", "", "上市或挂牌日期（未上市留空）"),
    "estimated_market_value": (_WAN, 80000, "预计市值"),
    "sponsor": ("", "示例证券股份有限公司", "辅导机构（须为入驻机构）"),
    "institution_name": ("", "示例银行股份有限公司杭州分行", "机构全称"),
    "institution_kind": ("", "银行", "、".join(k.label for k in InstitutionKind)),
    "regions_served": ("", "杭州市", "多项用顿号分隔"),
    "focus": ("", "科技型中小企业信贷", "业务或投资方向"),
    "agreement_start": ("", "2026-01-01", "入驻协议起始日"),
    "agreement_end": ("", "2028-12-31", "入驻协议到期日"),
    "email": ("", "contact@bank.example", "机构联系邮箱"),
    "product_name": ("", "科技信用贷", "产品名称"),
    "term": ("（月）", "6-36", "期限区间（月）"),
    "rate": ("", "3.45-4.5%", "年利率或区间"),
    "required_qualifications": ("", "高新技术企业", "准入资质，多项用顿号分隔"),
    "min_years_operating": ("", 2, "成立年限要求（年）"),
    "min_revenue": (_WAN, 500, "最低营业收入"),
    "sectors": ("", "人工智能、集成电路", "行业，多项用顿号分隔"),
    "regions": ("", "杭州市", "适用或投资区域，多项用顿号分隔"),
    "mandate_name": ("", "示例科创一期基金", "基金或投资策略名称"),
    "stages": ("", "初创期、成长期", "投资阶段，多项用顿号分隔"),
    "ticket": (_WAN, "500-3000", "单笔投资金额或区间"),
    "fund_size": (_WAN, 100000, "基金规模"),
    "remaining_capacity": (_WAN, 40000, "剩余可投金额"),
    "sei_categories": (
        "",
        "新一代信息技术产业、生物产业",
        "战略性新兴产业（2018）类别，多项用顿号分隔",
    ),
    "topic": ("", "股改与财务规范", "培训主题"),
    "deal_type": ("", "贷款", "贷款或股权投资"),
    "closed_on": ("", "2026-11-30", "放款或投资日期（不晚于今天）"),
    "note": ("", "", "备注"),
    "event_title": (
        "",
        "2026年第四季度科技企业投融资路演",
        "活动名称（含“路演”或“培训”可识别类型）",
    ),
    "event_kind": ("", "路演", "路演或培训"),
    "event_date": ("", "2026-11-20", "活动日期"),
    "venue": ("", "科技金融服务中心 1 号路演厅", "活动地点"),
    "person_name": ("", "李四", "参会人姓名"),
    "organisation": ("", "杭州示例智能科技有限公司", "所在单位"),
    "phone": ("", "13900139000", "手机号"),
    "checked_in_at": ("", "2026-11-20", "签到时间"),
}
#: Fields left out of a template: a kind writes the range in one column (金额下限/上限 …).
_ALTERNATES = frozenset({"amount_min", "amount_max", "min_amount", "max_amount", "min_ticket",
                         "max_ticket"})  # fmt: skip
#: The demand kind's example needs a financing type the header unit fits.
_KIND_EXAMPLES: dict[ImportKind, dict[str, object]] = {
    ImportKind.deals: {"amount": 800, "legal_name": "杭州示例智能科技有限公司"},
    ImportKind.products: {"amount": "100-1000"},
}


def template_fields(kind: ImportKind) -> list[str]:
    """The fields of `kind`'s template: the required ones first, then the rest in table order."""
    fields = [f for f in SYNONYMS[kind] if f not in _ALTERNATES and f in FIELDS]
    required = [f for need in REQUIRED[kind] for f in need.split("|")[:1]]
    return required + [f for f in fields if f not in required]


def template_header(kind: ImportKind, name: str) -> str:
    """The header cell of field `name`: the importer's first synonym, and the unit."""
    return SYNONYMS[kind][name][0] + FIELDS[name][0]


def write_template(kind: ImportKind, out: Path) -> Path:
    """Write the template of `kind` (.xlsx) to `out`; return `out`."""
    fields = template_fields(kind)
    required = {f for need in REQUIRED[kind] for f in need.split("|")}
    workbook = Workbook()
    data = workbook.active
    assert data is not None
    data.title = "数据"
    append_row(data, [template_header(kind, f) for f in fields])
    examples = _KIND_EXAMPLES.get(kind, {})
    append_row(data, [examples.get(f, FIELDS[f][1]) or None for f in fields])
    for cell in data[1]:
        cell.font = Font(bold=True)
        if cell.column is not None and fields[cell.column - 1] in required:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
    data.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    append_row(notes, ["列名", "是否必填", "说明"])
    for f in fields:
        append_row(
            notes, [template_header(kind, f), "必填" if f in required else "选填", FIELDS[f][2]]
        )
    append_row(notes, [])
    for line in _NOTES:
        append_row(notes, [line])
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return out


_NOTES = (
    "说明：第一行为表头，第二行为示例（导入前请删除或改为真实数据）；黄色表头为必填列。",
    "金额不写单位时按表头单位计；按“万元”填写时请勿填写以“元”为单位的数字（≥100万的数字将转入复核）。",
    "联系人属于个人信息：仅在企业授权后向入驻机构披露，每次披露均记入审计日志。",
    "导入时只读取“数据”工作表；本“填写说明”工作表不会被导入。",
)
