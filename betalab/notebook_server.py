"""The notebook server's contents manager for ``make notebooks``: jupytext's, plus the kernel's
``language_info`` in every Python notebook it opens.

JupyterLab stores the kernel's ``language_info`` in the notebook's metadata when the kernel
starts, and marks the notebook unsaved when that changes it. The notebooks' jupytext headers
leave ``language_info`` out on purpose (``jupytext.toml``): it names the interpreter's exact
version, so a stored copy is wrong on every other machine. The server supplies it instead, from
the ipykernel it runs beside (the same environment), so a notebook opens clean; saving strips it
again, by the same filter.

Installed by ``make notebooks-install`` as ``ServerApp.contents_manager_class`` in the
environment's ``etc/jupyter/jupyter_server_config.json`` (``jupyter/server/`` in the project).
"""

from __future__ import annotations

__all__ = ["ContentsManager", "kernel_language_info"]

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class


def kernel_language_info() -> dict:
    """What an ipykernel of this environment reports as ``language_info`` in its kernel info."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


class ContentsManager(build_async_jupytext_contents_manager_class(AsyncLargeFileManager)):
    """Jupytext's contents manager; a Python notebook read without ``language_info`` gets the
    kernel's, so opening it and starting its kernel changes nothing."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if model.get("type") == "notebook" and model.get("content") is not None:
            meta = model["content"].metadata
            if meta.get("kernelspec", {}).get("language") == "python" and "language_info" not in meta:
                meta["language_info"] = kernel_language_info()
        return model
