"""Every document the code and docs refer to is in the repository.

Comments cite ``docs/<name>.md §N`` for the project's own notes; each such file must exist
and have a heading for the section. Research notes that live outside the repository
cannot be followed by a reader, so naming them is an error.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_NOTES = re.compile(r"\b(?:PROTOCOL|DESIGN|PEERS|STYLE|ANCHORS-[a-z]+)\.md\b|\.\./shared/")
DOC_REF = re.compile(r"\bdocs/([a-z_-]+\.md)(?: §(\d+(?:\.\d+)*))?")
HEADING = re.compile(r"^#+ (\d+(?:\.\d+)*)[ .]", re.M)


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    suffixes = {".py", ".md", ".rst", ".cfg", ".toml", ".mjs", ".json", ".txt", ".sh"}
    found = []
    for raw in filter(None, names):
        path = ROOT / raw.decode()
        if path.suffix in suffixes and path.is_file() and "discovery" not in path.parts[-1]:
            found.append(path)
    return found


def sections(doc: Path) -> set[str]:
    found: set[str] = set()
    for number in HEADING.findall(doc.read_text(encoding="utf-8")):
        found.add(number)
    # "### 1.2 to 1.3 ..." covers both numbers.
    for first, last in re.findall(r"^#+ (\d+\.\d+) to (\d+\.\d+) ", doc.read_text(encoding="utf-8"), re.M):
        found.update({first, last})
    return found


def test_no_file_names_notes_outside_the_repository() -> None:
    offenders = []
    for path in tracked_text_files():
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE_NOTES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "references to notes outside the repository:\n" + "\n".join(offenders)


def test_every_docs_reference_names_an_existing_file_and_section() -> None:
    missing = []
    cited = 0
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for name, section in DOC_REF.findall(line):
                cited += 1
                doc = ROOT / "docs" / name
                if not doc.is_file():
                    missing.append(f"{path.relative_to(ROOT)}:{number}: docs/{name} does not exist")
                elif section and section not in sections(doc):
                    missing.append(f"{path.relative_to(ROOT)}:{number}: docs/{name} has no section {section}")
    assert cited > 20, "the scan found almost no references: is the pattern still right?"
    assert not missing, "\n".join(missing)
