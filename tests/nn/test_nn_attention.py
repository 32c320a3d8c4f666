"""Attention blocks against hand-written references: SE gate, non-local attention, ConvLSTM."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deblurgan.nn import ConvLSTMCell, SelfAttention2d, SqueezeExcitation


def test_squeeze_excitation_matches_reference_and_gates_in_unit_interval() -> None:
    se = SqueezeExcitation(8, reduction=4)
    x = torch.randn(3, 8, 5, 7) * 4
    gate = se.gate(x)
    assert gate.shape == (3, 8, 1, 1)
    assert bool(((gate > 0) & (gate < 1)).all())
    # Reference: mean over space, dense layers written out with the conv weights as matrices.
    w1, b1 = se.squeeze.weight.view(2, 8), se.squeeze.bias
    w2, b2 = se.excite.weight.view(8, 2), se.excite.bias
    pooled = x.sum(dim=(2, 3)) / 35
    expected = torch.sigmoid(torch.relu(pooled @ w1.T + b1) @ w2.T + b2)
    torch.testing.assert_close(gate.view(3, 8), expected)
    torch.testing.assert_close(se(x), x * expected.view(3, 8, 1, 1))
    assert SqueezeExcitation(4, reduction=16).squeeze.out_channels == 1  # never zero channels


def test_self_attention_is_identity_at_init_and_matches_loop_reference() -> None:
    attn = SelfAttention2d(6, reduction=2)
    x = torch.randn(2, 6, 3, 4)
    assert torch.equal(attn(x), x)
    with torch.no_grad():
        attn.gamma.fill_(0.7)
    with torch.no_grad():
        y = attn(x)
        q, k, v = attn.query(x), attn.key(x), attn.value(x)
    expected = x.clone()
    for b in range(2):
        qf, kf, vf = q[b].reshape(3, 12), k[b].reshape(3, 12), v[b].reshape(6, 12)
        for i in range(12):
            scores = torch.tensor([float(qf[:, i] @ kf[:, j]) for j in range(12)])
            weights = torch.exp(scores - scores.max())
            weights = weights / weights.sum()
            out = sum(weights[j] * vf[:, j] for j in range(12))
            expected[b, :, i // 4, i % 4] += 0.7 * out
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)
    a = attn.attention(x)
    assert a.shape == (2, 12, 12)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, 12))
    assert attn.macs(x) == 2 * 12 * 12 * (3 + 6)


def test_self_attention_gradient_reaches_gamma_and_embeddings() -> None:
    attn = SelfAttention2d(4, reduction=2)
    attn(torch.randn(1, 4, 3, 3)).pow(2).sum().backward()
    assert attn.gamma.grad is not None and attn.gamma.grad.abs() > 0
    assert all(p.grad is not None for p in attn.parameters())


def test_conv_lstm_state_shapes_and_reference_step() -> None:
    cell = ConvLSTMCell(3, 4, kernel_size=3)
    x = torch.randn(2, 3, 5, 6)
    h, c = cell(x)
    assert h.shape == c.shape == (2, 4, 5, 6)
    # Reference step from zero state, gates by F.conv2d on the concatenation, order i, f, o, g.
    zero = torch.zeros(2, 4, 5, 6)
    z = F.conv2d(torch.cat([x, zero], 1), cell.gates.weight, cell.gates.bias, padding=1)
    i, o, g = z[:, :4], z[:, 8:12], z[:, 12:]
    c_ref = torch.sigmoid(i) * torch.tanh(g)  # the forget gate multiplies a zero cell
    h_ref = torch.sigmoid(o) * torch.tanh(c_ref)
    torch.testing.assert_close((h, c), (h_ref, c_ref))
    h2, c2 = cell(x, (h, c))
    z2 = cell.gates(torch.cat([x, h], 1))
    c2_ref = torch.sigmoid(z2[:, 4:8]) * c + torch.sigmoid(z2[:, :4]) * torch.tanh(z2[:, 12:])
    torch.testing.assert_close(c2, c2_ref)
    assert bool((h2.abs() < 1).all())
    with pytest.raises(ValueError, match="does not fit"):
        cell(x, (torch.zeros(2, 4, 4, 4), torch.zeros(2, 4, 4, 4)))


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: SelfAttention2d(0), "channels"),
        (lambda: SqueezeExcitation(8, reduction=0), "reduction"),
        (lambda: ConvLSTMCell(3, 4, kernel_size=2), "odd"),
    ],
)
def test_attention_blocks_reject_bad_settings(factory, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        factory()
