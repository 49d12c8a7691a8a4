"""Choices for two columns the seeds' forms leave blank: 身份证件类型 and 险种 (issue 17, point 6).

The printed forms leave a blank to write in; typed by hand online, the same thing arrives spelled ten ways. The
portal offers a list instead, taken from what the seeds publish:

- 身份证件类型: the seeds' definition of 有效身份证件 ("有效身份证件包括身份证、居住证、户口簿、护照、港澳居民来往
  内地通行证、港澳台居民居住证、外国人永久居留证等", region notes of Shangluo, Sichuan, Yueyang and Linkou), with
  其他 for the "等". Jilin's seed defines no list; the portal uses the same one there (this service's choice).
- 险种: the boxes of the region's own 险种 question (the ``insurance_types`` field its unit forms print, e.g. Jilin's
  "□职工基本医疗保险 □生育保险 □补充医疗保险 □其他"). A region that prints no such question keeps the blank.

A field that already has options (or is not plain text) is left as the data has it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .schema import FieldType, FormField, Item, Name

ID_DOCUMENT_TYPES: tuple[Name, ...] = (
    Name(zh="居民身份证", en="Resident identity card"),
    Name(zh="居住证", en="Residence permit"),
    Name(zh="户口簿", en="Household register"),
    Name(zh="护照", en="Passport"),
    Name(zh="港澳居民来往内地通行证", en="Mainland travel permit for Hong Kong and Macao residents"),
    Name(zh="港澳台居民居住证", en="Residence permit for Hong Kong, Macao and Taiwan residents"),
    Name(zh="外国人永久居留身份证", en="Foreigner's permanent residence ID card"),
    Name(zh="其他", en="Other"),
)


def insurance_options(items: Iterable[Item]) -> tuple[Name, ...]:
    """The boxes of the region's first top-level 险种 question (``insurance_types``, multichoice), or none."""
    for item in items:
        for form in item.forms:
            for f in form.fields:
                if f.key == "insurance_types" and f.type is FieldType.multichoice and f.options:
                    return f.options
    return ()


def _complete_field(f: FormField, insurance: tuple[Name, ...]) -> FormField:
    if f.columns:
        columns = tuple(_complete_field(c, insurance) for c in f.columns)
        if columns != f.columns:
            f = f.model_copy(update={"columns": columns})
    if f.type is not FieldType.text or f.options:
        return f
    options = ID_DOCUMENT_TYPES if f.key == "id_type" else insurance if f.key == "insurance_type" else ()
    return f.model_copy(update={"type": FieldType.choice, "options": options}) if options else f


def complete(item: Item, insurance: tuple[Name, ...]) -> Item:
    """``item`` with its blank 身份证件类型 and 险种 fields turned into choices."""
    forms = tuple(form.model_copy(update={"fields": tuple(_complete_field(f, insurance) for f in form.fields)})
                  for form in item.forms)
    if all(new.fields == old.fields for new, old in zip(forms, item.forms, strict=True)):
        return item
    return item.model_copy(update={"forms": forms})
