"""What a log or a pipe receives: no progress-bar carriage returns, messages on lines of their own,
and the light commands answering before torch loads. Each runs in a fresh interpreter, since tqdm
reads TQDM_DISABLE once, at its import."""

import subprocess
import sys


def _python(code: str) -> subprocess.CompletedProcess:
    # bytes, decoded by hand: text mode would turn the carriage returns into newlines
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(),
                                       done.stderr.decode())


def test_a_bar_started_by_a_command_writes_no_carriage_return_into_a_pipe():
    # the parser is built first (it used to import tqdm before TQDM_DISABLE was set); a study's
    # bar started inside the command must then stay silent on a pipe
    code = (
        "import sys\n"
        "from betalab import cli\n"
        "def fake_main(args):\n"
        "    from tqdm.auto import tqdm\n"
        "    for _ in tqdm(range(50), desc='study', mininterval=0): pass\n"
        "    return 0\n"
        "cli._main = fake_main\n"
        "sys.exit(cli.main(['list']))\n")
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "\x1b" not in done.stderr and "50/50" not in done.stderr
    # the oracle: the same bar outside the command does write carriage returns into a pipe
    bare = _python("from tqdm.auto import tqdm\nfor _ in tqdm(range(50), mininterval=0): pass\n")
    assert "\r" in bare.stderr and "50/50" in bare.stderr


def test_the_cost_note_is_a_line_of_its_own_above_the_bar():
    code = (
        "import io, sys\n"
        "class Tty(io.StringIO):\n"
        "    def isatty(self): return True\n"
        "sys.stderr = Tty()\n"
        "from betalab.train import _Progress\n"
        "bar = _Progress(total=10, initial=0, desc='beta-vae', enabled=True)\n"
        "bar.update(1, {'kl': 1.0})\n"
        "bar.write('NOTE: this run will take ≈ 10.2 h')\n"
        "bar.update(2, {'kl': 1.0})\n"
        "bar.close()\n"
        "sys.__stdout__.write(sys.stderr.getvalue())\n")
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert "beta-vae" in done.stdout          # the bar was drawn (a terminal)
    # what the terminal shows on each line is the text after its last carriage return
    shown = [line.split("\r")[-1] for line in done.stdout.split("\n")]
    assert "NOTE: this run will take ≈ 10.2 h" in shown, shown


def test_version_and_help_answer_without_importing_torch():
    for argv in (["--version"], ["--help"], ["train", "--help"]):
        done = _python("import sys\nfrom betalab import cli\n"
                       f"code = cli.main({argv!r})\n"
                       "print('torch' in sys.modules, code)\n")
        assert done.stdout.strip().splitlines()[-1] == "False 0", (argv, done.stdout, done.stderr)
