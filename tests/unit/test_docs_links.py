"""The repository's Markdown stands alone: every link names a file of the repository (and a heading of it
that exists), never another site; the only addresses are the reader's own server on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
ADDRESS = re.compile(r"<?\b(?:https?|ftp)://[^\s>)`\"']+")
LOOPBACK = re.compile(r"(?:https?://)(?:127\.0\.0\.1|localhost)(?::\d+)?(?:/|$)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    prose = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {_slug(line.lstrip("#")) for line in prose.splitlines() if line.startswith("#")}


def test_the_repository_has_the_documents_the_readme_promises() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in DOCUMENTS}
    assert {"docs/architecture.md", "docs/security.md", "docs/permissions.md", "docs/api-guide.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_link_stays_in_the_repository(document: Path) -> None:
    prose = CODE.sub("", document.read_text(encoding="utf-8"))
    outside = [address for address in ADDRESS.findall(prose) if not LOOPBACK.match(address.lstrip("<"))]
    assert outside == [], f"{document.name} links outside the repository"
    for target in LINK.findall(prose):
        if LOOPBACK.match(target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.is_relative_to(ROOT), f"{document.name}: {target} leaves the repository"
        assert linked.exists(), f"{document.name}: {target} names no file"
        if anchor:
            assert anchor in _anchors(linked), f"{document.name}: {target} names no heading of {linked.name}"
