#!/usr/bin/env python3
"""README.md is rendered from nbs/index.ipynb, offline (Quarto, which `nbdev-readme` needs, cannot be installed here).

    python tests/readme_sync.py                 # write README.md from nbs/index.ipynb
    python tests/readme_sync.py --check         # exit 1 if README.md is not what index.ipynb renders to
    python tests/readme_sync.py --test-command  # print the README's test command (what .ci/run runs)

Markdown cells are copied; code cells become ```python blocks followed by their text output; cells marked `#| hide`
are left out; images are shown in markdown cells by linking committed PNG files in nbs/images/ (the links are made
relative to the project's root). Standard library only.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX, README = ROOT/'nbs'/'index.ipynb', ROOT/'README.md'
HEADER = '<!-- Rendered from nbs/index.ipynb by tests/readme_sync.py: edit the notebook, not this file. -->\n\n'

def _directives(src):
    return {l[3:].strip().split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}

def render(nb_path=INDEX)->str:
    "The README text of a notebook"
    parts = []
    for cell in json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown': parts.append(src.strip().replace('](images/', '](nbs/images/')); continue
        if cell['cell_type'] != 'code' or 'hide' in _directives(src): continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        if code: parts.append(f"```python\n{code}\n```")
        text = ''.join(''.join(o.get('text', '')) if o['output_type'] == 'stream' else ''.join(o.get('data', {}).get('text/plain', ''))
                       for o in cell.get('outputs', []) if o['output_type'] in ('stream', 'execute_result'))
        if text.strip(): parts.append(f"```\n{text.rstrip()}\n```")
    return HEADER + '\n\n'.join(parts) + '\n'

def shell_blocks(text:str)->list:
    "The ```sh blocks of a markdown text, in order"
    return [b.strip() for b in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S|re.M)]

def readme_test_command(text:str)->str:
    "The README's test command: the second of its two shell blocks"
    blocks = shell_blocks(text)
    if len(blocks) != 2: sys.exit(f"README.md must show exactly two ```sh commands, found {len(blocks)}")
    return blocks[1]

if __name__ == '__main__':
    if '--test-command' in sys.argv: print(readme_test_command(README.read_text(encoding='utf-8')))
    elif '--check' in sys.argv:
        if README.read_text(encoding='utf-8') != render(): sys.exit("README.md differs from nbs/index.ipynb: run python tests/readme_sync.py")
    else: README.write_text(render(), encoding='utf-8'); print(f"wrote {README}")
