"README.md stays true to nbs/index.ipynb, and CI runs exactly the README's test command."
import os, re, shutil, subprocess, sys, tomllib
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

def _ci_in(folder:Path, readme:str)->subprocess.CompletedProcess:
    "Run the project's own `.ci/run` in a copy of the project's CI files beside `readme`"
    (folder/'.ci').mkdir(parents=True); (folder/'tests').mkdir()
    shutil.copy(ROOT/'.ci'/'run', folder/'.ci'/'run'); shutil.copy(ROOT/'tests'/'readme_sync.py', folder/'tests'/'readme_sync.py')
    (folder/'README.md').write_text(readme, encoding='utf-8')
    return subprocess.run(['bash', str(folder/'.ci'/'run')], capture_output=True, text=True, cwd='/', timeout=60)

def test_ci_runs_the_readme_test_command(tmp_path):
    "`.ci/run` executes the README's second command, from the project's root, and fails when it fails"
    text = README.read_text(encoding='utf-8')
    first, second = shell_blocks(text)
    marked = text.replace(second, 'echo "$PWD" > ran-second.txt && exit 7').replace(first, 'echo ran > ran-first.txt')
    r = _ci_in(tmp_path/'copy', marked)
    assert r.returncode == 7, (r.stdout, r.stderr)   # its exit status is CI's
    assert (tmp_path/'copy'/'ran-second.txt').read_text().strip() == str(tmp_path/'copy'), "run from the project's root"
    assert not (tmp_path/'copy'/'ran-first.txt').exists(), "the README's first command is not the test command"

def test_the_readme_test_command_runs_the_suite():
    "What CI runs sets up the dev extras this project declares and runs tests/run_all.sh, which runs every kind of check"
    cmd = readme_test_command(README.read_text(encoding='utf-8'))
    extras = re.findall(r'-e "\.\[(\w+)\]"', cmd)
    assert extras and set(extras) <= set(tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['optional-dependencies'])
    assert cmd.rstrip().endswith('bash tests/run_all.sh') and (ROOT/'tests'/'run_all.sh').exists()
    suite = (ROOT/'tests'/'run_all.sh').read_text()
    for step in ['nbdev-clean', 'nbdev-export', 'nbdev-test', 'pytest tests/']: assert step in suite, step
