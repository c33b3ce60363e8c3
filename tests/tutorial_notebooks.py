"""``tutorials/NN_name.md`` -> ``tutorials/NN_name.ipynb``, with nbformat.

One Markdown cell per stretch of prose (fences that do not run stay in it as Markdown), one
code cell per ```python block, whose outputs are the block's shown output (a ``stdout``
stream), so the notebook opens looking executed and nothing appears twice. No execution
counts, no images (figures stay links to ``../figures``), cell ids derived from the cell's
text: the same Markdown always gives the same bytes, which tests/test_tutorials.py checks
against the committed notebook. Regenerate with ``python -m tests.tutorial_runner notebooks``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat

from tests.tutorial_runner import ROOT, TUTORIALS, Block, parse

HEADER = ("*This notebook is generated from [{md}]({md}) (edit the Markdown, then run "
          "`python -m tests.tutorial_runner notebooks`). The outputs shown are the ones the "
          "tests check; run the cells to compute them again. It runs from any folder once "
          "minicompress is installed (`pip install -e .` in the repository).*")
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _cell_id(kind: str, source: str, seen: set) -> str:
    base = f"{kind}-{hashlib.sha1(source.encode('utf-8')).hexdigest()[:10]}"
    cell_id, n = base, 1
    while cell_id in seen:
        n += 1
        cell_id = f"{base}-{n}"
    seen.add(cell_id)
    return cell_id


def notebook(text: str, md_name: str = "the Markdown") -> nbformat.NotebookNode:
    """The notebook of one tutorial's Markdown ``text``."""
    cells, seen = [], set()
    items = [HEADER.format(md=md_name)] + parse(text)
    for item in items:
        if isinstance(item, Block):
            source = item.code.rstrip("\n")
            outputs = []
            if item.shown is not None:
                outputs = [nbformat.v4.new_output("stream", name="stdout", text=item.shown)]
            cell = nbformat.v4.new_code_cell(source, outputs=outputs, id=_cell_id("code", source, seen))
        else:
            source = item.strip("\n")
            cell = nbformat.v4.new_markdown_cell(source, id=_cell_id("md", source, seen))
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=METADATA)
    nbformat.validate(nb)
    return nb


def notebook_path(md: Path) -> Path:
    return md.with_suffix(".ipynb")


def notebook_text(md: Path) -> str:
    """The exact bytes (as text) of the notebook generated from the Markdown file ``md``."""
    return nbformat.writes(notebook(md.read_text(encoding="utf-8"), md.name))


def write_notebooks() -> list[Path]:
    written = []
    for md in TUTORIALS:
        path = notebook_path(md)
        text = notebook_text(md)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for p in write_notebooks():
        print("wrote", p.relative_to(ROOT))
