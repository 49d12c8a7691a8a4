"""``python -m portal.catalog [REGION ...]``: validate catalog data and print item counts."""

import sys

from .loader import CatalogError, load_region, region_ids


def main(argv: list[str]) -> int:
    status = 0
    for region_id in argv or region_ids():
        try:
            catalog = load_region(region_id)
        except CatalogError as exc:
            print(f"{region_id}: INVALID")
            for problem in exc.problems:
                print(f"  {problem}")
            status = 1
        else:
            print(f"{region_id}: ok, {len(catalog.items)} items")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
