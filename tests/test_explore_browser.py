"""The noise explorer in a real browser: `serve` runs the Voila page, and JupyterLab runs a user's notebook with the
widget; in each, headless Chromium (Playwright) moves a slider with the keyboard, and the picture the page shows must be
the colouring of the noise the sliders describe.

Skips, naming the command, when Chromium or Playwright is missing. The screenshot is kept in
`$ANIME_COLORIZATION_ARTIFACTS` (default: pytest's temporary folder) as `explorer_browser.png` and
`explorer_jupyterlab.png`."""
import io, os, shutil, signal, socket, subprocess, sys, time
from contextlib import contextmanager
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found; install it with: apt-get install -y chromium")]
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--no-first-run', '--disable-dev-shm-usage']

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def served(tmp_path):
    "The explorer of the default picture served by `serve` in a subprocess; stopped with SIGINT (Ctrl-C) afterwards"
    port = free_port()
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    code = f"from anime_colorization.explore import serve; serve(port={port}, device='cpu', out_dir={str(tmp_path)!r})"
    proc = subprocess.Popen([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if 'Noise explorer at' not in line:
        proc.kill(); pytest.fail(f"serve did not start: {line}{proc.stdout.read()}")
    yield line.split(' at ')[1].split()[0], proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)

@contextmanager
def chromium_page(url:str, width:int, height:int):
    "A page of headless Chromium (Playwright) at `url`; the browser is closed afterwards"
    pw = pytest.importorskip('playwright.sync_api', reason="Playwright not installed; install it with: pip install playwright")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={'width': width, 'height': height})
            page.goto(url, timeout=120_000)
            yield page
        finally: browser.close()

def screenshot(page, name:str, tmp_path:Path):
    "Keep a screenshot of the page as a test artefact"
    artefacts = Path(os.environ.get('ANIME_COLORIZATION_ARTIFACTS', tmp_path)); artefacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artefacts/name), full_page=True)

@pytest.fixture(scope='module')
def shipped():
    "The shipped colouriser on the CPU and its directions"
    from anime_colorization.colorize import Colorizer
    from anime_colorization.explore import directions_for
    c = Colorizer.from_pretrained(device='cpu')
    return c, directions_for(c)

def png_of(page, img)->bytes:
    "The bytes of the picture an <img> shows (ipywidgets gives it a blob: URL)"
    data = page.evaluate("async (el) => { const r = await fetch(el.src); return Array.from(new Uint8Array(await r.arrayBuffer())); }", img)
    return bytes(data)

def test_slider_in_a_real_browser(served, shipped, tmp_path):
    from PIL import Image
    from anime_colorization.explore import default_picture
    url, proc = served
    c, d = shipped
    with chromium_page(url, 1100, 900) as page:
        page.wait_for_function("document.querySelectorAll('.widget-image').length >= 2 && "
                               "document.querySelectorAll('.widget-image')[1].src.startsWith('blob:')", timeout=180_000)
        img = page.query_selector_all('.widget-image')[1]
        before = png_of(page, img)
        typical = np.asarray(c.typical(default_picture()))
        assert np.abs(np.asarray(Image.open(io.BytesIO(before))).astype(int) - typical).max() <= 1  # starts at z = 0
        src = img.get_attribute('src')
        handle = page.query_selector('.noUi-handle')
        handle.focus(); page.keyboard.press('ArrowRight')
        page.wait_for_function("(s) => document.querySelectorAll('.widget-image')[1].src !== s", arg=src, timeout=60_000)
        readout = page.query_selector_all('.widget-readout')[0].inner_text()
        after = png_of(page, page.query_selector_all('.widget-image')[1])
        screenshot(page, 'explorer_browser.png', tmp_path)
    assert before != after
    assert readout.strip() == '+0.1'  # one keyboard step
    expected = np.asarray(c(default_picture(), z=(0.1*d.vectors[0])[None])[0])
    shown = np.asarray(Image.open(io.BytesIO(after)))
    assert shown.shape == expected.shape
    assert np.abs(shown.astype(int) - expected).max() <= 1  # the colouring of z = 0.1 x direction 1 (bit-exact here)
    assert np.abs(shown.astype(int) - typical).max() > 1   # and not the one before
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(60) == 0 or proc.returncode is not None

