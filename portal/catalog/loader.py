"""Load and check the catalog data of every region.

The data is read once per process and is immutable afterwards. Every problem is reported with the
file, the item and the field it concerns, so that a data editor can find it without reading code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from . import field_options
from .schema import Item, Region

DATA_DIR = Path(__file__).parent / "data"
# libyaml's parser when PyYAML was built with it: the same documents, read about six times faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(Exception):
    """The catalog data is invalid; ``problems`` lists each as 'file: item: field: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("catalog data is invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per region and process
class Catalog:
    region: Region
    items: tuple[Item, ...]
    by_code: dict[str, Item] = field(repr=False)
    version: str = ""  # SHA-256 of the data files as read: cached public pages are keyed by it

    def get(self, code: str) -> Item | None:
        return self.by_code.get(code)

    def items_in_part(self, part_id: str) -> list[Item]:
        return [i for i in self.items if i.part == part_id]


def region_ids(data_dir: Path = DATA_DIR) -> list[str]:
    """The regions that ship, in a stable order."""
    return sorted(p.name for p in data_dir.iterdir() if (p / "region.yaml").is_file())


def _loc(error: dict) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(top)"


def _read_yaml(path: Path, problems: list[str]) -> object:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader, the C one)
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}")
    except OSError as exc:
        problems.append(f"{path}: cannot be read: {exc}")
    return None


def load_region(region_id: str, data_dir: Path = DATA_DIR) -> Catalog:
    """Read and validate one region; raise CatalogError listing every problem found."""
    problems: list[str] = []
    root = data_dir / region_id
    region_path = root / "region.yaml"
    if not region_path.is_file():
        raise CatalogError([f"{region_path}: missing (known regions: {', '.join(region_ids(data_dir))})"])
    raw_region = _read_yaml(region_path, problems)
    region: Region | None = None
    if raw_region is not None:
        try:
            region = Region.model_validate(raw_region)
        except ValidationError as exc:
            problems += [f"{region_path}: {_loc(e)}: {e['msg']}" for e in exc.errors()]

    items: list[Item] = []
    where: dict[str, str] = {}
    item_files = sorted((root / "items").glob("*.yaml"))
    if not item_files:
        problems.append(f"{root / 'items'}: no item files")
    for path in item_files:
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, list):
            problems.append(f"{path}: must be a list of items")
            continue
        for index, raw_item in enumerate(raw):
            label = raw_item.get("code", f"#{index + 1}") if isinstance(raw_item, dict) else f"#{index + 1}"
            try:
                item = Item.model_validate(raw_item)
            except ValidationError as exc:
                problems += [f"{path}: item {label}: {_loc(e)}: {e['msg']}" for e in exc.errors()]
                continue
            if item.code in where:
                problems.append(f"{path}: item {item.code}: code already used in {where[item.code]}")
                continue
            where[item.code] = str(path)
            items.append(item)

    if region is not None:
        part_ids = {p.id for p in region.parts}
        for item in items:
            if item.part not in part_ids:
                problems.append(f"{where[item.code]}: item {item.code}: part: unknown part {item.part!r}")
        if not problems and len(items) != region.expected_item_count:
            problems.append(
                f"{region_path}: expected_item_count: the seed publishes {region.expected_item_count} items, "
                f"the data has {len(items)}"
            )
    if problems:
        raise CatalogError(problems)
    assert region is not None
    # `online` unset: the region's default; an item handled inside the agency is never filed online
    items = [i if i.online is not None else i.model_copy(update={"online": region.online_filing and not i.internal})
             for i in items]
    part_order = {p.id: n for n, p in enumerate(region.parts)}
    ordered = tuple(sorted(items, key=lambda i: part_order[i.part]))  # stable: file order within a part
    insurance = field_options.insurance_options(ordered)
    ordered = tuple(field_options.complete(item, insurance) for item in ordered)
    digest = hashlib.sha256()
    # the lists that complete blank 身份证件类型 / 险种 fields are part of what the catalog serves
    for path in (region_path, *item_files, Path(field_options.__file__)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return Catalog(region=region, items=ordered, by_code={i.code: i for i in ordered}, version=digest.hexdigest())


@cache
def get_catalog(region_id: str) -> Catalog:
    """The validated catalog of a region, loaded once per process."""
    return load_region(region_id)


def check_all(data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Validate every region; return item counts, or raise CatalogError with all problems."""
    counts: dict[str, int] = {}
    problems: list[str] = []
    for region_id in region_ids(data_dir):
        try:
            counts[region_id] = len(load_region(region_id, data_dir).items)
        except CatalogError as exc:
            problems += exc.problems
    if problems:
        raise CatalogError(problems)
    return counts
