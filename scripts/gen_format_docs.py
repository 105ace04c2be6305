"""Regenerate the table reference in tenders/README.md from the schemas (procurement.model.schema).

    python scripts/gen_format_docs.py          # rewrite the generated block
    python scripts/gen_format_docs.py --check  # exit 1 if the file is out of date (used by the tests)
"""

from __future__ import annotations

import sys
from pathlib import Path

from procurement.model.schema import format_markdown

README = Path(__file__).resolve().parent.parent / "tenders" / "README.md"
BEGIN = "<!-- BEGIN GENERATED: table reference (scripts/gen_format_docs.py) -->"
END = "<!-- END GENERATED -->"


def rendered(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{format_markdown()}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = rendered(text)
    if "--check" in sys.argv:
        if new != text:
            print(f"{README} is out of date: run python scripts/gen_format_docs.py")
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
