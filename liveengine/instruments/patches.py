"""The synth patches that ship with liveengine, and which patch file a name in a show or on the command
line means."""

import difflib
import pathlib
from importlib.resources import files

# Named in a show by their file name without ".toml": patches/ in a checkout, installed as the package
# liveengine.patches (the same folder in an editable install).
SHIPPED_PATCHES = pathlib.Path(files("liveengine.patches"))


class UnknownPatchError(ValueError):
    """A bare patch name that no shipped patch has; the message names the closest and lists them all."""


def synth_patch_path(patch: str, folder: pathlib.Path) -> pathlib.Path:
    """The file of the synth patch a show or the command line names: a bare name (no suffix, no
    folder) is a shipped patch; anything else a patch file in `folder`."""
    if pathlib.Path(patch).suffix != "" or "/" in patch:
        return folder / patch
    path = SHIPPED_PATCHES / f"{patch}.toml"
    if path.is_file():
        return path
    shipped = sorted(shipped_patch.stem for shipped_patch in SHIPPED_PATCHES.glob("*.toml"))
    close = difflib.get_close_matches(patch, shipped, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownPatchError(f"no shipped patch is called {patch!r}{hint}; the shipped patches are "
                            f"{', '.join(shipped)}; a patch file of your own is named by its path, "
                            f"e.g. \"my_patches/lead.toml\"")
