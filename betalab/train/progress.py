"""What a ``betalab train`` run shows while it steps: the progress output (:class:`Progress`),
the note on a long run's duration (:func:`cost_note`) and the TensorBoard scalars
(``--tensorboard``). Nothing here writes into the run directory but the TensorBoard writer."""

from __future__ import annotations

__all__ = ["Progress", "cost_note", "tensorboard_writer", "log_scalars"]


class Progress:
    """A tqdm bar on a terminal; elsewhere (a log file, a pipe) a plain line every tenth of the
    run, without escape codes."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool):
        from deep.progress import shown

        self.total, self.desc, self.enabled = total, desc, enabled
        self.tty = shown(enabled)
        self.next = initial
        self.bar = None
        if self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, mininterval=1)

    def update(self, step: int, terms: dict) -> None:
        shown = {k: f"{v:.3g}" for k, v in terms.items() if k != "neg_elbo"}
        if self.bar is not None:
            self.bar.update()
            self.bar.set_postfix(shown)
        elif self.enabled and (step >= self.next or step == self.total):
            import sys

            self.next = step + max(1, self.total // 10)
            print(f"{self.desc}: step {step}/{self.total} "
                  + " ".join(f"{k}={v}" for k, v in shown.items()), file=sys.stderr, flush=True)

    def write(self, line: str) -> None:
        """A message of its own line: above the bar on a terminal (``tqdm.write``), plain elsewhere."""
        import sys

        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def cost_note(seconds_per_step: float, remaining: int, device) -> str | None:
    """One line when the rest of the run will take long (over 10 minutes), else None."""
    left = seconds_per_step * remaining
    if left < 600:
        return None
    hours = left / 3600
    when = f"{hours:.1f} h" if hours >= 1 else f"{left / 60:.0f} min"
    return (f"betalab train: {seconds_per_step:.2g} s/step on {device}: {remaining} steps left "
            f"≈ {when} (Ctrl-C stops with a checkpoint; --resume continues)")


def tensorboard_writer():
    """The ``SummaryWriter`` class of TensorBoard; ValueError naming the package when it is
    not installed (checked before anything is written)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ValueError("--tensorboard: the tensorboard package is not installed "
                         "(pip install tensorboard, or pip install -e '.[tensorboard]')") from None
    return SummaryWriter


def log_scalars(writer, rec: dict) -> None:
    """The numbers of the log record ``rec`` as TensorBoard scalars at its step (``writer``
    None: nothing)."""
    if writer is None:
        return
    for k, v in rec.items():
        if k != "step" and isinstance(v, (int, float)):
            writer.add_scalar(k, v, rec["step"])
