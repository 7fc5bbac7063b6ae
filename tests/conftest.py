"Shared fixtures: every test gets its own image cache folder, so tests never touch the user's cache."
import sys, os; sys.path.insert(0, os.path.dirname(__file__))
import os
from pathlib import Path
import pytest

SHARED = Path(__file__).resolve().parents[1].parent/'shared'
REAL_FACES = SHARED/'data'/'anime-faces-64'

@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv('ANIME_COLORIZATION_CACHE', str(tmp_path_factory.mktemp('cache')))
    monkeypatch.setenv('MPLBACKEND', 'Agg')

needs_real_faces = pytest.mark.skipif(not REAL_FACES.is_dir(), reason=f"real faces not found at {REAL_FACES} (../shared is absent)")
