"""Sphinx configuration of the betalab documentation site (``make docs``).

Sphinx with MyST-NB and the PyData theme: autodoc/autosummary read the numpy-style docstrings
(with their paper and equation references) of ``theory``, ``linear_models``, ``deep`` and
``betalab``; MyST-NB executes the jupytext notebooks (``notebooks/*.py``) and caches the
executed copies by content (jupyter-cache), so a rebuild without changes executes nothing;
MathJax ships with the build (the MathJax 2 of ``jupyter-server-mathjax``), so equations
typeset with no network. The paper pages, the claims report page and the notebook copies are
generated into ``docs/_generated`` by ``_ext/betalab_pages.py`` at every build.

``BETALAB_DOCS_EXECUTE=off`` builds without executing the notebooks (they appear with their
source only); ``BETALAB_DOCS_NOTEBOOKS=stuhmer2020_app_b3_fa_rotation,...`` executes only those
(the browser test's build).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

import betalab  # noqa: E402

project = "betalab"
author = "the betalab authors"
copyright = "2026, the betalab authors"
release = version = betalab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",
    "betalab_pages",
]

# ---- sources: MyST markdown pages and the jupytext notebooks (as percent scripts)
# .rst first: the API stubs autosummary writes are reStructuredText
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".py": "myst-nb"}
nb_custom_formats = {".py": "betalab_pages.read_notebook"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
exclude_patterns = ["_build", "_ext", "conf.py", "**/.ipynb_checkpoints"]

# ---- notebook execution: cached by content; the studies' pieces in the build's study cache
nb_execution_mode = os.environ.get("BETALAB_DOCS_EXECUTE", "cache")
# BETALAB_DOCS_NOTEBOOKS=a,b: execute only those notebooks (the browser test's build)
_only = [n for n in os.environ.get("BETALAB_DOCS_NOTEBOOKS", "").split(",") if n]
nb_execution_excludepatterns = [f"_generated/notebooks/{p.stem}.py"
                                for p in sorted((ROOT / "notebooks").glob("*.py"))
                                if _only and p.stem not in _only]
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
nb_execution_timeout = -1                 # a study's quick run takes minutes on 2 cores
nb_execution_raise_on_error = True        # a notebook that fails fails the build
nb_execution_show_tb = True
os.environ.setdefault("BETALAB_CACHE", str(HERE / "_build" / ".study_cache"))
os.environ.pop("MPLBACKEND", None)        # the kernels draw inline, as in JupyterLab
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)

# ---- API reference
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_mock_imports = []
napoleon_numpy_docstring = True
napoleon_google_docstring = False

# ---- MathJax, offline: the MathJax 2 tree of jupyter-server-mathjax copied into _static
import jupyter_server_mathjax  # noqa: E402

MATHJAX_DIR = Path(jupyter_server_mathjax.__file__).parent / "static"
html_static_path = [str(MATHJAX_DIR), "_static"]
html_css_files = ["betalab.css"]          # docs/_static/betalab.css: the wide item tables
html_sidebars = {"_generated/papers/*": []}   # no section navigation there: the table takes the width
# the one combined configuration jupyter-server-mathjax ships (HTML-CSS output, its own fonts)
mathjax_path = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
# MyST-NB marks a notebook's content mathjax_ignore (raw text of its outputs stays raw) and the
# math it renders with the class "math": typeset exactly those, as its MathJax 3 setting does
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                               "processEscapes": True,
                               "processClass": "tex2jax_process|mathjax_process|math|output_area",
                               "ignoreClass": "tex2jax_ignore|mathjax_ignore"},
                   "messageStyle": "none",
                   # the web font that package ships (STIX); no local-font probing
                   "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                                "imageFont": None}}

# ---- HTML
html_theme = "pydata_sphinx_theme"
html_title = "betalab"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_last_updated_fmt = None

# Warnings: every one fails the build (-W) except these, each with its reason.
suppress_warnings = [
    # MyST-NB: the notebooks' figure outputs carry no alt text in their mime bundles
    "mystnb.unknown_mime_type",
]
