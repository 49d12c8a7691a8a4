"""Enrolment items (参保登记 and its changes): what their completion writes into the system of record.

- 单位参保登记 (``enrolment.unit_register``): a new registration creates the unit (or reinstates a cancelled
  one); 暂停登记 suspends it; 注销登记 cancels it once none of its staff is still insured through it.
- The staff roster (《职工参保登记表》/《人员增减变动表》) lists persons with a change category each:
  增加 adds an employee-scheme enrolment (and the person, when the records do not know them yet), 中断
  suspends, 终止 terminates, 恢复 resumes, 在职转退休 makes the person a retiree, 统筹区内转移 moves them to
  the filing unit. 职工参保登记 (``enrolment.staff_register``) takes every category, as its published form
  does; the specialised items take only theirs (停保 ``staff_suspend``, 续保 ``staff_resume``, 在职转退休
  ``staff_retire``, 统筹区内转移 ``staff_transfer``, 退保 ``staff_terminate``).
- Residents (城乡居民): registration or renewal adds or resumes the resident enrolment, 停保 suspends it,
  死亡退保 terminates it.

An item filed by the insured person without a roster in its form concerns the case's person alone. Every row
is checked before anything is written, and all problems are reported at once (``EffectRefused``): the case
then stays uncompleted and the records unchanged. Each change keeps its history (``EnrolmentEvent``) and is
recorded in the case's ``CaseEffect`` so post-hoc checking can revoke it.
"""

from __future__ import annotations

from .effect import EnrolmentEffect
from .handlers import (
    FlexibleRegister,
    ResidentRegister,
    ResidentSuspend,
    ResidentTerminate,
    RetireeManage,
    StaffRegister,
    StaffResume,
    StaffRetire,
    StaffSuspend,
    StaffTerminate,
    StaffTransfer,
)
from .records import CATEGORY_KINDS, Row
from .units import NATURE_WORDS, UnitRegister

__all__ = [
    "CATEGORY_KINDS", "NATURE_WORDS", "EnrolmentEffect", "FlexibleRegister", "ResidentRegister", "ResidentSuspend",
    "ResidentTerminate", "RetireeManage", "Row", "StaffRegister", "StaffResume", "StaffRetire", "StaffSuspend",
    "StaffTerminate", "StaffTransfer", "UnitRegister",
]
