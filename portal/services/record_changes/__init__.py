"""Information changes (信息变更): what their completion writes onto a unit's or a person's record.

- 单位信息变更 (``enrolment.unit_change``): the form's "new" column (``new_*`` / ``changed_*``: name, address,
  unit type, legal representative and their 身份证 and phone, bank and account) goes onto the unit that filed.
- 职工 / 城乡居民基本信息变更 (``enrolment.staff_change``, ``enrolment.resident_change``): each row of the
  change table names a person (身份证件号码, 姓名), a change item (变更项目), the value before and after. The items
  the records keep (姓名, 身份证件号码, 联系电话, 居住地址, 民族, 户籍地) are written; items the records do not keep
  (工资, 学历...) pass; an item the portal cannot place is refused, so a case never reads 办结 while the change it
  asked for was silently dropped. A new 身份证 number must be valid and not belong to anyone else.
- 参保人员电话号码新增和更改 (``enrolment.phone_change``, 四川 SC07): the new number, proven by a code sent to it,
  becomes the person's phone on record and the login of the applicant's account (``phone.py``).
- 单位合并、分立或注销 (``enrolment.unit_close``): 暂停登记 and 注销登记 as 单位参保登记 does them.

Items whose published form carries no structured change (only a free description) complete without touching
the records: the agency makes the change at the counter. As with the roster items, everything is checked before
anything is written, every problem is reported at once (``EffectRefused``), and each change is recorded in the
case's ``CaseEffect`` (values sealed) so post-hoc checking can undo it, or refuse when the record moved on since.
"""

from __future__ import annotations

from .flags import SpecialFlag
from .persons import ResidentChange, StaffChange
from .phone import PhoneChange
from .units import UnitChange, UnitClose

__all__ = ["PhoneChange", "ResidentChange", "SpecialFlag", "StaffChange", "UnitChange", "UnitClose"]
