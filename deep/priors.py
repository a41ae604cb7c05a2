r"""Torch Lp-nested symmetric prior for the ISA-VAE — Stühmer et al. 2020, sec. 3 (eqs 6–12),
App. A.1 (Algorithm 1) and A.2 (learned exponents).

The numpy reference (tree notation, derivation, surface area eq 8, sampler) is
:mod:`theory.lp_nested`; this module is its differentiable counterpart and shares the tree
notation: a leaf is ``None``, an inner node is ``(p, [children])``, exponents are listed in
pre-order (root first). In log space (eq 7 with eq 11, the :math:`f^{n-1}` factors cancel):

.. math::  \log p(z) = c(p) - f_p(z)^{p_0}/s,\qquad
           c(p) = \log p_0 - \log\Gamma(n/p_0) - \tfrac{n}{p_0}\log s - \log S_f(1)

and both :math:`c` (eq 8) and :math:`f^{p_0}` (eq 6/9) are differentiable in ``z`` and in the
exponents, which the ISA-VAE with learned exponents optimises (sec. 4, App. A.2). The
ISA-VAE objective (eq 12) only needs :meth:`LpNested.log_prob`.

Numerics (the same log-space recursion as :func:`theory.lp_nested.log_evaluate`): every node
computes :math:`\log v_i = \tfrac1{p_i}\operatorname{logsumexp}_k(p_i \log v_k)`, so no power
sum over- or underflows for exponents in [0.05, 200], scales in [1e-8, 1e8] and :math:`|z|` up to 1e6
(tested against the reference); :math:`f^{p_0}/s = \exp(p_0\log f - \log s)` overflows to
+inf (log p = −inf) only where the true value is beyond the dtype's range. Its gradient
overflows the same way, to ±inf and never to NaN: within 64 nats of that range the backward pass
runs rescaled (:class:`_EdgeFTerm`). An exact zero
coordinate enters as :math:`\log|z_j|` = :data:`LOG_ZERO` (a finite stand-in for −inf selected
with ``torch.where``, so the gradient there is 0, never NaN); its power
:math:`\exp(p\,\mathrm{LOG\_ZERO})` is 0 in every dtype for every p ≥ 0.05.

Speed. For an ISA tree (eqs 9–10) and no gradient requested, :meth:`LpNested.log_prob` first
takes a fused pass in the (B, n) layout — :math:`|z_j|^{p_i}` as ``exp(p log|z|)`` in place, the
subspace sums :math:`S_i` as one batched product with a ones vector, then
:math:`\sum_i S_i^{p_0/p_i}` — which does one ``log`` and one ``exp`` per leaf and per subspace,
the least any evaluation of a non-integer power does. It is used only when every :math:`S_i` lies
where that pass is exact to the dtype's precision: :math:`S_i \ge` tiny/eps (a leaf power that
underflowed then costs at most 4·eps relative) and :math:`S_i` small enough that no
:math:`S_i^{p_0/p_i}`, their sum or its quotient by s overflows (:attr:`LpNested._fast_hi`).
Otherwise (exact zeros, extreme exponents or scales, non-finite input) the log-space recursion
above runs instead, so results never depend on which pass ran beyond rounding.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.distributions import Distribution, constraints

from theory import lp_nested as _np_lp
from validation import check_tensor

__all__ = ["LpNested", "LearnableLpNested", "LpNestedPrior", "isa_tree", "parse_prior", "format_prior",
           "resolve_prior",
           "PAPER_ISA_LAYOUT", "PAPER_ISA_LEARNED_INIT"]

isa_tree = _np_lp.isa_tree  # the same tree builder (eq 9) as the numpy reference


class _Plan:
    """Tree structure, precomputed once: pre-order node table and the ISA fast path."""

    def __init__(self, tree):
        self.n = _np_lp.validate_tree(tree)
        self.tree = tree
        nodes = _np_lp.inner_nodes(tree)
        self.n_inner = len(nodes)
        self.default_exponents = [p for p, _, _ in nodes]
        self.node_n = [ni for _, ni, _ in nodes]
        self.node_l = [len(nik) for _, _, nik in nodes]
        self.pair_node = [i for i, (_, _, nik) in enumerate(nodes) for _ in nik]
        self.pair_n = [m for _, _, nik in nodes for m in nik]
        sub = _np_lp.isa_subspaces(tree)
        self.isa = sub
        if sub is not None:
            sizes = [m for _, m in sub]
            self.sizes = sizes
            # pre-order: root is 0, subspace i is node i + 1; leaf j belongs to subspace seg[j]
            self.seg = np.repeat(np.arange(len(sizes)), sizes)


def _log_normalizer(plan: _Plan, p: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """c(p) = log p0 − lgamma(n/p0) − (n/p0) log s − log S_f(1), eq 8 and eq 11, vectorised."""
    dt, dev = p.dtype, p.device
    pair_node = torch.as_tensor(plan.pair_node, device=dev)
    pair_n = torch.as_tensor(plan.pair_n, dtype=dt, device=dev)
    node_n = torch.as_tensor(plan.node_n, dtype=dt, device=dev)
    node_l = torch.as_tensor(plan.node_l, dtype=dt, device=dev)
    log_s_area = (plan.n * math.log(2.0) + torch.lgamma(pair_n / p[pair_node]).sum()
                  - ((node_l - 1) * torch.log(p)).sum() - torch.lgamma(node_n / p).sum())
    p0, n = p[0], plan.n
    return torch.log(p0) - torch.lgamma(n / p0) - (n / p0) * torch.log(scale) - log_s_area


#: log|z| used for an exact zero: p·LOG_ZERO ≤ −5e4 for p ≥ 0.05, so exp of it is 0 in float32
#: and float64 and the term drops out exactly, while every product stays finite.
LOG_ZERO = -1e6


def _log_abs(z: torch.Tensor) -> torch.Tensor:
    """log|z| with exact zeros mapped to :data:`LOG_ZERO` (double ``where``: zero gradient)."""
    a = z.abs()
    nonzero = a != 0                     # NaN stays NaN (and is reported by log_prob's check)
    return torch.where(nonzero, torch.log(torch.where(nonzero, a, torch.ones_like(a))),
                       torch.full_like(a, LOG_ZERO))


def _log_eval(node, log_a, p, start, idx):
    """Return (log v_node, next leaf, next node index) for a general tree; ``log_a`` (..., n).

    Eq 6 in log space: log v = (1/p) logsumexp_k(p log v_k)."""
    p_i = p[idx]
    idx += 1
    terms = []
    for child in node[1]:
        if child is None:
            terms.append(log_a[..., start])
            start += 1
        else:
            lv, start, idx = _log_eval(child, log_a, p, start, idx)
            terms.append(lv)
    return torch.logsumexp(torch.stack(terms, -1) * p_i, -1) / p_i, start, idx


class LpNested(Distribution):
    r"""Lp-nested symmetric distribution with the radial law of eq 11 (Stühmer et al. 2020, eq 7).

    Parameters
    ----------
    tree : Lp-nested tree (see :mod:`theory.lp_nested`); fixes the structure and, unless
        ``exponents`` is given, the exponents.
    scale : float or 0-d tensor > 0, the s of eq 11.
    exponents : tensor of shape (n_inner,), optional
        Pre-order exponents overriding those of ``tree``; may require grad (learned exponents,
        App. A.2).
    dtype, device : used when neither ``exponents`` nor ``scale`` is a tensor.

    Notes
    -----
    Event shape (n,), batch shape (). ``log_prob(z)`` accepts z of shape (..., n) and returns
    shape (...). ``sample(shape, generator=None)`` runs Algorithm 1 (App. A.1).
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.real_vector
    has_rsample = False

    def __init__(self, tree, scale=1.0, exponents=None, *, dtype=None, device=None, validate_args=None):
        self.plan = _Plan(tree)
        if exponents is None:
            ref = scale if torch.is_tensor(scale) else None
            dtype = dtype or (ref.dtype if ref is not None else torch.get_default_dtype())
            device = device or (ref.device if ref is not None else None)
            exponents = torch.tensor(self.plan.default_exponents, dtype=dtype, device=device)
        elif not torch.is_tensor(exponents):
            exponents = torch.as_tensor(exponents, dtype=dtype or torch.get_default_dtype(), device=device)
        if exponents.shape != (self.plan.n_inner,):
            raise ValueError(f"exponents: need shape ({self.plan.n_inner},) (pre-order inner nodes), "
                             f"got {tuple(exponents.shape)}")
        if not torch.is_floating_point(exponents):
            raise TypeError("exponents: must be a floating-point tensor")
        self.exponents = exponents
        if not torch.is_tensor(scale):
            if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
                raise ValueError(f"scale: must be a finite real > 0, got {scale!r}")
            scale = torch.tensor(float(scale), dtype=exponents.dtype, device=exponents.device)
        elif scale.ndim != 0 or not scale.is_floating_point():
            # one s for the whole distribution (eq 11): a (1,)-tensor would give log_prob a batch
            # axis it does not have, a longer one fail inside torch
            raise ValueError(f"scale: must be a float or a 0-d floating tensor (the s of eq 11), "
                             f"got a {scale.dtype} tensor of shape {tuple(scale.shape)}")
        self.scale = scale
        # Inside torch.func.vmap (K priors of an ensemble, deep.ensemble) a value check would be
        # data-dependent control flow; there the exponents are exp(θ) > 0 by construction and a
        # non-finite one makes that member's loss non-finite, which stops the member.
        batched = torch._C._functorch.is_batchedtensor(exponents)
        with torch.no_grad():
            if not batched and not bool(torch.all(torch.isfinite(exponents) & (exponents > 0))):
                raise ValueError(f"exponents: every exponent must be finite and > 0, got {exponents.tolist()}")
            if not (bool(torch.isfinite(scale)) and bool(scale > 0)):
                raise ValueError(f"scale: must be finite and > 0, got {scale.item()!r}")
        super().__init__(torch.Size(), torch.Size([self.plan.n]), validate_args=validate_args)
        self._c = _log_normalizer(self.plan, exponents, scale)
        if self.plan.isa is not None:
            seg = torch.as_tensor(self.plan.seg, device=exponents.device)
            self._leaf_p = exponents[1:][seg]               # exponent of each leaf's subspace, (n,)
            self._ratio = exponents[0] / exponents[1:]      # p0 / p_i, (l0,)
            self._equal = len(set(self.plan.sizes)) == 1
            self._fast_setup()

    def _fast_setup(self):
        """Constants of the fused ISA pass (module docstring, "Speed")."""
        p = self.exponents
        fi = torch.finfo(p.dtype)
        self._fast_lo = fi.tiny / fi.eps
        self._fast_hi = -math.inf                  # the fused pass is off unless set below
        if torch._C._functorch.is_batchedtensor(p) or p.requires_grad or self.scale.requires_grad:
            return
        r_max = float(self._ratio.max())
        l0 = len(self.plan.sizes)
        # S^r ≤ max(S, 1)^r_max, and l0 · that / s must stay below the dtype's max
        log_room = math.log(fi.max) - math.log(l0) + min(0.0, float(torch.log(self.scale))) - 1.0
        if log_room <= 0:
            return
        self._fast_hi = math.exp(log_room / max(r_max, 1.0))
        w = (-1.0 / self.scale).expand(l0).contiguous()
        self._fast_w = w
        self._fast_ones = torch.ones(self.plan.sizes[0], 1, dtype=p.dtype, device=p.device)
        self._fast_seg = torch.as_tensor(self.plan.seg, device=p.device)

    def _fast_log_prob(self, value: torch.Tensor):
        """log p(z) by the fused ISA pass, or None where that pass would not be exact."""
        plan = self.plan
        n, l0 = plan.n, len(plan.sizes)
        a = value.reshape(-1, n).abs()                # a new tensor: the in-place chain below is safe
        a.log_().mul_(self._leaf_p).exp_()                                      # |z_j|^{p_i}
        if self._equal:
            s = torch.matmul(a.view(-1, l0, plan.sizes[0]), self._fast_ones).view(-1, l0)  # S_i
        else:
            s = a.new_zeros(a.shape[0], l0).index_add_(1, self._fast_seg, a)
        lo, hi = torch.aminmax(s)
        if not (float(lo) >= self._fast_lo and float(hi) <= self._fast_hi):  # NaN fails too
            return None
        s.log_().mul_(self._ratio).exp_()                                       # S_i^{p0/p_i}
        return torch.mv(s, self._fast_w).add_(self._c).reshape(value.shape[:-1])

    @property
    def log_normalizer(self) -> torch.Tensor:
        """c(p) of the module docstring (0-d tensor)."""
        return self._c

    def log_f_pow_p0(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`\log f(z)^{p_0} = p_0 \log f(z)` (eq 6/9) in log space, shape (...) for z of
        shape (..., n)."""
        return self._log_f_pow_p0(z, self.exponents)

    def _log_f_pow_p0(self, z: torch.Tensor, exponents: torch.Tensor) -> torch.Tensor:
        """:meth:`log_f_pow_p0` with the exponents given (the edge path's recomputation)."""
        log_a = _log_abs(z)
        plan = self.plan
        if exponents is not self.exponents:      # derived tensors of other exponents
            if plan.isa is not None:
                seg = torch.as_tensor(plan.seg, device=exponents.device)
                leaf_p, ratio = exponents[1:][seg], exponents[0] / exponents[1:]
        else:
            leaf_p, ratio = getattr(self, "_leaf_p", None), getattr(self, "_ratio", None)
        if plan.isa is not None:
            # Work in the (n, batch) layout: the subspace reductions then run over an outer
            # axis, which torch vectorises (a reduction over a short last axis is slower).
            batch = log_a.shape[:-1]
            lt = log_a.reshape(-1, plan.n).t()                                # (n, B)
            lpw = lt * leaf_p[:, None]                                        # p_i log|z_j|
            if self._equal:
                lsub = torch.logsumexp(lpw.view(len(plan.sizes), plan.sizes[0], -1), 1)
            else:
                # the leaves of subspace i are consecutive (eq 10): one logsumexp per slice
                bounds = np.cumsum([0] + plan.sizes)
                lsub = torch.stack([torch.logsumexp(lpw[a:b], 0)
                                    for a, b in zip(bounds[:-1], bounds[1:])])   # log S_i
            return torch.logsumexp(lsub * ratio[:, None], 0).reshape(batch)  # log Σ v_i^{p0}
        lv = _log_eval(plan.tree, log_a, exponents, 0, 0)[0]
        return exponents[0] * lv

    def f_pow_p0(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`f(z)^{p_0}` (eq 6/9), shape (...) for z of shape (..., n); +inf where it
        exceeds the dtype's range."""
        return torch.exp(self.log_f_pow_p0(z))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        r"""log p(z) = c − f(z)^{p0}/s (eqs 7, 8, 11). z of shape (..., n) → shape (...)."""
        check_tensor(value, "z", last_dim=self.plan.n)
        if (self.plan.isa is not None and self._fast_hi > 0 and value.numel()
                and value.dtype == self.exponents.dtype
                and not (torch.is_grad_enabled() and value.requires_grad)
                and not torch._C._functorch.is_functorch_wrapped_tensor(value)):
            out = self._fast_log_prob(value)
            if out is not None:
                return out
        x = self.log_f_pow_p0(value) - torch.log(self.scale)         # log(f^{p0}/s)
        log_max = math.log(torch.finfo(x.dtype).max)
        if (torch.is_grad_enabled() and x.requires_grad and x.numel()
                and not torch._C._functorch.is_functorch_wrapped_tensor(x)
                and float(x.detach().max()) > log_max - _EDGE_NATS):
            f_term = _EdgeFTerm.apply(self, value, self.exponents, self.scale)
        else:
            # beyond the dtype's range log p = -inf; the double where keeps that row's gradient 0
            # (not inf * 0 = NaN), so the other rows of a batch keep finite gradients
            over = x > log_max
            f_term = torch.where(over, torch.full_like(x, torch.inf),
                                 torch.exp(torch.where(over, torch.zeros_like(x), x)))
        out = self._c - f_term
        # checking the (n times smaller) output first keeps validation cheap; a non-finite z
        # always gives a non-finite output
        # a non-finite z always gives a non-finite output; it is an error naming z, except in a
        # trainer's forward pass (validation.training_forward), where a diverged model's NaN
        # must reach its loss
        if self._validate_args and not torch._C._functorch.is_functorch_wrapped_tensor(out) \
                and not bool(torch.isfinite(out).all()):
            check_tensor(value, "z", finite=True, grad_exempt=True)
        return out

    def entropy(self) -> torch.Tensor:
        """−E[log p] = −c + n/p0, since f^{p0}/s ~ Gamma(n/p0) (eq 11)."""
        return -self._c + self.plan.n / self.exponents[0]

    @torch.no_grad()
    def sample(self, sample_shape=torch.Size(), generator: torch.Generator | None = None) -> torch.Tensor:
        """Exact samples by Algorithm 1 (App. A.1), shape ``sample_shape + (n,)``.

        The Beta(n, 1) radius of step 1 cancels in step 4 (proved and tested in
        :func:`theory.lp_nested.sample_unit_sphere`), so it is not drawn here."""
        shape = torch.Size(sample_shape)
        m = int(np.prod(shape)) if len(shape) else 1
        p = self.exponents.detach()
        dt, dev = p.dtype, p.device
        u = torch.empty(m, self.plan.n, dtype=dt, device=dev)
        self._descend(self.plan.tree, torch.ones(m, dtype=dt, device=dev), u, 0, 0, p, generator)
        n, p0 = self.plan.n, p[0]
        g = torch._standard_gamma(torch.full((m,), float(n), dtype=dt, device=dev) / p0, generator=generator)
        r = (self.scale.detach() * g) ** (1 / p0)                                       # step 5
        signs = torch.randint(0, 2, u.shape, generator=generator, device=dev).to(dt) * 2 - 1  # step 6
        return (signs * r[:, None] * u).reshape(shape + (n,))

    def _descend(self, node, radius, out, start, idx, p, generator):
        """Steps 2–3: Dirichlet split of ``radius`` among the children, root downwards."""
        if node is None:
            out[:, start] = radius
            return start + 1, idx
        p_i = p[idx]
        idx += 1
        counts = [1 if c is None else _np_lp._count(c) for c in node[1]]
        m = radius.shape[0]
        if len(counts) == 1:
            u = torch.ones(m, 1, dtype=p.dtype, device=p.device)
        else:
            alpha = (torch.tensor(counts, dtype=p.dtype, device=p.device) / p_i).expand(m, len(counts))
            u = torch._sample_dirichlet(alpha.contiguous(), generator=generator) ** (1 / p_i)
        for k, c in enumerate(node[1]):
            start, idx = self._descend(c, radius * u[:, k], out, start, idx, p, generator)
        return start, idx


#: rows whose log(f^{p0}/s) lies within this many nats of the dtype's largest value take
#: :class:`_EdgeFTerm`: there exp(x) times a chain-rule factor above e^64 ≈ 6e27 would overflow
#: inside the backward pass, and inf · 0 in a later node would turn it into NaN.
_EDGE_NATS = 64.0


class _EdgeFTerm(torch.autograd.Function):
    r""":math:`f(z)^{p_0}/s` of eqs 7 and 11 (Stühmer et al. 2020) whose gradient overflows to
    ±inf, never to NaN.

    The gradient of :math:`e^{x}` with :math:`x = \log(f^{p_0}/s)` is :math:`e^{x}\,\partial x`.
    Autograd would carry :math:`e^{x}` through every node of the recursion, where it reaches
    inf and meets zero local derivatives (logsumexp weights, exact-zero coordinates): inf · 0 =
    NaN. Here the backward pass propagates :math:`e^{x - m}` (m = the largest finite x of the
    batch, so every weight is ≤ 1) and multiplies the leaves' gradients by :math:`e^{m}` last;
    an exact zero stays 0 and a product beyond the dtype's range is ±inf, which is the true
    value's sign and size in the dtype. Rows beyond the range keep log p = −inf with gradient 0,
    as on the plain path. Once differentiable.
    """

    @staticmethod
    def forward(ctx, dist, z, exponents, scale):
        with torch.no_grad():
            x = dist._log_f_pow_p0(z, exponents) - torch.log(scale)
        ctx.dist = dist
        ctx.save_for_backward(z, exponents, scale)
        return torch.exp(x)      # +inf beyond the dtype's range

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        z, exponents, scale = ctx.saved_tensors
        wanted = ctx.needs_input_grad[1:]
        leaves = [t.detach().requires_grad_(need) for t, need in zip((z, exponents, scale), wanted)]
        with torch.enable_grad():
            x = ctx.dist._log_f_pow_p0(leaves[0], leaves[1]) - torch.log(leaves[2])
        over = x.detach() > math.log(torch.finfo(x.dtype).max)
        finite_x = torch.where(over, torch.full_like(x, -torch.inf), x.detach())
        m = finite_x.max().clamp_min(0.0)
        weight = torch.where(over, torch.zeros_like(grad), grad * torch.exp(finite_x - m))
        inputs = [t for t, need in zip(leaves, wanted) if need]
        got = iter(torch.autograd.grad(x, inputs, weight, allow_unused=True))
        out = []
        for t, need in zip(leaves, wanted):
            g = next(got) if need else None
            if g is not None:
                g = torch.where(g == 0, torch.zeros_like(g), g * torch.exp(m))
            elif need:
                g = torch.zeros_like(t)
            out.append(g)
        return (None, *out)


class LearnableLpNested(nn.Module):
    r"""Lp-nested prior with learned exponents (Stühmer et al. 2020, sec. 4 and App. A.2).

    The paper keeps :math:`p_0` fixed and learns every subspace exponent from
    :math:`p_{1..k} = 2.0`; it does not state how positivity is kept. Here each learned exponent
    is :math:`p = \exp(\theta)` (a log parameterisation: positive, scale-free steps).

    Parameters
    ----------
    tree : Lp-nested tree giving the structure and the initial exponents.
    scale : float > 0, fixed.
    learn_root : bool, default False (the paper's choice).

    Notes
    -----
    ``forward()`` returns the :class:`LpNested` distribution at the current exponents.
    """

    def __init__(self, tree, scale: float = 1.0, learn_root: bool = False):
        super().__init__()
        plan = _Plan(tree)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"scale: must be a finite real > 0, got {scale!r}")
        self.tree, self.scale, self.learn_root = tree, float(scale), bool(learn_root)
        p = torch.tensor(plan.default_exponents, dtype=torch.get_default_dtype())
        self.log_exponents = nn.Parameter(torch.log(p if learn_root else p[1:]))
        self.register_buffer("root", p[:1].clone())

    @property
    def exponents(self) -> torch.Tensor:
        """Current pre-order exponents, shape (n_inner,)."""
        learned = torch.exp(self.log_exponents)
        return learned if self.learn_root else torch.cat([self.root.to(learned), learned])

    def forward(self) -> LpNested:
        p = self.exponents
        return LpNested(self.tree, torch.tensor(self.scale, dtype=p.dtype, device=p.device), exponents=p)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Shortcut for ``self().log_prob(z)``; a non-finite ``z`` is an error naming it (checked
        by :meth:`LpNested.log_prob` on the output first, which is n times smaller; inside a
        trainer's forward pass a ``z`` with grad is let through, and inside torch.func
        transforms the check is skipped)."""
        return self().log_prob(z)


# ------------------------------------------------------------------ the prior of a VAE

#: Stühmer et al. 2020, sec. 4 and Table 1 (dSprites): p0 = 2.1, five subspaces of four latents
#: with p1..5 = 2.2 (20 latents).
PAPER_ISA_LAYOUT = "isa:2.1;5*2.2x4"
#: learned exponents (App. A.2): p0 = 2.1 fixed, the subspace exponents start at 2.0
PAPER_ISA_LEARNED_INIT = "isa:2.1;5*2x4"
PRIOR_KINDS = ("normal", "isa")


def parse_prior(spec: str):
    """The Lp-nested tree of a prior string, or None for ``"normal"``.

    Grammar (spaces ignored)::

        normal
        isa                            the paper's dSprites layout, PAPER_ISA_LAYOUT
        isa:P0;SUB,SUB,...             root exponent P0, then the subspaces in order
        SUB := PxN | K*PxN             a subspace of N latents with exponent P, K times

    e.g. ``isa:2.1;5*2.2x4`` (20 latents, eq 9) or ``isa:2.1;1.9x3,2.2x3,2.0x4``.
    Raises ValueError naming ``prior`` for anything else.
    """
    if not isinstance(spec, str):
        raise TypeError(f"prior: must be a string, got {type(spec).__name__}")
    s = "".join(spec.split()).lower()
    if s == "normal":
        return None
    if s == "isa":
        s = PAPER_ISA_LAYOUT
    if not s.startswith("isa:") or s.count(";") != 1:
        raise ValueError(f"prior: expected 'normal', 'isa' or 'isa:P0;PxN,...' "
                         f"(e.g. {PAPER_ISA_LAYOUT!r}), got {spec!r}")
    root, subs = s[4:].split(";")
    try:
        p0 = float(root)
        subspaces = []
        for item in subs.split(","):
            reps, _, body = item.rpartition("*")
            p, n = body.split("x")
            k = int(reps) if reps else 1
            if k < 1:
                raise ValueError
            subspaces += [(float(p), int(n))] * k
    except ValueError:
        raise ValueError(f"prior: cannot read {spec!r}; subspaces are PxN or K*PxN separated "
                         f"by commas, e.g. {PAPER_ISA_LAYOUT!r}") from None
    for p in [p0] + [p for p, _ in subspaces]:
        if not (math.isfinite(p) and p > 0):
            raise ValueError(f"prior: every exponent must be finite and > 0, got {p!r} in {spec!r}")
    if any(n < 1 for _, n in subspaces):
        raise ValueError(f"prior: every subspace needs at least one latent, got {spec!r}")
    return isa_tree(p0, subspaces)


def resolve_prior(spec: str, learn_exponents: bool = False) -> str:
    """The explicit prior string of ``spec``: ``"isa"`` is the paper's layout, with fixed
    exponents 2.2 (:data:`PAPER_ISA_LAYOUT`, Table 1) or, when the exponents are learned,
    starting from 2.0 (:data:`PAPER_ISA_LEARNED_INIT`, App. A.2); anything else is returned as is
    (validated by :func:`parse_prior`)."""
    parse_prior(spec)
    if "".join(spec.split()).lower() == "isa":
        return PAPER_ISA_LEARNED_INIT if learn_exponents else PAPER_ISA_LAYOUT
    return spec


def format_prior(tree) -> str:
    """The prior string of ``tree`` (inverse of :func:`parse_prior` for ISA trees)."""
    if tree is None:
        return "normal"
    sub = _np_lp.isa_subspaces(tree)
    if sub is None:
        raise ValueError("tree: only ISA trees (eq 9) have a prior string")
    return f"isa:{tree[0]:g};" + ",".join(f"{p:g}x{n}" for p, n in sub)


class LpNestedPrior(LearnableLpNested):
    r"""The Lp-nested (ISA) prior of the ISA-VAE (Stühmer et al. 2020, sec. 3.2, eq. 12), with the
    prior interface of :class:`deep.models.distributions.StandardNormalPrior`.

    It does not factorise, so ``log_prob_dims`` is None and ``kl_from_diag_gaussian`` returns
    None: the objectives then estimate KL(q(z|x) || p(z)) by Monte Carlo, as eq. 12 does.

    Parameters
    ----------
    tree : ISA / Lp-nested tree (:func:`parse_prior`).
    scale : float > 0 or None
        The radial scale s of eq. 11. The paper does not state it; None (default) takes
        :func:`theory.lp_nested.unit_variance_scale`, the s that gives every latent unit variance
        on average at the initial exponents — the second moments of the N(0, I) prior of the
        β-VAE, so that the two priors differ in shape, not in size.
    learn_exponents : bool
        Learn the subspace exponents p1..k with the model, p0 fixed (App. A.2); exponents are
        ``exp(θ)``, so they stay positive. When False they are a buffer (saved, not trained).
    """

    log_prob_dims = None

    def __init__(self, tree, scale: float | None = None, learn_exponents: bool = False):
        if scale is None:
            scale = _np_lp.unit_variance_scale(tree)
        super().__init__(tree, scale)
        if not isinstance(learn_exponents, bool):
            raise TypeError(f"learn_exponents: must be a bool, got {type(learn_exponents).__name__}")
        self.learn_exponents = learn_exponents
        if not learn_exponents:
            theta = self.log_exponents.detach().clone()
            del self.log_exponents
            self.register_buffer("log_exponents", theta)
        self.latent_dim = _Plan(tree).n

    def sample(self, n: int, generator: torch.Generator | None = None, device=None,
               dtype=None) -> torch.Tensor:
        """n exact draws (Algorithm 1), shape (n, d), on the prior's device and dtype."""
        z = self().sample((n,), generator=generator)
        return z.to(device=device or z.device, dtype=dtype or z.dtype)

    def kl_from_diag_gaussian(self, mu, logvar):
        """None: no closed form; the objectives use Monte Carlo (eq. 12)."""
        return None

    def extra_repr(self) -> str:
        return (f"{format_prior(self.tree)}, scale={self.scale:.6g}, "
                f"learn_exponents={self.learn_exponents}")
