"""Versions and version specifiers as PEP 440 (and pip) read them, through packaging."""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


def version_satisfies(version: str, wanted_text: str) -> bool:
    """'3.12.1' against '>=3.12' or '>=1.0,<2' (PEP 440, pre-releases included); an unknown
    version never satisfies."""
    wanted, have = specifier(wanted_text), parse_version(version)
    return wanted is not None and have is not None and wanted.contains(have, prereleases=True)


def parse_version(text: str) -> Version | None:
    """A version as packaging reads it; of a local build ('3.13.0+', '1.2-custom'), its leading numbers."""
    try:
        return Version(text)
    except InvalidVersion:
        numbers = re.match(r"\d+(?:\.\d+)*", text.strip())
        return Version(numbers.group()) if numbers else None


def specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text) if text.strip() else None
    except InvalidSpecifier:
        return None
