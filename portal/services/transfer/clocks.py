"""The clocks of 转移接续, in working days of the portal's calendar (holidays and 调休 included).

林口's guide states them (item 002036003002, its ``rules`` entry with the seed's words): "转入地经办机构应在受理后5个
工作日内生成并发出《联系函》；转出地经办机构收到《联系函》后10个工作日内生成、发出《信息表》并划转资金；转入地经办机构收到
《信息表》和转移资金后应在5个工作日内办结。" 四川's template says the same. A region whose guide states no figures uses
these (this service's choice, shown as such): they are the national procedure's, and the other area runs by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...calendar.engine import due_date
from ...catalog.schema import Item

RULE_PARAMS = ("contact_letter_working_days", "information_sheet_working_days", "completion_working_days")


@dataclass(frozen=True)
class Clocks:
    letter: int = 5  # 转入地: 联系函 within … of acceptance
    sheet: int = 10  # 转出地: 信息表 and funds within … of receiving the letter
    complete: int = 5  # 转入地: completion within … of receiving both
    from_guide: bool = False  # the region's guide states them (else this service applies the national figures)
    quote: str = ""  # the guide's words, when it states them

    def letter_due(self, accepted: date) -> date:
        return due_date(accepted, self.letter)

    def sheet_due(self, received: date) -> date:
        return due_date(received, self.sheet)

    def complete_due(self, sheet_received: date, funds_received: date) -> date:
        return due_date(max(sheet_received, funds_received), self.complete)


def clocks_for(item: Item | None) -> Clocks:
    """The clocks of the region's transfer item: its guide's figures, else the national ones."""
    for rule in getattr(item, "rules", None) or ():
        params = rule.params or {}
        if all(name in params for name in RULE_PARAMS):
            return Clocks(int(params[RULE_PARAMS[0]]), int(params[RULE_PARAMS[1]]), int(params[RULE_PARAMS[2]]),
                          True, rule.text.zh if rule.text else "")
    return Clocks()
