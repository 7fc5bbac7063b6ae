"README.md stays true to nbs/index.ipynb, and CI runs exactly the README's test command."
import subprocess, sys
from pathlib import Path
from readme_sync import render, shell_blocks, readme_test_command, README, ROOT

def test_readme_is_rendered_from_index():
    assert README.read_text(encoding='utf-8') == render(), "README.md differs from nbs/index.ipynb: run `python tests/readme_sync.py`"

def test_readme_shows_exactly_two_commands():
    blocks = shell_blocks(README.read_text(encoding='utf-8'))
    assert len(blocks) == 2
    main, tests = blocks
    assert 'anime-colorize' in main and 'tests/run_all.sh' in tests
    for cmd in blocks: assert 'python3 -m venv .venv' in cmd and 'pip install' in cmd, "each command does its own set-up"

def test_ci_runs_the_readme_test_command():
    out = subprocess.run([sys.executable, str(ROOT/'tests'/'readme_sync.py'), '--test-command'], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == readme_test_command(README.read_text(encoding='utf-8'))
    assert 'readme_sync.py --test-command' in (ROOT/'.ci'/'run').read_text()
