"""The loop and root key a sample file stores, found wherever its metadata chunks lie."""

import numpy as np

from liveengine.instruments.samples import file_loop_and_root
from liveengine.kernel.regions import ORIGINAL

from samples import rng_wave, write_aiff, write_wav


def test_a_long_files_loop_after_its_sample_data_is_found(tmp_path):
    # 1.5 million float frames (6 MB), the smpl chunk after the data chunk, as most editors write it.
    long = write_wav(tmp_path / "long.wav", rng_wave(1_500_000), root_key=50, loop=(1000, 1_400_000))
    assert long.stat().st_size > 6_000_000 and long.read_bytes().rindex(b"smpl") > 6_000_000
    assert file_loop_and_root(long) == ((1000, 1_400_000), 50)


def test_short_files_and_files_without_metadata(tmp_path):
    assert file_loop_and_root(write_wav(tmp_path / "short.wav", rng_wave(3000), loop=(10, 20))) == ((10, 20), 60)
    assert file_loop_and_root(write_aiff(tmp_path / "own.aiff", rng_wave(3000), root_key=67, loop=(500, 1499))) \
        == ((500, 1499), 67)
    assert file_loop_and_root(write_wav(tmp_path / "plain.wav", np.zeros(100))) == (None, ORIGINAL)
    (tmp_path / "text.wav").write_text("not a sound file")
    assert file_loop_and_root(tmp_path / "text.wav") == (None, ORIGINAL)
    assert file_loop_and_root(tmp_path / "missing.wav") == (None, ORIGINAL)
