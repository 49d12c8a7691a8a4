"""The commitment texts the portal asks people to sign, per region and purpose, each with a version.

The wording is the portal's own, written from the content of the region's published template or, where a
region publishes none, from the rule it applies, and every text names its basis. A published version is
never edited: a change of wording is a new version, so a signature always refers to the words its signer
read. ``tests/commitments`` fails when a version's words change without a new version.
"""

from __future__ import annotations

from dataclasses import dataclass

REMOTE_CARE_FILING = "remote_care_filing"  # 异地就医备案 with a commitment instead of proof


@dataclass(frozen=True)
class CommitmentText:
    region: str
    purpose: str
    version: str
    title: str
    paragraphs: tuple[str, ...]
    basis: tuple[str, ...]

    @property
    def body(self) -> str:
        """The exact words signed: the title, the numbered paragraphs and the basis, one per line."""
        lines = [self.title, *self.paragraphs, "依据：" + "；".join(self.basis)]
        return "\n".join(lines)

    @property
    def key(self) -> str:
        return f"{self.region}/{self.purpose}/{self.version}"


_NATIONAL = "《国家医保局 财政部关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》（医保发〔2022〕22号）"

# The promises every region's filing commitment makes, in the portal's words (the content of seed 000 附件1).
_COMMON = (
    "一、本人已了解异地就医备案的政策规定和办理要求，自愿选择以个人承诺代替证明材料办理备案。",
    "二、本人符合所选人员类别的备案条件，所填写的就医地、开始日期、就医地联系地址和联系电话真实、准确、完整。",
    "三、本人知道备案后待遇即时生效，经办机构将事后核查；承诺不实或违反承诺的，经办机构可撤销备案，"
    "由此产生的费用和法律责任由本人承担。",
    "四、因特殊原因不能在就医地直接结算的，本人同意回参保地按规定申请报销。",
)

TEXTS: tuple[CommitmentText, ...] = (
    CommitmentText(
        "jilin", REMOTE_CARE_FILING, "jilin-remote-care-2026.1", "基本医疗保险异地就医备案个人承诺书",
        (*_COMMON, "五、本承诺书由经办机构存档，保存期不少于两年。"),
        ("吉林省医疗保障经办政务服务事项办事指南 G002036004001–G002036004003 "
         "附件1《基本医疗保险异地就医备案个人承诺书》", _NATIONAL),
    ),
    CommitmentText(
        "yueyang", REMOTE_CARE_FILING, "yueyang-remote-care-2026.1", "异地就医备案个人承诺书",
        (*_COMMON, "五、本人因个人原因无法提供所需证明，保证符合业务办理条件，所述信息真实、准确、完整、有效，"
                   "由此产生的一切法律责任均由本人承担。"),
        ("岳阳市医疗保障经办政务服务事项办事指南 002036004001–002036004003 参考样式27《个人承诺书》", _NATIONAL),
    ),
    CommitmentText(
        "linkou", REMOTE_CARE_FILING, "linkou-remote-care-2026.1", "异地就医备案个人承诺书",
        _COMMON,
        ("林口县医疗保障经办政务服务事项清单 第12–14项（居住证明或个人承诺书；异地工作证明材料或个人承诺书）",
         "《人力资源社会保障部 财政部关于做好基本医疗保险跨省异地就医住院医疗费用直接结算工作的通知》"
         "（人社部发〔2016〕120号）",
         _NATIONAL),
    ),
    CommitmentText(
        "sichuan", REMOTE_CARE_FILING, "sichuan-remote-care-2026.1", "异地就医备案个人承诺书",
        (*_COMMON, "五、本人知道外伤暂不能跨省直接结算。"),
        ("四川省医疗保障经办政务服务办事指南 第十七至十九项（异地安置、长期居住、常驻工作认定材料或个人承诺书）",
         _NATIONAL),
    ),
    CommitmentText(
        "shangluo", REMOTE_CARE_FILING, "shangluo-remote-care-2026.1", "异地就医备案个人承诺书",
        _COMMON,
        ("商洛市医疗保障经办服务事项 异地就医备案（异地安置、长期居住、长驻异地工作认定材料或个人承诺书）", _NATIONAL),
    ),
)

_BY_KEY = {(t.region, t.purpose): t for t in TEXTS}


def current_text(region: str, purpose: str) -> CommitmentText | None:
    """The version of the commitment that people sign now, or None when the region has none for ``purpose``."""
    return _BY_KEY.get((region, purpose))
