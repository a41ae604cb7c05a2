"""Stühmer, Turner & Nowozin 2020, sec. 3–4: the citation and the dSprites ISA layout that the
Lp-nested prior studies share. The math lives in :mod:`theory.lp_nested`.
"""

from __future__ import annotations

from theory import lp_nested as L

PAPER = "Stühmer et al. 2020"
DSPRITES = L.isa_tree(2.1, [(2.2, 4)] * 5)   # sec. 4 and Fig. 5 caption: l0 = 5, l_i = 4
