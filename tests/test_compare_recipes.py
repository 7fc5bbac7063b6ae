"""`benchmarks/compare_recipes.py`, the code behind 06_evaluation's comparison tables, on a run small enough for CI.

The notebook shows the committed results of the full experiment; this checks the code that produced them: each row is
`evaluate` on the held-out faces, the batch budget is what the timing gives, the deterministic model covers exactly one
hair colour in K, and a second call adds nothing that is already there."""
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT/'benchmarks'/'compare_recipes.py'

@pytest.fixture(scope='module')
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp('comparison')
    (out/'timing.json').write_text(json.dumps({'recipes': {'l1_only': {'l1': 1.0}}}))  # 1 s per batch: 3 batches in 0.05 minutes
    cmd = [sys.executable, str(SCRIPT), 'run', '--synthetic', '64', '--timing', str(out/'timing.json'), '--minutes', '0.05',
           '--seeds', '0', '--recipes', 'l1_only', '--fractions', '0.5', '1', '--variants', '2', '--grid-faces', '2',
           '--grid-noises', '2', '--threads', '2', '--device', 'cpu', '--out', str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return out, cmd

def rows(out:Path)->list: return [json.loads(l) for l in (out/'rows.jsonl').read_text().splitlines()]

def test_rows_are_evaluate_on_the_held_out_faces(small):
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.evaluation import evaluate, ConstantAB
    out, _ = small
    gray = next(r for r in rows(out) if r['recipe'] == 'gray')
    again = evaluate(ConstantAB(), SyntheticFaces(200, seed=1), n_variants=2, seed=0, name='gray')
    assert {k: gray[k] for k in again} == pytest.approx(again, nan_ok=True)
    trained_on = evaluate(ConstantAB(), SyntheticFaces(200, seed=0), n_variants=2, seed=0, name='gray')
    assert gray['colourfulness_real'] != pytest.approx(trained_on['colourfulness_real']), "not the training faces"

def test_budget_snapshots_and_coverage_of_a_deterministic_model(small):
    out, _ = small
    l1 = [r for r in rows(out) if r['recipe'] == 'l1_only']
    assert [(r['batches'], r['l1_batches']) for r in l1] == [(2, 2), (3, 3)], "snapshots at half and all of 3 batches"
    assert [r['minutes'] for r in l1] == pytest.approx([0.05*2/3, 0.05])
    for r in l1: assert r['hair_coverage'] == 0.25 and r['diversity_ab_pixel'] == 0, "one hair colour of four per face"
    assert {r['recipe'] for r in rows(out)} == {'gray', 'mean_ab', 'l1_only'}
    grids = np.load(out/'grids.npz')
    assert sorted(grids) == ['gray', 'l1_only', 'mean_ab'] and grids['l1_only'].shape == (2, 3, 64, 64, 3)

def test_a_second_call_adds_nothing_already_there(small):
    out, cmd = small
    before = (out/'rows.jsonl').read_text()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out/'rows.jsonl').read_text() == before

def test_every_recipe_builds_the_networks_it_was_measured_with(monkeypatch):
    "The recipes pass their widths explicitly: a change of the library's default widths cannot change what a recipe trains"
    sys.path.insert(0, str(ROOT/'benchmarks'))
    import compare_recipes as cr
    import anime_colorization.dcgan as dcgan, anime_colorization.wgan_gp as wgan_gp
    from anime_colorization.data import SyntheticFaces
    faces = SyntheticFaces(40, seed=0).images()
    monkeypatch.setattr(dcgan, 'DCGAN_WIDTHS', (8, 8)); monkeypatch.setattr(wgan_gp, 'WGAN_GP_WIDTHS', (8, 8))  # other defaults
    assert dcgan.dcgan_learner(cr.learner('l1_only', faces[:32], faces[32:], 0, 'cpu').dls).model.critic.config['width'] == 8, "the control"
    expected = {'l1_only': (32, 64), 'dcgan_anchor_nearest': (32, 64), 'dcgan_tint_free_tint': (32, 64), 'wgan_gp_anchor_nearest': (32, 64),
                'dcgan_lean': (16, 32), 'dcgan_lean_time': (16, 32), 'dcgan_lean_g_time': (16, 64), 'wgan_gp_lean_time': (16, 32)}
    for recipe, widths in expected.items():
        net = cr.learner(recipe, faces[:32], faces[32:], 0, 'cpu').model
        assert (net.generator.config['width'], net.critic.config['width']) == widths, recipe

def test_a_recipe_without_a_measured_speed_is_refused_before_training(tmp_path):
    "A budget in minutes needs the recipe's seconds per batch: without them the run stops at once, naming the recipe and the file"
    timing = tmp_path/'timing.json'
    timing.write_text(json.dumps({'recipes': {'l1_only': {'l1': 1.0}}}))
    cmd = [sys.executable, str(SCRIPT), 'run', '--synthetic', '64', '--timing', str(timing), '--minutes', '0.05', '--seeds', '0',
           '--no-baselines', '--recipes', 'l1_only', 'dcgan_lean_time', '--device', 'cpu', '--out', str(tmp_path/'out')]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and 'no seconds per batch for dcgan_lean_time' in r.stderr and str(timing) in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'out'/'rows.jsonl').exists(), "nothing trained, not even the recipe that has a timing"
    r = subprocess.run([*cmd[:cmd.index('dcgan_lean_time')], *cmd[cmd.index('dcgan_lean_time') + 1:]], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and (tmp_path/'out'/'rows.jsonl').exists(), r.stderr[-2000:]  # the control: the timed recipe alone runs
