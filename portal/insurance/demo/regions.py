"""Parameters of the demo regions and the pools demo names, places and employers are drawn from
(illustrative figures, not any region's published policy)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..constants import PersonCategory, UnitNature

# --------------------------------------------------------------------------------------------------
# Regions


@dataclass(frozen=True)
class DemoRegion:
    """Demo parameters of a deployment region: division codes, names and policy figures (illustrative)."""

    code: str  # the pooling area's 6-digit division code
    province: str
    city: str
    short: str
    districts: tuple[tuple[str, str], ...]  # (division code, name)
    agency: str
    postcode: str
    phone_area: str
    unit_rate: Decimal  # 单位缴费比例 incl. maternity
    base_floor: int  # 缴费基数下限 in 2022
    base_ceiling: int  # 缴费基数上限 in 2022
    retiree_credit: Decimal  # 退休人员个人账户定额划入 per month in 2022
    large_expense_fee: Decimal  # 大额医疗费用补助, per year
    has_long_term_care: bool
    ethnicities: tuple[tuple[str, int], ...]
    banks: tuple[str, ...]


COMMON_BANKS = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "中国邮政储蓄银行")

REGIONS: dict[str, DemoRegion] = {
    "jilin": DemoRegion(
        "220100", "吉林省", "长春市", "长春",
        (("220102", "南关区"), ("220103", "宽城区"), ("220104", "朝阳区"), ("220105", "二道区"),
         ("220106", "绿园区"), ("220112", "双阳区"), ("220113", "九台区"), ("220122", "农安县"),
         ("220182", "榆树市"), ("220183", "德惠市")),
        "长春市医疗保障经办中心", "130000", "0431", Decimal("0.07"), 3500, 19000, Decimal("95.00"),
        Decimal("120.00"), True, (("汉族", 90), ("满族", 4), ("朝鲜族", 4), ("蒙古族", 1), ("回族", 1)),
        (*COMMON_BANKS, "吉林银行", "长春农村商业银行"),
    ),
    "yueyang": DemoRegion(
        "430600", "湖南省", "岳阳市", "岳阳",
        (("430602", "岳阳楼区"), ("430603", "云溪区"), ("430611", "君山区"), ("430621", "岳阳县"),
         ("430623", "华容县"), ("430624", "湘阴县"), ("430626", "平江县"), ("430681", "汨罗市"),
         ("430682", "临湘市")),
        "岳阳市医疗保障事务中心", "414000", "0730", Decimal("0.08"), 3400, 17500, Decimal("90.00"),
        Decimal("150.00"), False, (("汉族", 96), ("土家族", 2), ("回族", 1), ("苗族", 1)),
        (*COMMON_BANKS, "湖南银行", "岳阳农村商业银行"),
    ),
    "linkou": DemoRegion(
        "231025", "黑龙江省", "牡丹江市林口县", "林口",
        (("231025", "林口县"),),
        "林口县医疗保障服务中心", "157600", "0453", Decimal("0.075"), 3000, 15000, Decimal("85.00"),
        Decimal("100.00"), False, (("汉族", 91), ("满族", 4), ("朝鲜族", 4), ("回族", 1)),
        (*COMMON_BANKS, "龙江银行", "林口农村商业银行"),
    ),
    "sichuan": DemoRegion(
        "510100", "四川省", "成都市", "成都",
        (("510104", "锦江区"), ("510105", "青羊区"), ("510106", "金牛区"), ("510107", "武侯区"),
         ("510108", "成华区"), ("510112", "龙泉驿区"), ("510113", "青白江区"), ("510114", "新都区"),
         ("510115", "温江区"), ("510116", "双流区")),
        "成都市医疗保障事务中心", "610000", "028", Decimal("0.065"), 4000, 21000, Decimal("105.00"),
        Decimal("180.00"), True, (("汉族", 95), ("藏族", 2), ("彝族", 2), ("羌族", 1)),
        (*COMMON_BANKS, "成都银行", "成都农村商业银行"),
    ),
    "shangluo": DemoRegion(
        "611000", "陕西省", "商洛市", "商洛",
        (("611002", "商州区"), ("611021", "洛南县"), ("611022", "丹凤县"), ("611023", "商南县"),
         ("611024", "山阳县"), ("611025", "镇安县"), ("611026", "柞水县")),
        "商洛市医疗保障经办中心", "726000", "0914", Decimal("0.07"), 3300, 16500, Decimal("85.00"),
        Decimal("120.00"), False, (("汉族", 99), ("回族", 1)),
        (*COMMON_BANKS, "长安银行", "陕西秦农农村商业银行"),
    ),
}

RESIDENT_FEE = {2022: Decimal("350.00"), 2023: Decimal("380.00"), 2024: Decimal("400.00"),
                2025: Decimal("400.00"), 2026: Decimal("400.00")}
"""National minimum individual contribution of 城乡居民 per year (illustrative where regions differ)."""

# Surnames with rough frequencies (per mille of the population), compound surnames rare.
SURNAMES = (
    ("王", 71), ("李", 70), ("张", 68), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 22), ("赵", 20), ("吴", 19),
    ("周", 19), ("徐", 13), ("孙", 12), ("马", 12), ("朱", 11), ("胡", 10), ("郭", 10), ("何", 9), ("林", 9),
    ("高", 9), ("罗", 8), ("郑", 8), ("梁", 7), ("谢", 6), ("宋", 6), ("唐", 6), ("许", 5), ("韩", 5),
    ("冯", 5), ("邓", 5), ("曹", 5), ("彭", 5), ("曾", 5), ("肖", 4), ("田", 4), ("董", 4), ("袁", 4),
    ("潘", 4), ("于", 4), ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 3), ("程", 3), ("苏", 3),
    ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3),
    ("钟", 2), ("谭", 2), ("陆", 2), ("汪", 2), ("范", 2), ("金", 2), ("石", 2), ("廖", 2), ("贾", 2),
    ("夏", 2), ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2), ("秦", 2),
    ("邱", 2), ("江", 2), ("尹", 2), ("薛", 1), ("闫", 1), ("段", 1), ("雷", 1), ("侯", 1), ("龙", 1),
    ("史", 1), ("陶", 1), ("黎", 1), ("贺", 1), ("顾", 1), ("毛", 1), ("郝", 1), ("龚", 1), ("邵", 1),
    ("万", 1), ("钱", 1), ("严", 1), ("武", 1), ("戴", 1), ("孔", 1), ("向", 1), ("汤", 1),
    ("欧阳", 0.3), ("司马", 0.1), ("上官", 0.1), ("诸葛", 0.05), ("皇甫", 0.05),
)
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文东海峰成亮晨博晓云天振德宏荣新福庆春"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳雪婷慧莉倩颖洁琴晶欣怡佳悦雨梦涵萱思雅丹月凤玉珍"
STREETS = ("人民大街", "解放路", "建设街", "胜利街", "和平路", "新华路", "朝阳路", "文化路", "长江路", "黄河路",
            "光明街", "幸福路", "东风大街", "青年路", "繁荣路", "自由大路")
TOWNS = ("东风", "红旗", "向阳", "永安", "太平", "长岭", "新民", "兴隆", "合心", "万顺")
BRANDS = ("华宇", "恒通", "鑫达", "宏远", "东升", "瑞丰", "金桥", "长信", "博远", "盛世", "中鼎", "天诚", "嘉禾",
           "万通", "新源", "振兴", "正阳", "汇通", "德润", "永泰", "锦程", "安泰", "隆盛", "启航")
INDUSTRIES = ("建筑工程", "商贸", "物流", "食品", "机械制造", "汽车零部件", "信息技术", "房地产开发", "医药",
               "农业科技", "餐饮管理", "物业服务", "电子科技", "化工", "纺织", "环保科技", "文化传媒")
BUREAUS = ("市场监督管理局", "教育局", "财政局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局",
            "水务局", "农业农村局", "商务局", "文化广电和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局",
            "审计局", "统计局", "医疗保障局", "司法局", "民政局", "人力资源和社会保障局")
SHOPS = ("面馆", "水果店", "五金店", "理发店", "便利店", "修车铺", "小吃部", "烧烤店", "干洗店", "粮油店")
PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "139", "150", "151", "152", "155", "156",
                   "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188",
                   "189", "191", "198", "199")
CHRONIC = (("M03900", "糖尿病"), ("M10900", "高血压"), ("M01600", "冠心病"), ("M07800", "慢性阻塞性肺疾病"),
            ("M18300", "慢性肾脏病"))
SPECIAL_DRUGS = (("XL01XC", "曲妥珠单抗注射液"), ("XL01XE", "甲磺酸奥希替尼片"), ("XL04AC", "司库奇尤单抗注射液"))
REMOTE_DESTINATIONS = (("460100", "海南省海口市"), ("440300", "广东省深圳市"), ("370200", "山东省青岛市"),
                        ("530100", "云南省昆明市"), ("210200", "辽宁省大连市"), ("110000", "北京市"))

UNIT_NATURE_WEIGHTS = (
    (UnitNature.ENTERPRISE, 55), (UnitNature.GOVERNMENT, 8), (UnitNature.PUBLIC_INSTITUTION, 12),
    (UnitNature.SOCIAL_ORGANISATION, 5), (UnitNature.PRIVATE_NON_ENTERPRISE, 7), (UnitNature.INDIVIDUAL_BUSINESS, 13),
)
CATEGORY_SHARES = (
    (PersonCategory.EMPLOYEE, 0.52), (PersonCategory.RETIREE, 0.17), (PersonCategory.FLEXIBLE, 0.08),
    (PersonCategory.RESIDENT, 0.13), (PersonCategory.STUDENT, 0.075), (PersonCategory.NEWBORN, 0.02),
    (PersonCategory.RETIRED_CADRE, 0.005),
)
CREDIT_PREFIX = {
    UnitNature.GOVERNMENT: "11", UnitNature.PUBLIC_INSTITUTION: "12", UnitNature.SOCIAL_ORGANISATION: "51",
    UnitNature.PRIVATE_NON_ENTERPRISE: "52", UnitNature.ENTERPRISE: "91", UnitNature.INDIVIDUAL_BUSINESS: "92",
}


def demo_region(region_id: str) -> DemoRegion:
    return REGIONS.get(region_id, REGIONS["jilin"])
