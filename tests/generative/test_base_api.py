"""The shared GAN API: determinism, save/load, exact resume, checkpoint errors (on a tiny 1-D GAN)."""
import numpy as np
import pytest
import torch
from torch import nn

from generative.base import CheckpointError, GenerativeModel


class TinyGAN(GenerativeModel):
    """Learns a 1-D Gaussian; a dropout layer makes the global-RNG handling matter."""

    _param_names = ("steps", "checkpoint_every", "hidden")

    def __init__(self, steps=40, checkpoint_every=0, hidden=8):
        super().__init__(steps, checkpoint_every)
        self.hidden = hidden

    def _prepare(self, data):
        self.mean_, self.sd_ = float(np.mean(data)), float(np.std(data))

    def _prepared_state(self):
        return {"mean": self.mean_, "sd": self.sd_}

    def _restore_prepared(self, s):
        self.mean_, self.sd_ = s["mean"], s["sd"]

    def _networks(self):
        h = self.hidden
        return {"G": nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Dropout(0.2), nn.Linear(h, 1)),
                "D": nn.Sequential(nn.Linear(1, h), nn.ReLU(), nn.Linear(h, 1))}

    def _optimizers(self, nets):
        return {k: torch.optim.Adam(v.parameters(), lr=1e-2) for k, v in nets.items()}

    def _train_step(self, data, step, rng, gen):
        real = torch.from_numpy(((rng.choice(data, 16) - self.mean_) / self.sd_).astype(np.float32))[:, None]
        z = torch.randn(16, 2, generator=gen)
        G, D = self.nets_["G"], self.nets_["D"]
        bce = nn.BCEWithLogitsLoss()
        fake = G(z)
        d_loss = bce(D(real), torch.ones(16, 1)) + bce(D(fake.detach()), torch.zeros(16, 1))
        self.opts_["D"].zero_grad()
        d_loss.backward()
        self.opts_["D"].step()
        g_loss = bce(D(fake), torch.ones(16, 1))
        self.opts_["G"].zero_grad()
        g_loss.backward()
        self.opts_["G"].step()
        return {"d": d_loss.item(), "g": g_loss.item()}

    def _sample(self, n, condition, gen):
        return (self.nets_["G"](torch.randn(n, 2, generator=gen)).numpy()[:, 0] * self.sd_ + self.mean_)


DATA = np.random.default_rng(0).normal(5.0, 2.0, 500)


def _weights(m):
    return torch.cat([p.detach().flatten() for net in m.nets_.values() for p in net.parameters()])


def test_same_seed_same_model_and_samples_and_the_global_rng_is_untouched():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = TinyGAN().fit(DATA, seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    b = TinyGAN().fit(DATA, seed=1)
    assert torch.equal(_weights(a), _weights(b))
    np.testing.assert_array_equal(a.sample(10, seed=3), b.sample(10, seed=3))
    assert not np.array_equal(a.sample(10, seed=3), a.sample(10, seed=4))
    c = TinyGAN().fit(DATA, seed=2)
    assert not torch.equal(_weights(a), _weights(c))
    assert all(np.isfinite([h["d"], h["g"]]).all() for h in a.history_)


def test_resume_from_a_checkpoint_continues_exactly(tmp_path):
    full = TinyGAN(steps=40, checkpoint_every=15).fit(DATA, seed=7, checkpoint_dir=tmp_path / "ck")
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["step_000015.ckpt", "step_000030.ckpt"]
    resumed = TinyGAN(steps=40).fit(DATA, seed=7, resume_from=tmp_path / "ck" / "step_000015.ckpt")
    assert resumed.step_ == 40
    assert torch.equal(_weights(full), _weights(resumed))
    assert [h["g"] for h in resumed.history_] == [h["g"] for h in full.history_]


def test_save_load_round_trip(tmp_path):
    a = TinyGAN().fit(DATA, seed=1)
    path = a.save(tmp_path / "m.ckpt")
    b = TinyGAN.load(path)
    np.testing.assert_array_equal(a.sample(8, seed=0), b.sample(8, seed=0))
    assert b.step_ == a.step_ and b.hidden == 8


def test_bad_checkpoints_are_clear_errors(tmp_path):
    path = TinyGAN(steps=5).fit(DATA, seed=1).save(tmp_path / "m.ckpt")
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    (tmp_path / "bad.ckpt").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="bad.ckpt.*checksum"):
        TinyGAN.load(tmp_path / "bad.ckpt")
    (tmp_path / "short.ckpt").write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="short.ckpt.*truncated"):
        TinyGAN.load(tmp_path / "short.ckpt")
    (tmp_path / "text.ckpt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a twinloop GAN checkpoint"):
        TinyGAN.load(tmp_path / "text.ckpt")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        TinyGAN.load(tmp_path / "missing.ckpt")
    with pytest.raises(CheckpointError, match="settings differ.*hidden=8 \\(here 16\\)"):
        TinyGAN(hidden=16).fit(DATA, resume_from=path)

    class OtherGAN(TinyGAN):
        pass

    with pytest.raises(CheckpointError, match="holds a .*TinyGAN"):
        OtherGAN.load(path)


def test_sample_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="not fitted"):
        TinyGAN().sample(3)
