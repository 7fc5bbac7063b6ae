"""The library's code as a whole: modules use one another's public names only, import nothing they do not use, and the
package declares exactly the distributions it imports."""
import ast, importlib.metadata, importlib.util, re, sys, tomllib
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT/'anime_colorization'
MODULES = sorted(p for p in LIB.glob('*.py') if p.name not in ('__init__.py', '_modidx.py'))

def _tree(path:Path): return ast.parse(path.read_text(encoding='utf-8'))

def private_imports(tree)->list:
    "Names starting with `_` imported from our own modules (dunders such as `__version__` are public)"
    return [f"{node.module}.{a.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and (node.level or (node.module or '').startswith('anime_colorization'))
            for a in node.names if a.name.startswith('_') and not a.name.startswith('__')]

def unused_imports(tree)->list:
    "Names a module imports and never uses (nor exports in `__all__`)"
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names: imported[a.asname or a.name.split('.')[0]] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module != '__future__':
            for a in node.names: imported[a.asname or a.name] = a.name
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    exported = {e.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets)
                for e in n.value.elts}
    return sorted(name for name in imported if name not in used | exported)

def test_the_checks_can_fail():
    "Each check finds what it looks for in a module written to have it"
    tree = ast.parse("import shutil, os\nfrom .evaluation import _rgb, evaluate\nfrom anime_colorization import __version__\n"
                     "os.getcwd(); evaluate(__version__)")
    assert private_imports(tree) == ['evaluation._rgb']
    assert unused_imports(tree) == ['_rgb', 'shutil']

@pytest.mark.parametrize('path', MODULES, ids=lambda p: p.name)
def test_no_module_imports_another_modules_private_helpers(path):
    assert private_imports(_tree(path)) == []

@pytest.mark.parametrize('path', MODULES, ids=lambda p: p.name)
def test_no_unused_imports(path):
    assert unused_imports(_tree(path)) == []

def _norm(name:str)->str: return re.sub(r'[-_.]+', '-', name).lower()

def imported_distributions()->set:
    "The distributions the library imports, anywhere in its modules (not the standard library, not itself)"
    tops = set()
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Import): tops |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module: tops.add(node.module.split('.')[0])
    tops -= set(sys.stdlib_module_names) | {'__future__', 'anime_colorization'}
    dists = importlib.metadata.packages_distributions()
    missing = [t for t in tops if t not in dists]
    assert not missing, f"imported but not installed: {missing}"
    return {_norm(dists[t][0]) for t in tops}

# needed at import time by a module we import, which does not declare it: `fastai.distributed` (imported by `gan`) uses
# `accelerate.Accelerator` in a decorator, so without accelerate `import anime_colorization.gan` fails with a NameError
NEEDED_BY_WHAT_WE_IMPORT = {'accelerate'}

def test_the_package_declares_exactly_what_it_imports():
    declared = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['dependencies']
    declared = {_norm(re.split(r'[<>=!~; \[]', d, maxsplit=1)[0]) for d in declared} - NEEDED_BY_WHAT_WE_IMPORT
    assert declared == imported_distributions(), (f"declared, never imported: {sorted(declared - imported_distributions())}; "
                                                  f"imported, not declared: {sorted(imported_distributions() - declared)}")

def test_fastai_distributed_still_needs_accelerate():
    "The one dependency declared for another package's sake: drop it from pyproject when fastai stops needing it"
    src = Path(importlib.util.find_spec('fastai.distributed').origin).read_text()
    assert 'from accelerate import' in src and '@delegates(Accelerator' in src

def heavy_imports(*modules:str)->dict:
    "Which of fastai and torchvision a fresh interpreter has loaded after importing `modules`"
    import subprocess
    code = f"import sys, {', '.join(modules)}; print(*(m in sys.modules for m in ('fastai', 'torchvision')))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    return dict(zip(('fastai', 'torchvision'), (w == 'True' for w in out)))

def test_colouring_never_imports_fastai():
    "Colouring (the `Colorizer`, the explorer, the command line until a command trains) does not load fastai or torchvision"
    assert heavy_imports('anime_colorization.datablock') == dict(fastai=True, torchvision=True)  # the check sees them
    colouring = ('anime_colorization.colorize', 'anime_colorization.explore', 'anime_colorization.cli')
    assert heavy_imports(*colouring) == dict(fastai=False, torchvision=False)
