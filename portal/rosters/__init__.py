"""Spreadsheet rosters: a unit files one case for hundreds or thousands of persons (see ``store``)."""