def jupyterlab_notebook(folder:Path, picture:Path)->Path:
    "A user's notebook that shows the explorer for their own picture, as the README says"
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from anime_colorization.colorize import Colorizer\n"
                                          "from anime_colorization.explore import NoiseExplorer\n"
                                          f"NoiseExplorer(Colorizer.from_pretrained(device='cpu'), {picture.name!r})")]
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}
    path = folder/'explore.ipynb'
    nbformat.write(nb, path)
    return path

@pytest.fixture
def jupyterlab(tmp_path):
    "JupyterLab serving `tmp_path` headless on a free port, with its settings and workspaces kept in `tmp_path`"
    pytest.importorskip('jupyterlab', reason="JupyterLab not installed; install it with: pip install -e '.[dev]'")
    port, home = free_port(), tmp_path/'jupyter'
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]),
           'JUPYTER_CONFIG_DIR': str(home/'config'), 'JUPYTER_RUNTIME_DIR': str(home/'runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(home/'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(home/'workspaces')}
    work = tmp_path/'work'; work.mkdir()
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--allow-root', f'--port={port}',
                             '--ServerApp.ip=127.0.0.1', "--IdentityProvider.token=", f'--ServerApp.root_dir={work}',
                             '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    url = f'http://127.0.0.1:{port}'
    for _ in range(240):  # wait until it answers
        if proc.poll() is not None: pytest.fail(f"jupyter lab exited: {proc.stdout.read()}")
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1): break
        except OSError: time.sleep(0.5)
    try: yield url, work
    finally:
        proc.terminate()  # SIGTERM: the server shuts its kernels down and exits (Ctrl-C would ask for a confirmation)
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

def test_slider_in_jupyterlab(jupyterlab, shipped, tmp_path):
    "The README's JupyterLab way: a notebook of the user's own with `NoiseExplorer(...)`, run in JupyterLab, follows the slider"
    from PIL import Image
    from anime_colorization.explore import default_picture
    url, work = jupyterlab
    picture = work/'my_sketch.png'
    shutil.copy(default_picture(), picture)
    jupyterlab_notebook(work, picture)
    c, d = shipped
    with chromium_page(f'{url}/lab/tree/explore.ipynb?reset', 1400, 1000) as page:
        page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
        page.wait_for_function("document.body.innerText.includes('Idle')", timeout=180_000)  # the kernel is up
        page.click('.jp-Notebook .jp-Cell .jp-InputArea-editor')
        page.keyboard.press('Shift+Enter')  # run the cell, as a user would
        images = '.jp-OutputArea .widget-image'
        page.wait_for_function(f"document.querySelectorAll('{images}').length >= 2 && "
                               f"document.querySelectorAll('{images}')[1].src.startsWith('blob:')", timeout=180_000)
        shown = [png_of(page, page.query_selector_all(images)[1])]
        page.query_selector('.jp-OutputArea .noUi-handle').focus()
        for step in ('+0.1', '+0.2'):  # one keyboard step at a time; each must bring its own picture
            src = page.query_selector_all(images)[1].get_attribute('src')
            page.keyboard.press('ArrowRight')
            page.wait_for_function(f"(s) => document.querySelectorAll('{images}')[1].src !== s", arg=src, timeout=60_000)
            assert page.query_selector_all('.jp-OutputArea .widget-readout')[0].inner_text().strip() == step
            shown.append(png_of(page, page.query_selector_all(images)[1]))
        screenshot(page, 'explorer_jupyterlab.png', tmp_path)
    typical, pixels = np.asarray(c.typical(picture)), [np.asarray(Image.open(io.BytesIO(b))).astype(int) for b in shown]
    assert pixels[0].shape == typical.shape and np.abs(pixels[0] - typical).max() <= 1  # starts at z = 0, at the picture's size
    for k in (1, 2):  # then the colouring of z = 0.1 k x direction 1, a new one at each step
        expected = np.asarray(c(picture, z=(0.1*k*d.vectors[0])[None])[0])
        assert np.abs(pixels[k] - expected).max() <= 1
        assert np.abs(pixels[k] - pixels[k - 1]).max() > 1
