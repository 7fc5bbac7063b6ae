"""`distill.py`, which makes the fast copy `faces64_fast`: the student is the teacher's architecture at another width,
and the card's fidelity measure tells a faithful copy from one that is not (on random L: no data needed)."""
import sys
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'benchmarks'))
from distill import student_config, fidelity
from anime_colorization.colorize import Colorizer
from anime_colorization.unet import UNetGenerator

def test_the_student_is_the_teacher_at_another_width():
    teacher = UNetGenerator(size=64)
    cfg = student_config(teacher, 16)
    assert cfg['width'] == 16 and cfg['dec_widths'] == [w//2 for w in teacher.config['dec_widths']]
    assert {k: v for k, v in cfg.items() if k not in ('width', 'dec_widths')} == \
           {k: v for k, v in teacher.config.items() if k not in ('width', 'dec_widths', 'seed')}
    UNetGenerator.from_config(cfg)(torch.zeros(2, 1, 64, 64))  # it builds and runs

def test_fidelity_tells_a_copy_from_another_model():
    torch.manual_seed(0)
    teacher = Colorizer(UNetGenerator(size=64).eval(), 64, 'cpu')
    l = torch.rand(6, 1, 64, 64)*2 - 1
    same = fidelity(teacher, teacher, l)
    assert same['copy_ab_error'] == 0 and same['teacher_noise_change'] > 0  # the control: noises do change the colouring
    other = fidelity(Colorizer(UNetGenerator(size=64).eval(), 64, 'cpu'), teacher, l)  # another untrained generator
    assert other['copy_ab_error'] > 0.1
    assert other['teacher_noise_change'] == same['teacher_noise_change']  # the teacher's own measure does not depend on the student

def test_the_teacher_is_copied_without_its_gate(tmp_path):
    from distill import load_teacher
    from anime_colorization.gate import ChromaGate, export_gate, gate_file, weights_digest
    from anime_colorization.unet import export_generator
    g = UNetGenerator(size=64, noise='modulation').eval()
    weights = export_generator(g, tmp_path/'teacher.safetensors', size=64) or tmp_path/'teacher.safetensors'
    export_gate(ChromaGate(depth=g.depth, fitted_to=weights_digest(g)), gate_file(weights))
    assert Colorizer.load(weights, 'cpu').gate is not None  # the control: loaded plainly, the gate beside it comes along
    teacher = load_teacher(str(weights))
    assert teacher.gate is None and teacher.generator.config['noise'] == 'modulation'
