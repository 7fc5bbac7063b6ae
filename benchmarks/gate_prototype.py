"""Issue 11 prototype, benchmarks only: a gate, predicted from L alone, that limits where a noise may change the colouring.

The colouring of noise z is `zero + gate(L) * (own - zero)`: the z = 0 colouring, plus the noise's change scaled pixel
by pixel by a gate in [0, 1]. A small deterministic U-Net predicts the gate from L; it learns (`GateLoss`, its only
gradient) how far the z = 0 colouring misses the truth there, `|AB_zero - AB_true| / tau` smoothed over 5x5 pixels and
capped at 1 (or that raised to a power). Where colour is predictable from L (skin, background) the gate is small and no noise can move it much;
where it is not (hair, eyes, clothes) the gate is open. The z = 0 colouring itself is untouched. Each colouring costs
one more pass of the colouriser (its z = 0 colouring; in a colouriser of many noises that pass would be shared).
`skin_screen.py` screens it on toy runs, `compare_recipes.py` ('dcgan_gate_spread') on the comparison's budget.
"""
import torch, torch.nn as nn, torch.nn.functional as F
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import GANLoss, kept_buffers
from anime_colorization.lab import AB_SCALE

class GatedGenerator(nn.Module):
    "A noise changes the z = 0 colouring only as far as a gate predicted from L alone lets it, pixel by pixel"
    def __init__(self, base:UNetGenerator, # the colouriser: (L, z) -> LAB
                 gate:UNetGenerator, # a deterministic U-Net (latent 0): its first AB channel, mapped to [0, 1], is the gate
                ):
        super().__init__()
        self.base, self.gate = base, gate
        self.latent, self.last_z = base.latent, None
    def sample_z(self, *args, **kwargs): return self.base.sample_z(*args, **kwargs)
    def gate_map(self, l): return (self.gate(l, l.new_zeros(len(l), 0))[:, 1:2] + 1)/2
    def forward(self, l, z=None, generator=None):
        if z is None: z = self.sample_z(len(l), l.device, generator)
        self.last_z = z
        own, zero = self.base(l, z)[:, 1:], self.base(l, torch.zeros_like(z))[:, 1:]
        return torch.cat([l, zero + self.gate_map(l).detach()*(own - zero)], 1)  # the gate learns only from GateLoss's term

class GateLoss(GANLoss):
    "`GANLoss` plus the gate's own term: it learns, from L, how far the z = 0 colouring misses the truth (AB units / `tau`, at most 1)"
    @classmethod
    def of(cls, o:GANLoss, tau:float, weight:float, power:float=1.):
        "`o`'s settings, with the gate's term (its target raised to `power`: above 1 shuts the gate harder where z = 0 is nearly right)"
        new = cls(o.model, o.adversarial, o.adv_weight, o.l1, o.mode_seeking, o.gp, o.hindsight, o.anchor, o.seek, o.tint, o.spread, o.spread_tol)
        new.gate_tau, new.gate_w, new.gate_power = tau, weight, power
        return new
    def generator_loss(self, fake, real):
        loss = super().generator_loss(fake, real)
        g, l = self.model.generator, fake[:, :1]
        own_z = g.last_z
        with torch.no_grad(), kept_buffers(g.base): zero = g.base(l, torch.zeros_like(own_z))[:, 1:]
        g.last_z = own_z
        err = F.avg_pool2d((zero - real[:, 1:]).norm(dim=1, keepdim=True)*AB_SCALE, 5, stride=1, padding=2, count_include_pad=False)
        gate = (g.gate_map(l) - (err/self.gate_tau).clamp(0, 1)**self.gate_power).abs().mean()
        self.components['g_gate'] = gate.detach()
        return loss + self.gate_w*gate
