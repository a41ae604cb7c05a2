"""Run time of each study at each scale, as ``betalab list`` shows it.

``quick``: measured by one ``betalab reproduce --jobs 1`` on 2 CPU cores shared with other work
(load average about 7), so an idle machine is faster; ``seconds`` in each ``result.json``
records the time of the latest run. ``cpu`` and ``full``: the time a recorded run of that scale
took (its ``result.json``'s ``seconds``, read by :func:`recorded`, so the list follows every new
recording); the table's number only for a study without one.
``full``: measured where stated in the guide (``docs/guide/``), ``"GPU"`` where the paper's configuration needs
a GPU (see the study's *not run* claims for the estimate), ``"?"`` not measured. ``"="``: the
study has no configuration of that scale and runs its quick one.
"""

from __future__ import annotations

__all__ = ["RUNTIMES", "estimate", "measured", "recorded"]

#: study -> {"quick": seconds, "cpu": seconds | "=", "full": seconds | "GPU" | "?" | "="}
RUNTIMES = {
    "dsprites-beta-vae-quick": {"quick": 41, "cpu": "=", "full": "GPU"},
    "fa-beta": {"quick": 1, "cpu": "=", "full": "?"},
    "fa-pruning": {"quick": 1, "cpu": "=", "full": "?"},
    "fa-rotation": {"quick": 2, "cpu": "=", "full": "?"},
    "ica-beta-sweep": {"quick": 9, "cpu": "=", "full": "?"},
    "ica-overcomplete": {"quick": 11, "cpu": "=", "full": "?"},
    "higgins-fig5-table": {"quick": 145, "cpu": 60 * 60, "full": "?"},
    "isa-prior-samples": {"quick": 2, "cpu": "=", "full": "?"},
    "isa-symmetry-breaking": {"quick": 24, "cpu": "=", "full": "?"},
    # 18 models of 12,000 steps on the calibrated renderer: 5,367 s recorded on one shared core
    "isa-vae-exponents": {"quick": 78, "cpu": 5367, "full": "GPU"},
    "isa-vae-fig5a": {"quick": 361, "cpu": 67 * 60, "full": "GPU"},
    # reads the recorded cpu sweeps; at cpu also retrains App. A.5's five representatives
    "isa-vae-fig5b": {"quick": 10, "cpu": 15 * 60, "full": "GPU"},
    "kp-nonuniqueness": {"quick": 1, "cpu": "=", "full": "?"},
    "kp-posterior-jacobian": {"quick": 1, "cpu": "=", "full": "?"},
    "kp-trained-jacobian": {"quick": 24, "cpu": 1898 + 290, "full": "GPU"},  # + the known decoder
    "kp-sample-quality": {"quick": 10, "cpu": 851, "full": "="},
    "kp-uniqueness": {"quick": 135, "cpu": "=", "full": 110 * 60},
    "linear-vae-fig3": {"quick": 4, "cpu": "=", "full": "?"},
    "sikka-fig4": {"quick": 40, "cpu": 1652, "full": "GPU"},
    "sikka-fig5": {"quick": 40, "cpu": 4600, "full": "GPU"},
    "linear-vae-fixed-decoder": {"quick": 1, "cpu": "=", "full": "?"},
    "linear-vae-propositions": {"quick": 1, "cpu": "=", "full": "?"},
    "linear-vae-tie-family": {"quick": 1, "cpu": "=", "full": "?"},
    "lp-nested-fig2": {"quick": 1, "cpu": "=", "full": "?"},
    "lp-nested-fig3": {"quick": 1, "cpu": "=", "full": "?"},
}


def measured(study: str, scale: str, out="results") -> float | None:
    """The run time in seconds of the latest finished run of ``study`` at ``scale`` under
    ``out`` (its ``result.json``), or None when there is none. A run that loaded saved pieces
    (``--resume``, a study cache) took less than a run from scratch."""
    import json
    from pathlib import Path

    from betalab.runner import study_dir

    try:
        rec = json.loads((study_dir(Path(out), study, scale) / "result.json").read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(rec, dict) and not rec.get("error") and \
        (rec.get("config") or {}).get("scale") == scale
    t = rec.get("seconds") if ok else None
    return float(t) if isinstance(t, (int, float)) and t > 0 else None


def recorded(study: str, scale: str) -> float | None:
    """The run time in seconds of the recorded run of ``study`` at ``scale`` (``recorded/``),
    or None when there is none or it does not say."""
    import json

    from betalab.runner import RECORDED

    try:
        rec = json.loads((RECORDED / study / scale / "result.json").read_text())
    except (OSError, ValueError):
        return None
    t = rec.get("seconds") if isinstance(rec, dict) and not rec.get("error") else None
    return float(t) if isinstance(t, (int, float)) and t > 0 else None


def _text(t: float) -> str:
    if t < 90:
        return f"{max(1, round(t))}s"
    if t < 5400:
        return f"{round(t / 60)}min"
    return f"{round(t / 3600)}h"


def estimate(study: str, scale: str, out="results") -> str:
    """The run time of ``study`` at ``scale`` as a short string: ``41s``, ``32min``, ``2h``,
    ``=`` (runs the quick configuration), ``GPU`` or ``?``; a time measured by the latest run on
    this machine (:func:`measured`, under ``out``) wins over the table and ends in ``*``."""
    m = measured(study, scale, out) if out is not None else None
    if m is not None:
        return _text(m) + "*"
    r = recorded(study, scale) if scale != "quick" else None
    if r is not None:
        return _text(r)
    t = RUNTIMES.get(study, {}).get(scale, "?")
    if isinstance(t, str):
        return t
    return _text(t)
